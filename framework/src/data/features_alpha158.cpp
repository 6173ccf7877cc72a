#include "data/features_alpha158.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <utility>

namespace klab::alpha158 {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kEps = 1e-12;  // Qlib's guard against a zero denominator
constexpr std::array<std::size_t, 5> kWindows = {5, 10, 20, 30, 60};
constexpr std::size_t kFixed = 13;  // 9 K-bar shapes + 4 prices

enum Op : std::size_t {
  kRoc, kMa, kStd, kBeta, kRsqr, kResi, kMax, kMin, kQtlu, kQtld, kRank, kRsv, kImax, kImin, kImxd,
  kCorr, kCord, kCntp, kCntn, kCntd, kSump, kSumn, kSumd, kVma, kVstd, kWvma, kVsump, kVsumn, kVsumd,
  kOps
};
constexpr std::array<const char*, kOps> kOpNames = {
    "ROC",  "MA",   "STD",  "BETA", "RSQR", "RESI", "MAX",  "MIN",  "QTLU", "QTLD",
    "RANK", "RSV",  "IMAX", "IMIN", "IMXD", "CORR", "CORD", "CNTP", "CNTN", "CNTD",
    "SUMP", "SUMN", "SUMD", "VMA",  "VSTD", "WVMA", "VSUMP", "VSUMN", "VSUMD"};
constexpr std::size_t kCount = kFixed + kOps * kWindows.size();

constexpr std::size_t index_of(Op op, std::size_t wi) { return kFixed + op * kWindows.size() + wi; }

// Operators over day-over-day changes (and ROC) need one row more than their window.
bool uses_change(Op op) {
  switch (op) {
    case kRoc: case kCord: case kCntp: case kCntn: case kCntd: case kSump: case kSumn: case kSumd:
    case kWvma: case kVsump: case kVsumn: case kVsumd:
      return true;
    default:
      return false;
  }
}

// One input series with O(1) questions about any window [first, last]: are all its values
// finite, are they all equal.
class Series {
 public:
  explicit Series(std::vector<double> x) : x_(std::move(x)) {
    bad_.resize(x_.size() + 1);
    run_.resize(x_.size());
    for (std::size_t i = 0; i < x_.size(); ++i) {
      bad_[i + 1] = bad_[i] + (std::isfinite(x_[i]) ? 0 : 1);
      run_[i] = i > 0 && x_[i] == x_[i - 1] ? run_[i - 1] + 1 : 1;
    }
  }
  double operator[](std::size_t i) const { return x_[i]; }
  const double* at(std::size_t i) const { return x_.data() + i; }
  bool finite(std::size_t first, std::size_t last) const { return bad_[last + 1] == bad_[first]; }
  bool constant(std::size_t first, std::size_t last) const { return run_[last] > last - first; }

 private:
  std::vector<double> x_;
  std::vector<std::uint32_t> bad_;  // non-finite values among x[0, i)
  std::vector<std::uint32_t> run_;  // equal values in a row ending at i
};

// Mean and sum of squared deviations of a window of w finite values; a constant window has
// exactly mean = its value and ss = 0.
std::pair<double, double> moments(const Series& s, std::size_t first, std::size_t w) {
  const double* x = s.at(first);
  if (s.constant(first, first + w - 1)) return {x[0], 0.0};
  double sum = 0;
  for (std::size_t k = 0; k < w; ++k) sum += x[k];
  const double mean = sum / static_cast<double>(w);
  double ss = 0;
  for (std::size_t k = 0; k < w; ++k) ss += (x[k] - mean) * (x[k] - mean);
  return {mean, ss};
}

// Pearson correlation of two windows; NaN when either is constant or not finite.
double correlation(const Series& a, const Series& b, std::size_t first, std::size_t w) {
  const std::size_t last = first + w - 1;
  if (!a.finite(first, last) || !b.finite(first, last) || a.constant(first, last) || b.constant(first, last)) return kNaN;
  const double* x = a.at(first);
  const double* y = b.at(first);
  double sx = 0, sy = 0;
  for (std::size_t k = 0; k < w; ++k) {
    sx += x[k];
    sy += y[k];
  }
  const double mx = sx / static_cast<double>(w), my = sy / static_cast<double>(w);
  double sxx = 0, syy = 0, sxy = 0;
  for (std::size_t k = 0; k < w; ++k) {
    const double dx = x[k] - mx, dy = y[k] - my;
    sxx += dx * dx;
    syy += dy * dy;
    sxy += dx * dy;
  }
  return sxy / std::sqrt(sxx * syy);
}

class Writer {
 public:
  Writer(const std::vector<std::size_t>& wanted, const std::vector<std::size_t>& columns, double* values,
         std::size_t stride)
      : values_(values), stride_(stride) {
    column_.fill(-1);
    for (std::size_t k = 0; k < wanted.size(); ++k) column_[wanted[k]] = static_cast<std::ptrdiff_t>(columns[k]);
  }
  bool wants(std::size_t index) const { return column_[index] >= 0; }
  bool wants_any(std::initializer_list<Op> ops, std::size_t wi) const {
    for (Op op : ops) {
      if (wants(index_of(op, wi))) return true;
    }
    return false;
  }
  void put(std::size_t index, std::size_t row, double value) {
    if (column_[index] >= 0) values_[row * stride_ + static_cast<std::size_t>(column_[index])] = value;
  }
  void put(Op op, std::size_t wi, std::size_t row, double value) { put(index_of(op, wi), row, value); }

