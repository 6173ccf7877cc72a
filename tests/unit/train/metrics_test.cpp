// Evaluation metrics on known numbers.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "klab/error.h"
#include "eval/cross_section.h"
#include "eval/metrics.h"

TEST(Metrics, KnownValues) {
  // last close 10 for every sample; actual and predicted prices.
  std::vector<double> actual{11, 9, 10, 12}, predicted{12, 9.5, 10, 11}, last(4, 10.0);
  auto m = klab::compute_metrics(actual, predicted, last);
  EXPECT_EQ(m.samples, 4u);
  EXPECT_DOUBLE_EQ(m.mae, (1 + 0.5 + 0 + 1) / 4.0);
  EXPECT_DOUBLE_EQ(m.rmse, std::sqrt((1 + 0.25 + 0 + 1) / 4.0));
  EXPECT_DOUBLE_EQ(m.mape, 100.0 * (1.0 / 11 + 0.5 / 9 + 0 + 1.0 / 12) / 4.0);
  const double mean = 10.5, total = 0.25 + 2.25 + 0.25 + 2.25;
  (void)mean;
  EXPECT_DOUBLE_EQ(m.r2, 1 - 2.25 / total);
  // up/up, down/down, flat/flat, up/up: all four directions right.
  EXPECT_DOUBLE_EQ(m.direction_accuracy, 100.0);
  auto persistence = klab::compute_metrics(actual, last, last);
  EXPECT_DOUBLE_EQ(persistence.direction_accuracy, 25.0);  // only the flat day
  EXPECT_DOUBLE_EQ(persistence.mae, 1.0);
}

TEST(Metrics, ZeroActualsConstantActualsAndMismatchedInputs) {
  // A zero actual (a return target of exactly 0) is left out of MAPE and counted.
  std::vector<double> actual{0, 2, 4}, predicted{1, 3, 2}, last{1, 1, 1};
  auto m = klab::compute_metrics(actual, predicted, last);
  EXPECT_DOUBLE_EQ(m.mape, 100.0 * (1.0 / 2 + 2.0 / 4) / 2.0);
  EXPECT_EQ(m.mape_skipped, 1u);
  EXPECT_EQ(m.to_json()["mape_skipped_zero_actuals"], 1);
  EXPECT_TRUE(std::isnan(klab::compute_metrics({0, 0}, {1, 2}, {0, 0}).mape));
  // Constant actuals: r2 is undefined, written as null, never a made-up 0.
  auto flat = klab::compute_metrics({5, 5, 5}, {4, 5, 6}, {5, 5, 5});
  EXPECT_TRUE(std::isnan(flat.r2));
  EXPECT_TRUE(flat.to_json()["r2"].is_null());
  EXPECT_DOUBLE_EQ(flat.mae, 2.0 / 3.0);
  EXPECT_THROW(klab::compute_metrics({1, 2}, {1}, {1, 2}), klab::TrainError);
  EXPECT_THROW(klab::compute_metrics({1, 2}, {1, 2}, {1}), klab::TrainError);
}

