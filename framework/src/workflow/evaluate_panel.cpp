#include "workflow/evaluate_panel.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "eval/backtest.h"
#include "eval/cross_section.h"
#include "eval/metrics.h"
#include "plugins/registry.h"
#include "workflow/run.h"
#include "klab/error.h"
#include "runs/files.h"
#include "runs/predictions_file.h"

namespace klab {

namespace {

std::string number(const nlohmann::json& v) { return v.is_number() ? files::log_number(v.get<double>()) : "null"; }

// The portfolio `signals` buy, on the raw bars of the run's stocks (loaded once by the caller).
BacktestResult backtest(const ExperimentSpec& spec, const Dataset& ds, const std::vector<Signal>& signals,
                        const MarketBars& bars, const std::string& last_day, const std::string& data_end) {
  const Universe* universe = ds.universe();
  const UniverseTest members = [&](const std::string& symbol, const std::string& date) {
    return universe == nullptr || universe->contains(symbol, date);
  };
  return run_backtest(signals, bars, members, last_day, data_end, spec.backtest_options);
}

}  // namespace

double reversal_5d(const std::vector<std::string>& dates, const std::vector<double>& close, const std::string& day) {
  const auto it = std::lower_bound(dates.begin(), dates.end(), day);
  if (it == dates.end() || *it != day) return std::nan("");
  const auto row = static_cast<std::size_t>(it - dates.begin());
  if (row < 5) return std::nan("");
  return -(close[row] / close[row - 5] - 1.0);
}

void evaluate_panel(const ExperimentSpec& spec, const Dataset& ds, DataSource& source, const Predictions& predictions,
                    TrainingManager& manager, nlohmann::json& eval) {
  evaluate_panel(spec, ds, source, predictions,
                 PanelOutputs{manager.run_dir(), [&manager](const std::string& line) { manager.save_training_log(line); }},
                 eval);
}

void evaluate_panel(const ExperimentSpec& spec, const Dataset& ds, DataSource& source, const Predictions& predictions,
                    const PanelOutputs& outputs, nlohmann::json& eval) {
  const auto save = [&](const std::string& relative, const nlohmann::json& value) {
    std::filesystem::create_directories((outputs.dir / relative).parent_path());
    files::write_json(outputs.dir / relative, value);
  };
  // How the run ranks stocks each day, from the predictions as written (anyone reading the file
  // recomputes exactly these numbers: docs/EVALUATION.md).
  const CrossSection cs = cross_section(read_predictions(outputs.dir));
  eval["cross_section"] = cs.summary();
  save("results/ic.json", cs.daily_json());
  if (!cs.days.empty()) {
    outputs.log("cross-section: IC " + number(eval["cross_section"]["ic_mean"]) + ", Rank IC " +
                              number(eval["cross_section"]["rank_ic_mean"]) + " over " + std::to_string(cs.days.size()) +
                              " test dates");
  }

  // The model-free signal on the same (day, stock) pairs, judged against the same labels.
  std::map<std::string, const SymbolSeries*> series;
  for (const auto& s : ds.series()) series[s.symbol] = &s;
  Predictions reversal;  // the (day, stock) pairs with five earlier rows
  std::vector<Signal> reversal_signals;
  for (const auto& p : predictions) {
    Prediction r = p;
    r.predicted_target = reversal_5d(series.at(p.symbol)->dates, series.at(p.symbol)->close, p.as_of);
    r.label_target = p.label_return();
    if (!std::isfinite(r.predicted_target)) continue;
    reversal_signals.push_back({r.as_of, r.symbol, r.predicted_target});
    reversal.push_back(std::move(r));
  }
  const CrossSection reversal_cs = cross_section(reversal);
  nlohmann::json baseline = {{"name", "reversal_5d"},
                             {"definition", "score = -(close_t / close_{t-5} - 1), adjusted closes of the stock's own rows"},
                             {"cross_section", reversal_cs.summary()}};

  if (spec.backtest) {
    // A test period too short to trade (one day) leaves the backtest out, said in the results
    // and the log; it never fails a run whose model and predictions are complete.
    try {
      std::vector<Signal> signals;
      std::string first_signal, last_day;
      for (const auto& p : predictions) {
        signals.push_back({p.as_of, p.symbol, p.predicted_return()});
        if (first_signal.empty() || p.as_of < first_signal) first_signal = p.as_of;
        last_day = std::max(last_day, p.date);
      }
      MarketBars bars;
      std::string data_end;
      for (const auto& s : ds.series()) {
        // Open-ended: bars after the test period tell a delisting from the end of the data.
        auto loaded = source.load_bars(s.symbol, first_signal, "");
        if (loaded.empty()) continue;
        data_end = std::max(data_end, loaded.back().trade_date);
        bars.emplace(s.symbol, std::move(loaded));
      }
      const BacktestResult result = backtest(spec, ds, signals, bars, last_day, data_end);
      save("results/backtest.json", result.to_json());
      eval["backtest"] = result.summary();
      if (!reversal_signals.empty()) {
        baseline["backtest"] = backtest(spec, ds, reversal_signals, bars, last_day, data_end).summary();
      }
      const auto& excess = eval["backtest"]["excess_return_with_cost"];
      outputs.log(
          "backtest: TopkDropout top " + std::to_string(spec.backtest_options.topk) + " drop " +
          std::to_string(spec.backtest_options.n_drop) + " over " + std::to_string(result.days.size()) +
          " days; excess return with costs " + number(excess["annualized_return"]) + " a year (IR " +
          number(excess["information_ratio"]) + ", max drawdown " + number(excess["max_drawdown"]) + "), benchmark " +
          (ds.universe() ? "the run's universe" : "the run's stocks") + " equal-weighted (results/backtest.json); " +
          "5-day reversal: " +
          (baseline.contains("backtest") ? number(baseline["backtest"]["excess_return_with_cost"]["annualized_return"])
                                         : std::string("null")) +
          " a year");
    } catch (const DataError& e) {
      eval["backtest"] = {{"error", e.what()}};
      outputs.log(std::string("backtest: not run: ") + e.what());
    }
  }
  eval["baseline_signal"] = baseline;
}

nlohmann::json evaluate_combined_predictions(const ExperimentSpec& spec, PluginRegistry& registry,
                                             const Predictions& predictions, const PanelOutputs& outputs) {
  // Only closes are needed (the backtest's universe, the reversal): no model features.
  auto source = registry.create_data_source(spec.source, spec.source_options.dump());
  DatasetSpec data_spec = run_dataset_spec(spec, *source);
  data_spec.features = {"close"};
  const Dataset ds = Dataset::build(*source, data_spec);
  files::write_json(outputs.dir / "data.json",
                    {{"stock_symbols", data_spec.symbols}, {"skipped_symbols", skipped_symbols_json(ds)}});
  if (const Universe* universe = ds.universe()) files::write_json(outputs.dir / "universe.json", universe->to_json());

  nlohmann::json eval =
      evaluate_predictions(predictions, std::string(adjustment_name(data_spec.adjustment)) + "-adjusted", true);
  if (spec.target_normalize != "none") eval["metrics_on"] = "scores";
  evaluate_panel(spec, ds, *source, predictions, outputs, eval);
  return eval;
}

}  // namespace klab
