#include "predict/engine.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "klab/data/adjust.h"
#include "data/bar_compare.h"
#include "data/features.h"
#include "data/window_batch.h"
#include "data/windows.h"
#include "klab/error.h"
#include "klab/torch_model.h"
#include "klab/symbols.h"
#include "plugins/registry.h"
#include "runs/files.h"
#include "runs/run_index.h"
#include "runs/training_manager.h"
#include "runs/state_dict.h"

namespace klab {

namespace fs = std::filesystem;

namespace {

// Keys the trainer adds to model/config.json for prediction; they are not hyperparameters.
const std::vector<std::string> kPipelineKeys = {"feature_names", "seq_length", "target", "adjust"};

// as_of + n weekdays (exchange holidays are not known here).
std::string add_weekdays(const std::string& iso, int n) {
  long day = days_from_iso(iso);
  while (n > 0) {
    ++day;
    const long weekday = ((day % 7) + 10) % 7;  // 0 = Monday; 1970-01-01 (day 0) was a Thursday
    if (weekday < 5) --n;
  }
  return iso_from_days(day);
}

}  // namespace

PredictionEngine::PredictionEngine(PredictionEngine&&) noexcept = default;
PredictionEngine& PredictionEngine::operator=(PredictionEngine&&) noexcept = default;
PredictionEngine::~PredictionEngine() = default;

PredictionEngine PredictionEngine::from_run(const fs::path& run_dir, PluginRegistry& registry) {
  if (!fs::is_directory(run_dir)) throw IoError("run " + run_dir.string() + ": no such run folder");
  PredictionEngine engine;
  const nlohmann::json metadata =
      fs::exists(run_dir / "metadata.json") ? files::read_json(run_dir / "metadata.json") : nlohmann::json::object();
  engine.load(run_dir, TrainingManager::model_file(run_dir, metadata), files::read_json(run_dir / "model" / "config.json"),
              registry);
  return engine;
}

PredictionEngine::PredictionEngine(const fs::path& model_path, const std::string& model_type,
                                   const nlohmann::json& model_config, PluginRegistry& registry) {
  nlohmann::json config = model_config;
  if (config.contains("model_type") && config["model_type"] != model_type) {
    throw ConfigError("PredictionEngine: model_type \"" + model_type + "\" but the config says " +
                      config["model_type"].dump());
  }
  config["model_type"] = model_type;
  load(model_path.parent_path().parent_path(), model_path, config, registry);
}

void PredictionEngine::load(const fs::path& run_dir, const fs::path& model_path, const nlohmann::json& model_config,
                            PluginRegistry& registry) {
  registry_ = &registry;
  run_dir_ = run_dir;
  // The pipeline travels with the weights: model/klab_experiment.json and model/klab_scaler.json
  // (a model folder copied on its own keeps working), else the run folder's files.
  const fs::path model_dir = model_path.parent_path();
  auto locate = [&](const std::string& extra, const std::string& in_run) {
    return fs::exists(model_dir / extra) ? model_dir / extra : run_dir / in_run;
  };
  const bool in_run = fs::exists(run_dir / "metadata.json");
  run_metadata_ = in_run ? files::read_json(run_dir / "metadata.json") : nlohmann::json::object();
  if (!run_metadata_.is_object()) throw IoError((run_dir / "metadata.json").string() + ": not a JSON object");
  run_name_ = files::text_or(run_metadata_, "run_name", in_run ? run_dir.filename().string() : model_dir.string());
  const auto status = run_metadata_.find("status");
  if (in_run && (status == run_metadata_.end() || *status != "completed")) {
    throw IoError("run " + run_name_ + ": status is " + (status == run_metadata_.end() ? "missing" : status->dump()) +
                  "; only a completed run can predict");
  }
  const fs::path experiment = locate(kModelExperimentFile, "experiment.json");
  if (!fs::exists(experiment)) {
    throw IoError("run " + run_name_ + " has no experiment.json: prediction needs the pipeline that made the weights "
                  "(data source, features, seq_length, target, adjustment); a loop of your own saves it with "
                  "manager.save_artifact(\"experiment.json\", spec.to_json()) beside scaler.json (see "
                  "examples/train_with_manager.cpp)");
  }
  spec_ = ExperimentSpec::from_json(files::read_json(experiment), experiment.string());
  const fs::path scaler_file = locate(kModelScalerFile, "scaler.json");
  const auto scaler_json = files::read_json(scaler_file);
  scaler_ = Scaler::from_json(scaler_json);
  if (scaler_json.value("feature_names", nlohmann::json::array()) != nlohmann::json(spec_.features) ||
      scaler_.center.size() != spec_.features.size()) {
    throw IoError(scaler_file.string() + ": its features do not match " + experiment.string());
  }
  model_config_ = model_config;
  nlohmann::json hyperparameters = model_config;
  for (const auto& key : kPipelineKeys) hyperparameters.erase(key);
  const std::string type = hyperparameters.value("model_type", spec_.model_type);
  try {
    model_ = registry.create_model(type, static_cast<std::int64_t>(spec_.features.size()), hyperparameters.dump());
  } catch (const PluginError& e) {
    throw PluginError("run " + run_name_ + " needs model plugin '" + type + "': " + e.what());
  }
  // The weights: a torch module's state_dict, or whatever a model of another family saved.
  if (TorchModel* torch_model = model_->as_torch()) {
    load_model_state_dict(*torch_model, load_state_dict_file(model_path), model_path.string());
    torch_model->eval();
  } else {
    if (!fs::exists(model_path)) throw IoError(model_path.string() + ": no such model file");
    model_->load(model_dir.string());
  }
}

DataSource& PredictionEngine::source() {
  if (!source_) {
    // The path resolved when the run was made; if that is gone (a copied checkout, another
    // machine), the path as written, from the current folder.
    nlohmann::json options = spec_.source_options;
    auto path = options.find("path");
    if (path != options.end() && path->is_string() && !fs::exists(path->get<std::string>())) {
      if (!spec_.path_as_given.empty() && fs::exists(spec_.path_as_given)) {
        *path = spec_.path_as_given;
      } else {
        throw DataError("run " + run_name_ + ": its data " + path->get<std::string>() +
                        (spec_.path_as_given.empty() ? std::string() : " (written as " + spec_.path_as_given + ")") +
                        " is not there; give the data with --source and --options");
      }
    }
    source_ = registry_->create_data_source(spec_.source, options.dump());
  }
  return *source_;
}

void PredictionEngine::set_source(std::shared_ptr<DataSource> source) { source_ = std::move(source); }

std::size_t PredictionEngine::min_bars() const { return warmup_rows(spec_.features) + spec_.train.seq_length; }

std::shared_ptr<SymbolHistory> PredictionEngine::make_history(std::vector<Bar> bars) const {
  auto history = std::make_shared<SymbolHistory>();
  history->bars = std::move(bars);
  history->adjusted = adjust_bars(history->bars, parse_adjustment(spec_.adjust));
  history->frame = compute_features(history->adjusted, spec_.features);
  if (!DatasetSpec::is_price_target(spec_.target_kind, spec_.target_normalize)) {
    for (const auto& b : history->adjusted) history->closes.push_back(b.close);
  }
  history->loaded = std::chrono::steady_clock::now();
  return history;
}

void PredictionEngine::set_cache_limit(std::size_t bytes) {
  cache_ = bytes == 0 ? nullptr : std::make_unique<HistoryCache>(bytes);
}

HistoryCacheStats PredictionEngine::cache_stats() const { return cache_ ? cache_->stats : HistoryCacheStats{}; }

std::shared_ptr<const SymbolHistory> PredictionEngine::history_for(const std::string& code,
                                                                               const std::string& date) {
  std::shared_ptr<const SymbolHistory> cached = cache_ ? cache_->find(code) : nullptr;
  if (cached && (!date.empty() && date < cached->bars.back().trade_date)) {
    // As of an earlier date: that day's own history, not the cache's (forward-adjusted prices
    // depend on the last bar), and the cache keeps the latest.
    auto bars = source().load_bars(code, spec_.start_date, date);
    return bars.empty() ? nullptr : make_history(std::move(bars));
  }
  if (cached) {
    const auto age = std::chrono::steady_clock::now() - cached->loaded;
    if (age < std::chrono::seconds(kHistoryMaxAgeSeconds)) {
      // The bars from the cached last one on: the same last bar and nothing new is a hit.
      auto tail = source().load_bars(code, cached->bars.back().trade_date, date);
      if (!tail.empty() && same_bar(tail.front(), cached->bars.back())) {
        if (tail.size() == 1) {
          ++cache_->stats.hits;
          return cached;
        }
        std::vector<Bar> bars = cached->bars;
        bars.insert(bars.end(), tail.begin() + 1, tail.end());
        auto extended = make_history(std::move(bars));
        extended->loaded = cached->loaded;  // only the tail was read: the age still counts
        ++cache_->stats.extended;
        cache_->put(code, extended);
        return extended;
      }
    }
    ++cache_->stats.reloaded;
  } else if (cache_) {
    ++cache_->stats.misses;
  }
  auto bars = source().load_bars(code, spec_.start_date, date);
  if (bars.empty()) return nullptr;
  auto history = make_history(std::move(bars));
  if (cache_) cache_->put(code, history);
  return history;
}

std::vector<Prediction> PredictionEngine::predict_rows(const std::string& symbol, const SymbolHistory& history,
                                                       std::size_t first_row, std::size_t last_row,
                                                       bool strict) const {
  const std::size_t warmup = warmup_rows(spec_.features), seq = spec_.train.seq_length, F = spec_.features.size();
  const Adjustment adjustment = parse_adjustment(spec_.adjust);
  const auto& bars = history.bars;
  const auto& adjusted = history.adjusted;
  const auto& frame = history.frame;
  const auto& closes = history.closes;
  // Whether the window ending at row r is one the model can be given: the training data's
  // rules (data/windows.h), through r itself (the target is the future).
  const WindowRules rules(frame.dates, frame.values.data(), F, spec_.max_gap_days, scaler_.fill_nan);
  const std::size_t offset = DatasetSpec::target_offset_of(spec_.target_kind, spec_.horizon);
  const bool price = DatasetSpec::is_price_target(spec_.target_kind, spec_.target_normalize);
  auto check_window = [&](std::size_t r) {
    if (r + 1 < warmup + seq) {
      throw InsufficientHistoryError("symbol " + symbol + ": " + std::to_string(r + 1) + " bars up to " +
                                     bars[r].trade_date + ", but the model needs " + std::to_string(warmup + seq) +
                                     " (" + std::to_string(warmup) + " warm-up + " + std::to_string(seq) +
                                     " seq_length)");
    }
    if (rules.check(r, seq, r) == WindowRules::Verdict::kUsable) return;
    const std::size_t first = r + 1 - seq;
    const std::size_t gap = rules.first_gap(first, r), bad = rules.first_non_finite(first, r);
    if (gap != WindowRules::npos && (bad == WindowRules::npos || gap <= bad)) {
      throw InsufficientHistoryError("symbol " + symbol + ": the " + std::to_string(seq) + "-day window up to " +
                                     bars[r].trade_date + " spans a suspension (" + bars[gap - 1].trade_date + " .. " +
                                     bars[gap].trade_date + ", more than max_gap_days " +
                                     std::to_string(spec_.max_gap_days) + ")");
    }
    for (std::size_t j = 0; j < F; ++j) {
      if (!std::isfinite(frame.at(bad, j))) {
        throw InsufficientHistoryError("symbol " + symbol + ": feature " + spec_.features[j] + " is not finite on " +
                                       bars[bad].trade_date);
      }
    }
  };
  std::vector<std::size_t> rows;
  for (std::size_t r = first_row; r <= last_row && r < bars.size(); ++r) {
    try {
      check_window(r);
    } catch (const InsufficientHistoryError&) {
      if (strict) throw;
      continue;
    }
    rows.push_back(r);
  }
  std::vector<Prediction> out;
  const auto outputs = static_cast<std::size_t>(model_->output_size());
  WindowBatch batch;
  batch.seq_length = seq;
  batch.n_features = F;
  std::vector<float> y;
  // In batches as evaluation predicts (data/window_batch.h), so results match bit for bit.
  for (std::size_t first = 0; first < rows.size(); first += kPredictBatch) {
    const std::size_t last = std::min(rows.size(), first + kPredictBatch);
    batch.rows = last - first;
    batch.inputs.resize(batch.rows * seq * F);
    float* p = batch.inputs.data();
    for (std::size_t k = first; k < last; ++k, p += seq * F) {
      scaler_.scale_window(&frame.values[(rows[k] + 1 - seq) * F], seq, p);
    }
    y.assign(batch.rows * outputs, 0.0f);
    model_->predict(batch.view(), y.data());
    for (std::size_t k = first; k < last; ++k) {
      const std::size_t r = rows[k];
      Prediction pred;
      pred.symbol = symbol;
      pred.as_of = bars[r].trade_date;
      pred.horizon = static_cast<int>(spec_.horizon);
      pred.last_close = adjusted[r].close;
      const float output = y[(k - first) * outputs];
      pred.prices = std::string(adjustment_name(adjustment)) + "-adjusted";
      pred.market_last_close = bars[r].close;
      if (price) {
        pred.prediction = scaler_.price_from_output(output, spec_.target_kind, pred.last_close);
        // In market terms: the close the exchange quoted that day, and the price the predicted
        // return implies from it (adjusted prices of a backward series are not quotes).
        pred.market_predicted_close = bars[r].close * (1.0 + pred.predicted_return());
      } else {
        // A return from the next close, or a cross-sectional score: no price is implied.
        pred.prediction = std::nan("");
        pred.predicted_target = scaler_.unscale_target(output);
        pred.market_predicted_close = std::nan("");
      }
      if (r + offset < bars.size()) {
        pred.date = bars[r + offset].trade_date;
        pred.label = adjusted[r + offset].close;
        if (!price) pred.label_target = target_of_row(closes, r, spec_.target_kind, spec_.horizon);
      } else {
        pred.date = add_weekdays(pred.as_of, static_cast<int>(offset));
        pred.date_estimated = true;
      }
      out.push_back(pred);
    }
  }
  return out;
}

Prediction PredictionEngine::predict_bars(const std::string& symbol, const std::vector<Bar>& bars) const {
  if (bars.empty()) throw DataError("symbol " + symbol + ": no bars given");
  return predict_rows(symbol, *make_history(bars), bars.size() - 1, bars.size() - 1, true).front();
}

Prediction PredictionEngine::predict(const std::string& symbol, const std::string& date) {
  const std::string code = symbol_or_verbatim(symbol);
  if (!normalize_symbol(symbol)) {
    throw UnknownSymbolError("symbol " + symbol + ": not an A-share symbol (600519, sh600519, 600519.SH)");
  }
  const auto history = history_for(code, date);
  if (!history) {
    throw UnknownSymbolError("symbol " + code + ": no bars in " + source().display_name() +
                             (date.empty() ? std::string() : " up to " + date));
  }
  const std::size_t last = history->bars.size() - 1;
  Prediction prediction = predict_rows(code, *history, last, last, true).front();
  if (!date.empty()) {
    // As of a past date: the day predicted is the real trading day `horizon` bars later, if the
    // data has it (the prediction itself used nothing after `date`).
    const auto later = source().load_bars(code, add_weekdays(prediction.as_of, 1), add_weekdays(prediction.as_of, 60));
    const std::size_t offset = DatasetSpec::target_offset_of(spec_.target_kind, spec_.horizon);
    if (later.size() >= offset) {
      prediction.date = later[offset - 1].trade_date;
      prediction.date_estimated = false;
      // Its label too, where a bar's adjusted close does not depend on bars after it (backward,
      // none); forward-adjusted prices of later days are relative to a later reference.
      const Adjustment adjustment = parse_adjustment(spec_.adjust);
      if (adjustment != Adjustment::kForward) {
        prediction.label = adjust_bars({later[offset - 1]}, adjustment).front().close;
        if (!DatasetSpec::is_price_target(spec_.target_kind, spec_.target_normalize)) {
          const double entry = spec_.target_kind == "next_return" ? adjust_bars({later[0]}, adjustment).front().close
                                                                  : prediction.last_close;
          prediction.label_target = prediction.label / entry - 1.0;
        }
      }
    }
  }
  return prediction;
}

std::vector<Prediction> PredictionEngine::predict_range(const std::string& symbol, const std::string& from,
                                                        const std::string& to, const std::string& data_end) {
  const std::string code = symbol_or_verbatim(symbol);
  auto bars = source().load_bars(code, spec_.start_date, data_end);
  if (bars.empty()) throw UnknownSymbolError("symbol " + code + ": no bars in " + source().display_name());
  std::size_t first = bars.size(), last = 0;
  for (std::size_t r = 0; r < bars.size(); ++r) {
    if (bars[r].trade_date >= from && (to.empty() || bars[r].trade_date <= to)) {
      first = std::min(first, r);
      last = r;
    }
  }
  if (first == bars.size()) return {};
  return predict_rows(code, *make_history(std::move(bars)), first, last, false);
}

nlohmann::json PredictionEngine::metadata() const {
  return {{"run_name", run_name_},
          {"run_dir", run_dir_.string()},
          {"model_type", model_->model_type()},
          {"model_config", model_config_},
          {"features", spec_.features},
          {"seq_length", spec_.train.seq_length},
          {"target", {{"kind", spec_.target_kind}, {"horizon", spec_.horizon}, {"normalize", spec_.target_normalize}}},
          {"adjust", spec_.adjust},
          {"scaler", scaler_.kind},
          {"data_source", spec_.source},
          {"trained_on", spec_.symbols},
          {"eval_metrics", run_metadata_.contains("eval_metrics") ? run_metadata_["eval_metrics"] : nlohmann::json::object()},
          {"created_at", run_metadata_.contains("created_at") ? run_metadata_["created_at"] : nlohmann::json("")}};
}

}  // namespace klab
