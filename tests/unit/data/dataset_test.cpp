// Datasets: chronological leakage-free splits, a scaler fitted on training rows alone, windows
// that never span a suspension, and memory that does not grow with seq_length.
#include "data/dataset.h"

#include <algorithm>
#include <cmath>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "data/features.h"
#include "data/importer.h"
#include "data/window_batch.h"
#include "data/windows.h"
#include "klab/error.h"
#include "test_support.h"

using klab::test::TempDir;
namespace fs = std::filesystem;

namespace {

// The committed sample (5 real symbols, 2016-2022) in a fresh SQLite file.
class SampleDb : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    auto store = klab::open_kline_store("sqlite:" + (*dir_ / "kline.db").string(), "");
    std::vector<fs::path> files;
    for (const auto& item : fs::directory_iterator(klab::test::sample_data_dir())) {
      if (item.path().extension() == ".csv") files.push_back(item.path());
    }
    auto report = klab::import_kline_files(*store, files);
    ASSERT_EQ(report.failed_files, 0u);
  }
  static void TearDownTestSuite() { delete dir_; }

  std::shared_ptr<klab::DataSource> source() const {
    return klab::test::registry().create_data_source(
        "sqlite", nlohmann::json{{"path", (*dir_ / "kline.db").string()}}.dump());
  }
  static klab::DatasetSpec spec(std::vector<std::string> symbols) {
    klab::DatasetSpec s;
    s.symbols = std::move(symbols);
    s.features = klab::default_feature_names();
    s.seq_length = 20;
    return s;
  }
  static TempDir* dir_;
};
TempDir* SampleDb::dir_ = nullptr;

}  // namespace

TEST_F(SampleDb, SplitsAreChronologicalByTargetDate) {
  auto src = source();
  auto ds = klab::Dataset::build(*src, spec({"600519", "000001"}));
  ASSERT_FALSE(ds.train().empty());
  ASSERT_FALSE(ds.val().empty());
  ASSERT_FALSE(ds.test().empty());
  for (const auto& w : ds.train()) EXPECT_LT(ds.target_date(w), ds.val_start());
  for (const auto& w : ds.val()) {
    EXPECT_GE(ds.target_date(w), ds.val_start());
    EXPECT_LT(ds.target_date(w), ds.test_start());
  }
  for (const auto& w : ds.test()) EXPECT_GE(ds.target_date(w), ds.test_start());
  const double total = ds.train().size() + ds.val().size() + ds.test().size();
  EXPECT_NEAR(ds.train().size() / total, 0.7, 0.02);
  EXPECT_NEAR(ds.test().size() / total, 0.15, 0.02);
  EXPECT_EQ(ds.dropped_warmup_rows(), 2u * klab::warmup_rows(klab::default_feature_names()));
}

TEST_F(SampleDb, ScalerStatisticsAreThoseOfTheTrainingRowsAlone) {
  auto src = source();
  for (const char* kind : {"zscore", "robust"}) {
    auto s = spec({"600519"});
    s.scaler = kind;
    auto ds = klab::Dataset::build(*src, s);
    // Recompute independently: features of the rows dated before the validation period.
    auto bars = klab::adjust_bars(src->load_bars("600519", "", ""), s.adjustment);
    auto frame = klab::compute_features(bars, s.features);
    for (std::size_t j = 0; j < frame.cols(); ++j) {
      std::vector<double> v;
      for (std::size_t i = klab::warmup_rows(s.features); i < frame.rows() && frame.dates[i] < ds.val_start(); ++i) {
        v.push_back(frame.at(i, j));
      }
      double center, scale;
      if (std::string(kind) == "zscore") {
        double mean = 0, ss = 0;
        for (double x : v) mean += x;
        mean /= v.size();
        for (double x : v) ss += (x - mean) * (x - mean);
        center = mean;
        scale = std::sqrt(ss / v.size());
      } else {
        std::sort(v.begin(), v.end());
        auto q = [&](double p) {
          double pos = p * (v.size() - 1);
          std::size_t lo = static_cast<std::size_t>(pos);
          return v[lo] + (v[std::min(lo + 1, v.size() - 1)] - v[lo]) * (pos - lo);
        };
        center = q(0.5);
        scale = q(0.75) - q(0.25);
      }
      EXPECT_NEAR(ds.scaler().center[j], center, 1e-9 * (1 + std::abs(center))) << kind << " " << frame.names[j];
      EXPECT_NEAR(ds.scaler().scale[j], scale, 1e-9 * (1 + std::abs(scale))) << kind << " " << frame.names[j];
    }
  }
}

