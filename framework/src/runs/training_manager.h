// runs/training_manager.h — one run directory in the out/ standard.
//
// The C++ form of the specification's TrainingManager (docs/OUTPUT_STANDARD.md): it names and
// creates out/{run_name}/, and writes config.json, metadata.json (status and its history),
// model/, checkpoints/checkpoint-{epoch}/ and best/, logs/training.log, logs/metrics.json and
// results/. The trainer drives it, and so can a user's own training loop
// (examples/train_with_manager.cpp). Every JSON and weight file is written atomically; a
// checkpoint folder appears under its final name only once complete.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace torch {
namespace nn {
class Module;
}
namespace optim {
class Optimizer;
}
}  // namespace torch

namespace klab {

class Model;

// The statuses of metadata.json, in the order a successful run passes through them.
inline constexpr const char* kStatusInitialized = "initialized";
inline constexpr const char* kStatusPreparing = "preparing";
inline constexpr const char* kStatusTraining = "training";
inline constexpr const char* kStatusCompleted = "completed";
inline constexpr const char* kStatusFailed = "failed";

class RunLock;

// Copies of the run's experiment.json and scaler.json that save_model puts beside the weights,
// so that model/ alone (copied elsewhere, backed up) is enough to predict.
inline constexpr const char* kModelExperimentFile = "klab_experiment.json";
inline constexpr const char* kModelScalerFile = "klab_scaler.json";

struct RunListing {
  std::string name;
  std::filesystem::path path;
  nlohmann::json metadata;  // what could be read; empty object if nothing
  std::string problem;      // why metadata.json could not be read, "" if fine
};

class TrainingManager {
 public:
  // Creates out/{symbol}_{model}_{YYYYMMDD_HHMMSS}/ (or {model}_{timestamp} when
  // `stock_symbol` is empty: a multi-symbol run), never reusing an existing folder: a second
  // run in the same second gets a _2, _3, ... suffix. Status: initialized.
  TrainingManager(const std::string& stock_symbol, const std::string& model_type,
                  const std::filesystem::path& output_dir = "out", const std::string& data_source = "");

  // Opens an existing run by name (under output_dir) or by path. Throws IoError if it has no
  // readable metadata.json.
  static TrainingManager load_run(const std::string& run_name_or_path,
                                  const std::filesystem::path& output_dir = "out");
  // Opens an existing run to write it (resume): as load_run, and takes the run's lock
  // (runs/run_lock.h); throws RunBusyError naming the process that is writing it now.
  static TrainingManager open_for_writing(const std::string& run_name_or_path,
                                          const std::filesystem::path& output_dir = "out");
  // Every run folder (a folder holding metadata.json) under output_dir, newest first;
  // unreadable ones are listed with a problem. Other folders are not runs and not listed.
  static std::vector<RunListing> list_runs(const std::filesystem::path& output_dir = "out");
  // The folders under output_dir that are not runs (no metadata.json; sweeps/ aside).
  static std::vector<std::string> other_folders(const std::filesystem::path& output_dir = "out");

  const std::string& run_name() const { return run_name_; }
  const std::filesystem::path& run_dir() const { return run_dir_; }
  const nlohmann::json& metadata() const { return metadata_; }