 private:
  double* values_;
  std::size_t stride_;
  std::array<std::ptrdiff_t, kCount> column_{};
};

// Day-over-day transform of a series (NaN on the first row).
template <typename F>
std::vector<double> change(const std::vector<double>& x, F f) {
  std::vector<double> out(x.size(), kNaN);
  for (std::size_t i = 1; i < x.size(); ++i) out[i] = f(x[i], x[i - 1]);
  return out;
}

// Sums of the positive parts, negative parts and absolute values of a window of changes, and
// how many were above and below zero.
struct ChangeSums {
  double up = 0, down = 0, abs = 0;
  std::size_t n_up = 0, n_down = 0;
};
ChangeSums change_sums(const Series& d, std::size_t first, std::size_t w) {
  ChangeSums s;
  const double* x = d.at(first);
  for (std::size_t k = 0; k < w; ++k) {
    s.up += std::max(x[k], 0.0);
    s.down += std::max(-x[k], 0.0);
    s.abs += std::abs(x[k]);
    s.n_up += x[k] > 0 ? 1 : 0;
    s.n_down += x[k] < 0 ? 1 : 0;
  }
  return s;
}

}  // namespace

const std::vector<std::string>& names() {
  static const std::vector<std::string> all = [] {
    std::vector<std::string> out = {"KMID", "KLEN", "KMID2", "KUP",  "KUP2",  "KLOW",  "KLOW2",
                                    "KSFT", "KSFT2", "OPEN0", "HIGH0", "LOW0", "VWAP0"};
    for (const char* op : kOpNames) {
      for (std::size_t w : kWindows) out.push_back(op + std::to_string(w));
    }
    return out;
  }();
  return all;
}

double vwap(const Bar& bar) { return bar.volume > 0 && bar.amount > 0 ? bar.amount / bar.volume : kNaN; }

const std::vector<std::string>& selection20() {
  static const std::vector<std::string> selected = {
      "RESI5", "WVMA5",  "RSQR5",  "KLEN",   "RSQR10", "CORR5", "CORD5",  "CORR10", "ROC60",  "RESI10",
      "VSTD5", "RSQR60", "CORR60", "WVMA60", "STD5",   "RSQR20", "CORD60", "CORD10", "CORR20", "KLOW"};
  return selected;
}

std::size_t warmup(std::size_t index) {
  if (index < kFixed) return 0;
  const auto op = static_cast<Op>((index - kFixed) / kWindows.size());
  const std::size_t w = kWindows[(index - kFixed) % kWindows.size()];
  return uses_change(op) ? w : w - 1;
}

