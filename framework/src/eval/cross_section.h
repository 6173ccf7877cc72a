// eval/cross_section.h — how well a run ranks stocks each day: IC and Rank IC of the predicted
// against the realised return across the day's stocks (docs/EVALUATION.md gives every formula).
//
// For each date (the predictions' target date) with at least two stocks: IC = Pearson
// correlation of predicted_return() and label_return(); Rank IC = Spearman (Pearson of the
// average ranks, ties sharing their mean rank). A day whose predictions or labels are all equal
// has no correlation and is skipped (counted). Summaries are daily, as Qlib reports them:
// mean, standard deviation (ddof 1), ICIR = mean / std, the share of days above zero, and the
// same per calendar year of the date.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "eval/predictions.h"
#include "klab/stats.h"  // pearson, average_ranks

namespace klab {

struct DailyIc {
  std::string date;
  std::size_t stocks = 0;
  double ic = 0, rank_ic = 0;
};

struct CrossSection {
  std::vector<DailyIc> days;     // dates with a defined IC, ascending
  std::size_t skipped_days = 0;  // dates with < 2 stocks or no spread
  // eval_results.json's "cross_section" block.
  nlohmann::json summary() const;
  // results/ic.json: {"days": [{date, stocks, ic, rank_ic}, ...]}.
  nlohmann::json daily_json() const;
};

// Every prediction must be labelled (TrainError naming the first that is not).
CrossSection cross_section(const Predictions& predictions);

}  // namespace klab