TEST_F(SampleDb, ValidationAndTestDataCannotMoveTheScaler) {
  auto src = source();
  // On the defaults: the default adjustment (backward) is causal, each factor depends only on
  // earlier days. 600036 goes ex-dividend in July 2021, after the shorter end date: forward
  // adjustment would rescale every training price by it and move the scaler (checked below).
  auto s = spec({"600036"});
  EXPECT_EQ(s.adjustment, klab::Adjustment::kBackward);
  s.split.val_start = "2020-01-02";
  s.split.test_start = "2021-01-04";
  auto full = klab::Dataset::build(*src, s);
  s.end_date = "2021-06-30";  // different (shorter) val/test data, same training rows
  auto shorter = klab::Dataset::build(*src, s);
  EXPECT_EQ(full.scaler().center, shorter.scaler().center);
  EXPECT_EQ(full.scaler().scale, shorter.scaler().scale);
  EXPECT_EQ(full.scaler().target_center, shorter.scaler().target_center);
  EXPECT_EQ(full.train().size(), shorter.train().size());
  EXPECT_LT(shorter.test().size(), full.test().size());
  // The same comparison with forward adjustment sees the later ex-dividend day: the check bites.
  s.adjustment = klab::Adjustment::kForward;
  s.end_date = "";
  auto forward_full = klab::Dataset::build(*src, s);
  s.end_date = "2021-06-30";
  auto forward_shorter = klab::Dataset::build(*src, s);
  EXPECT_NE(forward_full.scaler().center, forward_shorter.scaler().center);
}

TEST_F(SampleDb, WindowsAreScaledSlicesOfTheFeatureMatrix) {
  auto src = source();
  auto ds = klab::Dataset::build(*src, spec({"601318"}));
  const auto& w = ds.test().back();
  std::vector<float> window(20 * ds.n_features());
  ds.fill_window(w, window.data());
  auto bars = klab::adjust_bars(src->load_bars("601318", "", ""), ds.spec().adjustment);
  auto frame = klab::compute_features(bars, ds.spec().features);
  const std::size_t raw_row = w.end_row + klab::warmup_rows(ds.spec().features);  // warm-up rows are dropped first
  for (std::size_t j = 0; j < ds.n_features(); ++j) {
    const double expected = (frame.at(raw_row, j) - ds.scaler().center[j]) / ds.scaler().scale[j];
    EXPECT_NEAR(window[19 * ds.n_features() + j], expected, 1e-4 * (1 + std::abs(expected)));
  }
  EXPECT_DOUBLE_EQ(ds.raw_target(w), bars[raw_row + 1].close);  // next-day adjusted close
  EXPECT_DOUBLE_EQ(ds.last_close(w), bars[raw_row].close);
}

TEST_F(SampleDb, MemoryGrowsWithRowsNotWithSeqLength) {
  auto src = source();
  auto s = spec({"600519", "000001", "601318", "600036", "000858"});
  s.seq_length = 5;
  auto small = klab::Dataset::build(*src, s);
  s.seq_length = 60;
  auto large = klab::Dataset::build(*src, s);
  std::size_t rows = 0;
  for (const auto& series : large.series()) rows += series.dates.size();
  const std::size_t matrix = rows * large.n_features() * sizeof(float);
  EXPECT_LT(large.memory_bytes(), matrix * 2);
  EXPECT_LT(large.memory_bytes(), small.memory_bytes() * 1.05);
}

