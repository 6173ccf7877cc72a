// klab/stats.h — the few statistics of a series that evaluation and panel labels share:
// mean and sample standard deviation, Pearson correlation, and average ranks (pandas'
// rank(method="average")). Header-only, no dependencies beyond the standard library.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <numeric>
#include <vector>

namespace klab {

struct MeanStd {
  double mean = 0, std = 0;  // std: ddof 1 (pandas' default); NaN for fewer than 2 values
};

// Mean (NaN for no values) and sample standard deviation, two-pass.
inline MeanStd mean_std(const std::vector<double>& x) {
  const double n = static_cast<double>(x.size());
  double sum = 0;
  for (double v : x) sum += v;
  MeanStd out;
  out.mean = sum / n;
  double ss = 0;
  for (double v : x) ss += (v - out.mean) * (v - out.mean);
  out.std = x.size() > 1 ? std::sqrt(ss / (n - 1)) : std::numeric_limits<double>::quiet_NaN();
  return out;
}

// Pearson correlation; NaN when either side has no spread or fewer than 2 values.
inline double pearson(const std::vector<double>& a, const std::vector<double>& b) {
  const std::size_t n = a.size();
  if (n < 2 || b.size() != n) return std::numeric_limits<double>::quiet_NaN();
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
  if (saa <= 0 || sbb <= 0) return std::numeric_limits<double>::quiet_NaN();
  return sab / std::sqrt(saa * sbb);
}

// 1-based ranks, ties getting the average of the ranks they span.
inline std::vector<double> average_ranks(const std::vector<double>& x) {
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

}  // namespace klab
