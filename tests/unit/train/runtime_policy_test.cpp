// The thread policy: torch threads = min(train.threads, cores given), BLAS on one thread; the
// cores given come from a sweep (KLAB_TRIAL_CORES), Slurm (SLURM_CPUS_PER_TASK) or the affinity.
#include <sched.h>

#include <cstdlib>

#include <ATen/Parallel.h>
#include <gtest/gtest.h>

#include "train/process_policy.h"

namespace {

int affinity_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  return sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : 1;
}

struct EnvGuard {
  ~EnvGuard() {
    unsetenv("KLAB_TRIAL_CORES");
    unsetenv("SLURM_CPUS_PER_TASK");
    klab::apply_runtime_policy(1);
  }
};

}  // namespace

TEST(RuntimePolicy, ThreadsNeverExceedTheCoresGiven) {
  EnvGuard guard;
  unsetenv("KLAB_TRIAL_CORES");
  unsetenv("SLURM_CPUS_PER_TASK");
  EXPECT_EQ(klab::cores_given(), affinity_cpus());
  EXPECT_EQ(klab::apply_runtime_policy(1), 1);
  EXPECT_EQ(at::get_num_threads(), 1);
  EXPECT_EQ(klab::apply_runtime_policy(64), affinity_cpus());
  EXPECT_EQ(at::get_num_threads(), affinity_cpus());

  setenv("SLURM_CPUS_PER_TASK", "3", 1);
  EXPECT_EQ(klab::cores_given(), 3);
  setenv("KLAB_TRIAL_CORES", "1", 1);  // a sweep's share wins over the job's
  EXPECT_EQ(klab::cores_given(), 1);
  EXPECT_EQ(klab::apply_runtime_policy(4), 1);
  EXPECT_EQ(at::get_num_threads(), 1);

  for (const char* bad : {"", "0", "-2", "two", "2x"}) {  // ignored: the next source decides
    setenv("KLAB_TRIAL_CORES", bad, 1);
    EXPECT_EQ(klab::cores_given(), 3) << "KLAB_TRIAL_CORES=" << bad;
  }
}
