// A Qlib data directory imports as the same bars as the CSV files it was made from:
// ../shared/data/qlib-sample (ten stocks, 2015-2016, one delisted, one long suspension) against
// the same symbols of ../shared/data/universe, row by row. float32 storage leaves ~1e-7 relative
// error: prices are compared on the 0.01 tick, volume to whole shares (as the sample's README says).
#include "data/qlib_dir.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <tuple>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "data/importer.h"
#include "data/kline_store.h"
#include "klab/error.h"
#include "test_support.h"

namespace fs = std::filesystem;

namespace {

fs::path shared(const char* name) { return klab::test::shared_data_dir().parent_path() / name; }

}  // namespace

TEST(Qlib, SampleDirectoryImportsAsTheCsvFilesItWasMadeFrom) {
  const fs::path qlib = shared("qlib-sample"), universe = shared("universe");
  if (!fs::is_directory(qlib) || !fs::is_directory(universe)) GTEST_SKIP() << "shared data not found";
  ASSERT_TRUE(klab::is_qlib_directory(qlib));
  EXPECT_FALSE(klab::is_qlib_directory(universe));
  klab::test::TempDir dir;
  auto q = klab::open_kline_store("sqlite:" + (dir / "qlib.db").string(), "");
  const auto report = klab::import_kline_files(*q, {qlib});
  ASSERT_EQ(report.failed_files, 0u) << report.files[0].error;
  EXPECT_EQ(report.files[0].format, "qlib");
  EXPECT_EQ(report.files[0].symbols.size(), 10u);
  // The CSV side: the same ten symbols from the universe archives.
  std::vector<fs::path> csv;
  for (const char* s : {"sh600000", "sh600519", "sh600030", "sh600036", "sh601318", "sz000001", "sz000002", "sz000024",
                        "sz000651", "sz300059"}) {
    csv.push_back(universe / (std::string(s) + ".csv.gz"));
  }
  auto c = klab::open_kline_store("sqlite:" + (dir / "csv.db").string(), "");
  klab::import_kline_files(*c, csv);
  auto from_qlib = klab::test::registry().create_data_source("sqlite", nlohmann::json{{"path", (dir / "qlib.db").string()}}.dump());
  auto from_csv = klab::test::registry().create_data_source("sqlite", nlohmann::json{{"path", (dir / "csv.db").string()}}.dump());
  std::size_t rows = 0, pre_closes = 0;
  for (const auto& info : from_qlib->list_symbols()) {
    const auto a = from_qlib->load_bars(info.symbol, "", "");
    auto b = from_csv->load_bars(info.symbol, "2015-01-05", "2016-12-30");
    // The CSV side keeps zero-volume days; the Qlib importer drops them (counted as rejected).
    b.erase(std::remove_if(b.begin(), b.end(), [](const klab::Bar& x) { return x.volume == 0; }), b.end());
    ASSERT_EQ(a.size(), b.size()) << info.symbol;
    for (std::size_t i = 0; i < a.size(); ++i) {
      ASSERT_EQ(a[i].trade_date, b[i].trade_date) << info.symbol;
      const std::string at = info.symbol + " " + a[i].trade_date;
      EXPECT_DOUBLE_EQ(a[i].open, b[i].open) << at;
      EXPECT_DOUBLE_EQ(a[i].high, b[i].high) << at;
      EXPECT_DOUBLE_EQ(a[i].low, b[i].low) << at;
      EXPECT_DOUBLE_EQ(a[i].close, b[i].close) << at;
      EXPECT_NEAR(a[i].volume, b[i].volume, 1.0 + 1e-6 * b[i].volume) << at;  // float32: ~7 digits
      EXPECT_NEAR(a[i].amount, b[i].amount, 1e-6 * b[i].amount) << at;
      if (i > 0) {  // the first day has no previous close in the directory
        EXPECT_DOUBLE_EQ(a[i].pre_close, b[i].pre_close) << at;
        ++pre_closes;
      }
      ++rows;
    }
  }
  EXPECT_GT(rows, 4000u);
  EXPECT_GT(pre_closes, 4000u);
  // The delisted stock ends where it ended; the suspension is a gap, not filled.
  EXPECT_EQ(from_qlib->load_bars("000024", "", "").back().trade_date, "2015-12-07");
  EXPECT_TRUE(from_qlib->load_bars("000002", "2015-12-19", "2016-07-03").empty());
  // A second import changes nothing.
  const auto again = klab::import_kline_files(*q, {qlib});
  EXPECT_EQ(again.total.inserted, 0u);
  EXPECT_EQ(again.total.updated, 0u);
}

