// data/features_alpha158.h — Qlib's Alpha158 feature set, computed exactly and fast.
//
// 158 scale-free features of one stock's adjusted bars: 9 K-bar shapes, 4 prices over today's
// close, and 29 rolling operators over windows of 5, 10, 20, 30 and 60 trading rows (docs/DATA.md
// gives every formula, in Qlib's order and with Qlib's names). Windows run over the stock's own
// trading rows; a window is complete or the value is NaN (Qlib's min_periods=1 partial windows
// are not reproduced). Every rolling statistic is computed from its window's values directly
// (two-pass, centred), so a constant window has a standard deviation of exactly 0 and an
// undefined correlation or R² (NaN), never rounding noise. tests/python/alpha158_reference.py is
// the independent pandas/numpy implementation the tests compare with.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "klab/data_source.h"

namespace klab::alpha158 {

// The 158 names in Qlib's order: KMID ... KSFT2, OPEN0, HIGH0, LOW0, VWAP0, ROC5 ... VSUMD60.
const std::vector<std::string>& names();

// The day's volume-weighted price in the bar's adjustment: amount / volume (amounts are CNY and
// not adjusted, volumes are), NaN without a trade. Alpha158's VWAP0 and Alpha360's VWAP.
double vwap(const Bar& bar);

// Qlib's benchmark LSTM/GRU selection of 20 Alpha158 features (FilterCol in its configs).
const std::vector<std::string>& selection20();

// Rows before the feature names()[index] is defined: 0 (K-bar, prices), w - 1 (statistics of the
// last w rows) or w (statistics of day-over-day changes, ROC).
std::size_t warmup(std::size_t index);

// Computes the features names()[wanted[k]] of `bars` (one symbol, adjusted, oldest first) into
// values[row * stride + columns[k]]; undefined cells become NaN.
void compute(const std::vector<Bar>& bars, const std::vector<std::size_t>& wanted,
             const std::vector<std::size_t>& columns, double* values, std::size_t stride);

}  // namespace klab::alpha158
