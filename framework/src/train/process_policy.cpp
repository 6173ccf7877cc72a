#include "train/process_policy.h"

#include <dlfcn.h>
#include <malloc.h>
#include <sched.h>

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <thread>

#include <ATen/Parallel.h>

namespace klab {

namespace {
volatile std::sig_atomic_t g_stop_requested = 0;
void stop_handler(int) { g_stop_requested = 1; }
}  // namespace

void request_stop() { g_stop_requested = 1; }

bool stop_requested() { return g_stop_requested != 0; }

void stop_on_signals() {
  std::signal(SIGINT, stop_handler);
  std::signal(SIGTERM, stop_handler);
}

int cores_given() {
  // A sweep tells each local trial its share of the machine; Slurm tells a job step its CPUs.
  for (const char* name : {"KLAB_TRIAL_CORES", "SLURM_CPUS_PER_TASK"}) {
    if (const char* value = std::getenv(name)) {
      char* end = nullptr;
      const long n = std::strtol(value, &end, 10);
      if (end != value && *end == '\0' && n >= 1) return static_cast<int>(n);
    }
  }
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0) return CPU_COUNT(&set);
  return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

int apply_runtime_policy(int threads) {
  // glibc returns every freed block above 128 KiB to the kernel and page-faults it back on the
  // next batch; training allocates such blocks thousands of times an epoch. Keeping them in the
  // heap made an LSTM epoch ~30 % faster here and lets two trials share the cores without
  // fighting over page faults.
  mallopt(M_MMAP_THRESHOLD, 256 << 20);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
  mallopt(M_TOP_PAD, 64 << 20);
  // torch's threads x BLAS threads never exceed the cores given: torch (and the fused RNN, which
  // splits a batch across torch's threads) gets min(threads, cores); OpenBLAS runs on the
  // calling thread — its own pool on top of torch's made training 3-5x slower here.
  const int used = std::max(1, std::min(threads, cores_given()));
  at::set_num_threads(used);
  using SetThreads = void (*)(int);
  if (auto fn = reinterpret_cast<SetThreads>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"))) fn(1);
  return used;
}

}  // namespace klab
