#include "train/torch_loop.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <iomanip>
#include <numeric>
#include <ostream>
#include <random>

#include <torch/types.h>
#include <torch/nn/utils/clip_grad.h>
#include <torch/utils.h>

#include "data/window_batch.h"
#include "klab/error.h"
#include "klab/torch_model.h"
#include "runs/files.h"
#include "runs/training_manager.h"
#include "train/optim.h"
#include "train/process_policy.h"

namespace klab {

namespace {

// Inputs [B, seq, F] and scaled targets [B, 1] of windows[first, last).
std::pair<torch::Tensor, torch::Tensor> make_batch(const Dataset& ds, const std::vector<WindowRef>& windows,
                                                   const std::vector<std::size_t>& order, std::size_t first,
                                                   std::size_t last) {
  const auto b = static_cast<int64_t>(last - first);
  const auto seq = static_cast<int64_t>(ds.spec().seq_length), f = static_cast<int64_t>(ds.n_features());
  auto inputs = torch::empty({b, seq, f}, torch::kFloat);
  auto targets = torch::empty({b, 1}, torch::kFloat);
  float* in = inputs.data_ptr<float>();
  float* out = targets.data_ptr<float>();
  for (std::size_t i = first; i < last; ++i) {
    const WindowRef& w = windows[order.empty() ? i : order[i]];
    ds.fill_window(w, in + (i - first) * seq * f);
    out[i - first] = static_cast<float>(ds.scaled_target(w));
  }
  return {inputs, targets};
}

// Validation batches: as many windows as TorchModel::predict takes at once.
constexpr std::size_t kEvalChunk = static_cast<std::size_t>(TorchModel::kPredictChunk);

double mean_loss(TorchModel& model, const Dataset& ds, const std::vector<WindowRef>& windows, const TrainSpec& t) {
  torch::NoGradGuard no_grad;
  model.eval();
  double total = 0;
  for (std::size_t first = 0; first < windows.size(); first += kEvalChunk) {
    const std::size_t last = std::min(windows.size(), first + kEvalChunk);
    auto batch = make_batch(ds, windows, {}, first, last);
    total += loss_of(t, model.forward(batch.first), batch.second).item<double>() * static_cast<double>(last - first);
  }
  return windows.empty() ? 0.0 : total / static_cast<double>(windows.size());
}

}  // namespace

TrainState train_torch_model(TorchModel& model, const Dataset& ds, const TrainSpec& t, TrainingManager& manager,
                             bool resuming, std::ostream* out) {
  auto optimizer = make_optimizer(t, model);
  Checkpointer checkpointer(manager, t);
  TrainState state;
  int start_epoch = 1;
  if (resuming) {
    start_epoch = checkpointer.resume(model, *optimizer, state);
    if (out && start_epoch > 1) *out << "resuming " << manager.run_name() << " from epoch " << start_epoch - 1 << "\n";
  }
  std::vector<std::size_t> order(ds.train().size());
  // Batches are order[bounds[k], bounds[k + 1]): batch_size windows drawn at random, or with
  // batch_by_date one date's windows each, the dates in random order.
  const auto by_date = t.batch_by_date ? group_by_date(ds, ds.train()) : std::vector<std::vector<std::size_t>>{};
  std::vector<std::size_t> bounds;
  for (int epoch = start_epoch; epoch <= static_cast<int>(t.epochs); ++epoch) {
    const auto started = std::chrono::steady_clock::now();
    const double lr = learning_rate_at(t, static_cast<std::size_t>(epoch));
    set_learning_rate(*optimizer, lr);
    // Shuffle and dropout depend on (seed, epoch) only: resuming reproduces them exactly.
    torch::manual_seed(t.seed * 1000003ULL + static_cast<std::uint64_t>(epoch));
    std::mt19937_64 rng(t.seed ^ (0x9E3779B97F4A7C15ULL * static_cast<std::uint64_t>(epoch)));
    bounds.assign(1, 0);
    if (t.batch_by_date) {
      std::vector<std::size_t> dates(by_date.size());
      std::iota(dates.begin(), dates.end(), 0);
      std::shuffle(dates.begin(), dates.end(), rng);
      order.clear();
      for (std::size_t d : dates) {
        order.insert(order.end(), by_date[d].begin(), by_date[d].end());
        bounds.push_back(order.size());
      }
    } else {
      std::iota(order.begin(), order.end(), 0);
      std::shuffle(order.begin(), order.end(), rng);
      for (std::size_t b = t.batch_size; b < order.size(); b += t.batch_size) bounds.push_back(b);
      bounds.push_back(order.size());
    }

    model.train();
    double train_total = 0;
    for (std::size_t k = 0; k + 1 < bounds.size(); ++k) {
      if (stop_requested()) {
        throw TrainError("interrupted during epoch " + std::to_string(epoch) + "; continue with: sweep --resume " +
                         manager.run_name());
      }
      const std::size_t first = bounds[k], last = bounds[k + 1];
      auto batch = make_batch(ds, ds.train(), order, first, last);
      optimizer->zero_grad();
      auto loss = loss_of(t, model.forward(batch.first), batch.second);
      const double value = loss.item<double>();
      if (!std::isfinite(value)) {
        throw TrainError("epoch " + std::to_string(epoch) + ": the training loss became " + files::log_number(value) +
                         "; lower train.learning_rate or set train.grad_clip");
      }
      loss.backward();
      if (t.grad_clip > 0) torch::nn::utils::clip_grad_norm_(model.parameters(), t.grad_clip);
      optimizer->step();
      train_total += value * static_cast<double>(last - first);
    }
    const double train_loss = train_total / static_cast<double>(order.size());
    const double val_loss = mean_loss(model, ds, ds.val(), t);
    const bool is_best = val_loss < state.best_val_loss;
    if (is_best) {
      state.best_val_loss = val_loss;
      state.best_epoch = epoch;
      state.bad_epochs = 0;
    } else {
      ++state.bad_epochs;
    }
    state.last_epoch = epoch;
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    manager.log_metrics(epoch, {{"train_loss", train_loss}, {"val_loss", val_loss}, {"learning_rate", lr},
                                {"epoch_seconds", seconds}});
    manager.save_training_log("Epoch " + std::to_string(epoch) + ": train_loss=" + files::log_number(train_loss) +
                              ", val_loss=" + files::log_number(val_loss) + (is_best ? " (best)" : ""));
    if (out) {
      *out << "  epoch " << std::setw(3) << epoch << "/" << t.epochs << "  train_loss " << files::log_number(train_loss)
           << "  val_loss " << files::log_number(val_loss) << "  lr " << lr << "  " << std::setprecision(2) << std::fixed
           << seconds << "s" << std::defaultfloat << (is_best ? "  *best" : "") << "\n"
           << std::flush;
    }
    checkpointer.after_epoch(model, *optimizer, epoch,
                             {{"train_loss", train_loss}, {"val_loss", val_loss}, {"learning_rate", lr},
                              {"is_best", is_best}},
                             is_best, state);
    if (t.patience > 0 && state.bad_epochs >= static_cast<int>(t.patience)) {
      state.early_stopped = true;
      manager.save_training_log("Early stopping at epoch " + std::to_string(epoch) + ": no val_loss improvement for " +
                                std::to_string(t.patience) + " epochs (best epoch " + std::to_string(state.best_epoch) +
                                ")");
      if (out) *out << "  early stop: no improvement for " << t.patience << " epochs\n";
      break;
    }
  }
  // The model keeps the best validation weights.
  checkpointer.restore_best(model);
  return state;
}

}  // namespace klab