TEST(Qlib, ABrokenDirectoryIsOneErrorNamingTheFile) {
  klab::test::TempDir dir;
  klab::test::write_file(dir / "calendars" / "day.txt", "2021-01-04\n2021-01-05\n");
  klab::test::write_file(dir / "instruments" / "all.txt", "SH600000\t2021-01-04\t2021-01-05\n");
  fs::create_directories(dir / "features" / "sh600000");
  // close.day.bin: start index 1 with three values on a two-day calendar.
  std::ofstream bin(dir / "features" / "sh600000" / "open.day.bin", std::ios::binary);
  const float values[] = {1.0f, 10.0f, 11.0f, 12.0f};
  bin.write(reinterpret_cast<const char*>(values), sizeof values);
  bin.close();
  try {
    klab::read_qlib_directory(dir.path());
    FAIL() << "a .bin longer than the calendar was read";
  } catch (const klab::DataError& e) {
    EXPECT_NE(std::string(e.what()).find("open.day.bin"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("do not fit the calendar"), std::string::npos) << e.what();
  }
  fs::remove(dir / "features" / "sh600000" / "open.day.bin");
  EXPECT_THROW(klab::read_qlib_directory(dir.path()), klab::DataError);  // a missing field, named
}

// Qlib's instruments/all.txt need not list the stocks in order, and may list one twice: the
// directory's rows still come by symbol then date (the order every KlineFile has), the second
// listing's days are refused as duplicates, and the database ends up as from the file in order.
TEST(Qlib, InstrumentsOutOfOrderOrTwiceReadAsTheSortedList) {
  const fs::path qlib = shared("qlib-sample");
  if (!fs::is_directory(qlib)) GTEST_SKIP() << "shared data not found";
  klab::test::TempDir dir;
  const fs::path shuffled = dir / "qlib";
  fs::copy(qlib, shuffled, fs::copy_options::recursive);
  std::vector<std::string> lines;
  {
    std::ifstream in(qlib / "instruments" / "all.txt");
    for (std::string line; std::getline(in, line);) {
      if (!line.empty()) lines.push_back(line);
    }
  }
  ASSERT_EQ(lines.size(), 10u);
  std::string text;
  for (auto it = lines.rbegin(); it != lines.rend(); ++it) text += *it + "\n";  // reversed
  text += lines[3] + "\n";                                                       // and one twice
  fs::remove(shuffled / "instruments" / "all.txt");
  klab::test::write_file(shuffled / "instruments" / "all.txt", text);

  const auto sorted = klab::read_qlib_directory(qlib), read = klab::read_qlib_directory(shuffled);
  ASSERT_EQ(read.rows.size(), sorted.rows.size());
  for (std::size_t i = 0; i < read.rows.size(); ++i) {
    ASSERT_EQ(read.rows[i].symbol, sorted.rows[i].symbol) << i;
    ASSERT_EQ(read.rows[i].bar.trade_date, sorted.rows[i].bar.trade_date) << i;
    ASSERT_EQ(read.rows[i].bar.close, sorted.rows[i].bar.close) << i;
    if (i > 0) {
      ASSERT_TRUE(std::tie(read.rows[i - 1].symbol, read.rows[i - 1].bar.trade_date) <
                  std::tie(read.rows[i].symbol, read.rows[i].bar.trade_date)) << i;
    }
  }
  // The second listing: every day it has is a duplicate, named.
  const std::string twice = lines[3].substr(2, 6);
  const auto days = static_cast<std::size_t>(std::count_if(read.rows.begin(), read.rows.end(),
                                                           [&](const klab::KlineRow& r) { return r.symbol == twice; }));
  ASSERT_GT(days, 100u);
  std::size_t duplicates = 0;
  for (const auto& r : read.rejected) {
    if (r.reason.rfind("duplicate day ", 0) == 0) {
      EXPECT_NE(r.reason.find(" for " + twice), std::string::npos) << r.reason;
      ++duplicates;
    }
  }
  EXPECT_EQ(duplicates, days);
  EXPECT_EQ(read.rows_read, sorted.rows_read + read.rejected.size() - sorted.rejected.size());

  auto a = klab::open_kline_store("sqlite:" + (dir / "a.db").string(), "");
  auto b = klab::open_kline_store("sqlite:" + (dir / "b.db").string(), "");
  EXPECT_EQ(klab::import_kline_files(*a, {qlib}).total.inserted, sorted.rows.size());
  EXPECT_EQ(klab::import_kline_files(*b, {shuffled}).total.inserted, sorted.rows.size());
}
