// mysql.so against a real MariaDB started by the CTest fixture (scripts/mariadb_test_server.sh).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <iterator>

#include <cppconn/resultset.h>
#include <cppconn/statement.h>

#include "data/importer.h"
#include "data/kline_store.h"
#include "klab/data/mysql_db.h"
#include "klab/data_source.h"
#include "klab/error.h"
#include "test_support.h"

namespace fs = std::filesystem;

namespace {

class MariaDbTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = klab::test::mariadb();
    ASSERT_TRUE(db_.available) << "the MariaDB fixture did not start (KLAB_TEST_MARIADB_DIR)";
    ASSERT_TRUE(fs::is_directory(klab::test::shared_data_dir()));
    setenv("KLAB_TEST_DB_PASSWORD", db_.password.c_str(), 1);
  }
  nlohmann::json options(const std::string& database = "market") const {
    return {{"host", "127.0.0.1"}, {"port", db_.port}, {"user", "quant"},
            {"database", database}, {"password_env", "KLAB_TEST_DB_PASSWORD"}};
  }
  klab::mysql::Settings settings(const std::string& database) const {
    klab::mysql::Settings s;
    s.host = "127.0.0.1";
    s.port = db_.port;
    s.user = "quant";
    s.database = database;
    s.password_env = "KLAB_TEST_DB_PASSWORD";
    return s;
  }
  std::string url(const std::string& database) const {
    return "mysql://quant@127.0.0.1:" + std::to_string(db_.port) + "/" + database;
  }
  klab::test::MariaDb db_;
};

// The first column of a query's one row (COUNT(*) and the like).
long long scalar(sql::Statement& statement, const std::string& query) {
  std::unique_ptr<sql::ResultSet> r(statement.executeQuery(query));
  r->next();
  return r->getInt64(1);
}

// A server status counter (the MariaDB tests hold the server alone: RESOURCE_LOCK).
long long server_status(sql::Statement& statement, const std::string& name) {
  std::unique_ptr<sql::ResultSet> r(statement.executeQuery("SHOW GLOBAL STATUS LIKE '" + name + "'"));
  r->next();
  return std::stoll(std::string(r->getString(2)));
}

// Rows of database a's stock_kline_data whose twin in b's differs in any column, NULLs compared as
// values (NULL-safe <=>).
long long differing_bars(sql::Statement& statement, const std::string& a, const std::string& b) {
  return scalar(statement,
                "SELECT COUNT(*) FROM " + a + ".stock_kline_data a JOIN " + b + ".stock_kline_data b"
                " USING (symbol, trade_date) WHERE NOT (a.open <=> b.open AND a.high <=> b.high AND a.low <=> b.low"
                " AND a.close <=> b.close AND a.pre_close <=> b.pre_close AND a.volume <=> b.volume"
                " AND a.amount <=> b.amount AND a.adj_factor <=> b.adj_factor AND a.float_market_cap <=> b.float_market_cap"
                " AND a.total_market_cap <=> b.total_market_cap AND a.st <=> b.st)");
}

}  // namespace

