#include "data/features.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <map>
#include <set>

#include "data/features_alpha158.h"
#include "klab/error.h"

namespace klab {

namespace {

using Column = std::vector<double>;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// --- building blocks, each with pandas' semantics (noted where it matters) ------------------

Column shift(const Column& x, std::size_t n) {
  Column out(x.size(), kNaN);
  for (std::size_t i = n; i < x.size(); ++i) out[i] = x[i - n];
  return out;
}

// x.rolling(n).mean(): NaN until n values, NaN if any value in the window is NaN.
Column rolling_mean(const Column& x, std::size_t n) {
  Column out(x.size(), kNaN);
  for (std::size_t i = n - 1; i < x.size(); ++i) {
    double sum = 0;
    for (std::size_t j = i + 1 - n; j <= i; ++j) sum += x[j];
    out[i] = sum / static_cast<double>(n);
  }
  return out;
}

// x.rolling(n).std(): sample standard deviation (ddof = 1).
Column rolling_std(const Column& x, std::size_t n) {
  Column out(x.size(), kNaN);
  for (std::size_t i = n - 1; i < x.size(); ++i) {
    double mean = 0;
    for (std::size_t j = i + 1 - n; j <= i; ++j) mean += x[j];
    mean /= static_cast<double>(n);
    double ss = 0;
    for (std::size_t j = i + 1 - n; j <= i; ++j) ss += (x[j] - mean) * (x[j] - mean);
    out[i] = std::sqrt(ss / static_cast<double>(n - 1));
  }
  return out;
}

Column rolling_extreme(const Column& x, std::size_t n, bool want_max) {
  Column out(x.size(), kNaN);
  for (std::size_t i = n - 1; i < x.size(); ++i) {
    double v = x[i + 1 - n];
    for (std::size_t j = i + 2 - n; j <= i; ++j) {
      if (std::isnan(x[j]) || std::isnan(v)) {
        v = kNaN;
      } else {
        v = want_max ? std::max(v, x[j]) : std::min(v, x[j]);
      }
    }
    out[i] = v;
  }
  return out;
}

// x.ewm(alpha=alpha, adjust=False).mean(): starts at the first non-NaN value.
Column ewm(const Column& x, double alpha) {
  Column out(x.size(), kNaN);
  bool started = false;
  double state = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    if (std::isnan(x[i])) {
      if (started) out[i] = state;
      continue;
    }
    state = started ? (1 - alpha) * state + alpha * x[i] : x[i];
    started = true;
    out[i] = state;
  }
  return out;
}

Column ema_span(const Column& x, double span) { return ewm(x, 2.0 / (span + 1.0)); }

template <typename F>
Column map2(const Column& a, const Column& b, F f) {
  Column out(a.size());
  for (std::size_t i = 0; i < a.size(); ++i) out[i] = f(a[i], b[i]);
  return out;
}

Column pct_change(const Column& x, std::size_t n) {
  return map2(x, shift(x, n), [](double now, double then) { return now / then - 1.0; });
}

// RSI with Wilder's smoothing (alpha = 1/n): 100 * avg_gain / (avg_gain + avg_loss), 50 when
// the price did not move at all over the smoothing memory.
Column rsi(const Column& close, std::size_t n) {
  Column delta = map2(close, shift(close, 1), [](double a, double b) { return a - b; });
  Column gain(delta.size()), loss(delta.size());
  for (std::size_t i = 0; i < delta.size(); ++i) {
    gain[i] = std::isnan(delta[i]) ? kNaN : std::max(delta[i], 0.0);
    loss[i] = std::isnan(delta[i]) ? kNaN : std::max(-delta[i], 0.0);
  }
  Column g = ewm(gain, 1.0 / static_cast<double>(n)), l = ewm(loss, 1.0 / static_cast<double>(n));
  return map2(g, l, [](double up, double down) {
    if (std::isnan(up) || std::isnan(down)) return kNaN;
    return up + down > 0 ? 100.0 * up / (up + down) : 50.0;
  });
}

// (x - low) / (high - low), 0.5 when the range is empty.
double position_in_range(double x, double low, double high) {
  if (std::isnan(x) || std::isnan(low) || std::isnan(high)) return kNaN;
  return high > low ? (x - low) / (high - low) : 0.5;
}

struct Definition {
  std::string name;
  std::size_t warmup;  // rows before the first defined value
};

// Rows after which an ewm(alpha) has forgotten its starting value to 1e-7: (1 - alpha)^k <= 1e-7.
// A recursive feature (EMA, MACD, RSI, KDJ) is defined from its first row, but its value there
// depends on where loading began; after this many rows it no longer does (to ~1e-7 of the
// starting gap), so the value at a row is the same for a 10-year load and a minimal one.
std::size_t ewm_memory(double alpha) {
  return static_cast<std::size_t>(std::ceil(std::log(1e-7) / std::log(1.0 - alpha)));
}

// The default set, in order. Warm-up: the rows dropped before the feature is used — until its
// look-back is complete (rolling windows), or until a recursive feature no longer depends on
// where the data began (ewm_memory); docs/DATA.md lists them.
const std::vector<Definition>& definitions() {
  const std::size_t ema12 = ewm_memory(2.0 / 13), ema26 = ewm_memory(2.0 / 27), signal = ewm_memory(2.0 / 10);
  const std::size_t rsi6 = 1 + ewm_memory(1.0 / 6), rsi14 = 1 + ewm_memory(1.0 / 14);
  const std::size_t kdj_k = 8 + ewm_memory(1.0 / 3), kdj_d = kdj_k + ewm_memory(1.0 / 3);
  static const std::vector<Definition> all = {
      {"close", 0},          {"open", 0},           {"high", 0},           {"low", 0},
      {"volume", 0},         {"ma_5", 4},           {"ma_10", 9},          {"ma_20", 19},
      {"ma_60", 59},         {"ema_12", ema12},     {"ema_26", ema26},     {"return_1", 1},
      {"return_5", 5},       {"return_10", 10},     {"return_20", 20},     {"log_return_1", 1},
      {"volatility_5", 5},   {"volatility_10", 10}, {"volatility_20", 20}, {"rsi_6", rsi6},
      {"rsi_14", rsi14},     {"macd", ema26},       {"macd_signal", ema26 + signal},
      {"macd_hist", ema26 + signal},
      {"bb_upper", 19},      {"bb_lower", 19},      {"bb_width", 19},      {"bb_position", 19},
      {"kdj_k", kdj_k},      {"kdj_d", kdj_d},      {"kdj_j", kdj_d},      {"atr_14", 13},
      {"atr_ratio_14", 13},  {"volume_ma_5", 4},    {"volume_ratio_5", 4}, {"volume_ratio_20", 19},
      {"log_amount", 0},     {"volume_change_1", 1}, {"kmid", 0},          {"klen", 0},
      {"kup", 0},            {"klow", 0},           {"ksft", 0},           {"position_20", 19},
      {"position_60", 59},
  };
  return all;
}

std::string known_list() {
  std::string list;
  for (const auto& d : definitions()) list += (list.empty() ? "" : ", ") + d.name;
  return list + "; Alpha158's " + std::to_string(alpha158::names().size()) +
         " (KMID ... VSUMD60) and Alpha360's CLOSE, OPEN, HIGH, LOW, VWAP, VOLUME (docs/DATA.md)";
}

// Alpha360's columns: the day's adjusted values, divided when a window is cut by the window's
// last close (prices) or last volume (VOLUME) — Scaler::scale_window.
const std::vector<std::string>& alpha360_columns() {
  static const std::vector<std::string> names = {"CLOSE", "OPEN", "HIGH", "LOW", "VWAP", "VOLUME"};
  return names;
}

// Where a feature name lives: the default set's index, Alpha158's or Alpha360's.
struct Location {
  enum Group { kNone, kDefault, kAlpha158, kAlpha360 } group = kNone;
  std::size_t index = 0;
};

Location locate(const std::string& name) {
  static const std::map<std::string, Location> index = [] {
    std::map<std::string, Location> m;
    for (std::size_t i = 0; i < definitions().size(); ++i) m[definitions()[i].name] = {Location::kDefault, i};
    for (std::size_t i = 0; i < alpha158::names().size(); ++i) m[alpha158::names()[i]] = {Location::kAlpha158, i};
    for (std::size_t i = 0; i < alpha360_columns().size(); ++i) m[alpha360_columns()[i]] = {Location::kAlpha360, i};
    return m;
  }();
  auto it = index.find(name);
  return it == index.end() ? Location{} : it->second;
}

}  // namespace

