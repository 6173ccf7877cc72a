#include "data/windows.h"

#include <cmath>

#include "klab/data/dates.h"

namespace klab {

WindowRules::WindowRules(const std::vector<std::string>& dates, const double* values, std::size_t features,
                         int max_gap_days, bool non_finite_allowed)
    : bad_prefix_(dates.size() + 1, 0), break_prefix_(dates.size() + 1, 0) {
  for (std::size_t i = 0; i < dates.size(); ++i) {
    bool bad = false;
    for (std::size_t j = 0; j < features && !non_finite_allowed; ++j) bad = bad || !std::isfinite(values[i * features + j]);
    bad_prefix_[i + 1] = bad_prefix_[i] + (bad ? 1 : 0);
    const bool gap = i > 0 && days_from_iso(dates[i]) - days_from_iso(dates[i - 1]) > max_gap_days;
    break_prefix_[i + 1] = break_prefix_[i] + (gap ? 1 : 0);
  }
}

WindowRules::Verdict WindowRules::check(std::size_t end, std::size_t seq, std::size_t through) const {
  const std::size_t first = end + 1 - seq;
  if (bad_prefix_[end + 1] - bad_prefix_[first] > 0) return Verdict::kNonFinite;
  // Breaks strictly after the first row, up to `through`.
  if (break_prefix_[through + 1] - break_prefix_[first + 1] > 0) return Verdict::kGap;
  return Verdict::kUsable;
}

std::size_t WindowRules::first_non_finite(std::size_t first, std::size_t last) const {
  for (std::size_t i = first; i <= last; ++i) {
    if (bad_prefix_[i + 1] > bad_prefix_[i]) return i;
  }
  return npos;
}

std::size_t WindowRules::first_gap(std::size_t first, std::size_t last) const {
  for (std::size_t i = first + 1; i <= last; ++i) {
    if (break_prefix_[i + 1] > break_prefix_[i]) return i;
  }
  return npos;
}

}  // namespace klab
