#include "sweep/runner.h"

#include <ostream>

#include "klab/error.h"
#include "runs/files.h"
#include "sweep/local_executor.h"
#include "sweep/record.h"
#include "sweep/slurm_executor.h"
#include "train/process_policy.h"

namespace klab {

namespace fs = std::filesystem;

namespace {

SweepOutcome execute(const fs::path& record, const SweepOptions& options, bool only_unfinished) {
  nlohmann::json sweep = files::read_json(record / "sweep.json");
  const std::size_t n = sweep["trials"].size();
  std::vector<std::size_t> todo;
  for (std::size_t i = 0; i < n; ++i) {
    const std::string st = read_trial_status(record, i).value("status", "pending");
    if (!only_unfinished || st != "completed") todo.push_back(i);
  }
  const std::string executor = options.executor.empty() ? sweep.value("executor", std::string("local")) : options.executor;
  int workers = options.workers > 0 ? options.workers : sweep.value("workers", 0);
  if (workers <= 0) workers = default_workers(sweep);
  if (options.progress && executor != "slurm" && workers * max_trial_threads(sweep) > cores_given()) {
    *options.progress << "note: " << workers << " worker(s) x train.threads " << max_trial_threads(sweep) << " exceed the "
                      << cores_given() << " core(s): each trial gets " << trial_cores(workers) << " thread(s)\n";
  }
  if (options.progress) {
    *options.progress << "sweep " << sweep.value("name", "") << ": " << todo.size() << " trial(s) of " << n << ", "
                      << (executor == "slurm" ? std::string("Slurm") : std::to_string(workers) + " worker(s)")
                      << ", record " << record.string() << "\n"
                      << std::flush;
  }
  SweepOutcome outcome;
  if (executor == "slurm") {
    outcome.slurm_job = run_slurm_trials(record, sweep, todo, options);
    if (!options.wait) {
      outcome.record_dir = record;
      outcome.pending = todo.size();
      return outcome;
    }
  } else {
    run_local_trials(record, sweep, todo, options, workers);
  }
  SweepOutcome collected = collect_sweep(record);
  collected.slurm_job = outcome.slurm_job;
  return collected;
}

}  // namespace

SweepOutcome run_sweep(const SweepPlan& plan, const SweepOptions& options) {
  if (plan.trials.empty()) throw ConfigError(plan.file + ": the sweep has no trials");
  const std::string output_dir = options.output_dir_override.empty() ? plan.trials[0].spec.output_dir : options.output_dir_override;
  const fs::path record = create_sweep_record(plan, fs::absolute(output_dir), options.executor);
  return execute(record, options, false);
}

SweepOutcome resume_sweep(const fs::path& record_dir, const SweepOptions& options) {
  return execute(record_dir, options, true);
}

}  // namespace klab
