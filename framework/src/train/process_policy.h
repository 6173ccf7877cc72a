// train/process_policy.h — how a training process behaves on this machine: stopping on a signal,
// the cores it was given, thread counts and the allocator (docs/TRAINING_GUIDE.md, "Threads").
// Process-wide and small on purpose: the training loop asks stop_requested(); workflow/ and the
// tools call the rest once.
#pragma once

namespace klab {

// Asks every training loop of this process to stop at the next batch: the run is marked failed
// ("interrupted") and can be resumed. Async-signal-safe: call it from a SIGINT/SIGTERM handler.
void request_stop();
// Installs SIGINT and SIGTERM handlers that call request_stop().
void stop_on_signals();
// Whether request_stop() was called.
bool stop_requested();

// The cores this process was given: KLAB_TRIAL_CORES (set by a local sweep for each trial: the
// machine divided by its workers), else SLURM_CPUS_PER_TASK, else the CPUs it may run on.
int cores_given();

// The process-wide settings training runs under: torch intra-op threads = min(threads,
// cores_given()) — the fused LSTM/GRU split each batch across them — and BLAS pinned to one
// thread, so their product never exceeds the cores given; and a malloc that keeps large freed
// blocks instead of returning them to the kernel. Returns the torch threads set.
int apply_runtime_policy(int threads);

}  // namespace klab
