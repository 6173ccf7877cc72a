// train/trainer.h — one experiment, end to end: data, model, training, evaluation, out/.
//
// run_experiment() is what `sweep` runs for every trial: it validates what can be validated
// before anything is written (data source reachable, model plugin and hyperparameters), then
// creates the run folder and walks it through preparing -> training -> completed, or marks it
// failed with the error. Training is deterministic for a seed: initial weights come from the
// seed, and each epoch re-seeds the shuffle and dropout from (seed, epoch), so a run resumed from
// a checkpoint continues exactly as an uninterrupted one would.
#pragma once

#include <filesystem>
#include <functional>
#include <iosfwd>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "config/experiment.h"
#include "eval/metrics.h"

namespace klab {

class PluginRegistry;

struct RunOptions {
  std::vector<std::filesystem::path> plugin_dirs;
  std::ostream* progress = nullptr;  // epoch lines go here when set
  std::string output_dir_override;   // replaces the spec's output_dir when non-empty
  // Called once the run folder exists (the sweep records which folder a trial is writing).
  std::function<void(const std::string& run_name, const std::filesystem::path& run_dir)> on_created;
};

struct RunResult {
  std::string run_name;
  std::filesystem::path run_dir;
  std::string status;
  std::string error;
  nlohmann::json eval;      // eval_results.json
  int epochs_trained = 0;
  int best_epoch = 0;
  double best_val_loss = 0;
};

// Runs a new experiment. Errors found before the run folder exists are thrown (nothing is
// written); later errors mark the run failed and are thrown after that.
RunResult run_experiment(const ExperimentSpec& spec, PluginRegistry& registry, const RunOptions& options);

// Continues `run` (a name under output_dir, or a path) from its newest complete checkpoint.
RunResult resume_experiment(const std::string& run, const std::filesystem::path& output_dir,
                            PluginRegistry& registry, const RunOptions& options);

// Asks every training loop of this process to stop at the next batch: the run is marked failed
// ("interrupted") and can be resumed. Async-signal-safe: call it from a SIGINT/SIGTERM handler.
void request_stop();
// Installs SIGINT and SIGTERM handlers that call request_stop().
void stop_on_signals();

// The cores this process was given: KLAB_TRIAL_CORES (set by a local sweep for each trial: the
// machine divided by its workers), else SLURM_CPUS_PER_TASK, else the CPUs it may run on.
int cores_given();

// The process-wide settings training runs under (docs/TRAINING_GUIDE.md, "Threads"): torch
// intra-op threads = min(threads, cores_given()) — the fused LSTM/GRU split each batch across
// them — and BLAS pinned to one thread, so their product never exceeds the cores given; and a
// malloc that keeps large freed blocks instead of returning them to the kernel. Returns the
// torch threads set.
int apply_runtime_policy(int threads);

}  // namespace klab