const std::vector<std::string>& default_feature_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    for (const auto& d : definitions()) out.push_back(d.name);
    return out;
  }();
  return names;
}

const std::vector<std::string>& feature_set_names() {
  static const std::vector<std::string> names = {"default", "basic", "ohlcv", "alpha158", "alpha158_20", "alpha360"};
  return names;
}

std::string feature_set_list() {
  std::string list;
  for (const auto& name : feature_set_names()) list += (list.empty() ? "" : ", ") + name;
  return list;
}

std::vector<std::string> feature_set(const std::string& name) {
  if (name == "default") return default_feature_names();
  if (name == "ohlcv") return {"open", "high", "low", "close", "volume"};
  if (name == "basic") {
    return {"close", "open", "high", "low", "volume", "return_1", "return_5",
            "ma_5", "ma_10", "ma_20", "volatility_20", "rsi_14"};
  }
  if (name == "alpha158") return alpha158::names();
  if (name == "alpha158_20") return alpha158::selection20();
  if (name == "alpha360") return alpha360_columns();
  throw ConfigError("features: unknown feature set \"" + name +
                    "\" (expected " + feature_set_list() + " or a list of feature names)");
}

void validate_feature_names(const std::vector<std::string>& names, const std::string& key) {
  if (names.empty()) throw ConfigError(key + ": the feature list is empty");
  std::set<std::string> seen;
  for (const auto& name : names) {
    if (locate(name).group == Location::kNone) {
      throw ConfigError(key + ": unknown feature '" + name + "' (known: " + known_list() + ")");
    }
    if (!seen.insert(name).second) throw ConfigError(key + ": feature '" + name + "' listed twice");
  }
  for (const auto& name : names) {
    if (locate(name).group == Location::kAlpha360 && name != "VOLUME" && !seen.count("CLOSE")) {
      throw ConfigError(key + ": feature '" + name + "' is divided by the window's last CLOSE: list CLOSE too");
    }
  }
}