TEST_F(MariaDbTest, AllTwentyFilesImportAndReadBackIdenticallyToSqlite) {
  auto files = klab::test::shared_data_files();
  {
    auto store = klab::open_kline_store(url("market_full"), "KLAB_TEST_DB_PASSWORD");
    auto report = klab::import_kline_files(*store, files);
    EXPECT_EQ(report.total.inserted + report.total.unchanged, 85106u);
    auto again = klab::import_kline_files(*store, files);
    EXPECT_EQ(again.total.inserted, 0u);
    EXPECT_EQ(again.total.updated, 0u);
    EXPECT_EQ(again.total.unchanged, 85106u);
  }
  klab::test::TempDir dir;
  {
    auto sqlite_store = klab::open_kline_store("sqlite:" + (dir / "k.db").string(), "");
    klab::import_kline_files(*sqlite_store, files);
  }
  auto mysql = klab::test::registry().create_data_source("mysql", options("market_full").dump());
  auto sqlite = klab::test::registry().create_data_source(
      "sqlite", nlohmann::json{{"path", (dir / "k.db").string()}}.dump());
  EXPECT_EQ(mysql->display_name(), "MySQL");

  auto bars = mysql->load_bars("sh600519", "2020-12-31", "2020-12-31");
  ASSERT_EQ(bars.size(), 1u);
  EXPECT_DOUBLE_EQ(bars[0].close, 1998.00);
  EXPECT_GT(bars[0].total_market_cap, 1e12);

  auto symbols = mysql->list_symbols();
  ASSERT_EQ(symbols.size(), 20u);
  EXPECT_EQ(symbols[0].name, "平安银行");  // utf8mb4 end to end
  std::size_t total = 0;
  for (const auto& info : symbols) {
    auto a = mysql->load_bars(info.symbol, "2010-01-01", "");
    auto b = sqlite->load_bars(info.symbol, "2010-01-01", "");
    ASSERT_EQ(a.size(), b.size()) << info.symbol;
    for (std::size_t i = 0; i < a.size(); ++i) {
      ASSERT_EQ(a[i].trade_date, b[i].trade_date);
      ASSERT_EQ(a[i].open, b[i].open);
      ASSERT_EQ(a[i].high, b[i].high);
      ASSERT_EQ(a[i].low, b[i].low);
      ASSERT_EQ(a[i].close, b[i].close);
      ASSERT_EQ(a[i].pre_close, b[i].pre_close);
      ASSERT_EQ(a[i].volume, b[i].volume);
      ASSERT_EQ(a[i].amount, b[i].amount);
      ASSERT_EQ(a[i].st, b[i].st);
      ASSERT_EQ(a[i].adj_factor, b[i].adj_factor) << info.symbol << " " << a[i].trade_date;
      // Market caps round-trip through MariaDB as through SQLite (NULL where unknown).
      ASSERT_TRUE(a[i].total_market_cap == b[i].total_market_cap ||
                  (a[i].total_market_cap != a[i].total_market_cap && b[i].total_market_cap != b[i].total_market_cap))
          << info.symbol << " " << a[i].trade_date;
      ASSERT_TRUE(a[i].float_market_cap == b[i].float_market_cap ||
                  (a[i].float_market_cap != a[i].float_market_cap && b[i].float_market_cap != b[i].float_market_cap))
          << info.symbol << " " << a[i].trade_date;
    }
    total += mysql->load_bars(info.symbol, "", "").size();
  }
  EXPECT_EQ(total, 85106u);

  EXPECT_TRUE(mysql->load_bars("600519' OR '1'='1", "", "").empty());
  EXPECT_TRUE(mysql->load_bars("600519'; DROP TABLE stock_kline_data; --", "", "").empty());
  EXPECT_EQ(mysql->load_bars("600519", "", "").size(), 4874u);
}

