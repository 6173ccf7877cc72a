#include "eval/metrics.h"

#include <algorithm>

#include <cmath>
#include <map>

#include "klab/error.h"

namespace klab {

nlohmann::json EvalMetrics::to_json() const {
  // An undefined metric (NaN: r2 of constant actuals, MAPE with only zero actuals) is null.
  auto number = [](double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); };
  nlohmann::json out = {{"mae", number(mae)}, {"rmse", number(rmse)}, {"mape", number(mape)}, {"r2", number(r2)},
                        {"direction_accuracy", number(direction_accuracy)}, {"test_samples", samples}};
  if (mape_skipped > 0) out["mape_skipped_zero_actuals"] = mape_skipped;
  return out;
}

EvalMetrics compute_metrics(const std::vector<double>& actual, const std::vector<double>& predicted,
                            const std::vector<double>& last_close) {
  if (predicted.size() != actual.size() || last_close.size() != actual.size()) {
    throw TrainError("metrics: " + std::to_string(actual.size()) + " actual values, " + std::to_string(predicted.size()) +
                     " predictions and " + std::to_string(last_close.size()) + " last closes: they must pair up");
  }
  EvalMetrics m;
  m.samples = actual.size();
  if (actual.empty()) return m;
  const double n = static_cast<double>(actual.size());
  double abs_sum = 0, sq_sum = 0, pct_sum = 0, mean = 0, correct = 0;
  std::size_t pct_count = 0;
  for (double a : actual) mean += a / n;
  double total = 0;
  for (std::size_t i = 0; i < actual.size(); ++i) {
    const double err = predicted[i] - actual[i];
    abs_sum += std::abs(err);
    sq_sum += err * err;
    if (actual[i] != 0) {  // a percentage of zero is undefined: such samples are left out of MAPE
      pct_sum += std::abs(err) / std::abs(actual[i]);
      ++pct_count;
    }
    total += (actual[i] - mean) * (actual[i] - mean);
    const double up_pred = predicted[i] - last_close[i], up_real = actual[i] - last_close[i];
    if (up_pred * up_real > 0 || (up_pred == 0 && up_real == 0)) correct += 1;
  }
  m.mae = abs_sum / n;
  m.rmse = std::sqrt(sq_sum / n);
  m.mape = pct_count > 0 ? 100.0 * pct_sum / static_cast<double>(pct_count) : std::nan("");
  m.mape_skipped = actual.size() - pct_count;
  m.r2 = total > 0 ? 1.0 - sq_sum / total : std::nan("");  // constant actuals: r2 is undefined
  m.direction_accuracy = 100.0 * correct / n;
  return m;
}

namespace {

void require_finite(const EvalMetrics& metrics, const EvalMetrics& baseline) {
  // A run whose metrics are not numbers must not end "completed" and win a --best-by.
  for (const auto& [name, value] : {std::pair<const char*, double>{"mae", metrics.mae}, {"rmse", metrics.rmse},
                                    {"baseline mae", baseline.mae}}) {
    if (!std::isfinite(value)) {
      throw TrainError(std::string("evaluation: ") + name + " is " + std::to_string(value) + " on " +
                       std::to_string(metrics.samples) + " test windows; check the data for absurd prices");
    }
  }
}

// Metrics and baseline JSON, with the comparison.
nlohmann::json with_baseline(const EvalMetrics& metrics, const EvalMetrics& baseline, const std::string& kind) {
  nlohmann::json eval = metrics.to_json();
  eval["baseline"] = baseline.to_json();
  eval["baseline"]["kind"] = kind;
  eval["beats_baseline"] = {{"mae", metrics.mae < baseline.mae}, {"rmse", metrics.rmse < baseline.rmse}};
  return eval;
}

}  // namespace

