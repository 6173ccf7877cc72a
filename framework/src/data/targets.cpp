#include "data/targets.h"

#include <cmath>

#include "klab/error.h"
#include "klab/stats.h"

namespace klab {

double target_of_row(const std::vector<double>& close, std::size_t i, const std::string& kind, std::size_t horizon) {
  const std::size_t entry = kind == "next_return" ? i + 1 : i;
  if (entry + horizon >= close.size()) return std::nan("");
  if (kind == "close") return close[i + horizon];
  return close[entry + horizon] / close[entry] - 1.0;
}

void normalize_cross_section(std::vector<double>& y, const std::string& how) {
  const std::size_t n = y.size();
  if (how == "cs_rank") {
    const auto ranks = average_ranks(y);
    for (std::size_t i = 0; i < n; ++i) y[i] = (ranks[i] / static_cast<double>(n) - 0.5) * 3.46;
  } else if (how == "cs_zscore") {
    const auto [mean, sd] = mean_std(y);  // sd NaN for one stock: every label undefined
    for (double& v : y) v = sd > 0 ? (v - mean) / sd : std::nan("");
  } else if (how != "none") {
    throw ConfigError("target.normalize: expected none, cs_rank or cs_zscore, got \"" + how + "\"");
  }
}

}  // namespace klab
