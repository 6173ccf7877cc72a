// data/adjust.h — price adjustment for ex-dividend / ex-rights days (复权).
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

namespace klab {

enum class Adjustment { kNone, kForward, kBackward };

// "none" | "forward" | "backward" (also "qfq"/"hfq"); throws ConfigError naming `key`.
Adjustment parse_adjustment(const std::string& text, const std::string& key = "data.adjust");
const char* adjustment_name(Adjustment adjustment);

// Sets every bar's adj_factor from pre_close as above. Bars must be one symbol, oldest first.
void derive_adj_factors(std::vector<Bar>& bars);

// Copies of `bars` with open/high/low/close/pre_close (and volume) adjusted. kNone returns the
// raw bars. Uses each bar's adj_factor as stored.
std::vector<Bar> adjust_bars(const std::vector<Bar>& bars, Adjustment adjustment);

}  // namespace klab
