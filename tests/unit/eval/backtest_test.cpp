// The exchange's price limits and the TopkDropout backtest on hand-made markets, every number
// worked out by hand from docs/EVALUATION.md. The whole equity curve on real data is checked
// against a pandas reference by Integration.BacktestMatchesPandas.
#include "eval/backtest.h"

#include <cmath>

#include <gtest/gtest.h>

#include "klab/data/price_limits.h"
#include "klab/error.h"

namespace {

klab::Bar bar(const std::string& date, double close, double pre_close, double factor = 1.0, int st = 0) {
  klab::Bar b;
  b.trade_date = date;
  b.open = b.high = b.low = b.close = close;
  b.pre_close = pre_close;
  b.adj_factor = factor;
  b.volume = 1e6;
  b.amount = 1e6 * close;
  b.total_market_cap = 1e9;
  b.st = st;
  return b;
}

const klab::UniverseTest kAll = [](const std::string&, const std::string&) { return true; };

klab::BacktestOptions no_costs(std::size_t topk, std::size_t n_drop) {
  klab::BacktestOptions o;
  o.topk = topk;
  o.n_drop = n_drop;
  o.initial_cash = 1e6;
  o.risk_degree = 1.0;
  o.open_cost = o.close_cost = o.min_cost = 0;
  return o;
}

}  // namespace

TEST(PriceLimits, TheExchangesRoundedPrices) {
  // 10.05 x 1.1 = 11.055 -> 11.06 (half up); 10.05 x 0.9 = 9.045 -> 9.05.
  auto l = klab::price_limits(10.05, 10);
  EXPECT_EQ(l.up_fen, 1106);
  EXPECT_EQ(l.down_fen, 905);
  // A 9.6 % day is not a limit day (a 9.5 % ratio test would call it one) ...
  EXPECT_FALSE(klab::price_limits(10.00, 10).closed_at_up(10.96));
  EXPECT_TRUE(klab::price_limits(10.00, 10).closed_at_up(11.00));
  // ... and 1.53 -> 1.68 is one at +9.80 % (a 9.9 % test would miss it).
  EXPECT_TRUE(klab::price_limits(1.53, 10).closed_at_up(1.68));
  EXPECT_TRUE(klab::price_limits(1.53, 10).closed_at_down(1.38));  // 1.377 -> 1.38
  EXPECT_EQ(klab::price_limit_percent("600519", "2021-01-04", 0), 10);
  EXPECT_EQ(klab::price_limit_percent("600519", "2021-01-04", 1), 5);
  EXPECT_EQ(klab::price_limit_percent("000001", "2021-01-04", -1), 10);  // unknown: no warning
  EXPECT_EQ(klab::price_limit_percent("300750", "2020-08-21", 0), 10);
  EXPECT_EQ(klab::price_limit_percent("300750", "2020-08-21", 1), 5);
  EXPECT_EQ(klab::price_limit_percent("300750", "2020-08-24", 1), 20);
  EXPECT_EQ(klab::price_limit_percent("688981", "2020-07-16", 1), 20);
  EXPECT_EQ(klab::price_limit_percent("830799", "2022-01-04", 0), 30);
  // ST on the main board: 5 %.
  EXPECT_TRUE(klab::price_limits(4.00, 5).closed_at_up(4.20));
  EXPECT_FALSE(klab::price_limits(4.00, 5).closed_at_up(4.19));
}

// Hold the best stock (topk 1, n_drop 1): buy at the next close in lots of 100, switch when the
// ranking changes, the account valued at every close.
TEST(Backtest, TopOneSwitchesAtTheNextClose) {
  klab::MarketBars m;
  m["600001"] = {bar("2021-01-04", 10, 10), bar("2021-01-05", 10.5, 10), bar("2021-01-06", 11, 10.5),
                 bar("2021-01-07", 11, 11)};
  m["600002"] = {bar("2021-01-04", 20, 20), bar("2021-01-05", 20, 20), bar("2021-01-06", 21, 20),
                 bar("2021-01-07", 22, 21)};
  const std::vector<klab::Signal> s = {{"2021-01-04", "600001", 0.9}, {"2021-01-04", "600002", 0.1},
                                       {"2021-01-05", "600001", 0.9}, {"2021-01-05", "600002", 0.1},
                                       {"2021-01-06", "600001", 0.1}, {"2021-01-06", "600002", 0.9}};
  const auto r = klab::run_backtest(s, m, kAll, "2021-01-07", "2021-01-07", no_costs(1, 1));
  ASSERT_EQ(r.days.size(), 3u);
  // 01-05: 1e6 / (10.5 x 100) = 952.38 lots -> 952 lots = 95,200 shares at 10.5.
  const double cash = 1e6 - 95200 * 10.5;
  EXPECT_DOUBLE_EQ(r.days[0].value, 1e6);
  EXPECT_EQ(r.days[0].holdings, 1u);
  EXPECT_DOUBLE_EQ(r.days[0].cash, cash);
  // 01-06: held at 11.
  EXPECT_DOUBLE_EQ(r.days[1].value, cash + 95200 * 11.0);
  // 01-07: sold at 11, bought 600002 at 22 with all the cash.
  const double after_sell = cash + 95200 * 11.0;
  const double lots = std::floor(after_sell / 2200.0);
  EXPECT_DOUBLE_EQ(r.days[2].cash, after_sell - lots * 2200.0);
  EXPECT_DOUBLE_EQ(r.days[2].value, after_sell);
  // Benchmark: equal weight of both, close to close.
  EXPECT_NEAR(r.days[0].bench, (10.5 / 10 - 1 + 0.0) / 2, 1e-15);
  EXPECT_NEAR(r.days[1].bench, (11.0 / 10.5 - 1 + 21.0 / 20 - 1) / 2, 1e-15);
  EXPECT_DOUBLE_EQ(r.days[2].turnover, (95200 * 11.0 + lots * 2200.0) / (2 * r.days[1].value));
}

