// data/bar_compare.h — whether two bars are the same, field for field: the importer's test for an
// unchanged row on re-import and the prediction cache's for an unchanged last bar. A value the
// source does not have (NaN: a market cap, a pre_close) equals itself.
#pragma once

#include <cmath>

#include "klab/data_source.h"

namespace klab {

inline bool same_value(double a, double b) { return a == b || (std::isnan(a) && std::isnan(b)); }

inline bool same_bar(const Bar& a, const Bar& b) {
  return a.trade_date == b.trade_date && same_value(a.open, b.open) && same_value(a.high, b.high) &&
         same_value(a.low, b.low) && same_value(a.close, b.close) && same_value(a.pre_close, b.pre_close) &&
         same_value(a.volume, b.volume) && same_value(a.amount, b.amount) && same_value(a.adj_factor, b.adj_factor) &&
         same_value(a.float_market_cap, b.float_market_cap) && same_value(a.total_market_cap, b.total_market_cap) &&
         a.st == b.st;
}

}  // namespace klab
