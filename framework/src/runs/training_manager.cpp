// Over 400 lines: the specification's TrainingManager is one class, and every file it writes
// (metadata, config, logs, metrics, checkpoints, model/, results) is written here, atomically and
// under the run lock, so that no other code touches a run folder's layout.
#include "runs/training_manager.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include <algorithm>
#include <cmath>
#include <limits>
#include <fstream>
#include <regex>

#include <torch/optim/adam.h>
#include <torch/optim/adamw.h>
#include <torch/optim/sgd.h>

#include "klab/error.h"
#include "runs/files.h"
#include "runs/run_lock.h"
#include "klab/torch_model.h"
#include "runs/state_dict.h"

namespace klab {

namespace fs = std::filesystem;

namespace {

std::string optimizer_kind(torch::optim::Optimizer& optimizer) {
  if (dynamic_cast<torch::optim::AdamW*>(&optimizer)) return "adamw";
  if (dynamic_cast<torch::optim::Adam*>(&optimizer)) return "adam";
  if (dynamic_cast<torch::optim::SGD*>(&optimizer)) return "sgd";
  throw TrainError("checkpoint: unsupported optimizer (klab saves Adam, AdamW and SGD)");
}

// Moves a finished temporary folder to its final name. An existing folder of that name (best/,
// or a resumed run rewriting a checkpoint) is swapped with it in one atomic step
// (renameat2 RENAME_EXCHANGE), so a reader, or a resume after a crash at any instant, always
// finds the old complete folder or the new complete one under the final name; the old one is
// then removed from the temporary name.
void replace_dir(const fs::path& tmp, const fs::path& final_dir) {
  std::error_code ec;
  if (::renameat2(AT_FDCWD, tmp.c_str(), AT_FDCWD, final_dir.c_str(), RENAME_EXCHANGE) == 0) {
    files::crash_point("checkpoint-exchanged");
    files::fsync_dir(final_dir.parent_path());
    fs::remove_all(tmp, ec);
    return;
  }
  if (errno != ENOENT && errno != EINVAL) {
    throw IoError(final_dir.string() + ": cannot put the new checkpoint in place: " + std::strerror(errno));
  }
  // No folder of that name yet (ENOENT), or a file system without RENAME_EXCHANGE (EINVAL):
  // a plain rename, which replaces nothing or fails rather than leave neither.
  if (errno == EINVAL && fs::exists(final_dir)) {
    const fs::path old = final_dir.parent_path() / (".old-" + final_dir.filename().string());
    fs::remove_all(old, ec);
    fs::rename(final_dir, old);
    fs::rename(tmp, final_dir);
    files::fsync_dir(final_dir.parent_path());
    fs::remove_all(old, ec);
    return;
  }
  fs::rename(tmp, final_dir);
  files::fsync_dir(final_dir.parent_path());
}

// A folder of the output folder that runs or a user's own folders live in: not hidden (.sweeps/,
// .tmp-*), not the sweep records older klab kept in sweeps/. Whether it is a run is metadata.json.
bool user_folder(const fs::directory_entry& item) {
  const std::string name = item.path().filename().string();
  return item.is_directory() && name.rfind('.', 0) != 0 && name != "sweeps";
}

c10::IValue json_to_ivalue_metrics(const nlohmann::json& metrics) {
  c10::impl::GenericDict d(c10::StringType::get(), c10::AnyType::get());
  for (auto it = metrics.begin(); it != metrics.end(); ++it) {
    if (it->is_number_integer()) {
      d.insert(it.key(), it->get<int64_t>());
    } else if (it->is_number()) {
      d.insert(it.key(), it->get<double>());
    } else if (it->is_boolean()) {
      d.insert(it.key(), it->get<bool>());
    } else if (it->is_string()) {
      d.insert(it.key(), it->get<std::string>());
    }
  }
  return d;
}

}  // namespace

TrainingManager::TrainingManager(const std::string& stock_symbol, const std::string& model_type,
                                 const fs::path& output_dir, const std::string& data_source)
    : output_dir_(output_dir) {
  if (!std::regex_match(model_type, std::regex("[A-Za-z0-9_-]+"))) {
    throw ConfigError("run name: invalid model type \"" + model_type + "\"");
  }
  std::error_code ec;
  fs::create_directories(output_dir, ec);
  if (!fs::is_directory(output_dir)) {
    throw IoError(output_dir.string() + ": cannot create the output folder" + (ec ? ": " + ec.message() : std::string()));
  }
  const std::string base = (stock_symbol.empty() ? "" : stock_symbol + "_") + model_type + "_" + files::compact_now();
  // mkdir is atomic: whoever creates the folder owns the name.
  for (int attempt = 1;; ++attempt) {
    run_name_ = attempt == 1 ? base : base + "_" + std::to_string(attempt);
    run_dir_ = output_dir / run_name_;
    if (::mkdir(run_dir_.c_str(), 0755) == 0) break;
    if (errno != EEXIST || attempt > 1000) {
      throw IoError(run_dir_.string() + ": cannot create the run folder: " + std::strerror(errno));
    }
  }
  lock_ = RunLock::acquire(run_dir_);
  for (const char* sub : {"model", "checkpoints", "logs", "results"}) fs::create_directories(run_dir_ / sub);
  const std::string now = files::iso_now();
  metadata_ = {{"run_name", run_name_},
               {"stock_symbol", stock_symbol},
               {"model_type", model_type},
               {"data_source", data_source},
               {"created_at", now},
               {"updated_at", now},
               {"status", kStatusInitialized},
               {"status_history", nlohmann::json::array({{{"status", kStatusInitialized}, {"at", now}}})},
               {"model_saved", false},
               {"model_path", nullptr},
               {"evaluation_completed", false},
               {"eval_metrics", nlohmann::json::object()}};
  write_metadata();
  files::write_json(run_dir_ / "logs" / "metrics.json", nlohmann::json::array());
  save_training_log("Run " + run_name_ + " created");
}

TrainingManager TrainingManager::load_run(const std::string& run_name_or_path, const fs::path& output_dir) {
  fs::path dir = run_name_or_path;
  if (!fs::is_directory(dir)) dir = output_dir / run_name_or_path;
  if (!fs::is_directory(dir)) {
    throw IoError("run " + run_name_or_path + ": no such run in " + output_dir.string());
  }
  TrainingManager m;
  m.run_dir_ = dir;
  m.output_dir_ = dir.parent_path();
  m.metadata_ = files::read_json(dir / "metadata.json");
  m.run_name_ = files::text_or(m.metadata_, "run_name", dir.filename().string());
  return m;
}

TrainingManager TrainingManager::open_for_writing(const std::string& run_name_or_path, const fs::path& output_dir) {
  TrainingManager m = load_run(run_name_or_path, output_dir);
  m.lock_ = RunLock::acquire(m.run_dir_);
  // Re-read under the lock: the previous writer may have finished between the two.
  m.metadata_ = files::read_json(m.run_dir_ / "metadata.json");
  return m;
}

std::vector<RunListing> TrainingManager::list_runs(const fs::path& output_dir) {
  std::vector<RunListing> runs;
  std::error_code ec;
  if (!fs::is_directory(output_dir, ec)) return runs;
  for (const auto& item : fs::directory_iterator(output_dir, ec)) {
    if (!user_folder(item) || !fs::exists(item.path() / "metadata.json", ec)) continue;  // notes/, backups/: not runs
    RunListing run;
    run.name = item.path().filename().string();
    run.path = item.path();
    run.metadata = nlohmann::json::object();
    try {
      run.metadata = files::read_json(item.path() / "metadata.json");
      if (!run.metadata.is_object()) {
        run.problem = "metadata.json is not an object";
        run.metadata = nlohmann::json::object();
      }
    } catch (const Error& e) {
      run.problem = e.what();
    }
    runs.push_back(std::move(run));
  }
  auto created = [](const RunListing& r) { return files::text_or(r.metadata, "created_at") + r.name; };
  std::sort(runs.begin(), runs.end(), [&](const RunListing& a, const RunListing& b) { return created(a) > created(b); });
  return runs;
}

std::vector<std::string> TrainingManager::other_folders(const fs::path& output_dir) {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& item : fs::directory_iterator(output_dir, ec)) {
    if (user_folder(item) && !fs::exists(item.path() / "metadata.json", ec)) names.push_back(item.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

void TrainingManager::write_metadata() { files::write_json(run_dir_ / "metadata.json", metadata_); }

void TrainingManager::save_config(const nlohmann::json& config) {
  for (const char* key : {"stock_symbol", "model_type"}) {
    if (config.contains(key) && config[key] != metadata_.value(key, nlohmann::json(""))) {
      throw ConfigError(std::string("save_config: ") + key + " " + config[key].dump() + " differs from the run's " +
                        metadata_.value(key, nlohmann::json("")).dump() + " (it names the run folder)");
    }
  }
  if (config.contains("data_source") && config["data_source"].is_string() &&
      config["data_source"] != metadata_.value("data_source", nlohmann::json(""))) {
    metadata_["data_source"] = config["data_source"];
    metadata_["updated_at"] = files::iso_now();
    write_metadata();
  }
  nlohmann::json out = {{"run_name", run_name_},
                        {"stock_symbol", metadata_.value("stock_symbol", "")},
                        {"model_type", metadata_.value("model_type", "")},
                        {"data_source", metadata_.value("data_source", "")},
                        {"created_at", metadata_.value("created_at", "")}};
  for (auto it = config.begin(); it != config.end(); ++it) out[it.key()] = it.value();
  files::write_json(run_dir_ / "config.json", out);
}

void TrainingManager::save_training_log(const std::string& message) {
  std::ofstream log(run_dir_ / "logs" / "training.log", std::ios::app);
  if (!log) throw IoError((run_dir_ / "logs" / "training.log").string() + ": cannot append");
  log << "[" << files::log_now() << "] " << message << "\n";
  log.flush();
}

void TrainingManager::log_metrics(int epoch, const nlohmann::json& metrics, const std::string& phase) {
  const fs::path path = run_dir_ / "logs" / "metrics.json";
  nlohmann::json all = fs::exists(path) ? files::read_json(path) : nlohmann::json::array();
  nlohmann::json entry = {{"epoch", epoch}, {"phase", phase}, {"timestamp", files::iso_now()}};
  for (auto it = metrics.begin(); it != metrics.end(); ++it) entry[it.key()] = it.value();
  all.push_back(entry);
  files::write_json(path, all);
}

void TrainingManager::truncate_metrics_after(int epoch) {
  const fs::path path = run_dir_ / "logs" / "metrics.json";
  if (!fs::exists(path)) return;
  nlohmann::json kept = nlohmann::json::array();
  for (const auto& entry : files::read_json(path)) {
    if (entry.value("epoch", 0) <= epoch) kept.push_back(entry);
  }
  files::write_json(path, kept);
}

void TrainingManager::write_checkpoint_dir(const fs::path& final_dir, torch::nn::Module& model,
                                           torch::optim::Optimizer& optimizer, int epoch,
                                           const nlohmann::json& metrics,
                                           const nlohmann::json& trainer_state) {
  const fs::path tmp = final_dir.parent_path() / (".tmp-" + final_dir.filename().string());
  std::error_code ec;
  fs::remove_all(tmp, ec);
  // A write that fails (a full disk) leaves no staging folder behind: nothing half-written stays.
  try {
    fs::create_directories(tmp);
    const std::string now = files::iso_now();
    c10::impl::GenericDict checkpoint(c10::StringType::get(), c10::AnyType::get());
    checkpoint.insert("epoch", static_cast<int64_t>(epoch));
    checkpoint.insert("model_state_dict", model_state_dict(model));
    checkpoint.insert("optimizer_state_dict", optimizer_state_dict(optimizer, optimizer_kind(optimizer)));
    checkpoint.insert("metrics", json_to_ivalue_metrics(metrics));
    checkpoint.insert("timestamp", now);
    if (!trainer_state.empty()) checkpoint.insert("trainer_state", trainer_state.dump());
    save_pickle(tmp / "pytorch_model.bin", checkpoint);
    // The weights' checksum: a resume verifies it and falls back to an older checkpoint when a
    // file was truncated or flipped on disk since.
    nlohmann::json m = {{"epoch", epoch}, {"timestamp", now},
                        {"pytorch_model_crc32", files::crc32_of_file(tmp / "pytorch_model.bin")}};
    for (auto it = metrics.begin(); it != metrics.end(); ++it) m[it.key()] = it.value();
    files::write_json(tmp / "metrics.json", m);
    files::fsync_dir(tmp);
  } catch (...) {
    fs::remove_all(tmp, ec);
    throw;
  }
  files::crash_point("checkpoint-written");
  replace_dir(tmp, final_dir);
}

void TrainingManager::save_checkpoint(torch::nn::Module& model, torch::optim::Optimizer& optimizer,
                                      int epoch, const nlohmann::json& metrics, std::optional<bool> is_best,
                                      const nlohmann::json& trainer_state) {
  if (!is_best) {
    // The specification's form: best/ follows the lowest val_loss.
    const auto val = metrics.find("val_loss");
    is_best = false;
    if (val != metrics.end() && val->is_number() && std::isfinite(val->get<double>())) {
      double best_so_far = std::numeric_limits<double>::infinity();
      try {
        const auto best = files::read_json(run_dir_ / "checkpoints" / "best" / "metrics.json");
        if (best.contains("val_loss") && best["val_loss"].is_number()) best_so_far = best["val_loss"].get<double>();
      } catch (const Error&) {
      }
      is_best = val->get<double>() < best_so_far;
    }
  }
  write_checkpoint_dir(run_dir_ / "checkpoints" / ("checkpoint-" + std::to_string(epoch)), model,
                       optimizer, epoch, metrics, trainer_state);
  if (*is_best) save_best(model, optimizer, epoch, metrics);
}

void TrainingManager::save_best(torch::nn::Module& model, torch::optim::Optimizer& optimizer, int epoch,
                                const nlohmann::json& metrics) {
  write_checkpoint_dir(run_dir_ / "checkpoints" / "best", model, optimizer, epoch, metrics, {});
}

void TrainingManager::save_model(torch::nn::Module& model, const nlohmann::json& model_config,
                                 const nlohmann::json& training_args) {
  save_pickle(run_dir_ / "model" / "pytorch_model.bin", model_state_dict(model));
  files::crash_point("model-saved");
  finish_model_folder("pytorch_model.bin", model_config, training_args);
}

void TrainingManager::save_trained_model(Model& model, const nlohmann::json& model_config,
                                         const nlohmann::json& training_args) {
  if (TorchModel* torch_model = model.as_torch()) {
    save_model(*torch_model, model_config, training_args);
    return;
  }
  const std::string main_file = model.save((run_dir_ / "model").string());
  if (main_file.empty() || main_file.find('/') != std::string::npos || !fs::exists(run_dir_ / "model" / main_file)) {
    throw TrainError("model " + model.model_type() + ": save() named \"" + main_file +
                     "\", which is not a file it wrote into model/");
  }
  finish_model_folder(main_file, model_config, training_args);
}

void TrainingManager::finish_model_folder(const std::string& main_file, const nlohmann::json& model_config,
                                          const nlohmann::json& training_args) {
  files::write_json(run_dir_ / "model" / "config.json", model_config);
  files::write_json(run_dir_ / "model" / "training_args.json", training_args);
  // The pipeline beside the weights: model/ alone is enough to predict.
  for (const auto& [from, to] : {std::pair<const char*, const char*>{"experiment.json", kModelExperimentFile},
                                 {"scaler.json", kModelScalerFile}}) {
    if (fs::exists(run_dir_ / from)) files::write_json(run_dir_ / "model" / to, files::read_json(run_dir_ / from));
  }
  metadata_["model_saved"] = true;
  // Relative, as the specification writes it: a run folder moves with its output folder.
  fs::path base = output_dir_.lexically_normal();
  if (base.filename().empty()) base = base.parent_path();
  if (base.is_absolute()) base = base.filename();
  metadata_["model_path"] = (base / run_name_ / "model" / main_file).string();
  metadata_["updated_at"] = files::iso_now();
  write_metadata();
}

void TrainingManager::save_evaluation_results(const nlohmann::json& eval_results) {
  nlohmann::json out = {{"evaluated_at", files::iso_now()},
                        {"stock_symbol", metadata_.value("stock_symbol", "")},
                        {"model_type", metadata_.value("model_type", "")}};
  for (auto it = eval_results.begin(); it != eval_results.end(); ++it) out[it.key()] = it.value();
  files::write_json(run_dir_ / "results" / "eval_results.json", out);
  nlohmann::json metrics = nlohmann::json::object();
  for (const char* key : {"mae", "rmse", "mape", "r2", "direction_accuracy"}) {
    if (out.contains(key)) metrics[key] = out[key];
  }
  metadata_["evaluation_completed"] = true;
  metadata_["eval_metrics"] = metrics;
  metadata_["updated_at"] = files::iso_now();
  write_metadata();
}

void TrainingManager::save_predictions(const nlohmann::json& predictions) {
  files::write_json(run_dir_ / "results" / "predictions.json", predictions);
}

void TrainingManager::save_artifact(const std::string& relative_path, const nlohmann::json& value) {
  const fs::path path = run_dir_ / relative_path;
  fs::create_directories(path.parent_path());
  files::write_json(path, value);
}

nlohmann::json TrainingManager::load_artifact(const std::string& relative_path) const {
  return files::read_json(run_dir_ / relative_path);
}

void TrainingManager::annotate(const std::string& key, const nlohmann::json& value) {
  metadata_[key] = value;
  metadata_["updated_at"] = files::iso_now();
  write_metadata();
}

void TrainingManager::update_status(const std::string& status, const std::string& error) {
  static const std::vector<std::string> known = {kStatusInitialized, kStatusPreparing, kStatusTraining,
                                                 kStatusCompleted, kStatusFailed};
  if (std::find(known.begin(), known.end(), status) == known.end()) {
    throw ConfigError("update_status: unknown status \"" + status + "\"");
  }
  const std::string now = files::iso_now();
  metadata_["status"] = status;
  metadata_["updated_at"] = now;
  nlohmann::json entry = {{"status", status}, {"at", now}};
  if (!error.empty()) {
    metadata_["error"] = error;
    entry["error"] = error;
  } else if (status != kStatusFailed) {
    metadata_.erase("error");
  }
  if (!metadata_.contains("status_history")) metadata_["status_history"] = nlohmann::json::array();
  metadata_["status_history"].push_back(entry);
  write_metadata();
  save_training_log("Status: " + status + (error.empty() ? "" : " — " + error));
}

fs::path TrainingManager::get_model_path() const { return model_file(run_dir_, metadata_); }

fs::path TrainingManager::model_file(const fs::path& run_dir, const nlohmann::json& metadata) {
  const std::string recorded = files::text_or(metadata, "model_path");
  return run_dir / "model" / (recorded.empty() ? std::string("pytorch_model.bin") : fs::path(recorded).filename().string());
}

nlohmann::json TrainingManager::load_model_config() const {
  return files::read_json(run_dir_ / "model" / "config.json");
}

nlohmann::json TrainingManager::get_summary() const {
  nlohmann::json summary = metadata_;
  summary["run_dir"] = run_dir_.string();
  auto optional = [&](const char* file) -> nlohmann::json {
    try {
      return files::read_json(run_dir_ / file);
    } catch (const Error&) {
      return nullptr;
    }
  };
  summary["config"] = optional("config.json");
  summary["training_args"] = optional("model/training_args.json");
  summary["eval_results"] = optional("results/eval_results.json");
  return summary;
}

std::optional<fs::path> TrainingManager::newest_checkpoint() const {
  const auto all = complete_checkpoints();
  if (all.empty()) return std::nullopt;
  return all.front();
}

std::vector<fs::path> TrainingManager::complete_checkpoints() const {
  std::vector<std::pair<int, fs::path>> found;
  std::error_code ec;
  static const std::regex name("checkpoint-([0-9]+)");
  for (const auto& item : fs::directory_iterator(run_dir_ / "checkpoints", ec)) {
    std::smatch m;
    const std::string filename = item.path().filename().string();
    if (!item.is_directory() || !std::regex_match(filename, m, name)) continue;
    const int epoch = std::stoi(m[1]);
    try {
      auto metrics = files::read_json(item.path() / "metrics.json");
      if (!fs::is_regular_file(item.path() / "pytorch_model.bin") || metrics.value("epoch", -1) != epoch) continue;
    } catch (const Error&) {
      continue;
    }
    found.emplace_back(epoch, item.path());
  }
  std::sort(found.begin(), found.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  std::vector<fs::path> out;
  for (auto& f : found) out.push_back(std::move(f.second));
  return out;
}

}  // namespace klab
