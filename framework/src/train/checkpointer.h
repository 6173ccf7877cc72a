// train/checkpointer.h — a torch run's checkpoints: where training resumes from, what is saved
// after each epoch (checkpoint-N every checkpoint_interval epochs, best/ at the lowest
// val_loss), and the best weights put back at the end. Files go through the TrainingManager,
// which owns the out/ layout and its atomic replacement.
#pragma once

#include <limits>

#include <nlohmann/json.hpp>
#include <torch/optim/optimizer.h>

#include "config/experiment.h"

namespace klab {

class TorchModel;
class TrainingManager;

// Early-stopping bookkeeping, saved in every checkpoint so a resumed run continues exactly.
struct TrainState {
  double best_val_loss = std::numeric_limits<double>::infinity();
  int best_epoch = 0;
  int bad_epochs = 0;
  int last_epoch = 0;
  bool early_stopped = false;
  nlohmann::json to_json() const;
};

class Checkpointer {
 public:
  Checkpointer(TrainingManager& manager, const TrainSpec& train) : manager_(manager), train_(train) {}

  // Loads the newest complete checkpoint into model, optimizer and state and returns the first
  // epoch still to train (1 when there is none); metrics logged after it are dropped. A checkpoint
  // that fails its checksum or does not load is skipped, with a warning in training.log, for the
  // one before it.
  int resume(TorchModel& model, torch::optim::Optimizer& optimizer, TrainState& state);

  // After `epoch`: checkpoint-N when the interval says so, else best/ when this epoch is the best.
  void after_epoch(TorchModel& model, torch::optim::Optimizer& optimizer, int epoch, const nlohmann::json& metrics,
                   bool is_best, const TrainState& state);

  // Puts the best epoch's weights (checkpoints/best/) back into the model.
  void restore_best(TorchModel& model);

 private:
  // After a resume from checkpoint-`epoch`: best/ made to hold that epoch when it was the best.
  void restore_best_of(TorchModel& model, torch::optim::Optimizer& optimizer, int epoch,
                       const nlohmann::json& checkpoint_metrics, const TrainState& state);

  TrainingManager& manager_;
  const TrainSpec& train_;
};

}  // namespace klab
