#include "eval/cross_section.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>

#include "klab/error.h"

namespace klab {

double pearson(const std::vector<double>& a, const std::vector<double>& b) {
  const std::size_t n = a.size();
  if (n < 2 || b.size() != n) return std::nan("");
  double ma = 0, mb = 0;
  for (std::size_t i = 0; i < n; ++i) {
    ma += a[i];
    mb += b[i];
  }
  ma /= static_cast<double>(n);
  mb /= static_cast<double>(n);
  double sab = 0, saa = 0, sbb = 0;
  for (std::size_t i = 0; i < n; ++i) {
    sab += (a[i] - ma) * (b[i] - mb);
    saa += (a[i] - ma) * (a[i] - ma);
    sbb += (b[i] - mb) * (b[i] - mb);
  }
  if (saa <= 0 || sbb <= 0) return std::nan("");
  return sab / std::sqrt(saa * sbb);
}

std::vector<double> average_ranks(const std::vector<double>& x) {
  std::vector<std::size_t> order(x.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](std::size_t i, std::size_t j) { return x[i] < x[j]; });
  std::vector<double> ranks(x.size());
  for (std::size_t start = 0; start < order.size();) {
    std::size_t end = start + 1;
    while (end < order.size() && x[order[end]] == x[order[start]]) ++end;
    const double rank = (static_cast<double>(start + 1) + static_cast<double>(end)) / 2.0;  // mean of start+1 .. end
    for (std::size_t k = start; k < end; ++k) ranks[order[k]] = rank;
    start = end;
  }
  return ranks;
}

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
  double mean = 0, positive = 0;
  for (double v : x) {
    mean += v;
    positive += v > 0 ? 1 : 0;
  }
  mean /= n;
  double ss = 0;
  for (double v : x) ss += (v - mean) * (v - mean);
  const double std = x.size() > 1 ? std::sqrt(ss / (n - 1)) : std::nan("");
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
