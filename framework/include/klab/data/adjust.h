// klab/data/adjust.h — price adjustment for ex-dividend / ex-rights days (复权).
//
// Raw prices jump on ex-rights days: there the exchange's pre_close differs from yesterday's
// close. The cumulative backward factor makes the series continuous:
//     f_0 = 1,   f_t = f_{t-1} * close_{t-1} / pre_close_t        (f_t = f_{t-1} if pre_close_t <= 0)
// Backward-adjusted (后复权) price = raw * f_t; forward-adjusted (前复权) = raw * f_t / f_last,
// which equals the raw price on the last bar. Volumes are divided by the same ratio (shares in
// the reference share base); amounts in CNY are left as they are.
#pragma once

#include <string>
#include <vector>

#include "klab/data_source.h"
#include "klab/error.h"

namespace klab {

enum class Adjustment { kNone, kForward, kBackward };

// "none" | "forward" | "backward" (also "qfq"/"hfq"); throws ConfigError naming `key`.
inline Adjustment parse_adjustment(const std::string& text, const std::string& key = "data.adjust");
inline const char* adjustment_name(Adjustment adjustment);

// Sets every bar's adj_factor from pre_close as above. Bars must be one symbol, oldest first.
inline void derive_adj_factors(std::vector<Bar>& bars);

// Copies of `bars` with open/high/low/close/pre_close (and volume) adjusted. kNone returns the
// raw bars. Uses each bar's adj_factor as stored.
std::vector<Bar> adjust_bars(const std::vector<Bar>& bars, Adjustment adjustment);

// ---- implementation: header-only, so a data-source plugin needs the SDK alone ----

inline Adjustment parse_adjustment(const std::string& text, const std::string& key) {
  if (text == "none" || text.empty()) return Adjustment::kNone;
  if (text == "forward" || text == "qfq") return Adjustment::kForward;
  if (text == "backward" || text == "hfq") return Adjustment::kBackward;
  throw ConfigError(key + ": unknown price adjustment \"" + text +
                    "\" (expected none, forward or backward)");
}

inline const char* adjustment_name(Adjustment adjustment) {
  switch (adjustment) {
    case Adjustment::kNone:
      return "none";
    case Adjustment::kForward:
      return "forward";
    case Adjustment::kBackward:
      return "backward";
  }
  return "?";
}

inline void derive_adj_factors(std::vector<Bar>& bars) {
  double factor = 1.0;
  for (std::size_t i = 0; i < bars.size(); ++i) {
    if (i > 0 && bars[i].pre_close > 0 && bars[i - 1].close > 0) {
      factor *= bars[i - 1].close / bars[i].pre_close;
    }
    bars[i].adj_factor = factor;
  }
}

inline std::vector<Bar> adjust_bars(const std::vector<Bar>& bars, Adjustment adjustment) {
  std::vector<Bar> out = bars;
  if (adjustment == Adjustment::kNone || bars.empty()) return out;
  const double reference = adjustment == Adjustment::kForward ? bars.back().adj_factor : 1.0;
  for (auto& b : out) {
    const double ratio = b.adj_factor / reference;
    b.open *= ratio;
    b.high *= ratio;
    b.low *= ratio;
    b.close *= ratio;
    b.pre_close *= ratio;
    b.volume /= ratio;
  }
  return out;
}

}  // namespace klab
