#include "eval/cross_section.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "klab/error.h"

namespace klab {

CrossSection cross_section(const Predictions& predictions) {
  std::map<std::string, std::pair<std::vector<double>, std::vector<double>>> by_date;
  for (const auto& p : predictions) {
    if (!p.has_label()) throw TrainError("cross-section: the prediction for " + p.symbol + " on " + p.date + " has no label");
    auto& day = by_date[p.date];
    day.first.push_back(p.predicted_return());
    day.second.push_back(p.label_return());
  }
  CrossSection out;
  for (const auto& [date, day] : by_date) {
    const double ic = pearson(day.first, day.second);
    const double rank_ic = pearson(average_ranks(day.first), average_ranks(day.second));
    if (!std::isfinite(ic) || !std::isfinite(rank_ic)) {
      ++out.skipped_days;
      continue;
    }
    out.days.push_back({date, day.first.size(), ic, rank_ic});
  }
  return out;
}

namespace {

// mean, std (ddof 1), mean / std and the share above zero of a daily series.
nlohmann::json describe(const std::vector<double>& x, const std::string& name) {
  const double n = static_cast<double>(x.size());
  double positive = 0;
  for (double v : x) positive += v > 0 ? 1 : 0;
  const auto [mean, std] = mean_std(x);
  auto number = [](double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); };
  return {{name + "_mean", number(mean)},
          {name + "_std", number(std)},
          {name + "ir", number(std > 0 ? mean / std : std::nan(""))},
          {name + "_positive_share", number(positive / n)}};
}

nlohmann::json block(const std::vector<const DailyIc*>& days) {
  std::vector<double> ic, rank_ic;
  for (const auto* d : days) {
    ic.push_back(d->ic);
    rank_ic.push_back(d->rank_ic);
  }
  nlohmann::json out = describe(ic, "ic");
  out.update(describe(rank_ic, "rank_ic"));
  out["days"] = days.size();
  return out;
}

}  // namespace

nlohmann::json CrossSection::summary() const {
  if (days.empty()) {
    return {{"days", 0}, {"skipped_days", skipped_days}, {"note", "no date had two stocks with different predictions and labels"}};
  }
  std::vector<const DailyIc*> all;
  std::map<std::string, std::vector<const DailyIc*>> by_year;
  for (const auto& d : days) {
    all.push_back(&d);
    by_year[d.date.substr(0, 4)].push_back(&d);
  }
  nlohmann::json out = block(all);
  out["skipped_days"] = skipped_days;
  out["on"] = "next-day returns across the day's stocks (date = the day predicted)";
  nlohmann::json years = nlohmann::json::object();
  for (const auto& [year, list] : by_year) years[year] = block(list);
  out["by_year"] = years;
  return out;
}

nlohmann::json CrossSection::daily_json() const {
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& d : days) rows.push_back({{"date", d.date}, {"stocks", d.stocks}, {"ic", d.ic}, {"rank_ic", d.rank_ic}});
  return {{"days", rows}, {"skipped_days", skipped_days}};
}

}  // namespace klab
