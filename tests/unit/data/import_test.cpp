// Importing the real data set into SQLite, reading it back through sqlite.so and csv.so.
#include "data/importer.h"

#include <zlib.h>

#include <cmath>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "klab/data/adjust.h"
#include "klab/data/sqlite_db.h"
#include "klab/data_source.h"
#include "klab/error.h"
#include "test_support.h"

using klab::test::TempDir;
namespace fs = std::filesystem;

namespace {

std::shared_ptr<klab::DataSource> source(const std::string& name, const nlohmann::json& options) {
  return klab::test::registry().create_data_source(name, options.dump());
}

void expect_same_bars(const std::vector<klab::Bar>& a, const std::vector<klab::Bar>& b,
                      const std::string& what) {
  ASSERT_EQ(a.size(), b.size()) << what;
  for (std::size_t i = 0; i < a.size(); ++i) {
    ASSERT_EQ(a[i].trade_date, b[i].trade_date) << what;
    EXPECT_EQ(a[i].open, b[i].open) << what << " " << a[i].trade_date;
    EXPECT_EQ(a[i].high, b[i].high) << what;
    EXPECT_EQ(a[i].low, b[i].low) << what;
    EXPECT_EQ(a[i].close, b[i].close) << what;
    EXPECT_EQ(a[i].pre_close, b[i].pre_close) << what;
    EXPECT_EQ(a[i].volume, b[i].volume) << what;
    EXPECT_EQ(a[i].amount, b[i].amount) << what;
    EXPECT_EQ(a[i].adj_factor, b[i].adj_factor) << what << " " << a[i].trade_date;
    // Market caps: equal, or unknown in both.
    EXPECT_TRUE(a[i].total_market_cap == b[i].total_market_cap ||
                (std::isnan(a[i].total_market_cap) && std::isnan(b[i].total_market_cap)))
        << what << " " << a[i].trade_date;
    EXPECT_TRUE(a[i].float_market_cap == b[i].float_market_cap ||
                (std::isnan(a[i].float_market_cap) && std::isnan(b[i].float_market_cap)))
        << what << " " << a[i].trade_date;
  }
}

// The 流通市值 and 总市值 cells of `symbol`'s row for `date` in a 邢不行 file, read as text.
std::pair<double, double> caps_in_file(const fs::path& file, const std::string& date) {
  std::ifstream in(file);
  for (std::string line; std::getline(in, line);) {
    if (line.find("," + date + ",") == std::string::npos) continue;
    std::vector<std::string> cells;
    std::stringstream s(line);
    for (std::string c; std::getline(s, c, ',');) cells.push_back(c);
    return {std::stod(cells.at(10)), std::stod(cells.at(11))};
  }
  return {-1, -1};
}

// A copy of `from` compressed with zlib as `to` (what users keep: sh600519.csv.gz).
void gzip_file(const fs::path& from, const fs::path& to, std::size_t keep_bytes = std::string::npos) {
  std::ifstream in(from, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  const std::string all = text.str();
  gzFile out = gzopen(to.c_str(), "wb");
  gzwrite(out, all.data(), static_cast<unsigned>(all.size()));
  gzclose(out);
  if (keep_bytes != std::string::npos) fs::resize_file(to, keep_bytes);  // a truncated archive
}

class SharedData : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::is_directory(klab::test::shared_data_dir())) {
      GTEST_SKIP() << "real data not found at " << klab::test::shared_data_dir();
    }
  }
};

}  // namespace

