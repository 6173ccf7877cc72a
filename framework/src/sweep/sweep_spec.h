// sweep/sweep_spec.h — the `sweep:` section of an experiment file, expanded into trials.
//
// A trial is the experiment file with some dotted keys replaced (model.type: gru,
// train.learning_rate: 0.0003, data.symbol: "600519", train.seed: 2). Grid axes multiply;
// random search draws n_trials points (choice, uniform, loguniform, int) from a seeded RNG;
// `seeds` repeats every point once per seed (the leaderboard reports mean and std over them).
// Every trial is validated as a full experiment before anything runs, so a bad axis is one clear
// error naming the trial and the key.
#pragma once

#include <cstddef>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "config/experiment.h"

namespace klab {

class PluginRegistry;

struct SlurmSettings {
  std::string partition;      // "" = the cluster's default
  std::string time_limit = "01:00:00";
  int cpus_per_task = 0;      // 0 = the trials' train.threads
  int max_concurrent = 0;     // array throttle (%N); 0 = no cap
  std::string mem;            // e.g. "4G"; "" = default
  std::vector<std::string> extra_args;  // more #SBATCH lines, verbatim (e.g. "--qos=normal")
};

struct Trial {
  std::size_t index = 0;
  nlohmann::json params = nlohmann::json::object();  // dotted key -> value (the point, without seed)
  std::uint64_t seed = 0;
  std::string point_key;      // identifies the point across seeds (params.dump())
  ExperimentSpec spec;        // the validated experiment of this trial
  nlohmann::json experiment;  // spec.to_json(), as run
  // Walk-forward (evaluation.rolling): the segment this trial trains and tests (Segment::to_json,
  // null otherwise) and its group: the (point, seed) whose segments make one out-of-sample record.
  nlohmann::json segment;
  std::size_t group = 0;
};

struct SweepPlan {
  std::string name;
  std::string file;
  std::string metric = "mae";  // leaderboard ranking (eval/metrics.h ranking_metrics)
  std::string metric_mode;     // "max" | "min"; "" = the metric's own direction (higher_is_better)
  int workers = 0;             // 0 = decide from cores and threads per trial
  std::string executor = "local";
  SlurmSettings slurm;
  bool has_sweep_section = false;
  bool walk_forward = false;   // the experiment has evaluation.rolling: trials are segments
  nlohmann::json rolling;      // its evaluation.rolling, as validated
  std::vector<Trial> trials;
};

// What `data.symbol: all` in a grid expands to: the symbols of the data source the validated base
// experiment names. Planning opens no data source itself; the caller says how to list them.
using SymbolLister = std::function<std::vector<std::string>(const ExperimentSpec& base)>;
// Lists them by opening the experiment's data source plugin (what `sweep` does).
SymbolLister symbols_of_source(PluginRegistry& registry);

// Reads the experiment file and expands its sweep section (a file without one is a sweep of one
// trial). Every trial is validated as a full ExperimentSpec; `registry` lets the model plugin
// check each trial's hyperparameters. Without `list_symbols`, `data.symbol: all` is an error.
SweepPlan plan_sweep(const std::filesystem::path& file, PluginRegistry& registry,
                     const SymbolLister& list_symbols = {});
SweepPlan plan_sweep_text(const std::string& yaml_text, const std::string& file_name, PluginRegistry& registry,
                          const SymbolLister& list_symbols = {});


}  // namespace klab
