#include "train/optim.h"

#include <cmath>

#include <torch/nn/functional/loss.h>
#include <torch/optim/adam.h>
#include <torch/optim/adamw.h>
#include <torch/optim/sgd.h>

#include "klab/torch_model.h"

namespace klab {

double learning_rate_at(const TrainSpec& t, std::size_t epoch) {
  if (t.lr_schedule == "step") {
    return t.learning_rate * std::pow(t.lr_gamma, static_cast<double>((epoch - 1) / t.lr_step_size));
  }
  if (t.lr_schedule == "cosine") {
    const double progress = t.epochs > 1 ? static_cast<double>(epoch - 1) / static_cast<double>(t.epochs - 1) : 0.0;
    return t.min_learning_rate + (t.learning_rate - t.min_learning_rate) * 0.5 * (1 + std::cos(M_PI * progress));
  }
  return t.learning_rate;
}

std::unique_ptr<torch::optim::Optimizer> make_optimizer(const TrainSpec& t, TorchModel& model) {
  if (t.optimizer == "adamw") {
    return std::make_unique<torch::optim::AdamW>(
        model.parameters(), torch::optim::AdamWOptions(t.learning_rate).weight_decay(t.weight_decay));
  }
  if (t.optimizer == "sgd") {
    return std::make_unique<torch::optim::SGD>(
        model.parameters(),
        torch::optim::SGDOptions(t.learning_rate).momentum(t.momentum).weight_decay(t.weight_decay));
  }
  return std::make_unique<torch::optim::Adam>(
      model.parameters(), torch::optim::AdamOptions(t.learning_rate).weight_decay(t.weight_decay));
}

void set_learning_rate(torch::optim::Optimizer& optimizer, double lr) {
  for (auto& group : optimizer.param_groups()) group.options().set_lr(lr);
}

torch::Tensor loss_of(const TrainSpec& t, const torch::Tensor& pred, const torch::Tensor& target) {
  if (t.loss == "huber") {
    return torch::nn::functional::huber_loss(pred, target,
                                             torch::nn::functional::HuberLossFuncOptions().delta(t.huber_delta));
  }
  return torch::mse_loss(pred, target);
}

}  // namespace klab
