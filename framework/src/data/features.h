// data/features.h — the feature library: technical indicators computed from one symbol's bars.
//
// The default set has 45 features, Alpha158 another 158 (data/features_alpha158.h; docs/DATA.md
// gives every formula); the names a run uses become model/config.json's feature_names. Only the
// features asked for are computed. Features are computed on adjusted bars (klab/data/adjust.h),
// one column at a time in double precision; rows before a feature's look-back is complete are
// NaN (warm-up) and are dropped by the dataset, never filled. A pandas re-implementation
// (tests/python/features_reference.py) agrees to 1e-6 relative.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "klab/data_source.h"

namespace klab {

// Row-major [rows x names.size()] matrix of one symbol's features.
struct FeatureFrame {
  std::vector<std::string> names;
  std::vector<std::string> dates;
  std::vector<double> values;  // row * names.size() + column
  std::size_t rows() const { return dates.size(); }
  std::size_t cols() const { return names.size(); }
  double at(std::size_t row, std::size_t col) const { return values[row * names.size() + col]; }
};

// Every feature klab can compute, in the default set's order.
const std::vector<std::string>& default_feature_names();

// Named sets: "default" (all 45), "ohlcv" (open, high, low, close, volume), "basic" (a dozen
// price, return and moving-average features), "alpha158" (Qlib's Alpha158,
// data/features_alpha158.h), "alpha158_20" (Qlib's benchmark selection of 20 of them) and
// "alpha360" (CLOSE, OPEN, HIGH, LOW, VWAP, VOLUME, each window divided by its last row: with
// seq_length 60, Qlib's Alpha360). Throws ConfigError for an unknown set name.
std::vector<std::string> feature_set(const std::string& name);
const std::vector<std::string>& feature_set_names();
std::string feature_set_list();  // "default, basic, ..." for messages

// Checks an explicit list: every name must be known and appear once. Throws ConfigError naming
// the first bad entry and listing the known names.
void validate_feature_names(const std::vector<std::string>& names, const std::string& key = "features");

// Features defined relative to their window (Alpha360: a price over the window's last CLOSE, a
// volume over its last VOLUME + 1e-12): for each column of `names`, the column whose value on
// the window's last row divides it, and an epsilon added to that divisor (column -1: none).
// Empty when no feature of `names` is window-relative.
struct WindowDivisor {
  int column = -1;
  double epsilon = 0;
};
std::vector<WindowDivisor> window_divisors(const std::vector<std::string>& names);

// Rows needed before every feature in `names` is defined (283 for the default set, whose
// recursive features need that long to forget where loading began; 60 for Alpha158).
std::size_t warmup_rows(const std::vector<std::string>& names);

// Computes `names` (already validated) for `bars` (one symbol, oldest first, adjusted).
FeatureFrame compute_features(const std::vector<Bar>& bars, const std::vector<std::string>& names);

}  // namespace klab
