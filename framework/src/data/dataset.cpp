#include "data/dataset.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <exception>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "data/features.h"
#include "data/windows.h"
#include "klab/error.h"
#include "klab/symbols.h"

namespace klab {

namespace {

struct RawSeries {
  std::string symbol;
  std::vector<std::string> dates;
  std::vector<double> features;  // unscaled, rows x F
  std::vector<double> close, target, norm_target;
  std::vector<WindowRef> windows;  // candidates, series index filled later
};

}  // namespace

Dataset Dataset::build(DataSource& source, const DatasetSpec& spec) {
  if (spec.symbols.empty()) throw ConfigError("data.symbol: no symbol given");
  if (spec.seq_length < 1) throw ConfigError("train.seq_length must be >= 1");
  if (spec.horizon < 1) throw ConfigError("target.horizon must be >= 1");
  if (spec.target_kind != "close" && spec.target_kind != "return" && spec.target_kind != "next_return") {
    throw ConfigError("target.kind: expected close, return or next_return, got \"" + spec.target_kind + "\"");
  }
  if (spec.target_normalize != "none" && spec.target_normalize != "cs_rank" && spec.target_normalize != "cs_zscore") {
    throw ConfigError("target.normalize: expected none, cs_rank or cs_zscore, got \"" + spec.target_normalize + "\"");
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
  const std::size_t seq = spec.seq_length, h = spec.target_offset();

  std::vector<RawSeries> raw;
  std::vector<RankedSeries> ranked;  // every loaded stock, short ones too: they compete for membership
  std::set<std::string> seen;
  // One symbol's adjusted bars -> its feature rows, targets and candidate windows. Symbols are
  // independent: loaded in order (a data source is used from one thread), computed in parallel
  // on spec.threads, kept in the order of spec.symbols — the result does not depend on threads.
  auto make_series = [&](const std::string& symbol, const std::vector<Bar>& adjusted, std::size_t& gap_windows) {
    auto frame = compute_features(adjusted, spec.features);
    // Warm-up rows (a feature's look-back incomplete) are dropped explicitly.
    RawSeries s;
    s.symbol = symbol;
    const std::size_t rows = frame.rows() - warmup;
    s.dates.assign(frame.dates.begin() + static_cast<long>(warmup), frame.dates.end());
    s.features.assign(frame.values.begin() + static_cast<long>(warmup * F), frame.values.end());
    for (std::size_t i = warmup; i < adjusted.size(); ++i) s.close.push_back(adjusted[i].close);
    s.target.resize(rows);
    for (std::size_t i = 0; i < rows; ++i) s.target[i] = target_of_row(s.close, i, spec.target_kind, spec.horizon);
    // The same rules as prediction (data/windows.h), here through the target row.
    const WindowRules rules(s.dates, s.features.data(), F, spec.max_gap_days, spec.fill_nan);
    for (std::size_t end = seq - 1; end + h < rows; ++end) {
      const auto verdict = rules.check(end, seq, end + h);
      if (verdict == WindowRules::Verdict::kNonFinite || !std::isfinite(s.target[end])) continue;
      if (verdict == WindowRules::Verdict::kGap) {
        ++gap_windows;
        continue;
      }
      s.windows.push_back({0, static_cast<std::uint32_t>(end)});
    }
    return s;
  };
  struct Pending {
    std::string symbol;
    std::vector<Bar> adjusted;
  };
  std::vector<Pending> pending;
  const std::size_t threads = std::max<std::size_t>(1, spec.threads);
  auto flush = [&] {
    const std::size_t first = raw.size();
    raw.resize(first + pending.size());
    std::vector<std::size_t> gaps(pending.size(), 0);
    std::atomic<std::size_t> next{0};
    std::exception_ptr failure;
    std::mutex failure_mutex;
    auto work = [&] {
      for (std::size_t k = next++; k < pending.size(); k = next++) {
        try {
          raw[first + k] = make_series(pending[k].symbol, pending[k].adjusted, gaps[k]);
        } catch (...) {
          std::lock_guard<std::mutex> lock(failure_mutex);
          if (!failure) failure = std::current_exception();
        }
      }
    };
    std::vector<std::thread> pool;
    for (std::size_t t = 1; t < std::min(threads, pending.size()); ++t) pool.emplace_back(work);
    work();
    for (auto& thread : pool) thread.join();
    if (failure) std::rethrow_exception(failure);
    for (std::size_t g : gaps) ds.skipped_gap_windows_ += g;
    pending.clear();
  };
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
    ds.dropped_warmup_ += warmup;
    pending.push_back({symbol, adjust_bars(bars, spec.adjustment)});
    if (pending.size() >= 16 * threads) flush();
  }
  flush();
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
  if (spec.target_normalize != "none") {
    // Per date (the windows' last input day), over the windows kept: every stock of that day's
    // cross-section, whichever split its target falls in. A label left undefined (cs_zscore of a
    // lone stock) takes its window out.
    std::map<std::string, std::vector<std::pair<std::size_t, std::size_t>>> by_date;  // date -> (series, window)
    for (std::size_t si = 0; si < raw.size(); ++si) {
      raw[si].norm_target.assign(raw[si].dates.size(), std::nan(""));
      for (std::size_t k = 0; k < raw[si].windows.size(); ++k) by_date[raw[si].dates[raw[si].windows[k].end_row]].push_back({si, k});
    }
    std::vector<double> labels;
    for (const auto& [date, members] : by_date) {
      labels.clear();
      for (const auto& [si, k] : members) labels.push_back(raw[si].target[raw[si].windows[k].end_row]);
      normalize_cross_section(labels, spec.target_normalize);
      for (std::size_t m = 0; m < members.size(); ++m) {
        auto& s = raw[members[m].first];
        s.norm_target[s.windows[members[m].second].end_row] = labels[m];
      }
    }
    for (auto& s : raw) {
      const std::size_t before = s.windows.size();
      s.windows.erase(std::remove_if(s.windows.begin(), s.windows.end(),
                                     [&](const WindowRef& w) { return !std::isfinite(s.norm_target[w.end_row]); }),
                      s.windows.end());
      ds.undefined_label_windows_ += before - s.windows.size();
    }
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

  std::vector<double> train_targets;
  std::vector<std::vector<std::uint32_t>> train_rows(raw.size());  // the rows the scaler is fitted on
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
    // Training rows: every finite row dated before the validation period (with fill_nan, every
    // finite value of those rows).
    for (std::size_t i = 0; i < s.dates.size() && s.dates[i] < ds.val_start_; ++i) {
      bool finite = true;
      for (std::size_t j = 0; j < F; ++j) finite = finite && std::isfinite(s.features[i * F + j]);
      if (!finite && !spec.fill_nan) continue;
      train_rows[si].push_back(static_cast<std::uint32_t>(i));
    }
  }
  if (ds.train_.empty() || ds.test_.empty()) {
    throw DataError("data.split: the " + std::string(ds.train_.empty() ? "train" : "test") +
                    " split has no windows (val from " + ds.val_start_ + ", test from " +
                    ds.test_start_ + ")");
  }

  ds.scaler_.kind = spec.scaler;
  ds.scaler_.fill_nan = spec.fill_nan;
  for (const auto& d : window_divisors(spec.features)) {
    ds.scaler_.window_divisor.push_back(d.column);
    ds.scaler_.window_epsilon.push_back(d.epsilon);
  }
  const bool relative = ds.scaler_.window_relative();
  // Window-relative features are fitted on what the model sees — the divided values of training
  // windows, every stride-th window so that a column holds at most 2^21 values.
  const std::size_t stride =
      relative ? std::max<std::size_t>(1, (ds.train_.size() * seq + (std::size_t{1} << 21) - 1) >> 21) : 1;
  // A scale that overflows (absurd prices such as 1e290 square to infinity) would train on NaN
  // and write null into scaler.json: refuse the data instead, naming the feature.
  auto check = [&](const std::string& what, double center, double scale) {
    if (!std::isfinite(center) || !std::isfinite(scale) || scale <= 0) {
      throw DataError("scaler: " + what + " has no finite scale on the training rows (center " + std::to_string(center) +
                      ", scale " + std::to_string(scale) + "); check the data for absurd or corrupt prices");
    }
  };
  // One feature at a time, so the copy fitted on is one column, not the whole training matrix.
  std::vector<double> column;
  for (std::size_t j = 0; j < F; ++j) {
    column.clear();
    const int divisor = relative ? ds.scaler_.window_divisor[j] : -1;
    if (divisor >= 0) {
      for (std::size_t k = 0; k < ds.train_.size(); k += stride) {
        const WindowRef& w = ds.train_[k];
        const auto& x = raw[w.series].features;
        const double by = x[w.end_row * F + static_cast<std::size_t>(divisor)] + ds.scaler_.window_epsilon[j];
        for (std::size_t i = w.end_row + 1 - seq; i <= w.end_row; ++i) {
          const double v = x[i * F + j] / by;
          if (std::isfinite(v)) column.push_back(v);
        }
      }
    } else {
      for (std::size_t si = 0; si < raw.size(); ++si) {
        for (std::uint32_t i : train_rows[si]) {
          const double v = raw[si].features[i * F + j];
          if (std::isfinite(v)) column.push_back(v);
        }
      }
    }
    auto [center, scale] = fit_scaler(column, spec.scaler);
    check("feature " + spec.features[j], center, scale);
    ds.scaler_.center.push_back(center);
    ds.scaler_.scale.push_back(scale);
  }
  if (spec.target_normalize == "none") {
    std::tie(ds.scaler_.target_center, ds.scaler_.target_scale) = fit_scaler(train_targets, spec.scaler);
    check("the target (" + spec.target_kind + ")", ds.scaler_.target_center, ds.scaler_.target_scale);
  }  // else the label is normalised per date already: the target scaler stays (0, 1)

  for (auto& s : raw) {
    SymbolSeries out;
    out.symbol = s.symbol;
    out.dates = std::move(s.dates);
    out.close = std::move(s.close);
    out.target = std::move(s.target);
    out.norm_target = std::move(s.norm_target);
    const std::size_t rows = out.dates.size();
    if (relative) {
      // Kept unscaled: each window is divided by its own last row when it is cut (fill_window).
      for (std::size_t i = 0; i < rows; ++i) {
        std::size_t bad = 0;
        for (std::size_t j = 0; j < F; ++j) bad += std::isfinite(s.features[i * F + j]) ? 0 : 1;
        if (spec.fill_nan) {
          ds.filled_nan_values_ += bad;
          ds.filled_nan_rows_ += bad > 0 ? 1 : 0;
        }
      }
      out.raw_features = std::move(s.features);
      ds.series_.push_back(std::move(out));
      continue;
    }
    out.features.resize(s.features.size());
    for (std::size_t i = 0; i < rows; ++i) {
      const std::size_t filled = ds.scaler_.scale_row(&s.features[i * F], &out.features[i * F]);
      ds.filled_nan_values_ += filled;
      ds.filled_nan_rows_ += filled > 0 ? 1 : 0;
    }
    std::vector<double>().swap(s.features);  // the unscaled copy is not needed any more
    ds.series_.push_back(std::move(out));
  }
  return ds;
}

void Dataset::fill_window(const WindowRef& w, float* out) const {
  const auto& s = series_[w.series];
  const std::size_t F = n_features();
  const std::size_t first = w.end_row + 1 - spec_.seq_length;
  if (scaler_.window_relative()) {
    scaler_.scale_window(&s.raw_features[first * F], spec_.seq_length, out);
    return;
  }
  std::copy(s.features.begin() + static_cast<long>(first * F),
            s.features.begin() + static_cast<long>((w.end_row + 1) * F), out);
}

double Dataset::raw_target(const WindowRef& w) const { return series_[w.series].target[w.end_row]; }
double Dataset::scaled_target(const WindowRef& w) const {
  const auto& s = series_[w.series];
  return s.norm_target.empty() ? scaler_.scale_target(raw_target(w)) : s.norm_target[w.end_row];
}
const std::string& Dataset::target_date(const WindowRef& w) const {
  return series_[w.series].dates[w.end_row + spec_.target_offset()];
}
double Dataset::target_close(const WindowRef& w) const {
  return series_[w.series].close[w.end_row + spec_.target_offset()];
}
double Dataset::last_close(const WindowRef& w) const { return series_[w.series].close[w.end_row]; }

std::size_t Dataset::memory_bytes() const {
  std::size_t bytes = (train_.size() + val_.size() + test_.size()) * sizeof(WindowRef);
  for (const auto& s : series_) {
    bytes += s.features.size() * sizeof(float) +
             (s.raw_features.size() + s.close.size() + s.target.size() + s.norm_target.size()) * sizeof(double);
    for (const auto& d : s.dates) bytes += sizeof(std::string) + d.capacity();
  }
  return bytes;
}

}  // namespace klab