TEST_F(SharedData, AllTwentyFilesImportIntoSqliteAndReimportChangesNothing) {
  TempDir dir;
  const std::string db = (dir / "kline.db").string();
  auto files = klab::test::shared_data_files();
  ASSERT_EQ(files.size(), 20u);
  {
    auto store = klab::open_kline_store("sqlite:" + db, "");
    auto report = klab::import_kline_files(*store, files);
    EXPECT_EQ(report.failed_files, 0u);
    EXPECT_EQ(report.total.read, 85106u);
    EXPECT_EQ(report.total.inserted, 85106u);
    EXPECT_EQ(report.total.rejected, 0u);
    EXPECT_EQ(report.total.updated, 0u);
    auto again = klab::import_kline_files(*store, files);
    EXPECT_EQ(again.total.inserted, 0u);
    EXPECT_EQ(again.total.updated, 0u);
    EXPECT_EQ(again.total.unchanged, 85106u);
  }
  auto sqlite = source("sqlite", {{"path", db}});
  auto symbols = sqlite->list_symbols();
  ASSERT_EQ(symbols.size(), 20u);
  EXPECT_EQ(symbols.front().symbol, "000001");
  EXPECT_EQ(symbols.front().name, "平安银行");
  EXPECT_EQ(symbols.front().exchange, "SZ");

  // The known value, through both plugins, in every spelling of the symbol.
  auto csv = source("csv", {{"path", klab::test::shared_data_dir().string()}});
  for (const auto& src : {sqlite, csv}) {
    for (const char* spelling : {"600519", "sh600519", "600519.SH"}) {
      auto bars = src->load_bars(spelling, "2020-12-31", "2020-12-31");
      ASSERT_EQ(bars.size(), 1u) << src->display_name() << " " << spelling;
      EXPECT_DOUBLE_EQ(bars[0].close, 1998.00);
    }
  }
  // Identical bars from both sources for every symbol, adj_factor included.
  std::size_t total = 0;
  for (const auto& info : symbols) {
    auto a = sqlite->load_bars(info.symbol, "", "");
    expect_same_bars(a, csv->load_bars(info.symbol, "", ""), info.symbol);
    total += a.size();
  }
  EXPECT_EQ(total, 85106u);

  // A hostile symbol is just a symbol that matches nothing, and nothing changes.
  EXPECT_TRUE(sqlite->load_bars("600519' OR '1'='1", "", "").empty());
  EXPECT_TRUE(sqlite->load_bars("600519'; DROP TABLE stock_kline_data; --", "", "").empty());
  EXPECT_TRUE(csv->load_bars("600519' OR '1'='1", "", "").empty());
  EXPECT_EQ(sqlite->load_bars("600519", "", "").size(), 4874u);
  EXPECT_EQ(sqlite->list_symbols().size(), 20u);
}

TEST_F(SharedData, SuspensionsAreMissingRowsAndExRightsDaysAreAdjusted) {
  auto csv = source("csv", {{"path", klab::test::shared_data_dir().string()}});
  // sh600900 was suspended from 2008-05 to 2009-05: no rows in between.
  auto bars = csv->load_bars("600900", "2008-06-01", "2009-04-30");
  EXPECT_TRUE(bars.empty());
  // On an ex-rights day pre_close differs from yesterday's close; adjusted closes are
  // continuous: adjusted pre_close equals yesterday's adjusted close.
  auto moutai = csv->load_bars("600519", "2016-01-01", "2021-12-31");
  auto adjusted = klab::adjust_bars(moutai, klab::Adjustment::kForward);
  int ex_rights_days = 0;
  for (std::size_t i = 1; i < moutai.size(); ++i) {
    if (moutai[i].pre_close != moutai[i - 1].close) ++ex_rights_days;
    EXPECT_NEAR(adjusted[i].pre_close, adjusted[i - 1].close, 1e-9 * adjusted[i].close);
  }
  EXPECT_GE(ex_rights_days, 5);  // one dividend a year
  EXPECT_DOUBLE_EQ(adjusted.back().close, moutai.back().close);  // forward: last bar is raw
}

TEST(Adjust, FactorFollowsTheDocumentedFormula) {
  std::vector<klab::Bar> bars(3);
  bars[0].trade_date = "2020-01-02"; bars[0].close = 10.0; bars[0].pre_close = 9.8;
  bars[1].trade_date = "2020-01-03"; bars[1].close = 5.2;  bars[1].pre_close = 5.0;  // 10-for-10 bonus
  bars[2].trade_date = "2020-01-06"; bars[2].close = 5.3;  bars[2].pre_close = 5.2;
  for (auto& b : bars) { b.open = b.high = b.low = b.close; b.volume = 100; }
  klab::derive_adj_factors(bars);
  EXPECT_DOUBLE_EQ(bars[0].adj_factor, 1.0);
  EXPECT_DOUBLE_EQ(bars[1].adj_factor, 2.0);  // 1 * 10.0 / 5.0
  EXPECT_DOUBLE_EQ(bars[2].adj_factor, 2.0);
  auto backward = klab::adjust_bars(bars, klab::Adjustment::kBackward);
  EXPECT_DOUBLE_EQ(backward[1].close, 10.4);
  auto forward = klab::adjust_bars(bars, klab::Adjustment::kForward);
  EXPECT_DOUBLE_EQ(forward[0].close, 5.0);
  EXPECT_DOUBLE_EQ(forward[0].volume, 200.0);  // shares in today's share base
  EXPECT_DOUBLE_EQ(forward[2].close, 5.3);
  EXPECT_THROW(klab::parse_adjustment("sideways"), klab::ConfigError);
}