TEST_F(SampleDb, ReturnTargetAndErrors) {
  auto src = source();
  auto s = spec({"000858"});
  s.target_kind = "return";
  s.horizon = 5;
  auto ds = klab::Dataset::build(*src, s);
  const auto& w = ds.train().front();
  const auto& series = ds.series()[w.series];
  EXPECT_DOUBLE_EQ(ds.raw_target(w), series.close[w.end_row + 5] / series.close[w.end_row] - 1);

  try {
    klab::Dataset::build(*src, spec({"688999"}));
    FAIL();
  } catch (const klab::DataError& e) {
    EXPECT_NE(std::string(e.what()).find("symbol 688999: no bars in SQLite"), std::string::npos) << e.what();
  }
  auto tiny = spec({"600519"});
  tiny.start_date = "2021-12-01";
  EXPECT_THROW(klab::Dataset::build(*src, tiny), klab::DataError);
  auto bad = spec({"600519"});
  bad.split.train = 0.9;
  EXPECT_THROW(klab::Dataset::build(*src, bad), klab::ConfigError);
}

TEST(Dataset, NoWindowSpansASuspension) {
  TempDir dir;
  // 400 trading days with a 60-calendar-day suspension after day 200.
  std::string csv =
      "数据由邢不行整理\n"
      "股票代码,股票名称,交易日期,开盘价,最高价,最低价,收盘价,前收盘价,成交量,成交额,流通市值,总市值\n";
  long day = klab::days_from_iso("2015-01-05");
  double close = 10;
  // The gap comes after the warm-up (219 rows for basic), so windows meet it.
  for (int i = 0; i < 600; ++i) {
    day += (i == 400) ? 60 : 1;
    const std::string date = klab::iso_from_days(day);
    const double prev = close;
    close = prev * (1 + 0.01 * std::sin(i * 0.7));
    char row[256];
    std::snprintf(row, sizeof row, "sz000001,平安银行,%s,%.4f,%.4f,%.4f,%.4f,%.4f,%d,%d,1,1\n", date.c_str(),
                  prev, std::max(prev, close) * 1.01, std::min(prev, close) * 0.99, close, prev,
                  100000 + i * 10, 1000000 + i);
    csv += row;
  }
  klab::test::write_file(dir / "sz000001.csv", csv);
  auto src = klab::test::registry().create_data_source(
      "csv", nlohmann::json{{"path", dir.path().string()}}.dump());
  klab::DatasetSpec s;
  s.symbols = {"000001"};
  s.features = klab::feature_set("basic");
  s.seq_length = 10;
  s.max_gap_days = 15;
  auto ds = klab::Dataset::build(*src, s);
  EXPECT_EQ(ds.skipped_gap_windows(), 10u);  // every window whose inputs or target cross the gap
  const auto& series = ds.series()[0];
  for (const auto* split : {&ds.train(), &ds.val(), &ds.test()}) {
    for (const auto& w : *split) {
      for (std::size_t i = w.end_row + 1 - 10; i < w.end_row + 1; ++i) {
        EXPECT_LE(klab::days_from_iso(series.dates[i + 1]) - klab::days_from_iso(series.dates[i]), 15)
            << series.dates[i];
      }
    }
  }
}