std::vector<WindowDivisor> window_divisors(const std::vector<std::string>& names) {
  std::vector<WindowDivisor> out(names.size());
  bool any = false;
  const auto close = std::find(names.begin(), names.end(), "CLOSE") - names.begin();
  for (std::size_t j = 0; j < names.size(); ++j) {
    if (locate(names[j]).group != Location::kAlpha360) continue;
    any = true;
    out[j] = names[j] == "VOLUME" ? WindowDivisor{static_cast<int>(j), 1e-12} : WindowDivisor{static_cast<int>(close), 0.0};
  }
  return any ? out : std::vector<WindowDivisor>{};
}

std::size_t warmup_rows(const std::vector<std::string>& names) {
  std::size_t rows = 0;
  for (const auto& name : names) {
    const auto where = locate(name);
    if (where.group == Location::kDefault) rows = std::max(rows, definitions()[where.index].warmup);
    if (where.group == Location::kAlpha158) rows = std::max(rows, alpha158::warmup(where.index));
  }
  return rows;
}

namespace {

// The default set's features named in `names`, into frame.values (columns as in names).
void compute_default(const std::vector<Bar>& bars, const std::vector<std::string>& names, FeatureFrame& frame) {
  const std::size_t n = bars.size();
  Column open(n), high(n), low(n), close(n), volume(n), amount(n);
  for (std::size_t i = 0; i < n; ++i) {
    open[i] = bars[i].open;
    high[i] = bars[i].high;
    low[i] = bars[i].low;
    close[i] = bars[i].close;
    volume[i] = bars[i].volume;
    amount[i] = bars[i].amount;
  }
  std::map<std::string, Column> c;
  c["close"] = close;
  c["open"] = open;
  c["high"] = high;
  c["low"] = low;
  c["volume"] = volume;
  for (int w : {5, 10, 20, 60}) c["ma_" + std::to_string(w)] = rolling_mean(close, w);
  c["ema_12"] = ema_span(close, 12);
  c["ema_26"] = ema_span(close, 26);
  for (int h : {1, 5, 10, 20}) c["return_" + std::to_string(h)] = pct_change(close, h);
  c["log_return_1"] = map2(close, shift(close, 1), [](double a, double b) { return std::log(a / b); });
  for (int w : {5, 10, 20}) c["volatility_" + std::to_string(w)] = rolling_std(c["return_1"], w);
  c["rsi_6"] = rsi(close, 6);
  c["rsi_14"] = rsi(close, 14);
  c["macd"] = map2(c["ema_12"], c["ema_26"], std::minus<>());
  c["macd_signal"] = ema_span(c["macd"], 9);
  c["macd_hist"] = map2(c["macd"], c["macd_signal"], std::minus<>());
  Column std20 = rolling_std(close, 20);
  c["bb_upper"] = map2(c["ma_20"], std20, [](double m, double s) { return m + 2 * s; });
  c["bb_lower"] = map2(c["ma_20"], std20, [](double m, double s) { return m - 2 * s; });
  c["bb_width"] = map2(map2(c["bb_upper"], c["bb_lower"], std::minus<>()), c["ma_20"], std::divides<>());
  Column bb_position(n);
  for (std::size_t i = 0; i < n; ++i) bb_position[i] = position_in_range(close[i], c["bb_lower"][i], c["bb_upper"][i]);
  c["bb_position"] = bb_position;

  // KDJ(9, 3, 3): RSV over 9 days, K and D smoothed with alpha 1/3 from the first RSV.
  Column low9 = rolling_extreme(low, 9, false), high9 = rolling_extreme(high, 9, true), rsv(n);
  for (std::size_t i = 0; i < n; ++i) rsv[i] = 100.0 * position_in_range(close[i], low9[i], high9[i]);
  c["kdj_k"] = ewm(rsv, 1.0 / 3.0);
  c["kdj_d"] = ewm(c["kdj_k"], 1.0 / 3.0);
  c["kdj_j"] = map2(c["kdj_k"], c["kdj_d"], [](double k, double d) { return 3 * k - 2 * d; });

  // True range uses the previous adjusted close; the first row's is high - low.
  Column prev_close = shift(close, 1), tr(n);
  for (std::size_t i = 0; i < n; ++i) {
    tr[i] = high[i] - low[i];
    if (!std::isnan(prev_close[i])) {
      tr[i] = std::max({tr[i], std::abs(high[i] - prev_close[i]), std::abs(low[i] - prev_close[i])});
    }
  }
  c["atr_14"] = rolling_mean(tr, 14);
  c["atr_ratio_14"] = map2(c["atr_14"], close, std::divides<>());
  c["volume_ma_5"] = rolling_mean(volume, 5);
  c["volume_ratio_5"] = map2(volume, c["volume_ma_5"], std::divides<>());
  c["volume_ratio_20"] = map2(volume, rolling_mean(volume, 20), std::divides<>());
  c["log_amount"] = Column(n);
  for (std::size_t i = 0; i < n; ++i) c["log_amount"][i] = std::log1p(amount[i]);
  c["volume_change_1"] = pct_change(volume, 1);

  // Candlestick shape, relative to the open (Alpha158's KMID, KLEN, KUP, KLOW, KSFT).
  Column kmid(n), klen(n), kup(n), klow(n), ksft(n);
  for (std::size_t i = 0; i < n; ++i) {
    kmid[i] = (close[i] - open[i]) / open[i];
    klen[i] = (high[i] - low[i]) / open[i];
    kup[i] = (high[i] - std::max(open[i], close[i])) / open[i];
    klow[i] = (std::min(open[i], close[i]) - low[i]) / open[i];
    ksft[i] = (2 * close[i] - high[i] - low[i]) / open[i];
  }
  c["kmid"] = kmid;
  c["klen"] = klen;
  c["kup"] = kup;
  c["klow"] = klow;
  c["ksft"] = ksft;
  for (int w : {20, 60}) {
    Column lo = rolling_extreme(low, w, false), hi = rolling_extreme(high, w, true), pos(n);
    for (std::size_t i = 0; i < n; ++i) pos[i] = position_in_range(close[i], lo[i], hi[i]);
    c["position_" + std::to_string(w)] = pos;
  }

  for (std::size_t j = 0; j < names.size(); ++j) {
    auto it = c.find(names[j]);
    if (it == c.end()) continue;  // another group's feature
    for (std::size_t i = 0; i < n; ++i) frame.values[i * names.size() + j] = it->second[i];
  }
}

}  // namespace

