#include "train/checkpointer.h"

#include <filesystem>

#include "klab/torch_model.h"
#include "klab/error.h"
#include "runs/files.h"
#include "runs/state_dict.h"
#include "runs/training_manager.h"

namespace klab {

namespace fs = std::filesystem;

nlohmann::json TrainState::to_json() const {
  return {{"best_val_loss", best_val_loss}, {"best_epoch", best_epoch}, {"bad_epochs", bad_epochs}};
}

namespace {

// The state a loaded checkpoint carries: its epoch and early-stopping bookkeeping.
int resume_from(TrainingManager& manager, const fs::path& checkpoint, const c10::impl::GenericDict& dict,
                TrainState& state) {
  const int epoch = static_cast<int>(dict.at("epoch").toInt());
  if (dict.contains("trainer_state")) {
    auto s = nlohmann::json::parse(dict.at("trainer_state").toStringRef());
    state.best_val_loss = s.value("best_val_loss", state.best_val_loss);
    state.best_epoch = s.value("best_epoch", 0);
    state.bad_epochs = s.value("bad_epochs", 0);
  }
  state.last_epoch = epoch;
  manager.truncate_metrics_after(epoch);
  manager.save_training_log("Resuming from " + checkpoint.filename().string() + " (epoch " + std::to_string(epoch) +
                             ")");
  return epoch + 1;
}

}  // namespace

int Checkpointer::resume(TorchModel& model, torch::optim::Optimizer& optimizer, TrainState& state) {
  // Newest first; a checkpoint whose weights fail their checksum or do not load (truncated or
  // flipped on disk since) is skipped with a warning for the one before it. The fresh model is
  // kept aside: if none loads, training starts again from it.
  const auto pristine = model_state_dict(model);
  for (const fs::path& checkpoint : manager_.complete_checkpoints()) {
    const fs::path file = checkpoint / "pytorch_model.bin";
    try {
      const auto metrics = files::read_json(checkpoint / "metrics.json");
      if (metrics.contains("pytorch_model_crc32") &&
          metrics["pytorch_model_crc32"].get<std::uint32_t>() != files::crc32_of_file(file)) {
        throw IoError(file.string() + ": checksum mismatch (the file changed on disk after it was written)");
      }
      auto dict = load_pickle(file).toGenericDict();
      load_model_state_dict(model, load_state_dict_file(file), file.string());
      load_optimizer_state_dict(optimizer, dict.at("optimizer_state_dict"), train_.optimizer, file.string());
      const int next = resume_from(manager_, checkpoint, dict, state);
      restore_best_of(model, optimizer, next - 1, metrics, state);
      return next;
    } catch (const std::exception& e) {
      const std::string line = std::string(e.what()).substr(0, std::string(e.what()).find('\n'));
      manager_.save_training_log("warning: " + checkpoint.filename().string() + " is unusable (" + line +
                                 "): falling back to the checkpoint before it");
    }
  }
  load_model_state_dict(model, pristine, "the initial weights");
  manager_.truncate_metrics_after(0);
  manager_.save_training_log("No usable checkpoint: training again from epoch 1");
  return 1;
}

// An epoch that was both a checkpoint and the best writes checkpoint-N, then best/. A kill
// between the two leaves best/ one best epoch behind, and a resume from checkpoint-N would never
// write it again (the kill campaign found this: the final model was the previous best's). The
// weights just loaded are that epoch's, so best/ is written from them, as the run would have.
void Checkpointer::restore_best_of(TorchModel& model, torch::optim::Optimizer& optimizer, int epoch,
                                   const nlohmann::json& checkpoint_metrics, const TrainState& state) {
  if (state.best_epoch != epoch) return;
  int on_disk = -1;
  try {
    on_disk = files::read_json(manager_.run_dir() / "checkpoints" / "best" / "metrics.json").value("epoch", -1);
  } catch (const std::exception&) {
  }
  if (on_disk == epoch) return;
  nlohmann::json metrics = checkpoint_metrics;
  for (const char* own : {"epoch", "timestamp", "pytorch_model_crc32"}) metrics.erase(own);
  manager_.save_best(model, optimizer, epoch, metrics);
  manager_.save_training_log("best/ held " + (on_disk < 0 ? std::string("no complete checkpoint") : "epoch " + std::to_string(on_disk)) +
                             ", not the best epoch " + std::to_string(epoch) + ": written again from checkpoint-" +
                             std::to_string(epoch));
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
