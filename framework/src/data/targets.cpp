#include "data/targets.h"

#include <algorithm>
#include <cmath>

#include "klab/error.h"

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
    std::vector<std::size_t> order(n);
    for (std::size_t i = 0; i < n; ++i) order[i] = i;
    std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return y[a] < y[b]; });
    std::vector<double> pct(n);
    for (std::size_t i = 0; i < n;) {
      std::size_t j = i;
      while (j + 1 < n && y[order[j + 1]] == y[order[i]]) ++j;
      const double rank = (static_cast<double>(i + 1) + static_cast<double>(j + 1)) / 2.0;  // ties: average
      for (std::size_t k = i; k <= j; ++k) pct[order[k]] = rank / static_cast<double>(n);
      i = j + 1;
    }
    for (std::size_t i = 0; i < n; ++i) y[i] = (pct[i] - 0.5) * 3.46;
  } else if (how == "cs_zscore") {
    double mean = 0;
    for (double v : y) mean += v;
    mean /= static_cast<double>(n);
    double ss = 0;
    for (double v : y) ss += (v - mean) * (v - mean);
    const double sd = n > 1 ? std::sqrt(ss / static_cast<double>(n - 1)) : 0.0;
    for (double& v : y) v = sd > 0 ? (v - mean) / sd : std::nan("");
  } else if (how != "none") {
    throw ConfigError("target.normalize: expected none, cs_rank or cs_zscore, got \"" + how + "\"");
  }
}

}  // namespace klab