FeatureFrame compute_features(const std::vector<Bar>& bars, const std::vector<std::string>& names) {
  const std::size_t n = bars.size(), F = names.size();
  FeatureFrame frame;
  frame.names = names;
  frame.dates.reserve(n);
  for (const auto& b : bars) frame.dates.push_back(b.trade_date);
  frame.values.assign(n * F, kNaN);
  std::vector<std::size_t> alpha_index, alpha_column;
  bool any_default = false;
  for (std::size_t j = 0; j < F; ++j) {
    const auto where = locate(names[j]);
    if (where.group == Location::kNone) throw ConfigError("features: unknown feature '" + names[j] + "'");
    if (where.group == Location::kAlpha360) {
      // The day's own value: CLOSE, OPEN, HIGH, LOW, VWAP, VOLUME (divided per window later).
      for (std::size_t i = 0; i < n; ++i) {
        const Bar& b = bars[i];
        const double day[] = {b.close, b.open, b.high, b.low, alpha158::vwap(b), b.volume};
        frame.values[i * F + j] = day[where.index];
      }
    }
    any_default = any_default || where.group == Location::kDefault;
    if (where.group == Location::kAlpha158) {
      alpha_index.push_back(where.index);
      alpha_column.push_back(j);
    }
  }
  if (any_default) compute_default(bars, names, frame);
  if (!alpha_index.empty()) alpha158::compute(bars, alpha_index, alpha_column, frame.values.data(), F);
  return frame;
}

}  // namespace klab