// The importer writes through LOAD DATA LOCAL INFILE; a server with local_infile off refuses it,
// and the importer goes on with multi-row INSERTs. Both paths store every value bit-exact.
TEST_F(MariaDbTest, ImportWithoutLocalInfileFallsBackToInsertsWithTheSameValues) {
  auto connection = klab::mysql::connect(settings("mysql"));
  std::unique_ptr<sql::Statement> statement(connection->createStatement());
  statement->execute("SET GLOBAL local_infile = 0");
  struct Restore {
    sql::Statement& s;
    ~Restore() { s.execute("SET GLOBAL local_infile = 1"); }
  } restore{*statement};
  auto status = [&](const std::string& name) { return server_status(*statement, name); };
  const auto files = klab::test::shared_data_files();
  const std::vector<fs::path> some(files.begin(), files.begin() + 3);
  auto inserts_before = status("Com_insert");
  {
    auto store = klab::open_kline_store(url("market_inserts"), "KLAB_TEST_DB_PASSWORD");
    auto report = klab::import_kline_files(*store, some);
    EXPECT_EQ(report.failed_files, 0u);
    EXPECT_GT(report.total.inserted, 10000u);
  }
  EXPECT_GT(status("Com_insert") - inserts_before, 10);  // 1,000 rows a statement, and 3 name upserts
  statement->execute("SET GLOBAL local_infile = 1");
  inserts_before = status("Com_insert");
  const auto loads_before = status("Com_load");
  {
    auto store = klab::open_kline_store(url("market_load_data"), "KLAB_TEST_DB_PASSWORD");
    EXPECT_EQ(klab::import_kline_files(*store, some).failed_files, 0u);
  }
  EXPECT_EQ(status("Com_load") - loads_before, 3);       // one LOAD DATA per symbol
  EXPECT_EQ(status("Com_insert") - inserts_before, 3);   // only the name upserts
  auto count = [&](const std::string& database) {
    return scalar(*statement, "SELECT COUNT(*) FROM " + database + ".stock_kline_data");
  };
  EXPECT_GT(count("market_inserts"), 10000);
  EXPECT_EQ(count("market_inserts"), count("market_load_data"));
  // Every column of every row equal, NULLs in the same places (NULL-safe comparison).
  EXPECT_EQ(differing_bars(*statement, "market_inserts", "market_load_data"), 0);
  // And both equal what SQLite stores (which the data sources read back: the test above).
  klab::test::TempDir dir;
  {
    auto sqlite_store = klab::open_kline_store("sqlite:" + (dir / "k.db").string(), "");
    klab::import_kline_files(*sqlite_store, some);
  }
  auto sqlite = klab::test::registry().create_data_source(
      "sqlite", nlohmann::json{{"path", (dir / "k.db").string()}}.dump());
  auto inserted = klab::test::registry().create_data_source("mysql", options("market_inserts").dump());
  for (const auto& info : sqlite->list_symbols()) {
    const auto a = inserted->load_bars(info.symbol, "", ""), b = sqlite->load_bars(info.symbol, "", "");
    ASSERT_EQ(a.size(), b.size());
    for (std::size_t i = 0; i < a.size(); ++i) {
      ASSERT_EQ(a[i].open, b[i].open);
      ASSERT_EQ(a[i].amount, b[i].amount);
      ASSERT_EQ(a[i].adj_factor, b[i].adj_factor);
      ASSERT_TRUE(a[i].total_market_cap == b[i].total_market_cap ||
                  (a[i].total_market_cap != a[i].total_market_cap && b[i].total_market_cap != b[i].total_market_cap));
    }
  }
}

// Two writers, each on its own connection, store exactly what one writer stores, when a symbol's
// history comes in several files and a file holds symbols that different writers hold: a symbol's
// rows are merged on the connection that wrote its earlier rows, or after every writer committed.
TEST_F(MariaDbTest, TwoWritersStoreExactlyWhatOneWriterStores) {
  klab::test::TempDir dir;
  const auto shared = klab::test::shared_data_files();
  ASSERT_EQ(shared.size(), 20u);
  auto lines_of = [](const fs::path& path) {
    std::ifstream in(path);
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
  };
  std::vector<fs::path> files, second_halves;
  std::string mixed;  // rows of six symbols in one file, between their two halves
  for (std::size_t k = 0; k < 6; ++k) {
    const auto lines = lines_of(shared[k]);  // banner, header, rows
    ASSERT_GT(lines.size(), 1000u);
    const std::size_t half = lines.size() / 2;
    std::string first = lines[0] + "\n" + lines[1] + "\n", second = first;
    for (std::size_t i = 2; i < half; ++i) first += lines[i] + "\n";
    for (std::size_t i = half; i < lines.size(); ++i) second += lines[i] + "\n";
    if (mixed.empty()) mixed = lines[0] + "\n" + lines[1] + "\n";
    for (std::size_t i = half; i < half + 20; ++i) mixed += lines[i] + "\n";
    files.push_back(dir / "first" / shared[k].filename());
    klab::test::write_file(files.back(), first);
    second_halves.push_back(dir / "second" / shared[k].filename());
    klab::test::write_file(second_halves.back(), second);
  }
  files.push_back(dir / "mixed.csv");
  klab::test::write_file(files.back(), mixed);
  files.insert(files.end(), second_halves.begin(), second_halves.end());
  files.insert(files.end(), shared.begin() + 6, shared.end());  // fourteen symbols whole

  auto connection = klab::mysql::connect(settings("mysql"));
  std::unique_ptr<sql::Statement> statement(connection->createStatement());
  klab::ImportReport one, two;
  {
    auto store = klab::open_kline_store(url("market_one_writer"), "KLAB_TEST_DB_PASSWORD");
    one = klab::import_kline_files(*store, files, "", {}, 1);
  }
  const auto before = server_status(*statement, "Connections");
  {
    auto store = klab::open_kline_store(url("market_two_writers"), "KLAB_TEST_DB_PASSWORD");
    two = klab::import_kline_files(*store, files, "", {}, 2);
  }
  EXPECT_EQ(server_status(*statement, "Connections") - before, 2);  // the store's connection and the second writer's
  ASSERT_EQ(one.failed_files, 0u);
  ASSERT_EQ(two.failed_files, 0u);
  ASSERT_EQ(one.files.size(), two.files.size());
  EXPECT_GT(one.total.inserted, 40000u);
  EXPECT_EQ(one.files[6].counts.inserted, 120u);  // the mixed file: rows new when it came
  EXPECT_EQ(one.files[7].counts.unchanged, 20u);  // and restated by the second half
  for (std::size_t f = 0; f < one.files.size(); ++f) {
    EXPECT_EQ(one.files[f].counts.inserted, two.files[f].counts.inserted) << one.files[f].path;
    EXPECT_EQ(one.files[f].counts.updated, two.files[f].counts.updated) << one.files[f].path;
    EXPECT_EQ(one.files[f].counts.unchanged, two.files[f].counts.unchanged) << one.files[f].path;
    EXPECT_EQ(one.files[f].symbols, two.files[f].symbols) << one.files[f].path;
  }
  EXPECT_EQ(scalar(*statement, "SELECT COUNT(*) FROM market_one_writer.stock_kline_data"), 85106);
  EXPECT_EQ(scalar(*statement, "SELECT COUNT(*) FROM market_two_writers.stock_kline_data"), 85106);
  // Every column of every row equal, NULLs in the same places; the symbols' records too.
  EXPECT_EQ(differing_bars(*statement, "market_one_writer", "market_two_writers"), 0);
  EXPECT_EQ(scalar(*statement, "SELECT COUNT(*) FROM market_one_writer.stock_basic_info a JOIN market_two_writers.stock_basic_info b"
                               " USING (symbol) WHERE a.name <=> b.name AND a.exchange <=> b.exchange AND a.list_date <=> b.list_date"
                               " AND a.last_date <=> b.last_date AND a.price_adjustment <=> b.price_adjustment"),
            20);
}

