// The feature registry and Alpha158 on hand-made series: names in Qlib's order, values that can
// be worked out by hand, the rules for constant windows, no look-ahead, and only what is asked
// for computed. The comparison with pandas on real symbols is Integration.Alpha158MatchesPandas.
#include "data/features.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <set>

#include <gtest/gtest.h>

#include "data/features_alpha158.h"
#include "data/scaler.h"
#include "klab/error.h"

namespace {

std::vector<klab::Bar> bars_from_closes(const std::vector<double>& closes) {
  std::vector<klab::Bar> bars;
  for (std::size_t i = 0; i < closes.size(); ++i) {
    klab::Bar b;
    b.trade_date = "2020-01-" + std::to_string(10 + i);  // only order matters here
    b.open = closes[i] * 0.99;
    b.high = closes[i] * 1.02;
    b.low = closes[i] * 0.97;
    b.close = closes[i];
    b.volume = 1000.0 + static_cast<double>(i % 7) * 100.0;
    b.amount = b.volume * closes[i];
    bars.push_back(b);
  }
  return bars;
}

std::vector<klab::Bar> random_walk(std::size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> step(0.0, 0.02);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::vector<klab::Bar> bars;
  double price = 20;
  for (std::size_t i = 0; i < n; ++i) {
    klab::Bar b;
    b.trade_date = std::to_string(2000 + i);
    b.open = price * (1 + step(rng) / 4);
    price *= 1 + step(rng);
    b.close = price;
    b.high = std::max(b.open, b.close) * (1 + u(rng) * 0.02);
    b.low = std::min(b.open, b.close) * (1 - u(rng) * 0.02);
    b.volume = 1e6 * (0.5 + u(rng));
    b.amount = b.volume * (b.low + b.high) / 2;
    bars.push_back(b);
  }
  return bars;
}

double value(const klab::FeatureFrame& f, std::size_t row, const std::string& name) {
  const auto it = std::find(f.names.begin(), f.names.end(), name);
  EXPECT_NE(it, f.names.end()) << name;
  return f.at(row, static_cast<std::size_t>(it - f.names.begin()));
}

}  // namespace

TEST(Alpha158, NamesFollowQlibsOrder) {
  const auto& names = klab::alpha158::names();
  ASSERT_EQ(names.size(), 158u);
  EXPECT_EQ(std::set<std::string>(names.begin(), names.end()).size(), 158u);
  EXPECT_EQ(names.front(), "KMID");
  EXPECT_EQ(names[8], "KSFT2");
  EXPECT_EQ(names[12], "VWAP0");
  EXPECT_EQ(names[13], "ROC5");
  EXPECT_EQ(names[17], "ROC60");
  EXPECT_EQ(names[18], "MA5");
  EXPECT_EQ(names.back(), "VSUMD60");
  EXPECT_EQ(klab::feature_set("alpha158"), names);
  const auto twenty = klab::feature_set("alpha158_20");
  ASSERT_EQ(twenty.size(), 20u);
  EXPECT_NO_THROW(klab::validate_feature_names(twenty));
  EXPECT_EQ(klab::warmup_rows(names), 60u);
  EXPECT_EQ(klab::warmup_rows({"KMID", "VWAP0"}), 0u);
  EXPECT_EQ(klab::warmup_rows({"MA5"}), 4u);
  EXPECT_EQ(klab::warmup_rows({"ROC5"}), 5u);
  EXPECT_EQ(klab::warmup_rows({"CORD60"}), 60u);
  EXPECT_THROW(klab::validate_feature_names({"ROC7"}), klab::ConfigError);
  EXPECT_THROW(klab::feature_set("alpha159"), klab::ConfigError);
}

