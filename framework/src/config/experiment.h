// config/experiment.h — an experiment YAML file, validated into an ExperimentSpec.
//
// Every key is checked: unknown keys, wrong types and bad values are ConfigErrors of the form
// "experiments/x.yaml:12: train.learning_rate: expected a number, got \"fast\"". Defaults are
// documented in docs/CONFIGURATION_GUIDE.md. The spec round-trips through JSON (experiment.json
// in each run), which is how a run is resumed and how predictions rebuild its data pipeline.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "config/rolling.h"
#include "data/dataset.h"
#include "eval/backtest.h"

namespace YAML {
class Node;
}

namespace klab {

struct TrainSpec {
  std::size_t seq_length = 60;
  std::size_t epochs = 50;
  std::size_t batch_size = 32;
  bool batch_by_date = false;        // one batch = one date's windows (the cross-section)
  double learning_rate = 0.001;
  std::string optimizer = "adam";  // adam | adamw | sgd
  double weight_decay = 0.0;
  double momentum = 0.9;           // sgd only
  std::string loss = "mse";        // mse | huber
  double huber_delta = 1.0;
  std::string lr_schedule = "none";  // none | step | cosine
  std::size_t lr_step_size = 10;     // step: every N epochs ...
  double lr_gamma = 0.5;             // ... multiply by gamma
  double min_learning_rate = 0.0;    // cosine: floor
  double grad_clip = 0.0;            // max global L2 norm; 0 = off
  std::size_t patience = 10;         // early stopping; 0 = off
  std::size_t checkpoint_interval = 10;
  std::uint64_t seed = 42;
  int threads = 1;                   // torch intra-op threads for this run
};

struct ExperimentSpec {
  std::string name;
  std::string file;  // where it came from, for messages
  // data
  std::string source = "sqlite";
  nlohmann::json source_options = nlohmann::json::object();  // a relative options.path made absolute once, at load
  std::string path_as_given;  // options.path as the user wrote it, when it was relative (data.path_as_given)
  std::vector<std::string> symbols;  // one = a single-stock run; ["all"] = every listed symbol
  bool multi_symbol = false;         // written as `symbols:` (even with one entry)
  UniverseRule universe;             // data.universe {top, by, rebalance}: point in time (data/universe.h)
  std::string start_date, end_date;
  SplitSpec split;
  std::string adjust = "backward";  // causal; forward rescales the past by the last day's factor
  std::string scaler = "zscore";
  int max_gap_days = 15;
  // features / target / model
  std::string features_name = "default";  // a set name, or "custom"
  std::vector<std::string> features;
  std::string target_kind = "close";
  std::size_t horizon = 1;
  std::string target_normalize = "none";  // none | cs_rank | cs_zscore (several symbols)
  // evaluation.backtest: the TopkDropout backtest of a run over several symbols (eval/backtest.h);
  // `false` turns it off.
  bool backtest = true;
  BacktestOptions backtest_options;
  // evaluation.rolling: walk-forward segments (config/rolling.h); `sweep` expands them into trials.
  RollingSpec rolling;
  bool fill_nan = false;                  // data.fill_nan
  std::string model_type = "lstm";
  nlohmann::json model_params = nlohmann::json::object();  // passed to the plugin as is
  TrainSpec train;
  std::string output_dir = "out";

  nlohmann::json to_json() const;
  static ExperimentSpec from_json(const nlohmann::json& j, const std::string& file);
  DatasetSpec dataset_spec(const std::vector<std::string>& resolved_symbols) const;
};

// Reads and validates a YAML file. Throws ConfigError naming the file, line and key.
ExperimentSpec load_experiment(const std::filesystem::path& file);
ExperimentSpec parse_experiment(const std::string& yaml_text, const std::string& file_name);

// The text of an experiment file as a YAML tree: refused with a ConfigError naming the file and
// line when it is not UTF-8, not YAML, or holds a string that is not UTF-8 (an escape such as
// "\xA0"); what every reader of experiment text starts with (parse_experiment, the sweep).
YAML::Node load_experiment_yaml(const std::string& yaml_text, const std::string& file_name);

// Validates an already-parsed YAML tree (the sweep expands trials as trees, then calls this).
// `sweep_allowed`: whether a top-level `sweep:` section may be present (it is skipped here).
ExperimentSpec experiment_from_yaml(const YAML::Node& root, const std::string& file_name,
                                    bool sweep_allowed = true);

// YAML scalar/sequence/map -> JSON, typing plain scalars (int, float, bool, null) and keeping
// quoted scalars as strings.
nlohmann::json yaml_to_json(const YAML::Node& node);

}  // namespace klab