// A write refused mid-import (a trigger refuses one symbol) loses only the group of the writer
// it failed on: every failed file says why, every other file is stored whole, and importing the
// same files again finishes the job with what a clean import stores.
TEST_F(MariaDbTest, AWriteRefusedUnderOneWriterLosesOnlyThatWritersGroup) {
  const auto files = klab::test::shared_data_files();
  {
    auto store = klab::open_kline_store(url("market_refused"), "KLAB_TEST_DB_PASSWORD");  // the tables
  }
  auto connection = klab::mysql::connect(settings("market_refused"));
  std::unique_ptr<sql::Statement> statement(connection->createStatement());
  statement->execute("CREATE TRIGGER refuse BEFORE INSERT ON stock_kline_data FOR EACH ROW"
                     " IF NEW.symbol = '600519' THEN SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'refused by a trigger'; END IF");
  auto store = klab::open_kline_store(url("market_refused"), "KLAB_TEST_DB_PASSWORD");
  auto report = klab::import_kline_files(*store, files, "", {}, 2);
  std::size_t refused = 0, lost = 0, stored_rows = 0;
  for (const auto& f : report.files) {
    if (f.path.find("sh600519") != std::string::npos) {
      EXPECT_NE(f.error.find("refused by a trigger"), std::string::npos) << f.error;
      ++refused;
    } else if (!f.error.empty()) {
      EXPECT_EQ(f.error.find("not stored: rolled back with "), 0u) << f.path << ": " << f.error;
      EXPECT_NE(f.error.find("sh600519.csv, whose write failed; import it again"), std::string::npos) << f.error;
      EXPECT_EQ(f.counts.inserted, 0u);
      ++lost;
    } else {
      EXPECT_EQ(f.counts.inserted, f.counts.read) << f.path;
      stored_rows += f.counts.inserted;
      EXPECT_EQ(scalar(*statement, "SELECT COUNT(*) FROM stock_kline_data WHERE symbol = '" + f.symbols.at(0) + "'"),
                static_cast<long long>(f.counts.read))
          << f.path;
    }
  }
  EXPECT_EQ(refused, 1u);
  EXPECT_EQ(report.failed_files, 1 + lost);
  EXPECT_LT(report.failed_files, files.size());  // the other writer's files, and those after the failure, landed
  EXPECT_GT(stored_rows, 0u);
  EXPECT_EQ(scalar(*statement, "SELECT COUNT(*) FROM stock_kline_data"), static_cast<long long>(stored_rows));

  statement->execute("DROP TRIGGER refuse");
  const auto again = klab::import_kline_files(*store, files, "", {}, 2);
  EXPECT_EQ(again.failed_files, 0u);
  EXPECT_EQ(again.total.inserted, 85106u - stored_rows);
  EXPECT_EQ(again.total.unchanged, stored_rows);
  EXPECT_EQ(scalar(*statement, "SELECT COUNT(*) FROM stock_kline_data"), 85106);
  EXPECT_EQ(scalar(*statement, "SELECT COUNT(*) FROM stock_basic_info"), 20);
}