// No buy at a close at limit-up, no sell at a close at limit-down, no trade while suspended.
TEST(Backtest, LimitsAndSuspensionsBlockTrades) {
  klab::MarketBars m;
  // 600001 closes at its limit-up (11.00 from 10.00) on 01-05: the buy is blocked; next day it trades.
  m["600001"] = {bar("2021-01-04", 10, 10), bar("2021-01-05", 11, 10), bar("2021-01-06", 11.5, 11),
                 bar("2021-01-07", 10.35, 11.5), bar("2021-01-08", 10.35, 10.35)};
  // 600002 has no bar on 01-06 (suspended).
  m["600002"] = {bar("2021-01-04", 20, 20), bar("2021-01-05", 20, 20), bar("2021-01-07", 20, 20),
                 bar("2021-01-08", 20, 20)};
  std::vector<klab::Signal> s;
  for (const char* d : {"2021-01-04", "2021-01-05"}) s.push_back({d, "600001", 1.0});
  // From 01-06 the model prefers 600002: selling 600001 on 01-07 meets its limit-down (11.5 -> 10.35).
  for (const char* d : {"2021-01-06", "2021-01-07"}) {
    s.push_back({d, "600001", 0.0});
    s.push_back({d, "600002", 1.0});
  }
  const auto r = klab::run_backtest(s, m, kAll, "2021-01-08", "2021-01-08", no_costs(1, 1));
  ASSERT_EQ(r.days.size(), 4u);
  EXPECT_EQ(r.days[0].holdings, 0u);  // 01-05: blocked at limit-up
  EXPECT_EQ(r.days[1].holdings, 1u);  // 01-06: bought at 11.5
  EXPECT_EQ(r.days[2].holdings, 1u);  // 01-07: the sell is blocked at limit-down; no room to buy
  EXPECT_EQ(r.days[3].holdings, 1u);  // 01-08: sold at 10.35, 600002 bought
  EXPECT_EQ(r.blocked_buys, 1u);
  EXPECT_EQ(r.blocked_sells, 1u);
  const double shares = std::floor(1e6 / 1150.0) * 100;
  EXPECT_DOUBLE_EQ(r.days[2].value, 1e6 - shares * 11.5 + shares * 10.35);
}

// A 10-for-10 bonus: the raw price halves, the factor doubles; the account does not move.
TEST(Backtest, ExRightsDaysNeitherCreateNorDestroyValue) {
  klab::MarketBars m;
  m["600001"] = {bar("2021-01-04", 10, 10, 1.0), bar("2021-01-05", 10, 10, 1.0), bar("2021-01-06", 5, 5, 2.0),
                 bar("2021-01-07", 5.5, 5, 2.0)};
  m["600002"] = {bar("2021-01-04", 20, 20), bar("2021-01-05", 20, 20), bar("2021-01-06", 20, 20),
                 bar("2021-01-07", 20, 20)};
  std::vector<klab::Signal> s;
  for (const char* d : {"2021-01-04", "2021-01-05", "2021-01-06"}) {
    s.push_back({d, "600001", 1.0});
    s.push_back({d, "600002", 0.0});  // ranked below: the dropout sells nothing held
  }
  const auto r = klab::run_backtest(s, m, kAll, "2021-01-07", "2021-01-07", no_costs(1, 1));
  EXPECT_DOUBLE_EQ(r.days[1].value, r.days[0].value);  // ex-rights day
  EXPECT_DOUBLE_EQ(r.days[1].ret, 0.0);
  EXPECT_DOUBLE_EQ(r.days[1].bench, 0.0);
  EXPECT_NEAR(r.days[2].ret, (r.days[0].value - r.days[0].cash) * 0.1 / r.days[1].value, 1e-12);
}

