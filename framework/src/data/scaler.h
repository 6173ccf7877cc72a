// data/scaler.h — the per-feature affine scaling a run fits on its training rows and saves as
// scaler.json; training windows and PredictionEngine scale every row through scale_row.
#pragma once

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace klab {

// Per-feature affine scaling x' = (x - center) / scale, fitted on training rows.
struct Scaler {
  std::string kind = "zscore";
  std::vector<double> center, scale;
  double target_center = 0, target_scale = 1;  // the target (close or return), same kind
  bool fill_nan = false;  // a non-finite feature becomes 0 (the center) instead of NaN
  // Window-relative features (data/features.h, Alpha360): column j is divided by the value of
  // column window_divisor[j] on the window's last row plus window_epsilon[j] before scaling
  // (-1: not divided). Empty: every feature is scaled row by row.
  std::vector<int> window_divisor;
  std::vector<double> window_epsilon;
  bool window_relative() const { return !window_divisor.empty(); }
  // One row of features, scaled as the model sees it. Returns how many values were filled.
  std::size_t scale_row(const double* in, float* out) const;
  // `seq` consecutive rows of unscaled features (row-major) into the model's [seq x F] window:
  // divided by their window divisors, then scaled row by row — training windows and
  // predictions both. Returns how many values were filled.
  std::size_t scale_window(const double* rows, std::size_t seq, float* out) const;
  double scale_target(double y) const { return (y - target_center) / target_scale; }
  double unscale_target(double y) const { return y * target_scale + target_center; }
  // The price a target value stands for: the close itself, or last_close * (1 + return).
  static double price_of_target(double y, const std::string& target_kind, double last_close) {
    return target_kind == "close" ? y : last_close * (1.0 + y);
  }
  // The price a scaled model output stands for.
  double price_from_output(double scaled, const std::string& target_kind, double last_close) const {
    return price_of_target(unscale_target(scaled), target_kind, last_close);
  }
  nlohmann::json to_json(const std::vector<std::string>& feature_names) const;
  static Scaler from_json(const nlohmann::json& j);  // throws DataError on a malformed file
};

// (center, scale) of `values` for a scaler kind (zscore: mean and population std; robust:
// median and interquartile range; none: 0 and 1); a zero spread scales by 1. Sorts `values`.
std::pair<double, double> fit_scaler(std::vector<double>& values, const std::string& kind);

}  // namespace klab
