// predict/engine.h — predictions from a trained run (the specification's PredictionEngine).
//
// An engine is built from a run folder (or, as in the specification, from a model path, model
// type and model config): it loads the model plugin, the weights, the scaler and the feature
// list, and predicts the next close of a symbol from a data source — as of the latest bar or a
// given date — or from bars you pass in. It applies exactly the training pipeline (adjustment,
// features, warm-up, scaler, window, model, de-normalisation), so a run's own test dates give
// exactly the predictions in its results/predictions.json.
//
// One engine serves one thread at a time (its model and data source are not shared-safe);
// predict/engine_pool.h hands several engines of one run to concurrent requests.
#pragma once

#include <cstddef>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "config/experiment.h"
#include "data/dataset.h"
#include "eval/predictions.h"
#include "klab/data_source.h"
#include "klab/error.h"
#include "predict/history_cache.h"

namespace klab {

class Model;
class PluginRegistry;

// predict() on a symbol the data source has no bars for (HTTP 404).
class UnknownSymbolError : public DataError {
 public:
  using DataError::DataError;
};
// Too few bars before the date, or a window that spans a suspension (HTTP 422).
class InsufficientHistoryError : public DataError {
 public:
  using DataError::DataError;
};


class PredictionEngine {
 public:
  // From a run folder (out/{run}); its experiment.json gives the data source and pipeline.
  static PredictionEngine from_run(const std::filesystem::path& run_dir, PluginRegistry& registry);
  // As the specification shows: weights file + model type + model/config.json; the scaler and
  // experiment are read from the run folder that holds `model_path` (…/model/pytorch_model.bin).
  PredictionEngine(const std::filesystem::path& model_path, const std::string& model_type,
                   const nlohmann::json& model_config, PluginRegistry& registry);

  PredictionEngine(PredictionEngine&&) noexcept;
  PredictionEngine& operator=(PredictionEngine&&) noexcept;
  ~PredictionEngine();

  // The run's own data source (experiment.json), opened on first use.
  DataSource& source();
  // Replaces the data source (e.g. production MySQL instead of the sample SQLite).
  void set_source(std::shared_ptr<DataSource> source);

  // Next-close prediction of `symbol` as of `date` (the last bar on or before it; "" = latest).
  // Throws DataError naming the symbol for an unknown symbol or too little history.
  Prediction predict(const std::string& symbol, const std::string& date = "");
  // From bars you supply (one symbol, oldest first, raw prices with adj_factor; at least
  // min_bars() of them). The last bar is as_of.
  Prediction predict_bars(const std::string& symbol, const std::vector<Bar>& bars) const;
  // One prediction for every trading day in [from, to] (as_of dates) of `symbol` that has a full
  // window (days without enough history or right after a suspension are skipped), loading data
  // through `data_end` ("" = latest) — with data_end = the run's end date this reproduces the
  // run's own results/predictions.json exactly.
  std::vector<Prediction> predict_range(const std::string& symbol, const std::string& from, const std::string& to,
                                        const std::string& data_end = "");

  // The history cache of predict(): each symbol's bars, adjusted bars and features, kept so a
  // prediction as of the latest bar (no date, or a date on or after the cached last bar) does
  // not reload and recompute the whole history. Every such call asks the source for the bars
  // from the cached last bar on: the same last bar and nothing after it reuses the cache; new
  // bars extend it (features recomputed); a changed or missing last bar reloads the symbol.
  // A correction of older bars that leaves the last one untouched is seen when the entry is
  // reloaded after kHistoryMaxAgeSeconds. Predictions equal the uncached ones bit for bit.
  // Least recently used symbols go first beyond `bytes`; 0 turns the cache off (the default).
  static constexpr int kHistoryMaxAgeSeconds = 300;
  void set_cache_limit(std::size_t bytes);
  HistoryCacheStats cache_stats() const;

  std::size_t min_bars() const;  // warm-up + seq_length
  const std::string& run_name() const { return run_name_; }
  const std::filesystem::path& run_dir() const { return run_dir_; }
  const ExperimentSpec& experiment() const { return spec_; }
  nlohmann::json metadata() const;  // run, model config, features, scaler kind, metrics

 private:
  PredictionEngine() = default;
  void load(const std::filesystem::path& run_dir, const std::filesystem::path& model_path,
            const nlohmann::json& model_config, PluginRegistry& registry);
  std::shared_ptr<SymbolHistory> make_history(std::vector<Bar> bars) const;
  // The history predict() works on: from the cache when it is current (see set_cache_limit),
  // else loaded through `date`; nullptr when the source has no bars.
  std::shared_ptr<const SymbolHistory> history_for(const std::string& code, const std::string& date);
  // strict: a row without enough history is an error; otherwise it is skipped (ranges).
  std::vector<Prediction> predict_rows(const std::string& symbol, const SymbolHistory& history,
                                       std::size_t first_row, std::size_t last_row, bool strict) const;

  std::filesystem::path run_dir_;
  std::string run_name_;
  ExperimentSpec spec_;
  Scaler scaler_;
  nlohmann::json model_config_;
  nlohmann::json run_metadata_;
  std::shared_ptr<Model> model_;
  std::shared_ptr<DataSource> source_;
  PluginRegistry* registry_ = nullptr;
  std::unique_ptr<HistoryCache> cache_;
};

// How --best-by chose a run.
struct BestRunChoice {
  std::filesystem::path path;
  std::string metric;  // the metric ranked by (a price metric becomes its scale-free stand-in)
  double value = 0;
  double test_samples = 0;
  std::vector<std::string> notes;  // what was substituted or left out, for the user
};

// The completed run with the best value of `metric` among the runs under output_dir that match
// every filter ("model=lstm", ... as list_runs --filter), cover every one of `symbols` (none:
// any run), and were evaluated on at least kSmallTestSet windows. A price metric (mae, rmse)
// ranks by its scale-free stand-in (mae_vs_baseline, ...) unless `price_metric_ok`: prices of
// different stocks and periods are not comparable. Throws IoError when no run qualifies, saying
// how many were left out and why.
BestRunChoice choose_best_run(const std::filesystem::path& output_dir, const std::string& metric,
                              const std::vector<std::string>& filters, const std::vector<std::string>& symbols = {},
                              bool price_metric_ok = false);
// choose_best_run(...).path with no symbols.
std::filesystem::path best_run(const std::filesystem::path& output_dir, const std::string& metric,
                               const std::vector<std::string>& filters);

}  // namespace klab