TEST_F(MariaDbTest, WrongPasswordIsOneClearErrorWithoutThePassword) {
  setenv("KLAB_TEST_DB_PASSWORD", "definitely-wrong-secret", 1);
  try {
    klab::test::registry().create_data_source("mysql", options().dump());
    FAIL();
  } catch (const klab::DataError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("access denied for user 'quant'"), std::string::npos) << message;
    EXPECT_EQ(message.find("definitely-wrong-secret"), std::string::npos) << message;
    EXPECT_EQ(message.find('\n'), std::string::npos);
  }
}

TEST_F(MariaDbTest, StoppedServerIsOneClearError) {
  auto opts = options();
  // A port nothing listens on: the fixture's own port + 1 is not guaranteed free, so bind none.
  opts["port"] = 1;
  try {
    klab::test::registry().create_data_source("mysql", opts.dump());
    FAIL();
  } catch (const klab::DataError& e) {
    EXPECT_NE(std::string(e.what()).find("mysql://quant@127.0.0.1:1/market: cannot connect"),
              std::string::npos)
        << e.what();
  }
}

TEST_F(MariaDbTest, MissingPasswordVariableIsAConfigError) {
  unsetenv("KLAB_TEST_DB_PASSWORD");
  EXPECT_THROW(klab::test::registry().create_data_source("mysql", options().dump()),
               klab::ConfigError);
}

TEST_F(MariaDbTest, ADatabaseOfAnOlderKlabIsReadAndGainsTheCapColumns) {
  {
    auto connection = klab::mysql::connect(settings("market_old_schema"), true);
    std::unique_ptr<sql::Statement> s(connection->createStatement());
    s->execute("DROP TABLE IF EXISTS stock_kline_data");
    s->execute("DROP TABLE IF EXISTS stock_basic_info");
    // The tables as klab created them before the market caps.
    s->execute("CREATE TABLE stock_kline_data (symbol VARCHAR(6) NOT NULL, trade_date DATE NOT NULL,"
               " open DOUBLE NOT NULL, high DOUBLE NOT NULL, low DOUBLE NOT NULL, close DOUBLE NOT NULL,"
               " pre_close DOUBLE NOT NULL DEFAULT 0, volume DOUBLE NOT NULL DEFAULT 0, amount DOUBLE NOT NULL"
               " DEFAULT 0, adj_factor DOUBLE NOT NULL DEFAULT 1, PRIMARY KEY (symbol, trade_date)) DEFAULT CHARSET=utf8mb4");
    s->execute("CREATE TABLE stock_basic_info (symbol VARCHAR(6) NOT NULL PRIMARY KEY, name VARCHAR(64) NOT NULL"
               " DEFAULT '', exchange VARCHAR(2) NOT NULL DEFAULT '', list_date DATE NULL, last_date DATE NULL,"
               " price_adjustment VARCHAR(8) NOT NULL DEFAULT 'none') DEFAULT CHARSET=utf8mb4");
    s->execute("INSERT INTO stock_kline_data VALUES ('600519', '2020-12-30', 1, 2, 1, 2, 1, 10, 10, 1)");
  }
  auto before = klab::test::registry().create_data_source("mysql", options("market_old_schema").dump());
  auto bars = before->load_bars("600519", "", "");
  ASSERT_EQ(bars.size(), 1u);
  EXPECT_TRUE(std::isnan(bars[0].total_market_cap));
  {
    auto store = klab::open_kline_store(url("market_old_schema"), "KLAB_TEST_DB_PASSWORD");
    klab::import_kline_files(*store, {klab::test::shared_data_dir() / "sh600519.csv"});
  }
  auto after = klab::test::registry().create_data_source("mysql", options("market_old_schema").dump());
  auto day = after->load_bars("600519", "2020-12-31", "2020-12-31");
  ASSERT_EQ(day.size(), 1u);
  EXPECT_GT(day[0].total_market_cap, 1e12);
}