// A run over several symbols skips one without data in range (delisted, not yet listed) and
// names it; one symbol alone, or nothing left, is still an error.
TEST_F(SampleDb, SeveralSymbolsSkipThoseWithoutDataAndSayWhy) {
  auto src = source();
  auto s = spec({"600519", "688981", "000001"});
  s.start_date = "2019-01-01";
  s.skip_short_symbols = true;
  auto ds = klab::Dataset::build(*src, s);
  ASSERT_EQ(ds.series().size(), 2u);
  ASSERT_EQ(ds.skipped_symbols().size(), 1u);
  EXPECT_EQ(ds.skipped_symbols()[0].symbol, "688981");
  EXPECT_NE(ds.skipped_symbols()[0].reason.find("no bars in SQLite between 2019-01-01 and the end"), std::string::npos);
  // Too few bars for one window is skipped the same way.
  s.start_date = "2021-12-20";
  s.symbols = {"600519", "000001"};
  EXPECT_THROW(klab::Dataset::build(*src, s), klab::DataError);  // nothing left: an error naming why
  try {
    klab::Dataset::build(*src, s);
  } catch (const klab::DataError& e) {
    EXPECT_NE(std::string(e.what()).find("none of the 2 symbol(s) has enough data"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("bars, but a window needs"), std::string::npos) << e.what();
  }
  // One symbol: an error, as before.
  auto one = spec({"688981"});
  EXPECT_THROW(klab::Dataset::build(*src, one), klab::DataError);
}

// A feature's value at a row does not depend on where loading began: computed from the whole
// series (six years) and from only warmup_rows() bars before the row, every feature agrees to
// 1e-6 of its own magnitude — the recursive ones (EMA, MACD, RSI, KDJ) included.
TEST_F(SampleDb, FeaturesDoNotDependOnWhereLoadingBegan) {
  auto src = source();
  const auto names = klab::default_feature_names();
  const std::size_t warmup = klab::warmup_rows(names);
  EXPECT_GE(warmup, 200u) << "the recursive features need a long warm-up";
  for (const char* symbol : {"600519", "000001"}) {
    const auto bars = klab::adjust_bars(src->load_bars(symbol, "", ""), klab::Adjustment::kBackward);
    ASSERT_GT(bars.size(), warmup + 500);
    const auto full = klab::compute_features(bars, names);
    std::vector<double> scale(names.size(), 0.0);  // mean |value| over the defined rows
    for (std::size_t j = 0; j < names.size(); ++j) {
      for (std::size_t i = warmup; i < full.rows(); ++i) scale[j] += std::abs(full.at(i, j));
      scale[j] /= static_cast<double>(full.rows() - warmup);
    }
    double worst = 0;
    std::string worst_at;
    for (std::size_t r = warmup; r < bars.size(); r += 23) {
      const std::vector<klab::Bar> tail(bars.begin() + static_cast<long>(r - warmup), bars.begin() + static_cast<long>(r) + 1);
      const auto minimal = klab::compute_features(tail, names);
      for (std::size_t j = 0; j < names.size(); ++j) {
        const double a = minimal.at(warmup, j), b = full.at(r, j);
        const double rel = std::abs(a - b) / std::max({std::abs(b), scale[j], 1e-12});
        if (rel > worst) {
          worst = rel;
          worst_at = names[j] + " at " + bars[r].trade_date;
        }
      }
    }
    EXPECT_LE(worst, 1e-6) << symbol << ": worst " << worst_at;
  }
}

// The window rules training and prediction share (data/windows.h), on a hand-made series.
TEST(WindowRules, NonFiniteRowsAndSuspensionsRuleWindowsOut) {
  // 8 rows, 1 feature: row 2 is NaN, a 20-day suspension before row 6.
  const std::vector<std::string> dates = {"2021-01-04", "2021-01-05", "2021-01-06", "2021-01-07",
                                          "2021-01-08", "2021-01-11", "2021-02-01", "2021-02-02"};
  const std::vector<double> values = {1, 2, std::nan(""), 4, 5, 6, 7, 8};
  const klab::WindowRules rules(dates, values.data(), 1, 15);
  using V = klab::WindowRules::Verdict;
  EXPECT_EQ(rules.check(1, 2, 1), V::kUsable);
  EXPECT_EQ(rules.check(3, 2, 3), V::kNonFinite);      // rows 2-3
  EXPECT_EQ(rules.check(4, 2, 4), V::kUsable);         // rows 3-4
  EXPECT_EQ(rules.check(4, 2, 5), V::kUsable);         // ... with the target on row 5
  EXPECT_EQ(rules.check(5, 2, 6), V::kGap);            // the target lies after the suspension
  EXPECT_EQ(rules.check(5, 2, 5), V::kUsable);         // predicting as of row 5: no target yet
  EXPECT_EQ(rules.check(7, 2, 7), V::kUsable);         // both rows after it
  EXPECT_EQ(rules.check(6, 2, 6), V::kGap);            // rows 5-6 straddle it
  EXPECT_EQ(rules.first_gap(4, 7), 6u);
  EXPECT_EQ(rules.first_non_finite(0, 7), 2u);
  EXPECT_EQ(rules.first_non_finite(3, 7), klab::WindowRules::npos);
}

// --- panel labels and undefined features --------------------------------------------------------

TEST(PanelLabels, CrossSectionalNormalisationByHand) {
  std::vector<double> y = {0.03, 0.01, 0.02, 0.02};
  klab::normalize_cross_section(y, "cs_rank");  // ranks 4, 1, 2.5, 2.5 of 4
  EXPECT_DOUBLE_EQ(y[0], (1.0 - 0.5) * 3.46);
  EXPECT_DOUBLE_EQ(y[1], (0.25 - 0.5) * 3.46);
  EXPECT_DOUBLE_EQ(y[2], (0.625 - 0.5) * 3.46);
  EXPECT_DOUBLE_EQ(y[3], y[2]);
  std::vector<double> z = {1.0, 2.0, 3.0};
  klab::normalize_cross_section(z, "cs_zscore");  // mean 2, sample std 1
  EXPECT_DOUBLE_EQ(z[0], -1.0);
  EXPECT_DOUBLE_EQ(z[1], 0.0);
  EXPECT_DOUBLE_EQ(z[2], 1.0);
  std::vector<double> lone = {0.05};
  klab::normalize_cross_section(lone, "cs_zscore");
  EXPECT_TRUE(std::isnan(lone[0]));  // one stock: no spread, no label
  std::vector<double> x = {1.0};
  EXPECT_THROW(klab::normalize_cross_section(x, "rank"), klab::ConfigError);
}

TEST(PanelLabels, NextReturnBuysAtTheNextClose) {
  const std::vector<double> close = {10, 11, 12.1, 9.68, 10};
  EXPECT_DOUBLE_EQ(klab::target_of_row(close, 0, "next_return", 1), 12.1 / 11 - 1);
  EXPECT_DOUBLE_EQ(klab::target_of_row(close, 1, "next_return", 2), 10.0 / 12.1 - 1);
  EXPECT_TRUE(std::isnan(klab::target_of_row(close, 3, "next_return", 1)));  // no close after the next
  EXPECT_DOUBLE_EQ(klab::target_of_row(close, 3, "return", 1), 10.0 / 9.68 - 1);
  EXPECT_DOUBLE_EQ(klab::target_of_row(close, 2, "close", 2), 10.0);
  klab::DatasetSpec s;
  s.target_kind = "next_return";
  s.horizon = 1;
  EXPECT_EQ(s.target_offset(), 2u);
  EXPECT_FALSE(s.price_target());
}

namespace {

// Two symbols with 300 rows each; 000002's close does not move for 12 days from row 150, so
// Alpha158's R² and correlations over windows inside that stretch are undefined.
fs::path flat_stretch_csv(const fs::path& dir) {
  for (const char* code : {"sz000001", "sz000002"}) {
    std::string csv =
        "数据由邢不行整理\n"
        "股票代码,股票名称,交易日期,开盘价,最高价,最低价,收盘价,前收盘价,成交量,成交额,流通市值,总市值\n";
    long day = klab::days_from_iso("2015-01-05");
    double close = 10;
    for (int i = 0; i < 300; ++i) {
      day += 1;
      const double prev = close;
      const bool flat = std::string(code) == "sz000002" && i >= 150 && i < 162;
      if (!flat) close = prev * (1 + 0.01 * std::sin(i * 0.7 + (code[7] - '0')));
      char row[256];
      std::snprintf(row, sizeof row, "%s,x,%s,%.4f,%.4f,%.4f,%.4f,%.4f,%d,%d,1,1\n", code,
                    klab::iso_from_days(day).c_str(), prev, std::max(prev, close) * 1.01,
                    std::min(prev, close) * 0.99, close, prev, 100000 + (i * 37) % 1000, 1000000 + i);
      csv += row;
    }
    klab::test::write_file(dir / (std::string(code) + ".csv"), csv);
  }
  return dir;
}

}  // namespace

TEST(PanelLabels, UndefinedFeaturesAreDroppedOrFilledAndCounted) {
  TempDir dir;
  auto src = klab::test::registry().create_data_source(
      "csv", nlohmann::json{{"path", flat_stretch_csv(dir.path()).string()}}.dump());
  klab::DatasetSpec s;
  s.symbols = {"000001", "000002"};
  s.features = {"RSQR5", "CORR10", "KLEN", "ROC5"};
  s.seq_length = 5;
  s.max_gap_days = 400;  // calendar days here are consecutive anyway
  s.scaler = "robust";
  const auto dropped = klab::Dataset::build(*src, s);
  s.fill_nan = true;
  const auto filled = klab::Dataset::build(*src, s);
  const std::size_t n_dropped = dropped.train().size() + dropped.val().size() + dropped.test().size();
  const std::size_t n_filled = filled.train().size() + filled.val().size() + filled.test().size();
  // Rows 149..161 share one close: RSQR5 is undefined on rows 153..161 (9 windows of 5 equal
  // closes), CORR10 on 158..161 (4).
  EXPECT_EQ(filled.filled_nan_rows(), 9u);
  EXPECT_EQ(filled.filled_nan_values(), 9u + 4u);
  EXPECT_EQ(n_filled - n_dropped, 9u + 4u);  // windows of 5 rows ending on 153..165
  const auto& series = filled.series()[1];
  const std::size_t warmup = klab::warmup_rows(s.features);
  EXPECT_EQ(series.features[(154 - warmup) * 4 + 0], 0.0f);  // filled with the training median
  // A window holding a filled row is a valid window again.
  EXPECT_TRUE(filled.scaler().fill_nan);
  EXPECT_FALSE(dropped.scaler().fill_nan);
}

// train.batch_by_date: every group is one date's cross-section, dates ascending, nothing lost;
// and computing features on several threads builds the same dataset.
TEST_F(SampleDb, WindowsGroupedByDateAndThreadsChangeNothing) {
  auto src = source();
  auto s = spec({"600519", "000001", "601318", "600036", "000858"});
  s.features = klab::feature_set("alpha158_20");
  s.skip_short_symbols = true;
  const auto ds = klab::Dataset::build(*src, s);
  const auto groups = klab::group_by_date(ds, ds.train());
  std::size_t covered = 0;
  std::string previous;
  for (const auto& g : groups) {
    ASSERT_FALSE(g.empty());
    EXPECT_LE(g.size(), 5u);
    const auto date = [&](std::size_t i) { return ds.series()[ds.train()[i].series].dates[ds.train()[i].end_row]; };
    for (std::size_t i : g) EXPECT_EQ(date(i), date(g.front()));
    EXPECT_GT(date(g.front()), previous);
    previous = date(g.front());
    covered += g.size();
  }
  EXPECT_EQ(covered, ds.train().size());
  s.threads = 3;
  const auto parallel = klab::Dataset::build(*src, s);
  ASSERT_EQ(parallel.series().size(), ds.series().size());
  for (std::size_t k = 0; k < ds.series().size(); ++k) {
    EXPECT_EQ(parallel.series()[k].symbol, ds.series()[k].symbol);
    EXPECT_EQ(parallel.series()[k].features, ds.series()[k].features);
  }
  EXPECT_EQ(parallel.train().size(), ds.train().size());
  EXPECT_EQ(parallel.scaler().center, ds.scaler().center);
}
