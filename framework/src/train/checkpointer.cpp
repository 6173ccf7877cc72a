#include "train/checkpointer.h"

#include <filesystem>

#include "klab/torch_model.h"
#include "runs/state_dict.h"
#include "runs/training_manager.h"

namespace klab {

namespace fs = std::filesystem;

nlohmann::json TrainState::to_json() const {
  return {{"best_val_loss", best_val_loss}, {"best_epoch", best_epoch}, {"bad_epochs", bad_epochs}};
}

int Checkpointer::resume(TorchModel& model, torch::optim::Optimizer& optimizer, TrainState& state) {
  auto checkpoint = manager_.newest_checkpoint();
  if (!checkpoint) {
    manager_.truncate_metrics_after(0);
    manager_.save_training_log("No complete checkpoint: training again from epoch 1");
    return 1;
  }
  const fs::path file = *checkpoint / "pytorch_model.bin";
  auto dict = load_pickle(file).toGenericDict();
  load_model_state_dict(model, load_state_dict_file(file), file.string());
  load_optimizer_state_dict(optimizer, dict.at("optimizer_state_dict"), train_.optimizer, file.string());
  const int epoch = static_cast<int>(dict.at("epoch").toInt());
  if (dict.contains("trainer_state")) {
    auto s = nlohmann::json::parse(dict.at("trainer_state").toStringRef());
    state.best_val_loss = s.value("best_val_loss", state.best_val_loss);
    state.best_epoch = s.value("best_epoch", 0);
    state.bad_epochs = s.value("bad_epochs", 0);
  }
  state.last_epoch = epoch;
  manager_.truncate_metrics_after(epoch);
  manager_.save_training_log("Resuming from " + checkpoint->filename().string() + " (epoch " + std::to_string(epoch) +
                             ")");
  return epoch + 1;
}

void Checkpointer::after_epoch(TorchModel& model, torch::optim::Optimizer& optimizer, int epoch,
                               const nlohmann::json& metrics, bool is_best, const TrainState& state) {
  if (epoch % static_cast<int>(train_.checkpoint_interval) == 0) {
    manager_.save_checkpoint(model, optimizer, epoch, metrics, is_best, state.to_json());
  } else if (is_best) {
    manager_.save_best(model, optimizer, epoch, metrics);
  }
}

void Checkpointer::restore_best(TorchModel& model) {
  const fs::path best = manager_.run_dir() / "checkpoints" / "best" / "pytorch_model.bin";
  load_model_state_dict(model, load_state_dict_file(best), best.string());
}

}  // namespace klab