// A straight line of closes 10, 11, ...: the regression fits exactly, the close is the highest
// of its window and ranks first, every day is an up day.
TEST(Alpha158, StraightLineByHand) {
  std::vector<double> closes;
  for (int i = 0; i < 80; ++i) closes.push_back(10.0 + i);
  const auto f = klab::compute_features(bars_from_closes(closes), klab::alpha158::names());
  const std::size_t r = 70;
  const double c = closes[r];
  EXPECT_NEAR(value(f, r, "ROC5"), (c - 5) / c, 1e-15);
  EXPECT_NEAR(value(f, r, "MA5"), (c - 2) / c, 1e-15);
  EXPECT_NEAR(value(f, r, "STD5"), std::sqrt(2.5) / c, 1e-15);  // var of 5 consecutive integers
  EXPECT_NEAR(value(f, r, "BETA20"), 1.0 / c, 1e-15);
  EXPECT_NEAR(value(f, r, "RSQR20"), 1.0, 1e-15);
  EXPECT_NEAR(value(f, r, "RESI20"), 0.0, 1e-15);
  EXPECT_DOUBLE_EQ(value(f, r, "RANK10"), 1.0);
  EXPECT_DOUBLE_EQ(value(f, r, "IMAX10"), 1.0);   // the highest high is today's: position 10 of 10
  EXPECT_DOUBLE_EQ(value(f, r, "IMIN10"), 0.1);   // the lowest low is the oldest row's
  EXPECT_DOUBLE_EQ(value(f, r, "IMXD10"), 0.9);
  EXPECT_DOUBLE_EQ(value(f, r, "CNTP20"), 1.0);
  EXPECT_DOUBLE_EQ(value(f, r, "CNTN20"), 0.0);
  EXPECT_NEAR(value(f, r, "SUMP20"), 1.0, 1e-12);
  EXPECT_NEAR(value(f, r, "QTLU5"), (c - 4 + 3.2) / c, 1e-15);  // 0.8 * (5 - 1) = 3.2
  EXPECT_NEAR(value(f, r, "QTLD5"), (c - 4 + 0.8) / c, 1e-15);
  EXPECT_NEAR(value(f, r, "MAX5"), c * 1.02 / c, 1e-15);
  EXPECT_NEAR(value(f, r, "MIN5"), (c - 4) * 0.97 / c, 1e-15);
  EXPECT_NEAR(value(f, r, "VWAP0"), 1.0, 1e-15);  // amount = volume x close
  // Rows before a window is complete are undefined; the first complete one is not.
  EXPECT_TRUE(std::isnan(value(f, 3, "MA5")));
  EXPECT_FALSE(std::isnan(value(f, 4, "MA5")));
  EXPECT_TRUE(std::isnan(value(f, 4, "CNTP5")));
  EXPECT_FALSE(std::isnan(value(f, 5, "CNTP5")));
  EXPECT_TRUE(std::isnan(value(f, 59, "CORD60")));
  EXPECT_FALSE(std::isnan(value(f, 60, "CORD60")));
}

// Constant closes: the deviation is exactly 0 (not rounding noise) and the regression's R² and
// the correlations are undefined.
TEST(Alpha158, ConstantWindowsAreExact) {
  std::vector<double> closes(40, 0.1);  // 0.1 is not exact in binary: noise would show
  for (std::size_t i = 0; i < 20; ++i) closes[i] = 0.1 + 0.01 * static_cast<double>(i);
  const auto f = klab::compute_features(bars_from_closes(closes), klab::alpha158::names());
  const std::size_t r = 35;  // 16 equal closes behind it
  EXPECT_EQ(value(f, r, "STD10"), 0.0);
  EXPECT_EQ(value(f, r, "BETA10"), 0.0);
  EXPECT_EQ(value(f, r, "RESI10"), 0.0);
  EXPECT_TRUE(std::isnan(value(f, r, "RSQR10")));
  EXPECT_TRUE(std::isnan(value(f, r, "CORR10")));
  EXPECT_EQ(value(f, r, "CNTD10"), 0.0);
  EXPECT_EQ(value(f, r, "SUMP10"), 0.0);  // no move at all: 0 / (0 + 1e-12)
  EXPECT_DOUBLE_EQ(value(f, r, "RANK10"), 0.55);  // all tied: average rank 5.5 of 10
  // The window that still holds the last move is defined.
  EXPECT_FALSE(std::isnan(value(f, 25, "RSQR10")));
}

// A row's features use no later bar: computed from bars[0..r] they equal the full series' row r,
// and 60 rows of history are enough (no recursion).
TEST(Alpha158, NoLookAheadAndShortHistoryEnough) {
  const auto bars = random_walk(400, 7);
  const auto& names = klab::alpha158::names();
  const auto full = klab::compute_features(bars, names);
  for (std::size_t r : {60u, 61u, 150u, 399u}) {
    const std::vector<klab::Bar> upto(bars.begin(), bars.begin() + static_cast<long>(r) + 1);
    const std::vector<klab::Bar> tail(bars.begin() + static_cast<long>(r - 60), bars.begin() + static_cast<long>(r) + 1);
    const auto a = klab::compute_features(upto, names), b = klab::compute_features(tail, names);
    for (std::size_t j = 0; j < names.size(); ++j) {
      ASSERT_FALSE(std::isnan(full.at(r, j))) << names[j] << " at " << r;
      EXPECT_EQ(a.at(r, j), full.at(r, j)) << names[j] << " at " << r;
      EXPECT_EQ(b.at(60, j), full.at(r, j)) << names[j] << " at " << r;
    }
  }
}

