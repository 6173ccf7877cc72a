#include "data/universe.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "klab/data/dates.h"
#include "klab/error.h"

namespace klab {

nlohmann::json UniverseRule::to_json() const {
  return {{"top", top}, {"by", by}, {"rebalance", rebalance}};
}

std::vector<double> ranking_values(const std::vector<Bar>& bars, const std::string& by) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  std::vector<double> out(bars.size(), nan);
  if (by == "total_market_cap" || by == "float_market_cap") {
    for (std::size_t i = 0; i < bars.size(); ++i) {
      const double v = by == "total_market_cap" ? bars[i].total_market_cap : bars[i].float_market_cap;
      if (std::isfinite(v) && v > 0) out[i] = v;
    }
    return out;
  }
  if (by == "amount_20d") {
    // The mean amount of the last 20 bars up to and including the day; fewer than 20: unknown.
    constexpr std::size_t kWindow = 20;
    double sum = 0;
    for (std::size_t i = 0; i < bars.size(); ++i) {
      sum += bars[i].amount;
      if (i >= kWindow) sum -= bars[i - kWindow].amount;
      if (i + 1 >= kWindow) out[i] = sum / static_cast<double>(kWindow);
    }
    return out;
  }
  throw ConfigError("data.universe.by: expected total_market_cap, float_market_cap or amount_20d, got \"" + by + "\"");
}

namespace {

// The period a day falls in: its month, or its ISO week (Monday first).
long period_of(const std::string& date, const std::string& rebalance) {
  if (rebalance == "monthly") return std::stol(date.substr(0, 4)) * 12 + std::stol(date.substr(5, 2));
  const long days = days_from_iso(date);  // 1970-01-01 was a Thursday
  return (days + 3) / 7;
}

}  // namespace

Universe Universe::select(const UniverseRule& rule, const std::vector<RankedSeries>& series) {
  if (rule.rebalance != "monthly" && rule.rebalance != "weekly") {
    throw ConfigError("data.universe.rebalance: expected monthly or weekly, got \"" + rule.rebalance + "\"");
  }
  Universe u;
  u.rule_ = rule;
  // The calendar: every day any stock traded.
  std::vector<std::string> calendar;
  for (const auto& s : series) calendar.insert(calendar.end(), s.dates.begin(), s.dates.end());
  std::sort(calendar.begin(), calendar.end());
  calendar.erase(std::unique(calendar.begin(), calendar.end()), calendar.end());
  // A period's last day is known to be its last only once a day of a later period exists.
  for (std::size_t i = 0; i + 1 < calendar.size(); ++i) {
    if (period_of(calendar[i], rule.rebalance) != period_of(calendar[i + 1], rule.rebalance)) {
      u.dates_.push_back(calendar[i]);
    }
  }
  // Each stock's value on each rebalance date it traded.
  std::map<std::string, std::vector<std::pair<double, std::string>>> ranked;
  for (const auto& s : series) {
    std::size_t row = 0;
    for (const auto& date : u.dates_) {
      while (row < s.dates.size() && s.dates[row] < date) ++row;
      if (row < s.dates.size() && s.dates[row] == date && std::isfinite(s.values[row])) {
        ranked[date].push_back({s.values[row], s.symbol});
      }
    }
  }
  for (const auto& date : u.dates_) {
    auto& candidates = ranked[date];
    // Largest first; equal values by symbol, so the choice does not depend on loading order.
    std::sort(candidates.begin(), candidates.end(), [](const auto& a, const auto& b) {
      return a.first != b.first ? a.first > b.first : a.second < b.second;
    });
    std::vector<std::string> members;
    for (std::size_t k = 0; k < candidates.size() && k < rule.top; ++k) members.push_back(candidates[k].second);
    std::sort(members.begin(), members.end());
    u.member_sets_.emplace_back(members.begin(), members.end());
    u.members_.push_back(std::move(members));
  }
  return u;
}

bool Universe::contains(const std::string& symbol, const std::string& date) const {
  auto it = std::upper_bound(dates_.begin(), dates_.end(), date);  // first rebalance after `date`
  if (it == dates_.begin()) return false;                          // before the first rebalance
  return member_sets_[static_cast<std::size_t>(it - dates_.begin()) - 1].count(symbol) > 0;
}

nlohmann::json Universe::to_json() const {
  nlohmann::json rebalances = nlohmann::json::array();
  for (std::size_t i = 0; i < dates_.size(); ++i) rebalances.push_back({{"date", dates_[i]}, {"members", members_[i]}});
  return {{"rule", rule_.to_json()},
          {"note", "a window whose last input day is D uses the members of the last rebalance on or before D"},
          {"rebalances", rebalances}};
}

}  // namespace klab
