// workflow/run.h — one experiment, start to end: source -> data -> model fit -> predictions by
// (date, symbol) -> evaluation -> out/.
//
// run_experiment() is what `sweep` runs for every trial: it validates what can be validated
// before anything is written (data source reachable, model plugin and hyperparameters), then
// creates the run folder and walks it through preparing -> training -> completed, or marks it
// failed with the error. The steps live in their rooms (docs/ARCHITECTURE.md): data/ builds the
// windows, train/ fits a torch model, eval/ judges the predictions, runs/ writes the files;
// this file only puts them in order.
#pragma once

#include <filesystem>
#include <functional>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "config/experiment.h"

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

// The dataset a run of `spec` loads: `data.symbols: all` resolved through `source` (a DataError
// when it lists none), features computed on train.threads capped at the cores given. A run and
// a walk-forward's combined evaluation ask for their data the same way.
DatasetSpec run_dataset_spec(const ExperimentSpec& spec, DataSource& source);
// The symbols a dataset left out, as metadata.json lists them: [{symbol, reason}, ...].
nlohmann::json skipped_symbols_json(const Dataset& ds);

// Runs a new experiment. Errors found before the run folder exists are thrown (nothing is
// written); later errors mark the run failed and are thrown after that.
RunResult run_experiment(const ExperimentSpec& spec, PluginRegistry& registry, const RunOptions& options);

// Continues `run` (a name under output_dir, or a path) from its newest complete checkpoint.
RunResult resume_experiment(const std::string& run, const std::filesystem::path& output_dir,
                            PluginRegistry& registry, const RunOptions& options);

// What a run that completed earlier gave (its eval_results.json and model/training_args.json),
// or nothing when `run_dir` is not a completed run. A sweep killed after a trial's run completed
// but before the trial recorded it collects the run with this instead of training it again.
std::optional<RunResult> completed_run_result(const std::filesystem::path& run_dir);

}  // namespace klab
