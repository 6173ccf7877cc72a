#include "data/scaler.h"

#include <algorithm>
#include <cmath>

#include "klab/error.h"

namespace klab {

namespace {

// numpy's default (linear) quantile of sorted values.
double quantile(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return 0;
  const double pos = q * static_cast<double>(sorted.size() - 1);
  const auto lo = static_cast<std::size_t>(std::floor(pos));
  const auto hi = std::min(lo + 1, sorted.size() - 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - static_cast<double>(lo));
}

}  // namespace

std::pair<double, double> fit_scaler(std::vector<double>& values, const std::string& kind) {
  if (kind == "none" || values.empty()) return {0.0, 1.0};
  if (kind == "robust") {
    std::sort(values.begin(), values.end());
    const double iqr = quantile(values, 0.75) - quantile(values, 0.25);
    return {quantile(values, 0.5), iqr > 0 ? iqr : 1.0};
  }
  double mean = 0;
  for (double v : values) mean += v;
  mean /= static_cast<double>(values.size());
  double ss = 0;
  for (double v : values) ss += (v - mean) * (v - mean);
  const double sd = std::sqrt(ss / static_cast<double>(values.size()));  // population (ddof 0)
  return {mean, sd > 0 ? sd : 1.0};
}

std::size_t Scaler::scale_row(const double* in, float* out) const {
  std::size_t filled = 0;
  for (std::size_t j = 0; j < center.size(); ++j) {
    out[j] = static_cast<float>((in[j] - center[j]) / scale[j]);
    if (fill_nan && !std::isfinite(out[j])) {
      out[j] = 0.0f;
      ++filled;
    }
  }
  return filled;
}

std::size_t Scaler::scale_window(const double* rows, std::size_t seq, float* out) const {
  const std::size_t F = center.size();
  std::size_t filled = 0;
  if (!window_relative()) {
    for (std::size_t r = 0; r < seq; ++r) filled += scale_row(rows + r * F, out + r * F);
    return filled;
  }
  const double* last = rows + (seq - 1) * F;
  std::vector<double> row(F);
  for (std::size_t r = 0; r < seq; ++r) {
    for (std::size_t j = 0; j < F; ++j) {
      const int d = window_divisor[j];
      row[j] = d < 0 ? rows[r * F + j] : rows[r * F + j] / (last[d] + window_epsilon[j]);
    }
    filled += scale_row(row.data(), out + r * F);
  }
  return filled;
}

nlohmann::json Scaler::to_json(const std::vector<std::string>& feature_names) const {
  nlohmann::json j = {{"kind", kind},
                      {"feature_names", feature_names},
                      {"center", center},
                      {"scale", scale},
                      {"target_center", target_center},
                      {"target_scale", target_scale}};
  if (fill_nan) j["fill_nan"] = true;
  if (window_relative()) {
    j["window_divisor"] = window_divisor;
    j["window_epsilon"] = window_epsilon;
  }
  return j;
}

Scaler Scaler::from_json(const nlohmann::json& j) {
  try {
    Scaler s;
    s.kind = j.at("kind").get<std::string>();
    s.center = j.at("center").get<std::vector<double>>();
    s.scale = j.at("scale").get<std::vector<double>>();
    s.target_center = j.at("target_center").get<double>();
    s.target_scale = j.at("target_scale").get<double>();
    s.fill_nan = j.value("fill_nan", false);
    if (j.contains("window_divisor")) {
      s.window_divisor = j.at("window_divisor").get<std::vector<int>>();
      s.window_epsilon = j.at("window_epsilon").get<std::vector<double>>();
      if (s.window_divisor.size() != s.center.size() || s.window_epsilon.size() != s.center.size()) {
        throw DataError("scaler: window_divisor and window_epsilon must have one entry per feature");
      }
      for (int d : s.window_divisor) {
        if (d < -1 || d >= static_cast<int>(s.center.size())) throw DataError("scaler: window_divisor out of range");
      }
    }
    if (s.center.size() != s.scale.size()) throw DataError("scaler: center and scale differ in length");
    // JSON has no infinity: a non-finite value was written as null and fails the get above;
    // a zero scale would divide by zero.
    for (double v : s.scale) {
      if (!(v > 0)) throw DataError("scaler: a scale of " + std::to_string(v) + " is not positive");
    }
    if (!(s.target_scale > 0)) throw DataError("scaler: target_scale is not positive");
    return s;
  } catch (const nlohmann::json::exception& e) {
    throw DataError(std::string("scaler: malformed: ") + e.what());
  }
}

}  // namespace klab