void compute(const std::vector<Bar>& bars, const std::vector<std::size_t>& wanted,
             const std::vector<std::size_t>& columns, double* values, std::size_t stride) {
  const std::size_t n = bars.size();
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t col : columns) values[i * stride + col] = kNaN;
  }
  Writer out(wanted, columns, values, stride);
  std::vector<double> o(n), h(n), l(n), c(n), v(n);
  for (std::size_t i = 0; i < n; ++i) {
    o[i] = bars[i].open;
    h[i] = bars[i].high;
    l[i] = bars[i].low;
    c[i] = bars[i].close;
    v[i] = bars[i].volume;
    const double day_vwap = vwap(bars[i]);
    const double range = h[i] - l[i] + kEps;
    const double values_fixed[kFixed] = {
        (c[i] - o[i]) / o[i],
        (h[i] - l[i]) / o[i],
        (c[i] - o[i]) / range,
        (h[i] - std::max(o[i], c[i])) / o[i],
        (h[i] - std::max(o[i], c[i])) / range,
        (std::min(o[i], c[i]) - l[i]) / o[i],
        (std::min(o[i], c[i]) - l[i]) / range,
        (2 * c[i] - h[i] - l[i]) / o[i],
        (2 * c[i] - h[i] - l[i]) / range,
        o[i] / c[i],
        h[i] / c[i],
        l[i] / c[i],
        day_vwap / c[i]};
    for (std::size_t k = 0; k < kFixed; ++k) out.put(k, i, values_fixed[k]);
  }

  const Series close(c), high(h), low(l), volume(v);
  const Series log_volume([&] {
    std::vector<double> x(n);
    for (std::size_t i = 0; i < n; ++i) x[i] = std::log(v[i] + 1);
    return x;
  }());
  const Series dc(change(c, [](double now, double then) { return now - then; }));
  const Series ratio(change(c, [](double now, double then) { return now / then; }));
  const Series volume_ratio(change(v, [](double now, double then) { return std::log(now / then + 1); }));
  const Series dv(change(v, [](double now, double then) { return now - then; }));
  const Series wv([&] {
    std::vector<double> x(n, kNaN);
    for (std::size_t i = 1; i < n; ++i) x[i] = std::abs(c[i] / c[i - 1] - 1) * v[i];
    return x;
  }());

  std::vector<double> sorted;
  for (std::size_t wi = 0; wi < kWindows.size(); ++wi) {
    const std::size_t w = kWindows[wi];
    if (n < w) continue;
    const double wd = static_cast<double>(w);

    if (out.wants(index_of(kRoc, wi))) {
      for (std::size_t i = w; i < n; ++i) out.put(kRoc, wi, i, c[i - w] / c[i]);
    }

    // Mean, deviation and the least-squares line through (1, y_1) ... (w, y_w).
    if (out.wants_any({kMa, kStd, kBeta, kRsqr, kResi}, wi)) {
      const double xbar = (wd + 1) / 2, sxx = wd * (wd * wd - 1) / 12;
      for (std::size_t i = w - 1; i < n; ++i) {
        const std::size_t first = i + 1 - w;
        if (!close.finite(first, i)) continue;
        const auto [mean, syy] = moments(close, first, w);
        double sxy = 0;
        if (syy > 0) {
          const double* y = close.at(first);
          for (std::size_t k = 0; k < w; ++k) sxy += (static_cast<double>(k + 1) - xbar) * (y[k] - mean);
        }
        const double slope = sxy / sxx;
        out.put(kMa, wi, i, mean / c[i]);
        out.put(kStd, wi, i, std::sqrt(syy / (wd - 1)) / c[i]);
        out.put(kBeta, wi, i, slope / c[i]);
        out.put(kRsqr, wi, i, syy > 0 ? sxy * sxy / (sxx * syy) : kNaN);
        out.put(kResi, wi, i, (c[i] - (mean + slope * (wd - xbar))) / c[i]);
      }
    }

    // Highest high and lowest low, and where in the window they first occur (1 = oldest row).
    if (out.wants_any({kMax, kMin, kRsv, kImax, kImin, kImxd}, wi)) {
      for (std::size_t i = w - 1; i < n; ++i) {
        const std::size_t first = i + 1 - w;
        const bool hi_ok = high.finite(first, i), lo_ok = low.finite(first, i);
        std::size_t imax = 0, imin = 0;
        if (hi_ok) {
          for (std::size_t k = 1; k < w; ++k) imax = h[first + k] > h[first + imax] ? k : imax;
        }
        if (lo_ok) {
          for (std::size_t k = 1; k < w; ++k) imin = l[first + k] < l[first + imin] ? k : imin;
        }
        const double hi = hi_ok ? h[first + imax] : kNaN, lo = lo_ok ? l[first + imin] : kNaN;
        const double pos_max = hi_ok ? static_cast<double>(imax + 1) : kNaN;
        const double pos_min = lo_ok ? static_cast<double>(imin + 1) : kNaN;
        out.put(kMax, wi, i, hi / c[i]);
        out.put(kMin, wi, i, lo / c[i]);
        out.put(kRsv, wi, i, (c[i] - lo) / (hi - lo + kEps));
        out.put(kImax, wi, i, pos_max / wd);
        out.put(kImin, wi, i, pos_min / wd);
        out.put(kImxd, wi, i, (pos_max - pos_min) / wd);
      }
    }

    // Quantiles (linear interpolation) and today's percentile rank (ties averaged) in a sorted
    // copy of the window, kept sorted as it slides.
    if (out.wants_any({kQtlu, kQtld, kRank}, wi)) {
      sorted.clear();
      const auto key = [](double x) { return std::isfinite(x) ? x : std::numeric_limits<double>::infinity(); };
      const auto quantile = [&](double q) {
        const double pos = q * (wd - 1);
        const auto lo = static_cast<std::size_t>(std::floor(pos));
        return sorted[lo] + (sorted[lo + 1] - sorted[lo]) * (pos - static_cast<double>(lo));
      };
      for (std::size_t i = 0; i < n; ++i) {
        if (i >= w) sorted.erase(std::lower_bound(sorted.begin(), sorted.end(), key(c[i - w])));
        sorted.insert(std::upper_bound(sorted.begin(), sorted.end(), key(c[i])), key(c[i]));
        if (i + 1 < w || !close.finite(i + 1 - w, i)) continue;
        out.put(kQtlu, wi, i, quantile(0.8) / c[i]);
        out.put(kQtld, wi, i, quantile(0.2) / c[i]);
        const auto below = std::lower_bound(sorted.begin(), sorted.end(), c[i]) - sorted.begin();
        const auto through = std::upper_bound(sorted.begin(), sorted.end(), c[i]) - sorted.begin();
        out.put(kRank, wi, i, static_cast<double>(below + through + 1) / (2 * wd));
      }
    }

    if (out.wants(index_of(kCorr, wi)) || out.wants(index_of(kCord, wi))) {
      for (std::size_t i = w - 1; i < n; ++i) {
        out.put(kCorr, wi, i, correlation(close, log_volume, i + 1 - w, w));
        out.put(kCord, wi, i, correlation(ratio, volume_ratio, i + 1 - w, w));
      }
    }

    if (out.wants_any({kCntp, kCntn, kCntd, kSump, kSumn, kSumd}, wi)) {
      for (std::size_t i = w; i < n; ++i) {
        if (!dc.finite(i + 1 - w, i)) continue;
        const auto s = change_sums(dc, i + 1 - w, w);
        out.put(kCntp, wi, i, static_cast<double>(s.n_up) / wd);
        out.put(kCntn, wi, i, static_cast<double>(s.n_down) / wd);
        out.put(kCntd, wi, i, static_cast<double>(s.n_up) / wd - static_cast<double>(s.n_down) / wd);
        out.put(kSump, wi, i, s.up / (s.abs + kEps));
        out.put(kSumn, wi, i, s.down / (s.abs + kEps));
        out.put(kSumd, wi, i, (s.up - s.down) / (s.abs + kEps));
      }
    }

    if (out.wants_any({kVma, kVstd}, wi)) {
      for (std::size_t i = w - 1; i < n; ++i) {
        if (!volume.finite(i + 1 - w, i)) continue;
        const auto [mean, ss] = moments(volume, i + 1 - w, w);
        out.put(kVma, wi, i, mean / (v[i] + kEps));
        out.put(kVstd, wi, i, std::sqrt(ss / (wd - 1)) / (v[i] + kEps));
      }
    }

    if (out.wants(index_of(kWvma, wi))) {
      for (std::size_t i = w; i < n; ++i) {
        if (!wv.finite(i + 1 - w, i)) continue;
        const auto [mean, ss] = moments(wv, i + 1 - w, w);
        out.put(kWvma, wi, i, std::sqrt(ss / (wd - 1)) / (mean + kEps));
      }
    }

    if (out.wants_any({kVsump, kVsumn, kVsumd}, wi)) {
      for (std::size_t i = w; i < n; ++i) {
        if (!dv.finite(i + 1 - w, i)) continue;
        const auto s = change_sums(dv, i + 1 - w, w);
        out.put(kVsump, wi, i, s.up / (s.abs + kEps));
        out.put(kVsumn, wi, i, s.down / (s.abs + kEps));
        out.put(kVsumd, wi, i, (s.up - s.down) / (s.abs + kEps));
      }
    }
  }
}

}  // namespace klab::alpha158