  // config.json: `config` plus run_name, stock_symbol, model_type, data_source, created_at. A
  // `data_source` in `config` is the run's (metadata.json follows it); a stock_symbol or
  // model_type other than the run's is refused (they name the folder).
  void save_config(const nlohmann::json& config);
  // One "[YYYY-MM-DD HH:MM:SS] message" line in logs/training.log.
  void save_training_log(const std::string& message);
  // Appends {"epoch", "phase", "timestamp", ...metrics} to logs/metrics.json.
  void log_metrics(int epoch, const nlohmann::json& metrics, const std::string& phase = "train");
  // Drops logs/metrics.json entries after `epoch` (a resumed run recomputes them).
  void truncate_metrics_after(int epoch);
  // checkpoints/checkpoint-{epoch}/ (pytorch_model.bin with epoch, model_state_dict,
  // optimizer_state_dict, metrics, timestamp [, trainer_state]; metrics.json), and the same in
  // checkpoints/best/ when is_best. Without is_best, as the specification's
  // save_checkpoint(model, optimizer, epoch, metrics): best/ is kept at the lowest
  // metrics["val_loss"] so far (the one in checkpoints/best/metrics.json, so a resumed loop
  // continues the comparison).
  void save_checkpoint(torch::nn::Module& model, torch::optim::Optimizer& optimizer, int epoch,
                       const nlohmann::json& metrics, std::optional<bool> is_best = std::nullopt,
                       const nlohmann::json& trainer_state = nlohmann::json::object());
  // Only checkpoints/best/ (a new best between regular checkpoints).
  void save_best(torch::nn::Module& model, torch::optim::Optimizer& optimizer, int epoch,
                 const nlohmann::json& metrics);
  // model/pytorch_model.bin (state_dict), model/config.json, model/training_args.json, and
  // model/klab_experiment.json + model/klab_scaler.json copied from the run when it has them;
  // metadata: model_saved, model_path ("out/{run}/model/pytorch_model.bin" as in the
  // specification: relative, the output folder's own name when it was given as an absolute path).
  void save_model(torch::nn::Module& model, const nlohmann::json& model_config,
                  const nlohmann::json& training_args);
  // save_model for a model of any family: a torch module's state_dict as above; any other model
  // writes its own files into model/ (Model::save), and model_path names its main file.
  void save_trained_model(Model& model, const nlohmann::json& model_config, const nlohmann::json& training_args);
  // results/eval_results.json (evaluated_at, stock_symbol, model_type added);
  // metadata: evaluation_completed, eval_metrics.
  void save_evaluation_results(const nlohmann::json& eval_results);
  // results/predictions.json: [{date, symbol, actual, predicted}, ...].
  void save_predictions(const nlohmann::json& predictions);
  // Any other file of the run (scaler.json, experiment.json), relative to the run folder.
  void save_artifact(const std::string& relative_path, const nlohmann::json& value);
  // Sets one more key of metadata.json (e.g. stock_symbols of a multi-symbol run).
  void annotate(const std::string& key, const nlohmann::json& value);
  // metadata.json status (+ updated_at, status_history; `error` for failed).
  void update_status(const std::string& status, const std::string& error = "");

  std::filesystem::path get_model_path() const;
  // The model's main file in `run_dir`/model/: the file metadata.model_path names (a model of the
  // fit family names its own; only the name counts, the run may have moved), else the
  // specification's pytorch_model.bin.
  static std::filesystem::path model_file(const std::filesystem::path& run_dir, const nlohmann::json& metadata);
  nlohmann::json load_model_config() const;
  nlohmann::json load_artifact(const std::string& relative_path) const;
  // metadata + the key facts of config.json, training_args.json and eval_results.json.
  nlohmann::json get_summary() const;

  // The newest checkpoint whose folder is complete and whose files parse; nullopt if none.
  std::optional<std::filesystem::path> newest_checkpoint() const;
  // Every such checkpoint, newest first (a resume falls back along this list).
  std::vector<std::filesystem::path> complete_checkpoints() const;

 private:
  TrainingManager() = default;
  void write_metadata();
  // model/config.json, training_args.json, the pipeline copies and metadata, around `main_file`.
  void finish_model_folder(const std::string& main_file, const nlohmann::json& model_config,
                           const nlohmann::json& training_args);
  void write_checkpoint_dir(const std::filesystem::path& final_dir, torch::nn::Module& model,
                            torch::optim::Optimizer& optimizer, int epoch,
                            const nlohmann::json& metrics, const nlohmann::json& trainer_state);

  std::string run_name_;
  std::filesystem::path output_dir_, run_dir_;
  nlohmann::json metadata_;
  std::shared_ptr<RunLock> lock_;  // held while this manager (or a copy) writes the run
};

}  // namespace klab
