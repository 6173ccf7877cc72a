// train/optim.h — what train.optimizer, train.lr_schedule and train.loss mean for a torch model.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include <torch/optim/optimizer.h>
#include <torch/types.h>

#include "config/experiment.h"

namespace klab {

class TorchModel;

// The learning rate of 1-based `epoch` under t.lr_schedule (constant, step, cosine).
double learning_rate_at(const TrainSpec& t, std::size_t epoch);
std::unique_ptr<torch::optim::Optimizer> make_optimizer(const TrainSpec& t, TorchModel& model);
void set_learning_rate(torch::optim::Optimizer& optimizer, double lr);
// The loss on [B, 1] predictions and targets (training_args.json names it: runs/run_outputs.h).
torch::Tensor loss_of(const TrainSpec& t, const torch::Tensor& pred, const torch::Tensor& target);

}  // namespace klab