TEST(Import, BadRowsAreCountedAndGoodRowsLand) {
  TempDir dir;
  klab::test::write_file(
      dir / "in" / "sz000001.csv",
      "数据由邢不行整理\n"
      "股票代码,股票名称,交易日期,开盘价,最高价,最低价,收盘价,前收盘价,成交量,成交额,流通市值,总市值\n"
      "sz000001,平安银行,2021-01-04,19.1,19.1,18.44,18.6,19.34,155421643,2891682177,1,1\n"
      "sz000001,平安银行,2021-01-05,18.4,18.48,17.8,17.99,18.6,182135210,3284607765,1,1\n"
      "sz000001,平安银行,2021-01-05,18.4,18.48,17.8,17.99,18.6,182135210,3284607765,1,1\n"
      "sz000001,平安银行,2021-01-06,17.9,19.68,17.8,19.56,17.99,-5,4,1,1\n");
  auto store = klab::open_kline_store("sqlite:" + (dir / "k.db").string(), "");
  auto report = klab::import_kline_files(*store, {dir / "in" / "sz000001.csv"});
  EXPECT_EQ(report.total.read, 4u);
  EXPECT_EQ(report.total.inserted, 2u);
  EXPECT_EQ(report.total.rejected, 2u);
  ASSERT_EQ(report.files[0].rejections.size(), 2u);
  EXPECT_EQ(report.files[0].rejections[0].line, 5u);
  EXPECT_EQ(report.files[0].rejections[1].line, 6u);
  EXPECT_EQ(report.files[0].rejections[1].reason, "negative 成交量 -5");
  auto sqlite = source("sqlite", {{"path", (dir / "k.db").string()}});
  EXPECT_EQ(sqlite->load_bars("000001", "", "").size(), 2u);
}

