// sweep/runner.h — running a sweep: write its record (sweep/record.h), then hand the trials to
// the local executor (sweep/local_executor.h) or to Slurm (sweep/slurm_executor.h). Each trial
// runs in a process of its own (sweep/trial.h). Both executors leave the same record.
#pragma once

#include <filesystem>

#include "sweep/record.h"
#include "sweep/sweep_options.h"
#include "sweep/sweep_spec.h"
#include "sweep/trial.h"

namespace klab {

// Writes the record and runs every trial. Returns when all have ended (or, for Slurm without
// wait, once submitted). Ctrl-C stops cleanly: running trials are ended and marked interrupted.
SweepOutcome run_sweep(const SweepPlan& plan, const SweepOptions& options);

// Runs again the trials of a record that did not complete (completed ones are skipped).
SweepOutcome resume_sweep(const std::filesystem::path& record_dir, const SweepOptions& options);

}  // namespace klab
