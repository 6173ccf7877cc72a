#include "data/dataset.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <set>

#include "data/features.h"
#include "data/windows.h"
#include "klab/error.h"
#include "klab/symbols.h"

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

// (center, scale) of `values` for a scaler kind; a zero spread scales by 1.
std::pair<double, double> fit_one(std::vector<double>& values, const std::string& kind) {
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

struct RawSeries {
  std::string symbol;
  std::vector<std::string> dates;
  std::vector<double> features;  // unscaled, rows x F
  std::vector<double> close, target;
  std::vector<WindowRef> windows;  // candidates, series index filled later
};

}  // namespace

void Scaler::scale_row(const double* in, float* out) const {
  for (std::size_t j = 0; j < center.size(); ++j) out[j] = static_cast<float>((in[j] - center[j]) / scale[j]);
}

nlohmann::json Scaler::to_json(const std::vector<std::string>& feature_names) const {
  return {{"kind", kind},
          {"feature_names", feature_names},
          {"center", center},
          {"scale", scale},
          {"target_center", target_center},
          {"target_scale", target_scale}};
}

Scaler Scaler::from_json(const nlohmann::json& j) {
  try {
    Scaler s;
    s.kind = j.at("kind").get<std::string>();
    s.center = j.at("center").get<std::vector<double>>();
    s.scale = j.at("scale").get<std::vector<double>>();
    s.target_center = j.at("target_center").get<double>();
    s.target_scale = j.at("target_scale").get<double>();
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

Dataset Dataset::build(DataSource& source, const DatasetSpec& spec) {
  if (spec.symbols.empty()) throw ConfigError("data.symbol: no symbol given");
  if (spec.seq_length < 1) throw ConfigError("train.seq_length must be >= 1");
  if (spec.horizon < 1) throw ConfigError("target.horizon must be >= 1");
  if (spec.target_kind != "close" && spec.target_kind != "return") {
    throw ConfigError("target.kind: expected close or return, got \"" + spec.target_kind + "\"");
  }
  if (spec.scaler != "zscore" && spec.scaler != "robust" && spec.scaler != "none") {
    throw ConfigError("data.scaler: expected zscore, robust or none, got \"" + spec.scaler + "\"");
  }
  const bool by_date = !spec.split.val_start.empty() || !spec.split.test_start.empty();
  if (by_date && (spec.split.val_start.empty() || spec.split.test_start.empty() ||
                  spec.split.val_start >= spec.split.test_start)) {
    throw ConfigError("data.split: by date needs val_start < test_start");
  }
  if (!by_date) {
    const auto& s = spec.split;
    if (s.train <= 0 || s.val < 0 || s.test <= 0 || std::abs(s.train + s.val + s.test - 1.0) > 1e-9) {
      throw ConfigError("data.split: train, val and test must be positive and sum to 1");
    }
  }
  validate_feature_names(spec.features);

  Dataset ds;
  ds.spec_ = spec;
  const std::size_t F = spec.features.size();
  const std::size_t warmup = warmup_rows(spec.features);
  const std::size_t seq = spec.seq_length, h = spec.horizon;

  std::vector<RawSeries> raw;
  std::vector<RankedSeries> ranked;  // every loaded stock, short ones too: they compete for membership
  std::set<std::string> seen;
  for (const auto& requested : spec.symbols) {
    const std::string symbol = symbol_or_verbatim(requested);
    if (!seen.insert(symbol).second) continue;
    auto bars = source.load_bars(symbol, spec.start_date, spec.end_date);
    if (spec.universe.active() && !bars.empty()) {
      RankedSeries r;
      r.symbol = symbol;
      for (const auto& b : bars) r.dates.push_back(b.trade_date);
      r.values = ranking_values(bars, spec.universe.by);
      ranked.push_back(std::move(r));
    }
    // Too little data: an error for a one-symbol run, a skipped symbol for a run over several.
    auto too_little = [&](const std::string& reason) {
      if (!spec.skip_short_symbols) throw DataError("symbol " + requested + ": " + reason);
      ds.skipped_symbols_.push_back({symbol, reason});
    };
    if (bars.empty()) {
      too_little("no bars in " + source.display_name() +
                 (spec.start_date.empty() && spec.end_date.empty()
                      ? std::string()
                      : " between " + (spec.start_date.empty() ? "the start" : spec.start_date) + " and " +
                            (spec.end_date.empty() ? "the end" : spec.end_date)));
      continue;
    }
    if (bars.size() < warmup + seq + h) {
      too_little(std::to_string(bars.size()) + " bars, but a window needs " + std::to_string(warmup + seq + h) + " (" +
                 std::to_string(warmup) + " warm-up + " + std::to_string(seq) + " seq_length + " +
                 std::to_string(h) + " horizon)");
      continue;
    }
    ds.raw_rows_ += bars.size();
    const auto adjusted = adjust_bars(bars, spec.adjustment);
    auto frame = compute_features(adjusted, spec.features);
    // Warm-up rows (a feature's look-back incomplete) are dropped explicitly.
    RawSeries s;
    s.symbol = symbol;
    const std::size_t rows = frame.rows() - warmup;
    ds.dropped_warmup_ += warmup;
    s.dates.assign(frame.dates.begin() + static_cast<long>(warmup), frame.dates.end());
    s.features.assign(frame.values.begin() + static_cast<long>(warmup * F), frame.values.end());
    for (std::size_t i = warmup; i < adjusted.size(); ++i) s.close.push_back(adjusted[i].close);
    s.target.assign(rows, std::nan(""));
    for (std::size_t i = 0; i + h < rows; ++i) {
      s.target[i] = spec.target_kind == "close" ? s.close[i + h] : s.close[i + h] / s.close[i] - 1.0;
    }
    // The same rules as prediction (data/windows.h), here through the target row.
    const WindowRules rules(s.dates, s.features.data(), F, spec.max_gap_days);
    for (std::size_t end = seq - 1; end + h < rows; ++end) {
      const auto verdict = rules.check(end, seq, end + h);
      if (verdict == WindowRules::Verdict::kNonFinite || !std::isfinite(s.target[end])) continue;
      if (verdict == WindowRules::Verdict::kGap) {
        ++ds.skipped_gap_windows_;
        continue;
      }
      s.windows.push_back({0, static_cast<std::uint32_t>(end)});
    }
    raw.push_back(std::move(s));
  }
  if (spec.universe.active()) {
    // Point in time: a window counts only while its stock is a member (data/universe.h).
    auto universe = std::make_shared<Universe>(Universe::select(spec.universe, ranked));
    for (auto& s : raw) {
      const std::size_t before = s.windows.size();
      s.windows.erase(std::remove_if(s.windows.begin(), s.windows.end(),
                                     [&](const WindowRef& w) { return !universe->contains(s.symbol, s.dates[w.end_row]); }),
                      s.windows.end());
      ds.outside_universe_windows_ += before - s.windows.size();
    }
    if (universe->rebalance_dates().empty()) {
      throw DataError("data.universe: no rebalance date in the data (a " + spec.universe.rebalance +
                      " rebalance needs a complete period)");
    }
    ds.universe_ = std::move(universe);
  }
  if (raw.empty()) {
    const auto& first = ds.skipped_symbols_.front();
    throw DataError("data.symbols: none of the " + std::to_string(ds.skipped_symbols_.size()) +
                    " symbol(s) has enough data for one window (e.g. symbol " + first.symbol + ": " + first.reason + ")");
  }

  // Chronological split on the target dates.
  if (by_date) {
    ds.val_start_ = spec.split.val_start;
    ds.test_start_ = spec.split.test_start;
  } else {
    std::vector<std::string> dates;
    for (const auto& s : raw) {
      for (const auto& w : s.windows) dates.push_back(s.dates[w.end_row + h]);
    }
    std::sort(dates.begin(), dates.end());
    dates.erase(std::unique(dates.begin(), dates.end()), dates.end());
    const auto n = dates.size();
    const auto n_train = static_cast<std::size_t>(std::floor(n * spec.split.train));
    const auto n_val = static_cast<std::size_t>(std::floor(n * spec.split.val));
    if (n_train == 0 || n_train + n_val >= n) {
      throw DataError("data.split: " + std::to_string(n) + " target dates are too few to split " +
                      "into train, val and test; load more history or shorten seq_length");
    }
    ds.val_start_ = dates[n_train];
    ds.test_start_ = dates[n_train + n_val];
  }

  std::vector<std::vector<double>> train_values(F);
  std::vector<double> train_targets;
  for (std::uint32_t si = 0; si < raw.size(); ++si) {
    auto& s = raw[si];
    for (auto w : s.windows) {
      w.series = si;
      const std::string& date = s.dates[w.end_row + h];
      if (date < ds.val_start_) {
        ds.train_.push_back(w);
        train_targets.push_back(s.target[w.end_row]);
      } else if (date < ds.test_start_) {
        ds.val_.push_back(w);
      } else {
        ds.test_.push_back(w);
      }
    }
    // Training rows: every finite row dated before the validation period.
    for (std::size_t i = 0; i < s.dates.size() && s.dates[i] < ds.val_start_; ++i) {
      bool finite = true;
      for (std::size_t j = 0; j < F; ++j) finite = finite && std::isfinite(s.features[i * F + j]);
      if (!finite) continue;
      for (std::size_t j = 0; j < F; ++j) train_values[j].push_back(s.features[i * F + j]);
    }
  }
  if (ds.train_.empty() || ds.test_.empty()) {
    throw DataError("data.split: the " + std::string(ds.train_.empty() ? "train" : "test") +
                    " split has no windows (val from " + ds.val_start_ + ", test from " +
                    ds.test_start_ + ")");
  }

  ds.scaler_.kind = spec.scaler;
  // A scale that overflows (absurd prices such as 1e290 square to infinity) would train on NaN
  // and write null into scaler.json: refuse the data instead, naming the feature.
  auto check = [&](const std::string& what, double center, double scale) {
    if (!std::isfinite(center) || !std::isfinite(scale) || scale <= 0) {
      throw DataError("scaler: " + what + " has no finite scale on the training rows (center " + std::to_string(center) +
                      ", scale " + std::to_string(scale) + "); check the data for absurd or corrupt prices");
    }
  };
  for (std::size_t j = 0; j < F; ++j) {
    auto [center, scale] = fit_one(train_values[j], spec.scaler);
    check("feature " + spec.features[j], center, scale);
    ds.scaler_.center.push_back(center);
    ds.scaler_.scale.push_back(scale);
  }
  std::tie(ds.scaler_.target_center, ds.scaler_.target_scale) = fit_one(train_targets, spec.scaler);
  check("the target (" + spec.target_kind + ")", ds.scaler_.target_center, ds.scaler_.target_scale);

  for (auto& s : raw) {
    SymbolSeries out;
    out.symbol = s.symbol;
    out.dates = std::move(s.dates);
    out.close = std::move(s.close);
    out.target = std::move(s.target);
    out.features.resize(s.features.size());
    const std::size_t rows = out.dates.size();
    for (std::size_t i = 0; i < rows; ++i) ds.scaler_.scale_row(&s.features[i * F], &out.features[i * F]);
    ds.series_.push_back(std::move(out));
  }
  return ds;
}

void Dataset::fill_window(const WindowRef& w, float* out) const {
  const auto& s = series_[w.series];
  const std::size_t F = n_features();
  const std::size_t first = w.end_row + 1 - spec_.seq_length;
  std::copy(s.features.begin() + static_cast<long>(first * F),
            s.features.begin() + static_cast<long>((w.end_row + 1) * F), out);
}

double Dataset::raw_target(const WindowRef& w) const { return series_[w.series].target[w.end_row]; }
double Dataset::scaled_target(const WindowRef& w) const { return scaler_.scale_target(raw_target(w)); }
const std::string& Dataset::target_date(const WindowRef& w) const {
  return series_[w.series].dates[w.end_row + spec_.horizon];
}
double Dataset::last_close(const WindowRef& w) const { return series_[w.series].close[w.end_row]; }

std::size_t Dataset::memory_bytes() const {
  std::size_t bytes = (train_.size() + val_.size() + test_.size()) * sizeof(WindowRef);
  for (const auto& s : series_) {
    bytes += s.features.size() * sizeof(float) + (s.close.size() + s.target.size()) * sizeof(double);
    for (const auto& d : s.dates) bytes += sizeof(std::string) + d.capacity();
  }
  return bytes;
}

}  // namespace klab
