// data/universe.h — point-in-time universes: which stocks a run over many symbols trains and is
// judged on, day by day, chosen only from data up to each rebalance date.
//
// `data.universe: {top: 300, by: total_market_cap, rebalance: monthly}`: on every rebalance date
// R (the last trading day of each month, or of each ISO week) the stocks that traded on R are
// ranked by `by` on R (that day's total or float market cap, or amount_20d: the mean traded
// amount of the stock's last 20 bars up to R) and the top N are the members until the next
// rebalance. A window whose last input day is D belongs to the universe when its stock was a
// member at the last rebalance R <= D. No membership uses a day after R; a month whose last
// trading day is not yet in the data has no rebalance (knowing that the data ends there would be
// look-ahead); days before the first rebalance have no members. A delisted stock has no rows
// after its last day, so it is never carried forward.
#pragma once

#include <cstddef>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "klab/data_source.h"

namespace klab {

struct UniverseRule {
  std::size_t top = 0;                  // 0: no rule, every loaded symbol on every day
  std::string by = "total_market_cap";  // total_market_cap | float_market_cap | amount_20d
  std::string rebalance = "monthly";    // monthly | weekly
  bool active() const { return top > 0; }
  nlohmann::json to_json() const;
};

// The value a stock is ranked by on each of its bars (NaN where unknown).
std::vector<double> ranking_values(const std::vector<Bar>& bars, const std::string& by);

struct RankedSeries {
  std::string symbol;
  std::vector<std::string> dates;  // ISO, ascending
  std::vector<double> values;      // ranking_values of those days
};

class Universe {
 public:
  static Universe select(const UniverseRule& rule, const std::vector<RankedSeries>& series);

  // Whether `symbol` was a member at the last rebalance on or before `date`.
  bool contains(const std::string& symbol, const std::string& date) const;
  // The rebalance dates and the members chosen on each (sorted).
  const std::vector<std::string>& rebalance_dates() const { return dates_; }
  const std::vector<std::vector<std::string>>& members() const { return members_; }
  // universe.json: {"rule": ..., "rebalances": [{"date", "members"}, ...]}.
  nlohmann::json to_json() const;

 private:
  UniverseRule rule_;
  std::vector<std::string> dates_;
  std::vector<std::vector<std::string>> members_;
  std::vector<std::set<std::string>> member_sets_;
};

}  // namespace klab
