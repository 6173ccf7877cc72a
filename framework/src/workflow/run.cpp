#include "workflow/run.h"

#include <chrono>
#include <cmath>
#include <iomanip>
#include <ostream>
#include <set>

#include <ATen/Parallel.h>
#include <torch/utils.h>

#include "data/dataset.h"
#include "data/window_batch.h"
#include "eval/metrics.h"
#include "klab/data_source.h"
#include "klab/error.h"
#include "klab/torch_model.h"
#include "plugins/registry.h"
#include "runs/files.h"
#include "runs/predictions_file.h"
#include "runs/run_outputs.h"
#include "runs/training_manager.h"
#include "train/process_policy.h"
#include "train/torch_loop.h"
#include "workflow/evaluate_panel.h"

namespace klab {

namespace fs = std::filesystem;

namespace {

// Step 1: the data. Loads bars and features, logs the specification's lines, records what "all"
// and open date ranges meant, and writes scaler.json.
Dataset prepare_data(const ExperimentSpec& spec, TrainingManager& manager, DataSource& source, std::ostream* out) {
  manager.save_training_log("开始加载数据");
  const DatasetSpec data_spec = run_dataset_spec(spec, source);
  const std::vector<std::string>& symbols = data_spec.symbols;
  if (spec.symbols == std::vector<std::string>{"all"}) manager.annotate("stock_symbols", symbols);  // what "all" meant
  manager.save_training_log("loading data: " + source.display_name() + ", " + std::to_string(symbols.size()) +
                            " symbol(s)");
  // Dataset::build loads the bars and computes the features in one pass (per symbol); the
  // specification's four lines are written in its order once both are done.
  Dataset ds = Dataset::build(source, data_spec);
  if (!ds.skipped_symbols().empty()) {
    // Named in training.log and metadata.json, counted on the console.
    const nlohmann::json skipped = skipped_symbols_json(ds);
    for (const auto& s : ds.skipped_symbols()) manager.save_training_log("skipped symbol " + s.symbol + ": " + s.reason);
    manager.annotate("skipped_symbols", skipped);
    manager.save_training_log("symbols: " + std::to_string(ds.series().size()) + " used, " +
                              std::to_string(skipped.size()) + " skipped (too little data in the date range)");
    if (out) {
      *out << "skipped " << skipped.size() << " of " << symbols.size()
           << " symbol(s) with too little data in the date range (named in training.log and metadata.json)\n";
    }
  }
  // The names the source gives the stocks (贵州茅台), for people reading the run (report pages).
  nlohmann::json names = nlohmann::json::object();
  const std::set<std::string> wanted(symbols.begin(), symbols.end());
  for (const auto& info : source.list_symbols()) {
    if (!info.name.empty() && wanted.count(info.symbol)) names[info.symbol] = info.name;
  }
  if (!names.empty()) manager.annotate("stock_names", names);
  const TrainSpec& t = spec.train;
  if (const Universe* universe = ds.universe()) {
    // Who was in the universe when, for the reader of the run (and for later backtests).
    manager.save_artifact("universe.json", universe->to_json());
    const auto& rule = spec.universe;
    manager.save_training_log("universe: top " + std::to_string(rule.top) + " by " + rule.by + ", rebalanced " +
                              rule.rebalance + " (" + std::to_string(universe->rebalance_dates().size()) +
                              " rebalances, first " + universe->rebalance_dates().front() + "); " +
                              std::to_string(ds.outside_universe_windows()) +
                              " windows left out while their stock was not a member (universe.json)");
  }
  manager.save_training_log("数据加载完成: " + std::to_string(ds.raw_rows()) + " 条记录");
  manager.save_training_log("bars loaded: " + std::to_string(ds.raw_rows()) + "; " +
                            std::to_string(ds.dropped_warmup_rows()) + " warm-up rows dropped, " +
                            std::to_string(ds.skipped_gap_windows()) + " windows skipped at suspensions");
  if (spec.fill_nan) {
    manager.save_training_log("data.fill_nan: " + std::to_string(ds.filled_nan_values()) + " undefined feature values in " +
                              std::to_string(ds.filled_nan_rows()) + " rows set to 0 after scaling");
  }
  if (spec.target_normalize != "none") {
    manager.save_training_log("target: " + spec.target_kind + " normalised per date by " + spec.target_normalize + "; " +
                              std::to_string(ds.undefined_label_windows()) +
                              " windows left out where the normalised label is undefined");
  }
  manager.save_training_log("开始特征工程");
  manager.save_training_log("特征工程完成: (" + std::to_string(ds.train().size() + ds.val().size() + ds.test().size()) +
                            ", " + std::to_string(t.seq_length) + ", " + std::to_string(ds.n_features()) + ")");
  manager.save_training_log("windows: train " + std::to_string(ds.train().size()) + ", val " +
                            std::to_string(ds.val().size()) + ", test " + std::to_string(ds.test().size()) +
                            "; val from " + ds.val_start() + ", test from " + ds.test_start());
  // An open date range is recorded as the dates the data really spans.
  if (spec.start_date.empty() || spec.end_date.empty()) {
    std::string first, last;
    for (const auto& series : ds.series()) {
      if (series.dates.empty()) continue;
      if (first.empty() || series.dates.front() < first) first = series.dates.front();
      if (last.empty() || series.dates.back() > last) last = series.dates.back();
    }
    nlohmann::json config = manager.load_artifact("config.json");
    if (spec.start_date.empty()) config["train_start_date"] = first;
    if (spec.end_date.empty()) config["train_end_date"] = last;
    manager.save_config(config);
  }
  if (ds.val().empty()) throw DataError("data.split: the validation split has no windows");
  manager.save_artifact("scaler.json", ds.scaler().to_json(spec.features));
  return ds;
}

// Step 2: the fit, by the model's family. A torch module learns in the host's loop (train/); any
// other model learns in one call on the training and validation windows, recorded as epoch 1.
FitReport fit_model(const ExperimentSpec& spec, Model& model, const Dataset& ds, TrainingManager& manager,
                    bool resuming, std::ostream* out) {
  FitReport fit;
  fit.train_samples = ds.train().size();
  fit.val_samples = ds.val().size();
  fit.test_samples = ds.test().size();
  if (TorchModel* torch_model = model.as_torch()) {
    manager.save_training_log("model: " + spec.model_type + ", " + std::to_string(torch_model->parameters().size()) +
                              " parameter tensors");
    manager.save_training_log("开始训练");
    const TrainState state = train_torch_model(*torch_model, ds, spec.train, manager, resuming, out);
    fit.best_val_loss = state.best_val_loss;
    fit.best_epoch = state.best_epoch;
    fit.epochs_trained = state.last_epoch;
    fit.early_stopped = state.early_stopped;
    return fit;
  }
  manager.save_training_log("model: " + spec.model_type + " (learns in one fit on " +
                            std::to_string(ds.train().size()) + " training windows)");
  manager.save_training_log("开始训练");
  if (resuming) manager.truncate_metrics_after(0);  // a fit has no checkpoints: it runs again whole
  const auto started = std::chrono::steady_clock::now();
  const WindowBatch train = gather_windows(ds, ds.train(), 0, ds.train().size(), true);
  const WindowBatch val = gather_windows(ds, ds.val(), 0, ds.val().size(), true);
  nlohmann::json report;
  const std::string text = model.fit(train.view(), val.view());
  try {
    report = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception&) {
    throw TrainError("model " + spec.model_type + ": fit() returned no JSON object: " + text.substr(0, 200));
  }
  for (const char* key : {"train_loss", "val_loss"}) {
    if (!report.is_object() || !report.contains(key) || !report[key].is_number() ||
        !std::isfinite(report[key].get<double>())) {
      throw TrainError("model " + spec.model_type + ": fit() must report a finite \"" + key + "\", got " +
                       (report.is_object() && report.contains(key) ? report[key].dump() : std::string("none")));
    }
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  nlohmann::json metrics = report;
  metrics["epoch_seconds"] = seconds;
  manager.log_metrics(1, metrics);
  fit.best_val_loss = report["val_loss"].get<double>();
  fit.best_epoch = 1;
  fit.epochs_trained = 1;
  manager.save_training_log("Epoch 1: train_loss=" + files::log_number(report["train_loss"].get<double>()) +
                            ", val_loss=" + files::log_number(fit.best_val_loss) + " (fit)");
  if (out) {
    *out << "  fit  train_loss " << files::log_number(report["train_loss"].get<double>()) << "  val_loss "
         << files::log_number(fit.best_val_loss) << "  " << std::setprecision(2) << std::fixed << seconds << "s"
         << std::defaultfloat << "\n";
  }
  return fit;
}

// Step 3: predictions by (date, symbol) on the test windows, in the run's adjusted prices.
Predictions predict_test_set(Model& model, const Dataset& ds) {
  const auto scaled = predict_windows(model, ds, ds.test());
  const std::string prices = std::string(adjustment_name(ds.spec().adjustment)) + "-adjusted";
  Predictions predictions;
  predictions.reserve(ds.test().size());
  for (std::size_t i = 0; i < ds.test().size(); ++i) {
    const WindowRef& w = ds.test()[i];
    Prediction p;
    p.date = ds.target_date(w);
    p.symbol = ds.series()[w.series].symbol;
    p.last_close = ds.last_close(w);
    if (ds.spec().price_target()) {
      p.prediction = ds.scaler().price_from_output(scaled[i], ds.spec().target_kind, p.last_close);
      p.label = Scaler::price_of_target(ds.raw_target(w), ds.spec().target_kind, p.last_close);
    } else {
      p.prediction = std::nan("");
      p.label = ds.target_close(w);
      p.predicted_target = ds.scaler().unscale_target(scaled[i]);
      p.label_target = ds.raw_target(w);
    }
    p.as_of = ds.series()[w.series].dates[w.end_row];
    p.horizon = static_cast<int>(ds.spec().horizon);
    p.prices = prices;
    predictions.push_back(std::move(p));
  }
  return predictions;
}

// The whole run after its folder exists.
RunResult execute(const ExperimentSpec& spec, TrainingManager& manager, DataSource& source, Model& model,
                  const RunOptions& options, bool resuming) {
  std::ostream* out = options.progress;
  manager.update_status(kStatusPreparing);
  manager.save_training_log("threads: " + std::to_string(at::get_num_threads()) + " (train.threads " +
                            std::to_string(spec.train.threads) + ", " + std::to_string(cores_given()) +
                            " core(s) given to this run; BLAS on 1)");
  if (spec.adjust == "forward") {
    // Asked for explicitly (the default is backward): say what it costs, in the log and on screen.
    const std::string warning =
        "warning: data.adjust: forward divides every price by the last loaded day's factor, so training rows "
        "depend on later ex-rights days (look-ahead); backward, the default, does not";
    manager.save_training_log(warning);
    if (out) *out << warning << "\n";
  }
  // 1. data
  const Dataset ds = prepare_data(spec, manager, source, out);

  // 2. fit
  manager.update_status(kStatusTraining);
  manager.save_training_log("创建模型");
  const FitReport fit = fit_model(spec, model, ds, manager, resuming, out);

  // 3. predictions, 4. evaluation
  manager.save_training_log("开始评估");
  manager.save_training_log("evaluating the best epoch " + std::to_string(fit.best_epoch) + " on " +
                            std::to_string(ds.test().size()) + " test windows");
  const Predictions predictions = predict_test_set(model, ds);
  nlohmann::json eval = evaluate_predictions(
      predictions, std::string(adjustment_name(ds.spec().adjustment)) + "-adjusted", spec.multi_symbol);
  eval["test_start"] = ds.test_start();
  if (ds.spec().target_normalize != "none") {
    // The model's outputs are cross-sectional scores, not returns: its pointwise errors against
    // the realised returns are kept for completeness, but it is judged by how it ranks.
    eval["metrics_on"] = "scores";
    eval["note"] = "target.normalize " + ds.spec().target_normalize +
                   ": predictions are cross-sectional scores, so mae/rmse/r2 compare a score with a return and say "
                   "little; judge the run by cross_section (IC, Rank IC)";
  }

  // 5. out/
  write_predictions(manager.run_dir() / "results", predictions, spec.multi_symbol);
  // Several symbols: how the run ranks stocks and what its portfolio earns, beside a model-free
  // signal (workflow/evaluate_panel.h).
  if (spec.multi_symbol) evaluate_panel(spec, ds, source, predictions, manager, eval);
  manager.save_trained_model(model, model_folder_config(spec, nlohmann::json::parse(model.config_json())),
                     training_arguments(spec, fit));
  manager.save_evaluation_results(eval);
  manager.save_training_log("评估完成: mae=" + files::log_number(eval["mae"].get<double>()) +
                            ", rmse=" + files::log_number(eval["rmse"].get<double>()) + ", direction_accuracy=" +
                            files::log_number(eval["direction_accuracy"].is_number() ? eval["direction_accuracy"].get<double>() : 0.0));
  manager.save_training_log("baseline (persistence): mae=" + files::log_number(eval["baseline"]["mae"].get<double>()) +
                            " (on " + eval["metrics_on"].get<std::string>() + ")");
  manager.update_status(kStatusCompleted);

  RunResult result;
  result.run_name = manager.run_name();
  result.run_dir = manager.run_dir();
  result.status = kStatusCompleted;
  result.eval = manager.load_artifact("results/eval_results.json");
  result.epochs_trained = fit.epochs_trained;
  result.best_epoch = fit.best_epoch;
  result.best_val_loss = fit.best_val_loss;
  return result;
}

// Runs `execute`, turning any failure into status failed (with the error) before rethrowing.
RunResult guarded_execute(const ExperimentSpec& spec, TrainingManager& manager, DataSource& source, Model& model,
                          const RunOptions& options, bool resuming) {
  try {
    return execute(spec, manager, source, model, options, resuming);
  } catch (const std::exception& e) {
    // A new run that failed before training began (no bars, too little data, a file that is
    // not a database) holds nothing worth keeping: its folder goes, and the error is the
    // message. A resumed run, or one that trained, stays, marked failed with the error.
    bool trained = false;
    const auto history = manager.metadata().find("status_history");
    if (history != manager.metadata().end() && history->is_array()) {
      for (const auto& entry : *history) trained = trained || (entry.is_object() && entry.value("status", "") == kStatusTraining);
    }
    if (!resuming && !trained) {
      std::error_code ec;
      fs::remove_all(manager.run_dir(), ec);
      throw;
    }
    try {
      manager.update_status(kStatusFailed, e.what());
    } catch (...) {
    }
    throw;
  }
}

// The data source and the model, before any file is written: bad options fail here.
std::pair<std::shared_ptr<DataSource>, std::shared_ptr<Model>> open_plugins(const ExperimentSpec& spec,
                                                                           PluginRegistry& registry) {
  apply_runtime_policy(spec.train.threads);
  auto source = registry.create_data_source(spec.source, spec.source_options.dump());
  torch::manual_seed(spec.train.seed);  // initial weights come from the seed
  auto model = registry.create_model(spec.model_type, static_cast<std::int64_t>(spec.features.size()),
                                     spec.model_params.dump());
  return {source, model};
}

}  // namespace

DatasetSpec run_dataset_spec(const ExperimentSpec& spec, DataSource& source) {
  std::vector<std::string> symbols = spec.symbols;
  if (symbols == std::vector<std::string>{"all"}) {
    symbols.clear();
    for (const auto& info : source.list_symbols()) symbols.push_back(info.symbol);
    if (symbols.empty()) throw DataError("data.symbols: all: the data source lists no symbols");
  }
  DatasetSpec data_spec = spec.dataset_spec(symbols);
  data_spec.threads = static_cast<std::size_t>(std::max(1, std::min(spec.train.threads, cores_given())));
  return data_spec;
}

nlohmann::json skipped_symbols_json(const Dataset& ds) {
  nlohmann::json skipped = nlohmann::json::array();
  for (const auto& s : ds.skipped_symbols()) skipped.push_back({{"symbol", s.symbol}, {"reason", s.reason}});
  return skipped;
}

RunResult run_experiment(const ExperimentSpec& spec, PluginRegistry& registry, const RunOptions& options) {
  auto [source, model] = open_plugins(spec, registry);
  const std::string output_dir = options.output_dir_override.empty() ? spec.output_dir : options.output_dir_override;
  const std::string symbol = spec.multi_symbol ? "" : spec.symbols.at(0);
  TrainingManager manager(symbol, spec.model_type, output_dir, source->display_name());
  if (spec.multi_symbol) {
    // A multi-symbol run is named {model}_{timestamp}; stock_symbol lists its symbols.
    std::string joined;
    for (const auto& s : spec.symbols) joined += (joined.empty() ? "" : ",") + s;
    manager.annotate("stock_symbol", joined);
  }
  manager.annotate("stock_symbols", spec.symbols);
  if (options.on_created) options.on_created(manager.run_name(), manager.run_dir());
  manager.save_config(initial_run_config(spec, nlohmann::json::parse(model->config_json())));
  manager.save_artifact("experiment.json", spec.to_json());
  return guarded_execute(spec, manager, *source, *model, options, false);
}

RunResult resume_experiment(const std::string& run, const fs::path& output_dir, PluginRegistry& registry,
                            const RunOptions& options) {
  TrainingManager manager = TrainingManager::open_for_writing(run, output_dir);
  const std::string status = files::text_or(manager.metadata(), "status");
  if (status == kStatusCompleted) {
    throw ConfigError("--resume " + manager.run_name() + ": the run is already completed");
  }
  const fs::path experiment_file = manager.run_dir() / "experiment.json";
  if (!fs::exists(experiment_file)) {
    // Cut between the run folder's creation and the saving of its experiment: nothing was
    // computed, and what to compute is not known here. Said once, and recorded as failed.
    const std::string why = "the run was interrupted before its experiment was saved (status " + status +
                            "): nothing to resume; run the experiment again";
    manager.update_status(kStatusFailed, why);
    throw ConfigError("--resume " + manager.run_name() + ": " + why);
  }
  ExperimentSpec spec = ExperimentSpec::from_json(files::read_json(experiment_file), experiment_file.string());
  auto [source, model] = open_plugins(spec, registry);
  manager.save_training_log("Resume requested (status was " + status + ")");
  if (options.on_created) options.on_created(manager.run_name(), manager.run_dir());
  return guarded_execute(spec, manager, *source, *model, options, true);
}

std::optional<RunResult> completed_run_result(const fs::path& run_dir) {
  if (!fs::is_regular_file(run_dir / "metadata.json")) return std::nullopt;
  const TrainingManager run = TrainingManager::load_run(run_dir.string());
  if (files::text_or(run.metadata(), "status") != kStatusCompleted) return std::nullopt;
  const nlohmann::json args = run.load_artifact("model/training_args.json");
  RunResult result;
  result.run_name = run.run_name();
  result.run_dir = run.run_dir();
  result.status = kStatusCompleted;
  result.eval = run.load_artifact("results/eval_results.json");
  result.epochs_trained = args.value("total_epochs_trained", 0);
  result.best_epoch = args.value("best_epoch", 0);
  result.best_val_loss = args.value("best_val_loss", 0.0);
  return result;
}

}  // namespace klab