nlohmann::json evaluate_predictions(const Predictions& predictions, const std::string& prices,
                                    bool several_symbols) {
  for (const auto& p : predictions) {
    if (!p.has_label()) throw TrainError("evaluation: the prediction for " + p.symbol + " on " + p.date + " has no label");
  }
  if (!several_symbols) {
    std::vector<double> actual, predicted, last;
    for (const auto& p : predictions) {
      actual.push_back(p.label);
      predicted.push_back(p.prediction);
      last.push_back(p.last_close);
    }
    const EvalMetrics metrics = compute_metrics(actual, predicted, last);
    // The baseline predicts no change: its direction accuracy is the share of days without one.
    const EvalMetrics baseline = compute_metrics(actual, last, last);
    require_finite(metrics, baseline);
    nlohmann::json eval = with_baseline(metrics, baseline, "persistence (tomorrow's close = today's close)");
    eval["prices"] = prices;
    eval["metrics_on"] = "prices";
    return eval;
  }
  // Several symbols: returns, so that every stock counts alike whatever its price level.
  std::map<std::string, std::vector<std::size_t>> by_symbol;
  std::vector<double> actual, predicted, zero(predictions.size(), 0.0);
  for (std::size_t i = 0; i < predictions.size(); ++i) {
    const auto& p = predictions[i];
    actual.push_back(p.label_return());
    predicted.push_back(p.predicted_return());
    by_symbol[p.symbol].push_back(i);
  }
  const EvalMetrics metrics = compute_metrics(actual, predicted, zero);
  const EvalMetrics baseline = compute_metrics(actual, zero, zero);
  require_finite(metrics, baseline);
  nlohmann::json eval = with_baseline(metrics, baseline, "persistence (a return of 0)");
  // MAPE of returns divides by returns near zero: not a meaningful number here.
  eval["mape"] = nullptr;
  eval["baseline"]["mape"] = nullptr;
  eval.erase("mape_skipped_zero_actuals");
  eval["baseline"].erase("mape_skipped_zero_actuals");
  double mae = 0, rmse = 0, direction = 0, base_mae = 0;
  for (const auto& [symbol, rows] : by_symbol) {
    std::vector<double> a, p, z(rows.size(), 0.0);
    for (std::size_t i : rows) {
      a.push_back(actual[i]);
      p.push_back(predicted[i]);
    }
    const EvalMetrics m = compute_metrics(a, p, z), b = compute_metrics(a, z, z);
    mae += m.mae;
    rmse += m.rmse;
    direction += m.direction_accuracy;
    base_mae += b.mae;
  }
  const double n = static_cast<double>(by_symbol.size());
  eval["per_symbol_average"] = {{"symbols", by_symbol.size()}, {"mae", mae / n}, {"rmse", rmse / n},
                                {"direction_accuracy", direction / n}, {"baseline_mae", base_mae / n}};
  eval["prices"] = prices;
  eval["metrics_on"] = "returns";
  eval["note"] = "several symbols: pointwise metrics on next-day returns (price errors of stocks at different "
                 "price levels cannot be pooled); per_symbol_average weighs every symbol alike";
  return eval;
}

const std::vector<std::string>& ranking_metrics() {
  static const std::vector<std::string> all = {"mae",      "rmse",      "mape",          "r2",
                                               "direction_accuracy",    "ic",          "rank_ic",
                                               "icir",     "rank_icir", "excess_return", "information_ratio"};
  return all;
}

bool is_ranking_metric(const std::string& metric) {
  const auto& all = ranking_metrics();
  return std::find(all.begin(), all.end(), metric) != all.end();
}

bool higher_is_better(const std::string& metric) {
  return metric == "r2" || metric == "direction_accuracy" || metric == "ic" || metric == "rank_ic" ||
         metric == "icir" || metric == "rank_icir" || metric == "excess_return" || metric == "information_ratio";
}

double metric_value(const nlohmann::json& eval, const std::string& metric) {
  const double nan = std::nan("");
  if (!eval.is_object()) return nan;
  const nlohmann::json* where = &eval;
  std::string key = metric;
  if (metric == "ic" || metric == "rank_ic" || metric == "icir" || metric == "rank_icir") {
    const auto cs = eval.find("cross_section");
    if (cs == eval.end() || !cs->is_object()) return nan;
    where = &*cs;
    if (metric == "ic" || metric == "rank_ic") key = metric + "_mean";
  }
  if (metric == "excess_return" || metric == "information_ratio") {
    // The backtest's excess return over the benchmark after costs (Qlib's convention).
    const auto bt = eval.find("backtest");
    if (bt == eval.end() || !bt->is_object() || !bt->contains("excess_return_with_cost")) return nan;
    where = &(*bt)["excess_return_with_cost"];
    key = metric == "excess_return" ? "annualized_return" : "information_ratio";
  }
  const auto v = where->find(key);
  return v != where->end() && v->is_number() ? v->get<double>() : nan;
}

}  // namespace klab