// A holding whose bars end before the data does is sold at its last close the next day (or
// written off with delisted: zero); the rule never holds it at a stale price forever.
TEST(Backtest, DelistedHoldingsAreSoldAtTheirLastClose) {
  klab::MarketBars m;
  m["600001"] = {bar("2021-01-04", 10, 10), bar("2021-01-05", 10, 10), bar("2021-01-06", 8, 10)};  // last bar
  m["600002"] = {bar("2021-01-04", 20, 20), bar("2021-01-05", 20, 20), bar("2021-01-06", 20, 20),
                 bar("2021-01-07", 20, 20), bar("2021-01-08", 20, 20)};
  std::vector<klab::Signal> s = {{"2021-01-04", "600001", 1.0}, {"2021-01-04", "600002", 0.0}};
  auto o = no_costs(1, 1);
  auto r = klab::run_backtest(s, m, kAll, "2021-01-08", "2021-01-08", o);
  const double shares = std::floor(1e6 / 1000.0) * 100;
  EXPECT_DOUBLE_EQ(r.days[1].value, 1e6 - shares * 2);  // 01-06 at 8
  EXPECT_EQ(r.days[2].holdings, 0u);                    // 01-07: sold at 8
  EXPECT_DOUBLE_EQ(r.days[2].value, r.days[1].value);
  EXPECT_EQ(r.delisted_positions, 1u);
  o.delisted = "zero";
  r = klab::run_backtest(s, m, kAll, "2021-01-08", "2021-01-08", o);
  EXPECT_DOUBLE_EQ(r.days[2].value, 1e6 - shares * 10);  // the position is gone, the cash stays
  // Bars that end with the data are not a delisting.
  r = klab::run_backtest(s, m, kAll, "2021-01-06", "2021-01-06", o);
  EXPECT_EQ(r.delisted_positions, 0u);
}

// Costs: 0.05 % to buy, 0.15 % to sell, at least 5 CNY a trade.
TEST(Backtest, CostsWithAMinimum) {
  klab::MarketBars m;
  m["600001"] = {bar("2021-01-04", 10, 10), bar("2021-01-05", 10, 10), bar("2021-01-06", 10, 10)};
  m["600002"] = {bar("2021-01-04", 10, 10), bar("2021-01-05", 10, 10), bar("2021-01-06", 10, 10)};
  std::vector<klab::Signal> s = {{"2021-01-04", "600001", 1.0}, {"2021-01-05", "600002", 1.0},
                                 {"2021-01-05", "600001", 0.0}};
  klab::BacktestOptions o;  // the defaults
  o.topk = 1;
  o.n_drop = 1;
  o.initial_cash = 5000;
  const auto r = klab::run_backtest(s, m, kAll, "2021-01-06", "2021-01-06", o);
  // 01-05: 5000 x 0.95 = 4750 -> 4 lots (4000 CNY), cost max(2, 5) = 5.
  EXPECT_DOUBLE_EQ(r.days[0].cash, 5000 - 4000 - 5);
  EXPECT_DOUBLE_EQ(r.days[0].cost, 5.0 / 5000);
  // 01-06: sold 4000 (cost 6), bought 600002 with 0.95 of 4989.
  const double cash = 995 + 4000 - 6;
  const double lots = std::floor(cash * 0.95 / 1000);
  EXPECT_DOUBLE_EQ(r.days[1].cash, cash - lots * 1000 - 5);
  EXPECT_DOUBLE_EQ(r.days[1].value, cash - 5);
  const auto summary = r.summary();
  EXPECT_DOUBLE_EQ(summary["total_cost_cny"].get<double>(), 16.0);
  EXPECT_THROW(klab::BacktestOptions::from_json({{"topk", 0}}), klab::ConfigError);
  EXPECT_THROW(klab::BacktestOptions::from_json({{"delisted", "hold"}}), klab::ConfigError);
  EXPECT_THROW(klab::BacktestOptions::from_json({{"n_dorp", 5}}), klab::ConfigError);
}

TEST(Backtest, QlibRiskConvention) {
  const std::vector<double> r = {0.01, -0.02, 0.03, -0.01};
  const auto j = klab::qlib_risk(r);
  const double mean = 0.0025;
  const double sd = std::sqrt(((0.0075 * 0.0075) + (0.0225 * 0.0225) + (0.0275 * 0.0275) + (0.0125 * 0.0125)) / 3);
  EXPECT_NEAR(j["annualized_return"].get<double>(), mean * 238, 1e-15);
  EXPECT_NEAR(j["information_ratio"].get<double>(), mean / sd * std::sqrt(238.0), 1e-12);
  EXPECT_NEAR(j["max_drawdown"].get<double>(), -0.02, 1e-15);  // cumsum 0.01, -0.01, 0.02, 0.01
}

// Nothing to trade: no finite score, or one trading day only.
TEST(Backtest, NothingToTradeIsAnError) {
  klab::MarketBars m;
  m["600001"] = {bar("2021-01-04", 10, 10), bar("2021-01-05", 10, 10)};
  EXPECT_THROW(klab::run_backtest({{"2021-01-04", "600001", std::nan("")}}, m, kAll, "2021-01-05", "2021-01-05",
                                  no_costs(1, 1)),
               klab::DataError);
  EXPECT_THROW(klab::run_backtest({{"2021-01-05", "600001", 1.0}}, m, kAll, "2021-01-05", "2021-01-05", no_costs(1, 1)),
               klab::DataError);
}
