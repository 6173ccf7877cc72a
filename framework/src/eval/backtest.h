// eval/backtest.h — does the ranking make money? Qlib's TopkDropout portfolio on A-share rules.
//
// Each trading day t the model's scores rank the stocks; at the NEXT trading day's close the
// portfolio sells the n_drop worst of what it holds and buys the best it does not hold, keeping
// about topk stocks, in lots of 100 shares, paying costs, never buying a stock closed at its
// limit-up price or selling one closed at limit-down (klab/data/price_limits.h, the exchange's
// rounded limits), never trading a suspended stock. Positions follow ex-rights days through the
// adjustment factor (a bonus share or a dividend neither creates nor destroys value), and a
// holding whose stock is delisted is sold at its last close the day after its last bar (or
// written off: `delisted: zero`). docs/EVALUATION.md states every rule and formula;
// tests/python/backtest_reference.py recomputes the equity curve from that page alone.
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "klab/data_source.h"

namespace klab {

struct BacktestOptions {
  std::size_t topk = 50, n_drop = 5;
  double initial_cash = 1e8;   // CNY
  double risk_degree = 0.95;   // share of the cash a day's buys may spend
  double open_cost = 0.0005, close_cost = 0.0015, min_cost = 5.0;  // close_cost includes stamp duty
  std::size_t lot = 100;       // shares per board lot
  std::string delisted = "last_close";  // last_close | zero
  nlohmann::json to_json() const;
  // Reads {topk, n_drop, initial_cash, risk_degree, open_cost, close_cost, min_cost, lot,
  // delisted}; throws ConfigError naming `key` and the bad entry.
  static BacktestOptions from_json(const nlohmann::json& j, const std::string& key = "evaluation.backtest");
};

// A model's score for a stock on the day it was computed (the signal day: a prediction's as_of).
struct Signal {
  std::string date, symbol;
  double score = 0;
};

struct BacktestDay {
  std::string date;
  double value = 0;            // account value at the close, after the day's trades and costs
  double ret = 0;              // value / previous value - 1 (costs included)
  double cost = 0;             // the day's costs / previous value
  double bench = 0, bench_cap = 0;  // equal- and cap-weighted universe returns
  double turnover = 0;         // (bought + sold) / (2 × previous value)
  std::size_t holdings = 0;
  double cash = 0;
};

struct BacktestResult {
  BacktestOptions options;
  std::vector<BacktestDay> days;
  std::size_t blocked_buys = 0, blocked_sells = 0;  // at a limit or suspended
  std::size_t delisted_positions = 0;
  nlohmann::json summary() const;
  nlohmann::json to_json() const;  // results/backtest.json
};

// Raw (unadjusted) bars of every stock that can be scored or is in the benchmark universe, oldest
// first, with adj_factor, pre_close, st and total_market_cap.
using MarketBars = std::map<std::string, std::vector<Bar>>;

// Membership of the benchmark universe on a signal day (the run's point-in-time universe, or
// every stock with bars).
using UniverseTest = std::function<bool(const std::string& symbol, const std::string& date)>;

// Runs the portfolio over the trading days after the first signal day up to `last_date` (the
// last day of the test period). `data_end` is the last date the data source holds: a stock whose
// bars stop before it is delisted. Throws DataError when there is no signal day to trade.
BacktestResult run_backtest(const std::vector<Signal>& signals, const MarketBars& bars, const UniverseTest& universe,
                            const std::string& last_date, const std::string& data_end, const BacktestOptions& options);

// Qlib's risk analysis of daily returns r: annualized_return = mean × 238, information_ratio =
// mean / std × √238 (std ddof 1), max_drawdown = min(cumsum(r) - cummax(cumsum(r))).
nlohmann::json qlib_risk(const std::vector<double>& r);

}  // namespace klab
