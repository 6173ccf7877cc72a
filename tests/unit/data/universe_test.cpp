// data/universe: point-in-time membership. Hand-made series whose later values would change the
// choice if the selection looked ahead; a delisted stock that must drop out; ranking by amount.
#include "data/universe.h"

#include <cmath>
#include <limits>

#include <gtest/gtest.h>

#include "klab/error.h"

namespace {

const double kNaN = std::numeric_limits<double>::quiet_NaN();

klab::RankedSeries series(const std::string& symbol, const std::vector<std::string>& dates,
                          const std::vector<double>& values) {
  return {symbol, dates, values};
}

const std::vector<std::string> kDays = {"2021-01-28", "2021-01-29", "2021-02-01", "2021-02-10",
                                        "2021-02-26", "2021-03-01", "2021-03-02"};

}  // namespace

TEST(Universe, MonthlyRebalancesAreLastTradingDaysOfCompleteMonths) {
  klab::UniverseRule rule;
  rule.top = 1;
  const auto u = klab::Universe::select(rule, {series("600000", kDays, std::vector<double>(kDays.size(), 1.0))});
  // March has begun but is not over: knowing its last day would be look-ahead.
  EXPECT_EQ(u.rebalance_dates(), (std::vector<std::string>{"2021-01-29", "2021-02-26"}));
  EXPECT_FALSE(u.contains("600000", "2021-01-28"));  // before the first rebalance: nobody
  EXPECT_TRUE(u.contains("600000", "2021-01-29"));
  EXPECT_TRUE(u.contains("600000", "2021-03-02"));
}

TEST(Universe, MembersAreChosenOnlyFromTheRebalanceDaysValues) {
  klab::UniverseRule rule;
  rule.top = 2;
  // On 01-29: A 100, B 90, C 10. From 02-01 C is the largest by far; on 02-26 A 50, B 40, C 500.
  const auto u = klab::Universe::select(
      rule, {series("000001", kDays, {100, 100, 100, 100, 50, 50, 50}),
             series("000002", kDays, {90, 90, 90, 90, 40, 40, 40}),
             series("000003", kDays, {10, 10, 900, 900, 500, 500, 500})});
  ASSERT_EQ(u.members().size(), 2u);
  EXPECT_EQ(u.members()[0], (std::vector<std::string>{"000001", "000002"}));
  // C's later size does not make it a member before the rebalance that sees it.
  for (const char* day : {"2021-01-29", "2021-02-01", "2021-02-10"}) {
    EXPECT_FALSE(u.contains("000003", day)) << day;
    EXPECT_TRUE(u.contains("000002", day)) << day;
  }
  EXPECT_EQ(u.members()[1], (std::vector<std::string>{"000001", "000003"}));
  EXPECT_TRUE(u.contains("000003", "2021-02-26"));
  EXPECT_FALSE(u.contains("000002", "2021-03-01"));
  const auto j = u.to_json();
  EXPECT_EQ(j["rule"]["top"], 2);
  EXPECT_EQ(j["rebalances"][1]["date"], "2021-02-26");
}

TEST(Universe, ADelistedOrSuspendedStockIsNotRankedOnADayItDidNotTrade) {
  klab::UniverseRule rule;
  rule.top = 1;
  // 600001 is the largest but its last row is 02-10 (delisted): on 02-26 the next one is chosen.
  const auto u = klab::Universe::select(
      rule, {series("600001", {"2021-01-28", "2021-01-29", "2021-02-01", "2021-02-10"}, {900, 900, 900, 900}),
             series("600002", kDays, {5, 5, 5, 5, 5, 5, 5}),
             // 600003 is large but has no row on 02-26 (suspended) and NaN caps elsewhere.
             series("600003", {"2021-01-28", "2021-01-29", "2021-03-01"}, {1e6, kNaN, 1e6})});
  EXPECT_EQ(u.members()[0], (std::vector<std::string>{"600001"}));
  EXPECT_EQ(u.members()[1], (std::vector<std::string>{"600002"}));
  EXPECT_FALSE(u.contains("600001", "2021-03-01"));
  EXPECT_FALSE(u.contains("600003", "2021-03-02"));
}

TEST(Universe, RankingValues) {
  std::vector<klab::Bar> bars(25);
  for (std::size_t i = 0; i < bars.size(); ++i) {
    bars[i].amount = static_cast<double>(i + 1);
    bars[i].total_market_cap = i == 3 ? kNaN : 1000.0 + static_cast<double>(i);
    bars[i].float_market_cap = i == 4 ? 0.0 : 10.0;
  }
  const auto amount = klab::ranking_values(bars, "amount_20d");
  EXPECT_TRUE(std::isnan(amount[18]));           // fewer than 20 bars: unknown
  EXPECT_DOUBLE_EQ(amount[19], 10.5);            // mean of 1..20
  EXPECT_DOUBLE_EQ(amount[24], 15.5);            // mean of 6..25
  const auto total = klab::ranking_values(bars, "total_market_cap");
  EXPECT_TRUE(std::isnan(total[3]));
  EXPECT_DOUBLE_EQ(total[2], 1002.0);
  EXPECT_TRUE(std::isnan(klab::ranking_values(bars, "float_market_cap")[4]));  // a zero cap is no cap
  EXPECT_THROW(klab::ranking_values(bars, "volume"), klab::ConfigError);
  klab::UniverseRule weekly;
  weekly.top = 1;
  weekly.rebalance = "weekly";
  const auto u = klab::Universe::select(weekly, {series("600000", {"2021-03-04", "2021-03-05", "2021-03-08",
                                                                   "2021-03-12", "2021-03-15"},
                                                         {1, 1, 1, 1, 1})});
  EXPECT_EQ(u.rebalance_dates(), (std::vector<std::string>{"2021-03-05", "2021-03-12"}));  // Fridays
}