TEST(DataSources, BadOptionsAreClearErrors) {
  EXPECT_THROW(source("sqlite", {{"path", "/no/such/file.db"}}), klab::DataError);
  EXPECT_THROW(source("sqlite", nlohmann::json::object()), klab::ConfigError);
  EXPECT_THROW(source("sqlite", {{"path", "x.db"}, {"paht", "y"}}), klab::ConfigError);
  EXPECT_THROW(source("csv", {{"path", "/no/such/folder"}}), klab::DataError);
  try {
    source("mysql", {{"password", "hunter2"}});
    FAIL();
  } catch (const klab::ConfigError& e) {
    EXPECT_EQ(std::string(e.what()).find("hunter2"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("password_env"), std::string::npos);
  }
}

TEST_F(SharedData, MarketCapsAreKeptAndReadBackFromEverySource) {
  TempDir dir;
  const auto file = klab::test::shared_data_dir() / "sh600519.csv";
  {
    auto store = klab::open_kline_store("sqlite:" + (dir / "k.db").string(), "");
    klab::import_kline_files(*store, {file});
  }
  const auto [float_cap, total_cap] = caps_in_file(file, "2020-12-31");
  ASSERT_GT(total_cap, 1e12);  // 贵州茅台 was worth ~2.5 trillion CNY
  for (const auto& src : {source("sqlite", {{"path", (dir / "k.db").string()}}),
                          source("csv", {{"path", klab::test::shared_data_dir().string()}})}) {
    const auto bars = src->load_bars("600519", "2020-12-31", "2020-12-31");
    ASSERT_EQ(bars.size(), 1u);
    EXPECT_EQ(bars[0].float_market_cap, float_cap) << src->display_name();
    EXPECT_EQ(bars[0].total_market_cap, total_cap) << src->display_name();
  }
}

TEST_F(SharedData, GzipArchivesImportExactlyAsTheirPlainFiles) {
  TempDir dir;
  fs::create_directories(dir / "gz");
  std::vector<fs::path> plain, packed;
  for (const char* name : {"sh600519", "sz000002"}) {
    plain.push_back(klab::test::shared_data_dir() / (std::string(name) + ".csv"));
    packed.push_back(dir / "gz" / (std::string(name) + ".csv.gz"));
    gzip_file(plain.back(), packed.back());
  }
  auto a = klab::open_kline_store("sqlite:" + (dir / "plain.db").string(), "");
  auto b = klab::open_kline_store("sqlite:" + (dir / "packed.db").string(), "");
  const auto ra = klab::import_kline_files(*a, plain), rb = klab::import_kline_files(*b, packed);
  EXPECT_EQ(rb.failed_files, 0u);
  EXPECT_EQ(ra.total.inserted, rb.total.inserted);
  EXPECT_GT(rb.total.inserted, 8000u);
  auto sa = source("sqlite", {{"path", (dir / "plain.db").string()}});
  auto sb = source("sqlite", {{"path", (dir / "packed.db").string()}});
  auto csv_gz = source("csv", {{"path", (dir / "gz").string()}});  // csv.so reads the archives too
  for (const char* symbol : {"600519", "000002"}) {
    expect_same_bars(sa->load_bars(symbol, "", ""), sb->load_bars(symbol, "", ""), symbol);
    expect_same_bars(sa->load_bars(symbol, "", ""), csv_gz->load_bars(symbol, "", ""), symbol);
  }
  // A truncated archive fails as a whole: named, and nothing of it lands.
  gzip_file(plain[0], dir / "gz" / "sh600000.csv.gz", 20000);
  auto c = klab::open_kline_store("sqlite:" + (dir / "cut.db").string(), "");
  const auto rc = klab::import_kline_files(*c, {dir / "gz" / "sh600000.csv.gz"});
  ASSERT_EQ(rc.failed_files, 1u);
  EXPECT_NE(rc.files[0].error.find("sh600000.csv.gz"), std::string::npos) << rc.files[0].error;
  EXPECT_NE(rc.files[0].error.find("not a valid gzip file"), std::string::npos) << rc.files[0].error;
  EXPECT_TRUE(source("sqlite", {{"path", (dir / "cut.db").string()}})->list_symbols().empty());
}

TEST(Import, AFileWithoutCapsNeverBlanksStoredCaps) {
  TempDir dir;
  klab::test::write_file(dir / "xbx" / "sz000001.csv",
                         "数据由邢不行整理\n"
                         "股票代码,股票名称,交易日期,开盘价,最高价,最低价,收盘价,前收盘价,成交量,成交额,流通市值,总市值\n"
                         "sz000001,平安银行,2021-01-04,19.1,19.1,18.44,18.6,19.34,155421600,2891682000,3.6e11,3.61e11\n"
                         "sz000001,平安银行,2021-01-05,18.4,18.48,17.8,17.99,18.6,182135200,3284607000,,3.5e11\n");
  // The same days from Tushare (vol in lots, amount in thousands): no caps.
  klab::test::write_file(dir / "ts" / "000001.csv",
                         "ts_code,trade_date,open,high,low,close,pre_close,vol,amount\n"
                         "000001.SZ,20210104,19.1,19.1,18.44,18.6,19.34,1554216,2891682\n"
                         "000001.SZ,20210105,18.4,18.48,17.8,17.99,18.6,1821352,3284607\n");
  auto store = klab::open_kline_store("sqlite:" + (dir / "k.db").string(), "");
  klab::import_kline_files(*store, {dir / "xbx" / "sz000001.csv"});
  const auto again = klab::import_kline_files(*store, {dir / "ts" / "000001.csv"});
  EXPECT_EQ(again.total.unchanged, 2u);
  EXPECT_EQ(again.total.updated, 0u);
  const auto bars = source("sqlite", {{"path", (dir / "k.db").string()}})->load_bars("000001", "", "");
  ASSERT_EQ(bars.size(), 2u);
  EXPECT_EQ(bars[0].float_market_cap, 3.6e11);
  EXPECT_EQ(bars[0].total_market_cap, 3.61e11);
  EXPECT_TRUE(std::isnan(bars[1].float_market_cap));  // an empty cell is unknown, not zero
  EXPECT_EQ(bars[1].total_market_cap, 3.5e11);
}

TEST(Import, ADatabaseOfAnOlderKlabIsReadAndGainsTheCapColumns) {
  TempDir dir;
  const std::string db = (dir / "old.db").string();
  {
    // stock_kline_data as klab wrote it before the market caps.
    klab::sqlite::Database old(db, false);
    old.exec("CREATE TABLE stock_kline_data (symbol VARCHAR(6) NOT NULL, trade_date DATE NOT NULL,"
             " open DOUBLE NOT NULL, high DOUBLE NOT NULL, low DOUBLE NOT NULL, close DOUBLE NOT NULL,"
             " pre_close DOUBLE NOT NULL DEFAULT 0, volume DOUBLE NOT NULL DEFAULT 0, amount DOUBLE NOT NULL"
             " DEFAULT 0, adj_factor DOUBLE NOT NULL DEFAULT 1, PRIMARY KEY (symbol, trade_date))");
    old.exec("CREATE TABLE stock_basic_info (symbol VARCHAR(6) NOT NULL PRIMARY KEY, name VARCHAR(64) NOT NULL"
             " DEFAULT '', exchange VARCHAR(2) NOT NULL DEFAULT '', list_date DATE NULL, last_date DATE NULL,"
             " price_adjustment VARCHAR(8) NOT NULL DEFAULT 'none')");
    old.exec("INSERT INTO stock_kline_data VALUES ('000001', '2021-01-04', 19.1, 19.1, 18.44, 18.6, 19.34, 1, 1, 1)");
    old.exec("INSERT INTO stock_basic_info VALUES ('000001', '平安银行', 'SZ', '2021-01-04', '2021-01-04', 'none')");
  }
  auto before = source("sqlite", {{"path", db}})->load_bars("000001", "", "");
  ASSERT_EQ(before.size(), 1u);
  EXPECT_TRUE(std::isnan(before[0].total_market_cap));
  klab::test::write_file(dir / "sz000001.csv",
                         "数据由邢不行整理\n"
                         "股票代码,股票名称,交易日期,开盘价,最高价,最低价,收盘价,前收盘价,成交量,成交额,流通市值,总市值\n"
                         "sz000001,平安银行,2021-01-05,18.4,18.48,17.8,17.99,18.6,182135200,3284607000,3.4e11,3.5e11\n");
  auto store = klab::open_kline_store("sqlite:" + db, "");
  EXPECT_EQ(klab::import_kline_files(*store, {dir / "sz000001.csv"}).total.inserted, 1u);
  const auto after = source("sqlite", {{"path", db}})->load_bars("000001", "", "");
  ASSERT_EQ(after.size(), 2u);
  EXPECT_TRUE(std::isnan(after[0].total_market_cap));  // the old row: unknown
  EXPECT_EQ(after[1].total_market_cap, 3.5e11);
}

// The daily name says whether the stock was under risk warning (ST, *ST): the price limit of
// that day depends on it. Stored per bar; a database of the previous klab (caps, no st column)
// is read as unknown and gains the column with the next import; a file without names never
// blanks a stored flag.
TEST(Import, RiskWarningFlagFromTheDailyName) {
  TempDir dir;
  const std::string db = (dir / "k.db").string();
  {
    klab::sqlite::Database old(db, false);
    old.exec("CREATE TABLE stock_kline_data (symbol VARCHAR(6) NOT NULL, trade_date DATE NOT NULL,"
             " open DOUBLE NOT NULL, high DOUBLE NOT NULL, low DOUBLE NOT NULL, close DOUBLE NOT NULL,"
             " pre_close DOUBLE NOT NULL DEFAULT 0, volume DOUBLE NOT NULL DEFAULT 0, amount DOUBLE NOT NULL"
             " DEFAULT 0, adj_factor DOUBLE NOT NULL DEFAULT 1, float_market_cap DOUBLE NULL,"
             " total_market_cap DOUBLE NULL, PRIMARY KEY (symbol, trade_date))");
    old.exec("CREATE TABLE stock_basic_info (symbol VARCHAR(6) NOT NULL PRIMARY KEY, name VARCHAR(64) NOT NULL"
             " DEFAULT '', exchange VARCHAR(2) NOT NULL DEFAULT '', list_date DATE NULL, last_date DATE NULL,"
             " price_adjustment VARCHAR(8) NOT NULL DEFAULT 'none')");
    old.exec("INSERT INTO stock_kline_data VALUES ('600003', '2009-01-05', 3, 3, 3, 3, 3, 1, 1, 1, 1e9, 1e9)");
    old.exec("INSERT INTO stock_basic_info VALUES ('600003', '东北高速', 'SH', '2009-01-05', '2009-01-05', 'none')");
  }
  auto before = source("sqlite", {{"path", db}})->load_bars("600003", "", "");
  ASSERT_EQ(before.size(), 1u);
  EXPECT_EQ(before[0].st, -1);
  EXPECT_EQ(before[0].total_market_cap, 1e9);
  klab::test::write_file(dir / "sh600003.csv",
                         "数据由邢不行整理\n"
                         "股票代码,股票名称,交易日期,开盘价,最高价,最低价,收盘价,前收盘价,成交量,成交额,流通市值,总市值\n"
                         "sh600003,ST东北高,2009-01-06,3,3.15,3,3.15,3,100,300,1e9,1e9\n"
                         "sh600003,*ST东北高,2009-01-07,3.15,3.15,3.0,3.0,3.15,100,300,1e9,1e9\n"
                         "sh600003,东北高速,2009-01-08,3,3.1,3,3.1,3,100,300,1e9,1e9\n");
  auto store = klab::open_kline_store("sqlite:" + db, "");
  EXPECT_EQ(klab::import_kline_files(*store, {dir / "sh600003.csv"}).total.inserted, 3u);
  auto bars = source("sqlite", {{"path", db}})->load_bars("600003", "", "");
  ASSERT_EQ(bars.size(), 4u);
  EXPECT_EQ(bars[0].st, -1);  // the old row: unknown
  EXPECT_EQ(bars[1].st, 1);
  EXPECT_EQ(bars[2].st, 1);
  EXPECT_EQ(bars[3].st, 0);
  // Tushare rows (no name) for the same days change prices only, never the flag.
  klab::test::write_file(dir / "600003.SH.csv",
                         "ts_code,trade_date,open,high,low,close,pre_close,change,pct_chg,vol,amount\n"
                         "600003.SH,20090106,3,3.15,3,3.15,3,0.15,5,1,0.3\n");
  klab::import_kline_files(*store, {dir / "600003.SH.csv"});
  bars = source("sqlite", {{"path", db}})->load_bars("600003", "", "");
  EXPECT_EQ(bars[1].st, 1);
  // A second import of the same file changes nothing.
  EXPECT_EQ(klab::import_kline_files(*store, {dir / "sh600003.csv"}).total.updated, 0u);
}

namespace {

// A real SQLite store that fails on command: the write of one symbol, or every commit.
class FailingStore : public klab::KlineStore {
 public:
  explicit FailingStore(const std::string& path) : real_(klab::open_kline_store("sqlite:" + path, "")) {}
  std::string fail_symbol;
  bool fail_commit = false;
  std::string describe() const override { return real_->describe(); }
  std::vector<klab::Bar> existing_bars(const std::string& s) override { return real_->existing_bars(s); }
  std::string stored_adjustment(const std::string& s) override { return real_->stored_adjustment(s); }
  void write(const klab::SymbolRecord& info, const std::vector<klab::Bar>& inserts,
             const std::vector<klab::Bar>& updates) override {
    real_->write(info, inserts, updates);  // half-done, as a full disk leaves it
    if (info.symbol == fail_symbol) throw klab::DataError("sqlite: database or disk is full");
  }
  void commit() override {
    if (fail_commit) {
      real_->rollback();
      throw klab::DataError("sqlite: disk I/O error");
    }
    real_->commit();
  }
  void rollback() noexcept override { real_->rollback(); }

 private:
  std::unique_ptr<klab::KlineStore> real_;
};

// Five one-symbol files of two days each: sz000001.csv ... sz000005.csv.
std::vector<fs::path> five_files(const fs::path& dir) {
  std::vector<fs::path> files;
  for (int i = 1; i <= 5; ++i) {
    const std::string code = "00000" + std::to_string(i);
    files.push_back(dir / ("sz" + code + ".csv"));
    klab::test::write_file(files.back(),
                           "数据由邢不行整理\n"
                           "股票代码,股票名称,交易日期,开盘价,最高价,最低价,收盘价,前收盘价,成交量,成交额,流通市值,总市值\n"
                           "sz" + code + ",名" + code + ",2021-01-04,10,11,9,10.5,10,100,1000,1e9,2e9\n"
                           "sz" + code + ",名" + code + ",2021-01-05,10.5,11,10,10.8,10.5,100,1000,1e9,2e9\n");
  }
  return files;
}

std::size_t stored_rows(const std::string& db) {
  klab::sqlite::Database d(db, true);
  klab::sqlite::Statement q(d, "SELECT COUNT(*) FROM stock_kline_data");
  q.step();
  return static_cast<std::size_t>(q.number(0));
}

}  // namespace

// Files are committed a group at a time: a write that fails takes the files since the last commit
// with it, each reported failed with the reason, and none of them is half in the database;
// importing again finishes the job (idempotent).
TEST(Import, AFailedWriteRollsBackItsGroupAndReimportingFinishes) {
  TempDir dir;
  const auto files = five_files(dir.path());
  const std::string db = (dir / "k.db").string();
  FailingStore failing(db);
  failing.fail_symbol = "000003";
  auto report = klab::import_kline_files(failing, files);
  ASSERT_EQ(report.files.size(), 5u);
  for (int i : {0, 1}) {
    EXPECT_EQ(report.files[i].error, "not stored: rolled back with " + files[2].string() +
                                         ", whose write failed; import it again");
    EXPECT_EQ(report.files[i].counts.inserted, 0u);
    EXPECT_EQ(report.files[i].counts.read, 2u);
  }
  EXPECT_EQ(report.files[2].error, "sqlite: database or disk is full");
  EXPECT_TRUE(report.files[3].error.empty());
  EXPECT_TRUE(report.files[4].error.empty());
  EXPECT_EQ(report.failed_files, 3u);
  EXPECT_EQ(report.total.inserted, 4u);  // the two files after the failure, committed at the end
  EXPECT_EQ(stored_rows(db), 4u);
  auto sqlite = source("sqlite", {{"path", db}});
  EXPECT_TRUE(sqlite->load_bars("000001", "", "").empty());
  EXPECT_TRUE(sqlite->load_bars("000003", "", "").empty());
  EXPECT_EQ(sqlite->load_bars("000004", "", "").size(), 2u);

  failing.fail_symbol.clear();
  report = klab::import_kline_files(failing, files);
  EXPECT_EQ(report.failed_files, 0u);
  EXPECT_EQ(report.total.inserted, 6u);
  EXPECT_EQ(report.total.unchanged, 4u);
  EXPECT_EQ(stored_rows(db), 10u);
}

TEST(Import, AFailedCommitReportsEveryFileOfItsGroup) {
  TempDir dir;
  const auto files = five_files(dir.path());
  const std::string db = (dir / "k.db").string();
  {
    FailingStore failing(db);
    failing.fail_commit = true;
    auto report = klab::import_kline_files(failing, files);
    EXPECT_EQ(report.failed_files, 5u);
    EXPECT_EQ(report.total.inserted, 0u);
    for (const auto& f : report.files) {
      EXPECT_EQ(f.error, "not stored: the commit failed: sqlite: disk I/O error; import it again");
    }
  }
  EXPECT_EQ(stored_rows(db), 0u);
}

// The same through SQLite itself: a trigger refuses one symbol's rows mid-import. The statements
// the store keeps for reuse must not carry anything of the failed write into the next files.
TEST(Import, ASqliteWriteRefusedMidImportLeavesTheNextFilesExact) {
  TempDir dir;
  const auto files = five_files(dir.path());
  const std::string db = (dir / "k.db").string();
  auto store = klab::open_kline_store("sqlite:" + db, "");
  {
    klab::sqlite::Database d(db, false);
    d.exec("CREATE TRIGGER refuse BEFORE INSERT ON stock_kline_data WHEN NEW.symbol = '000003'"
           " BEGIN SELECT RAISE(ABORT, 'refused by a trigger'); END");
  }
  auto report = klab::import_kline_files(*store, files);
  EXPECT_EQ(report.files[2].error, "sqlite " + db + ": query failed: refused by a trigger");
  EXPECT_NE(report.files[0].error.find("not stored: rolled back with"), std::string::npos);
  EXPECT_EQ(report.failed_files, 3u);
  EXPECT_EQ(stored_rows(db), 4u);
  // Exactly the files' rows, in the files' symbols.
  auto sqlite = source("sqlite", {{"path", db}});
  for (const std::string code : {"000004", "000005"}) {
    const auto bars = sqlite->load_bars(code, "", "");
    ASSERT_EQ(bars.size(), 2u) << code;
    EXPECT_EQ(bars[0].trade_date, "2021-01-04");
    EXPECT_EQ(bars[1].close, 10.8);
  }
  {
    klab::sqlite::Database d(db, false);
    d.exec("DROP TRIGGER refuse");
  }
  report = klab::import_kline_files(*store, files);
  EXPECT_EQ(report.failed_files, 0u);
  EXPECT_EQ(report.total.inserted, 6u);
  EXPECT_EQ(stored_rows(db), 10u);
}
