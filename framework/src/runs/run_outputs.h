// runs/run_outputs.h — what a run's out/ files say, assembled from the validated experiment and
// what the fit reports: config.json at the start, model/config.json and training_args.json at
// the end (the specification's keys, docs/OUTPUT_STANDARD.md). workflow/ calls these; the
// TrainingManager writes the files.
#pragma once

#include <cstddef>

#include <nlohmann/json.hpp>

#include "config/experiment.h"

namespace klab {

// How fitting went, in terms every model family can report.
struct FitReport {
  double best_val_loss = 0;
  int best_epoch = 0;
  int epochs_trained = 0;
  bool early_stopped = false;
  std::size_t train_samples = 0, val_samples = 0, test_samples = 0;
};

// config.json when the run starts: training settings, dates, symbols, the model's
// hyperparameters (its config_json() without model_type), features and the whole experiment.
nlohmann::json initial_run_config(const ExperimentSpec& spec, const nlohmann::json& model_config);

// model/config.json: the model's own configuration plus what prediction needs beside the weights
// (feature_names, seq_length, target, adjust).
nlohmann::json model_folder_config(const ExperimentSpec& spec, const nlohmann::json& model_config);

// training_args.json.
nlohmann::json training_arguments(const ExperimentSpec& spec, const FitReport& fit);

}  // namespace klab