namespace {

// scripts/mariadb_test_server.sh ACTION on the fixture's server.
int server(const std::string& action, const std::string& extra = "", bool background = false) {
  const std::string script = std::string(KLAB_SAMPLE_DATA_DIR) + "/../../scripts/mariadb_test_server.sh";
  const std::string command = "bash " + script + " " + action + " " + std::getenv("KLAB_TEST_MARIADB_DIR") + " " +
                              extra + " >> " + std::getenv("KLAB_TEST_MARIADB_DIR") + "/faults.out 2>&1" +
                              (background ? " &" : "");
  return std::system(command.c_str());
}

// What the fault actions logged ("down TIME", "up TIME" lines).
std::string fault_log() {
  std::ifstream in(fs::path(std::getenv("KLAB_TEST_MARIADB_DIR")) / "faults.log");
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

}  // namespace

// The server is killed and started again while a source reads: the reads go on after bounded
// reconnection attempts; a server that stays down ends in one clear error within the bound, and
// the same source works again once the server is back (no new source needed).
TEST_F(MariaDbTest, ServerRestartedWhileReadingReconnects) {
  {
    auto store = klab::open_kline_store(url("market_restart"), "KLAB_TEST_DB_PASSWORD");
    std::vector<fs::path> files{fs::path(KLAB_SAMPLE_DATA_DIR) / "sh600519.csv",
                                fs::path(KLAB_SAMPLE_DATA_DIR) / "sz000001.csv"};
    ASSERT_EQ(klab::import_kline_files(*store, files).failed_files, 0u);
  }
  auto opts = options("market_restart");
  opts["retries"] = 6;  // waits 0.25 + 0.5 + 1 + 2 + 4 + 4 s at most: room for a slow restart under load
  auto source = klab::test::registry().create_data_source("mysql", opts.dump());
  const auto expected = source->load_bars("600519", "", "");
  ASSERT_GT(expected.size(), 1000u);

  // Killed, and back 2 s later, while reads go on: every read succeeds.
  std::ofstream(fs::path(std::getenv("KLAB_TEST_MARIADB_DIR")) / "faults.log", std::ios::trunc).close();
  using Clock = std::chrono::steady_clock;
  server("restart", "2", true);
  const auto t0 = Clock::now();
  int reads = 0;
  while (Clock::now() - t0 < std::chrono::seconds(6) || fault_log().find("up") == std::string::npos) {
    ASSERT_LT(Clock::now() - t0, std::chrono::seconds(60)) << "the server did not come back: " << fault_log();
    const auto bars = source->load_bars(reads % 2 ? "000001" : "600519", "", "");
    ASSERT_FALSE(bars.empty()) << "read " << reads;
    if (reads % 2 == 0) {
      ASSERT_EQ(bars.size(), expected.size());
    }
    ++reads;
  }
  ASSERT_NE(fault_log().find("down"), std::string::npos);

  // Down for good: one clear error, within the bound.
  ASSERT_EQ(server("down"), 0);
  const auto t1 = Clock::now();
  try {
    source->load_bars("600519", "", "");
    ADD_FAILURE() << "a read with the server down must fail";
  } catch (const klab::UnavailableError& e) {  // a DataError that may pass: serve answers 503
    const std::string message = e.what();
    EXPECT_NE(message.find("lost the connection to the server and 6 reconnection attempts over 11.75 s failed"),
              std::string::npos) << message;
    EXPECT_NE(message.find("mysql://quant@127.0.0.1:"), std::string::npos) << message;
    EXPECT_EQ(message.find(db_.password), std::string::npos);
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  }
  const double waited = std::chrono::duration<double>(Clock::now() - t1).count();
  EXPECT_LT(waited, 25.0);
  ASSERT_EQ(server("up"), 0);
  // Back: the same source reads again.
  EXPECT_EQ(source->load_bars("600519", "", "").size(), expected.size());
  EXPECT_FALSE(source->list_symbols().empty());
}
