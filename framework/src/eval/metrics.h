// eval/metrics.h — how good a run's test predictions are: the specification's pointwise metrics,
// the persistence baseline, and for a run over several symbols the same on returns (pooled and
// averaged per symbol), since price errors of stocks at 2 and at 2,000 CNY cannot be pooled.
// Knows nothing of models or training: it reads predictions.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "eval/predictions.h"

namespace klab {

// The specification's metrics, on de-normalised prices.
struct EvalMetrics {
  double mae = 0, rmse = 0, mape = 0, r2 = 0, direction_accuracy = 0;  // NaN where undefined
  std::size_t samples = 0;
  std::size_t mape_skipped = 0;  // samples with a zero actual, left out of MAPE
  nlohmann::json to_json() const;
};

// mape and direction_accuracy in percent; MAPE leaves out zero actuals (NaN if all are zero),
// r2 is NaN for constant actuals; vectors of different lengths throw TrainError. Direction: the sign of (price - last close) of the
// prediction equals that of the actual price (a day without change counts as correct only for a
// prediction without change).
EvalMetrics compute_metrics(const std::vector<double>& actual, const std::vector<double>& predicted,
                            const std::vector<double>& last_close);

// eval_results.json's metrics for a run's test predictions (every one labelled; an unlabelled
// prediction throws TrainError) (`prices`: "backward-adjusted", ...).
// One symbol: the specification's metrics on prices beside the persistence baseline. Several:
// the metrics on next-day returns (actual / last_close - 1 against predicted / last_close - 1;
// the baseline predicts 0), pooled over every prediction, plus `per_symbol_average` (each
// symbol's return metrics averaged over symbols), and `metrics_on: "returns"` saying so.
// Throws TrainError when a metric that every run has (mae, rmse) is not finite.
nlohmann::json evaluate_predictions(const Predictions& predictions, const std::string& prices,
                                    bool several_symbols);

// The metrics runs and sweep points are ranked by, in one place: the pointwise ones of
// eval_results.json (mae, rmse, mape, r2, direction_accuracy) and the cross-sectional ones of its
// cross_section block (ic, rank_ic: the daily means; icir, rank_icir), each with its direction.
const std::vector<std::string>& ranking_metrics();
bool is_ranking_metric(const std::string& metric);
// r2, direction_accuracy, ic, rank_ic, icir, rank_icir.
bool higher_is_better(const std::string& metric);
// The metric's value in an eval_results.json object; NaN when the run has none (a one-symbol
// run has no cross-section, an undefined metric is null).
double metric_value(const nlohmann::json& eval, const std::string& metric);

}  // namespace klab