TEST(Metrics, SeveralSymbolsAreJudgedOnReturnsPooledAndPerSymbol) {
  // A 2-CNY stock and a 2,000-CNY stock, each off by 1 % of its price once and right once.
  // {date, symbol, prediction, label, last_close}
  klab::Predictions p = {
      {"2021-01-04", "000001", 2.00, 2.02, 2.00},     // actual +1 %, predicted 0 %
      {"2021-01-05", "000001", 2.00, 2.00, 2.00},     // both 0 %
      {"2021-01-04", "600519", 2020, 2000, 2000},     // actual 0 %, predicted +1 %
      {"2021-01-05", "600519", 2040, 2040, 2000}};    // both +2 %
  const auto e = klab::evaluate_predictions(p, "backward-adjusted", true);
  EXPECT_EQ(e["metrics_on"], "returns");
  EXPECT_NEAR(e["mae"].get<double>(), (0.01 + 0 + 0.01 + 0) / 4, 1e-12);  // in price terms it would be 5.005
  EXPECT_TRUE(e["mape"].is_null());
  EXPECT_NEAR(e["baseline"]["mae"].get<double>(), (0.01 + 0 + 0 + 0.02) / 4, 1e-12);
  EXPECT_EQ(e["per_symbol_average"]["symbols"], 2);
  EXPECT_NEAR(e["per_symbol_average"]["mae"].get<double>(), (0.005 + 0.005) / 2, 1e-12);
  EXPECT_NEAR(e["per_symbol_average"]["baseline_mae"].get<double>(), (0.005 + 0.01) / 2, 1e-12);
  // One symbol: the specification's metrics on prices, as before.
  const auto one = klab::evaluate_predictions({p[2], p[3]}, "backward-adjusted", false);
  EXPECT_EQ(one["metrics_on"], "prices");
  EXPECT_NEAR(one["mae"].get<double>(), 10.0, 1e-12);
}

TEST(Metrics, UnlabelledPredictionsAreRefusedByName) {
  // A prediction whose day has not happened has no label: evaluation must not treat NaN as data.
  klab::Predictions p = {{"2021-01-04", "000001", 2.0, 2.02, 2.0}, {"2021-01-05", "000001", 2.0, 2.0, 2.0}};
  p[1].label = std::numeric_limits<double>::quiet_NaN();
  EXPECT_FALSE(p[1].has_label());
  try {
    klab::evaluate_predictions(p, "backward-adjusted", false);
    FAIL() << "an unlabelled prediction was evaluated";
  } catch (const klab::TrainError& e) {
    EXPECT_NE(std::string(e.what()).find("000001 on 2021-01-05"), std::string::npos) << e.what();
  }
}

TEST(CrossSection, RanksTiesAndDaysWithoutSpread) {
  EXPECT_EQ(klab::average_ranks({3.0, 1.0, 3.0, 2.0}), (std::vector<double>{3.5, 1.0, 3.5, 2.0}));
  EXPECT_NEAR(klab::pearson({1, 2, 3}, {2, 4, 6}), 1.0, 1e-15);
  EXPECT_TRUE(std::isnan(klab::pearson({1, 1, 1}, {1, 2, 3})));
  // {date, symbol, prediction, label, last_close}: returns are relative to last_close = 1.
  klab::Predictions p = {
      {"2021-01-04", "000001", 1.01, 1.02, 1.0}, {"2021-01-04", "000002", 1.02, 1.01, 1.0},
      {"2021-01-04", "000003", 1.03, 1.03, 1.0},                                             // IC 0.5, Rank IC 0.5
      {"2021-01-05", "000001", 1.01, 1.02, 1.0}, {"2021-01-05", "000002", 1.01, 1.03, 1.0},  // no spread: skipped
      {"2022-01-04", "000001", 1.01, 1.01, 1.0}, {"2022-01-04", "000002", 1.02, 1.03, 1.0}};  // IC 1
  const auto cs = klab::cross_section(p);
  ASSERT_EQ(cs.days.size(), 2u);
  EXPECT_EQ(cs.skipped_days, 1u);
  EXPECT_NEAR(cs.days[0].ic, 0.5, 1e-9);
  EXPECT_NEAR(cs.days[0].rank_ic, 0.5, 1e-12);
  EXPECT_NEAR(cs.days[1].rank_ic, 1.0, 1e-12);
  const auto s = cs.summary();
  EXPECT_NEAR(s["rank_ic_mean"].get<double>(), 0.75, 1e-12);
  EXPECT_NEAR(s["rank_ic_std"].get<double>(), std::sqrt(0.125), 1e-12);  // ddof 1
  EXPECT_NEAR(s["rank_ic_positive_share"].get<double>(), 1.0, 1e-12);
  EXPECT_EQ(s["by_year"]["2022"]["days"], 1);
}
