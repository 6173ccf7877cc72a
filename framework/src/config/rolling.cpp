#include "config/rolling.h"

#include <algorithm>
#include <cstdio>

#include "klab/data/dates.h"
#include "klab/error.h"

namespace klab {

nlohmann::json RollingSpec::to_json() const {
  nlohmann::json j = {{"train_years", train_years}, {"valid_years", valid_years}, {"test_months", test_months}};
  if (warmup_months > 0) j["warmup_months"] = warmup_months;
  return j;
}

nlohmann::json Segment::to_json() const {
  return {{"index", index},           {"data_start", data_start}, {"train_start", train_start},
          {"val_start", val_start},   {"test_start", test_start}, {"test_end", test_end}};
}

std::string add_months(const std::string& iso, int months) {
  int y = std::stoi(iso.substr(0, 4)), m = std::stoi(iso.substr(5, 2)), d = std::stoi(iso.substr(8, 2));
  const int total = y * 12 + (m - 1) + months;
  y = total / 12;
  m = total % 12 + 1;
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  d = std::min(d, kDays[m - 1] + (m == 2 && leap ? 1 : 0));
  char buffer[40];
  std::snprintf(buffer, sizeof buffer, "%04d-%02d-%02d", y, m, d);
  return buffer;
}

std::vector<Segment> rolling_segments(const RollingSpec& rolling, const std::string& first_test_start,
                                      const std::string& end_date) {
  if (rolling.train_years < 1 || rolling.valid_years < 1 || rolling.test_months < 1) {
    throw ConfigError("evaluation.rolling: train_years, valid_years and test_months must each be at least 1");
  }
  std::vector<Segment> segments;
  for (int k = 0;; ++k) {
    Segment s;
    s.index = static_cast<std::size_t>(k);
    s.test_start = add_months(first_test_start, k * rolling.test_months);
    if (s.test_start > end_date) break;
    const std::string next = add_months(first_test_start, (k + 1) * rolling.test_months);
    s.test_end = std::min(iso_from_days(days_from_iso(next) - 1), end_date);
    s.val_start = add_months(s.test_start, -12 * rolling.valid_years);
    s.train_start = add_months(s.val_start, -12 * rolling.train_years);
    s.data_start = add_months(s.train_start, -rolling.warmup_months);
    segments.push_back(s);
  }
  if (segments.empty()) {
    throw ConfigError("evaluation.rolling: no test segment: data.split.test_start " + first_test_start +
                      " is after data.end_date " + end_date);
  }
  return segments;
}

}  // namespace klab
