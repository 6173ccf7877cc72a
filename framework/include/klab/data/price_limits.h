// klab/data/price_limits.h — the exchanges' daily price limits (涨跌停), exactly.
//
// A stock may not trade above pre_close × (1 + r) or below pre_close × (1 - r), each rounded to
// the fen (0.01 CNY, half up), where pre_close is the exchange's previous close (ex-rights
// adjusted on ex-rights days) and r depends on the board, the date and the risk warning:
//   main boards (60xxxx, 00xxxx):            10 %, 5 % under risk warning (ST, *ST)
//   ChiNext (300xxx, 301xxx):                10 % (ST 5 %) before 2020-08-24, then 20 % for all
//   STAR Market (688xxx, 689xxx):            20 % for all
//   Beijing Stock Exchange (8xxxxx, 4xxxxx, 92xxxx): 30 %
// A day closed at its limit-up price cannot be bought at the close (no seller there) and one
// closed at its limit-down price cannot be sold; a ratio test such as |close / pre_close - 1| >=
// 9.5 % misses limit days of low-priced stocks (rounding) and every ST and 20 % board limit.
// The first days after a listing have other rules (44 % on the main boards' first day, none for
// five days on STAR and ChiNext); a stock then has no model signal yet (its features need weeks
// of history), so they are not modelled here.
#pragma once

#include <cmath>
#include <cstdint>
#include <string>

namespace klab {

// The limit ratio in percent for `symbol` (6 digits) on `date` (ISO); `st` is the day's
// risk-warning flag (Bar::st; -1 unknown counts as no warning).
inline int price_limit_percent(const std::string& symbol, const std::string& date, int st) {
  const std::string p2 = symbol.substr(0, 2), p3 = symbol.substr(0, 3);
  if (p3 == "688" || p3 == "689") return 20;
  if (p2 == "30") return date >= "2020-08-24" ? 20 : (st == 1 ? 5 : 10);
  if (symbol[0] == '8' || symbol[0] == '4' || p2 == "92") return 30;
  return st == 1 ? 5 : 10;
}

// Price in fen (integer), rounded half up.
inline std::int64_t to_fen(double price) { return static_cast<std::int64_t>(std::floor(price * 100.0 + 0.5)); }

struct PriceLimits {
  std::int64_t up_fen = 0, down_fen = 0;  // the limit prices in fen
  double up() const { return static_cast<double>(up_fen) / 100.0; }
  double down() const { return static_cast<double>(down_fen) / 100.0; }
  // Closed at the limit (raw close in CNY).
  bool closed_at_up(double close) const { return to_fen(close) >= up_fen; }
  bool closed_at_down(double close) const { return to_fen(close) <= down_fen; }
};

// The day's limits from the exchange's pre_close (raw CNY), in integer fen arithmetic so that
// 10.05 × 1.1 = 11.055 rounds to 11.06 as the exchange rounds it.
inline PriceLimits price_limits(double pre_close, int percent) {
  const std::int64_t pre = to_fen(pre_close);
  PriceLimits l;
  l.up_fen = (pre * (100 + percent) + 50) / 100;
  l.down_fen = (pre * (100 - percent) + 50) / 100;
  return l;
}

}  // namespace klab