// Asking for a few features of both groups gives exactly their columns of the full sets.
TEST(Alpha158, MixedSelectionEqualsFullSets) {
  const auto bars = random_walk(300, 11);
  const std::vector<std::string> mixed = {"WVMA60", "ma_5", "KLOW", "rsi_14", "RANK20", "CORD10"};
  const auto some = klab::compute_features(bars, mixed);
  const auto alpha = klab::compute_features(bars, klab::alpha158::names());
  const auto base = klab::compute_features(bars, klab::default_feature_names());
  for (std::size_t j = 0; j < mixed.size(); ++j) {
    const bool in_alpha = std::find(alpha.names.begin(), alpha.names.end(), mixed[j]) != alpha.names.end();
    const auto& whole = in_alpha ? alpha : base;
    for (std::size_t i = 0; i < bars.size(); ++i) {
      const double a = some.at(i, j), b = value(whole, i, mixed[j]);
      EXPECT_TRUE((std::isnan(a) && std::isnan(b)) || a == b) << mixed[j] << " row " << i;
    }
  }
}

// Non-finite input (a corrupt bar) makes exactly the windows that contain it undefined.
TEST(Alpha158, NonFiniteInputOnlySpoilsItsWindows) {
  auto bars = random_walk(200, 3);
  bars[100].close = std::nan("");
  const auto f = klab::compute_features(bars, {"MA5", "QTLU5", "RANK5"});
  for (const char* name : {"MA5", "QTLU5", "RANK5"}) {
    EXPECT_FALSE(std::isnan(value(f, 99, name))) << name;
    for (std::size_t r = 100; r < 105; ++r) EXPECT_TRUE(std::isnan(value(f, r, name))) << name << " " << r;
    EXPECT_FALSE(std::isnan(value(f, 105, name))) << name;
  }
}

// Alpha360's columns are window-relative: prices over the window's last CLOSE, VOLUME over its
// last VOLUME; a price without CLOSE to divide by is refused.
TEST(Alpha360, ColumnsAndTheirDivisors) {
  const auto names = klab::feature_set("alpha360");
  ASSERT_EQ(names, (std::vector<std::string>{"CLOSE", "OPEN", "HIGH", "LOW", "VWAP", "VOLUME"}));
  EXPECT_EQ(klab::warmup_rows(names), 0u);
  const auto d = klab::window_divisors(names);
  ASSERT_EQ(d.size(), 6u);
  for (std::size_t j = 0; j < 5; ++j) EXPECT_EQ(d[j].column, 0) << names[j];
  EXPECT_EQ(d[5].column, 5);
  EXPECT_DOUBLE_EQ(d[5].epsilon, 1e-12);
  EXPECT_TRUE(klab::window_divisors({"ma_5", "KMID"}).empty());
  EXPECT_THROW(klab::validate_feature_names({"OPEN", "VOLUME"}), klab::ConfigError);
  EXPECT_NO_THROW(klab::validate_feature_names({"VOLUME", "KMID"}));
  // The scaler divides a window by its own last row, then scales.
  klab::Scaler s;
  s.kind = "none";
  s.center = {0, 0};
  s.scale = {1, 1};
  s.window_divisor = {0, 1};
  s.window_epsilon = {0, 1e-12};
  const std::vector<double> rows = {10, 100, 11, 300, 12.5, 200};  // [CLOSE, VOLUME] x 3 rows
  std::vector<float> out(6);
  s.scale_window(rows.data(), 3, out.data());
  EXPECT_FLOAT_EQ(out[0], 10 / 12.5f);
  EXPECT_FLOAT_EQ(out[3], 300 / 200.0f);
  EXPECT_FLOAT_EQ(out[4], 1.0f);
  EXPECT_FLOAT_EQ(out[5], 1.0f);
}
