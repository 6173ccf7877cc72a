#include "data/kline_store.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <regex>

#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>
#include <cppconn/datatype.h>
#include <cppconn/statement.h>

#include "klab/data/mysql_db.h"
#include "klab/data/schema.h"
#include "klab/data/sqlite_db.h"
#include "klab/error.h"

namespace klab {

namespace {

// The value columns of stock_kline_data, in the order bar_values() gives them: the original
// eight, then schema::added_kline_columns(). Both statements are built from this one list.
const std::vector<std::string>& bar_columns() {
  static const std::vector<std::string> columns = [] {
    std::vector<std::string> c = {"open", "high", "low", "close", "pre_close", "volume", "amount", "adj_factor"};
    for (const auto& added : schema::added_kline_columns()) c.push_back(added.first);
    return c;
  }();
  return columns;
}

// A bar's numbers in the order of bar_columns() (NaN is NULL), into `v` (a writer reuses it).
void bar_values(const Bar& b, std::vector<double>& v) {
  v.assign({b.open, b.high, b.low, b.close, b.pre_close, b.volume, b.amount, b.adj_factor});
  for (std::size_t i = 0; i < schema::added_kline_columns().size(); ++i) v.push_back(schema::added_column(b, i));
}

// "(symbol, trade_date, open, ..., st)": the columns every writer names, in bar_values() order.
std::string row_columns() {
  std::string columns = "(symbol, trade_date";
  for (const auto& c : bar_columns()) columns += ", " + c;
  return columns + ")";
}

// The head of an INSERT, up to its VALUES: "INSERT INTO stock_kline_data (...) VALUES ".
std::string insert_head() { return "INSERT INTO stock_kline_data " + row_columns() + " VALUES "; }

// INSERT of one bar (placeholders): symbol, trade_date, values.
std::string insert_statement() {
  std::string row = "(?, ?";
  for (std::size_t i = 0; i < bar_columns().size(); ++i) row += ", ?";
  return insert_head() + row + ")";
}

// Rows per multi-row INSERT in SQL text (MySQL without LOAD DATA).
constexpr std::size_t kInsertBatch = 1000;

// A symbol or ISO date into SQL text (between quotes): only digits and '-' occur in them.
void append_key(std::string& sql, const std::string& key) {
  for (char c : key) {
    if (!((c >= '0' && c <= '9') || c == '-')) throw DataError("refusing to write the key '" + key + "'");
  }
  sql += key;
}

// A double as text that reads back as the same double: the shortest round-trip digits. In an SQL
// statement (`literal`) they are written in scientific notation, an approximate-value literal the
// server parses as a double (a plain "13.51" would be an exact DECIMAL first); a LOAD DATA field
// is parsed as a double whatever its form, and the plainer text parses faster (17.5 s for the
// universe against 25.5 s with 17 digits). NaN is NULL (\N in a LOAD DATA file).
void append_number(std::string& out, double v, bool literal) {
  if (v != v) {
    out += literal ? "NULL" : "\\N";
    return;
  }
  char buf[32];
  const auto end = literal ? std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific).ptr
                           : std::to_chars(buf, buf + sizeof buf, v).ptr;
  out.append(buf, end);
}

// UPDATE of one bar: its values, then symbol and trade_date.
std::string update_statement() {
  std::string sql = "UPDATE stock_kline_data SET ";
  for (const auto& c : bar_columns()) sql += (c == bar_columns().front() ? "" : ", ") + c + " = ?";
  return sql + " WHERE symbol = ? AND trade_date = ?";
}

class SqliteStore : public KlineStore {
 public:
  explicit SqliteStore(const std::string& path) : db_(path, false) {
    for (const auto& ddl : schema::create_statements()) db_.exec(ddl);
    // A database of an older klab gets the newer columns (NULL in its old rows).
    for (const auto& [column, type] : schema::added_kline_columns()) {
      if (!sqlite::has_column(db_, "stock_kline_data", column)) {
        db_.exec("ALTER TABLE stock_kline_data ADD COLUMN " + column + " " + type);
      }
    }
  }

  std::string describe() const override { return "sqlite:" + db_.path(); }

  std::vector<Bar> existing_bars(const std::string& symbol) override {
    return sqlite::select_bars(db_, symbol, "", "", schema::all_added_columns());  // migrated; ORDER BY trade_date
  }

  std::string stored_adjustment(const std::string& symbol) override {
    sqlite::Statement q(db_, "SELECT price_adjustment FROM stock_basic_info WHERE symbol = ?");
    q.bind(1, symbol);
    return q.step() ? q.text(0) : "";
  }

  ~SqliteStore() override { rollback(); }

  void write(const SymbolRecord& info, const std::vector<Bar>& inserts,
             const std::vector<Bar>& updates) override {
    if (!in_transaction_) {
      db_.exec("BEGIN IMMEDIATE");
      in_transaction_ = true;
    }
    if (!insert_) {
      insert_ = std::make_unique<sqlite::Statement>(db_, insert_statement());
      update_ = std::make_unique<sqlite::Statement>(db_, update_statement());
      upsert_ = std::make_unique<sqlite::Statement>(
          db_,
          "INSERT INTO stock_basic_info (symbol, name, exchange, list_date, last_date,"
          " price_adjustment) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(symbol) DO UPDATE SET"
          " name = CASE WHEN excluded.name = '' THEN stock_basic_info.name ELSE excluded.name END, exchange = excluded.exchange, list_date = excluded.list_date,"
          " last_date = excluded.last_date, price_adjustment = excluded.price_adjustment");
    }
    std::vector<double> values;
    for (const auto& b : inserts) {
      insert_->bind(1, info.symbol).bind(2, b.trade_date);
      bar_values(b, values);
      for (std::size_t i = 0; i < values.size(); ++i) insert_->bind_or_null(static_cast<int>(3 + i), values[i]);
      insert_->run();
    }
    for (const auto& b : updates) {
      bar_values(b, values);
      for (std::size_t i = 0; i < values.size(); ++i) update_->bind_or_null(static_cast<int>(1 + i), values[i]);
      update_->bind(static_cast<int>(values.size() + 1), info.symbol).bind(static_cast<int>(values.size() + 2), b.trade_date);
      update_->run();
    }
    upsert_->bind(1, info.symbol).bind(2, info.name).bind(3, info.exchange).bind(4, info.list_date)
        .bind(5, info.last_date).bind(6, info.price_adjustment);
    upsert_->run();
  }

  void commit() override {
    if (!in_transaction_) return;
    try {
      db_.exec("COMMIT");
    } catch (...) {
      rollback();
      throw;
    }
    in_transaction_ = false;
  }

  void rollback() noexcept override {
    if (!in_transaction_) return;
    in_transaction_ = false;
    insert_.reset();  // prepared again on the next write: nothing of a failed one carries over
    update_.reset();
    upsert_.reset();
    // SQLite may have rolled back already (a full disk, an I/O error): then this fails, harmlessly.
    sqlite3_exec(db_.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
  }

 private:
  sqlite::Database db_;
  bool in_transaction_ = false;
  // Prepared once, used for every symbol (before db_'s destructor closes the connection: declared after it).
  std::unique_ptr<sqlite::Statement> insert_, update_, upsert_;
};

class MysqlStore : public KlineStore {
 public:
  explicit MysqlStore(mysql::Settings settings) : settings_(std::move(settings)) {
    connection_ = mysql::connect(settings_, true, true);
    statement_.reset(connection_->createStatement());
    try {
      // Writers on other connections hold other symbols: no gap locks between their rows.
      statement_->execute("SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED");
      std::unique_ptr<sql::Statement> s(connection_->createStatement());
      for (const auto& ddl : schema::create_statements()) {
        s->execute(ddl + " DEFAULT CHARSET=utf8mb4");
      }
      for (const auto& [column, type] : schema::added_kline_columns()) {
        if (!mysql::has_column(*connection_, "stock_kline_data", column)) {
          s->execute("ALTER TABLE stock_kline_data ADD COLUMN " + column + " " + type);
        }
      }
    } catch (const sql::SQLException& e) {
      throw mysql::query_error(settings_, e);
    }
  }

  std::string describe() const override { return settings_.describe(); }

  std::unique_ptr<KlineStore> another_connection() override { return std::make_unique<MysqlStore>(settings_); }

  std::vector<Bar> existing_bars(const std::string& symbol) override {
    return mysql::select_bars(*connection_, settings_, symbol, "", "", schema::all_added_columns());  // migrated; ORDER BY trade_date
  }

  std::string stored_adjustment(const std::string& symbol) override {
    try {
      std::unique_ptr<sql::PreparedStatement> q(
          connection_->prepareStatement("SELECT price_adjustment FROM stock_basic_info WHERE symbol = ?"));
      q->setString(1, symbol);
      std::unique_ptr<sql::ResultSet> rows(q->executeQuery());
      return rows->next() ? std::string(rows->getString(1)) : std::string();
    } catch (const sql::SQLException& e) {
      throw mysql::query_error(settings_, e);
    }
  }

  void write(const SymbolRecord& info, const std::vector<Bar>& inserts,
             const std::vector<Bar>& updates) override {
    try {
      if (!in_transaction_) {
        connection_->setAutoCommit(false);
        in_transaction_ = true;
      }
      std::vector<double> values;
      auto bind = [&values](sql::PreparedStatement& q, unsigned first, const Bar& b) {
        bar_values(b, values);
        for (unsigned i = 0; i < values.size(); ++i) {
          if (values[i] == values[i]) {
            q.setDouble(first + i, values[i]);
          } else {
            q.setNull(first + i, sql::DataType::DOUBLE);
          }
        }
      };
      // LOAD DATA until the server refuses it, then INSERTs.
      bool loaded = false;
      if (!inserts.empty() && load_data_) {
        try {
          load_data(info.symbol, inserts);
          loaded = true;
        } catch (const sql::SQLException& e) {
          if (!local_infile_refused(e.getErrorCode())) throw;
          load_data_ = false;  // the server (or its policy) refuses LOAD DATA LOCAL: INSERT from now on
        }
      }
      if (!loaded) insert_rows(info.symbol, inserts);
      std::unique_ptr<sql::PreparedStatement> update(connection_->prepareStatement(update_statement()));
      for (const auto& b : updates) {
        bind(*update, 1, b);
        const auto n = static_cast<unsigned>(bar_columns().size());
        update->setString(n + 1, info.symbol);
        update->setString(n + 2, b.trade_date);
        update->executeUpdate();
      }
      std::unique_ptr<sql::PreparedStatement> upsert(connection_->prepareStatement(
          "INSERT INTO stock_basic_info (symbol, name, exchange, list_date, last_date,"
          " price_adjustment) VALUES (?, ?, ?, ?, ?, ?) ON DUPLICATE KEY UPDATE"
          " name = IF(VALUES(name) = '', name, VALUES(name)), exchange = VALUES(exchange), list_date = VALUES(list_date),"
          " last_date = VALUES(last_date), price_adjustment = VALUES(price_adjustment)"));
      const std::string fields[] = {info.symbol, info.name, info.exchange, info.list_date,
                                    info.last_date, info.price_adjustment};
      for (int i = 0; i < 6; ++i) upsert->setString(1 + i, fields[i]);
      upsert->executeUpdate();
    } catch (const sql::SQLException& e) {
      throw mysql::query_error(settings_, e);
    }
  }

  // One symbol's new bars through LOAD DATA LOCAL INFILE, from an in-memory file
  // (/proc/self/fd/N of a memfd): the server's bulk path, 1.5x the rows/s of multi-row INSERTs
  // for the universe (docs/BENCHMARKS.md). With LOCAL the server turns a duplicate key or a bad
  // value into a warning and goes on: both are errors here, and the group is rolled back.
  void load_data(const std::string& symbol, const std::vector<Bar>& bars) {
    if (memfd_ < 0) {
      memfd_ = memfd_create("klab-import", MFD_CLOEXEC);
      if (memfd_ < 0) throw DataError(describe() + ": memfd_create: " + std::strerror(errno));
    }
    std::string csv;
    csv.reserve(bars.size() * 160);
    std::vector<double> values;
    for (const Bar& b : bars) {
      append_key(csv, symbol);
      csv += ',';
      append_key(csv, b.trade_date);
      bar_values(b, values);
      for (double v : values) {
        csv += ',';
        append_number(csv, v, false);
      }
      csv += '\n';
    }
    // Overwritten in place, then cut to length: the pages of the previous symbol's rows are reused.
    if (pwrite(memfd_, csv.data(), csv.size(), 0) != static_cast<ssize_t>(csv.size()) ||
        ftruncate(memfd_, static_cast<off_t>(csv.size())) != 0) {
      throw DataError(describe() + ": writing the rows for LOAD DATA: " + std::strerror(errno));
    }
    std::string sql = "LOAD DATA LOCAL INFILE '/proc/self/fd/" + std::to_string(memfd_) +
                      "' INTO TABLE stock_kline_data CHARACTER SET utf8mb4 FIELDS TERMINATED BY ','"
                      " LINES TERMINATED BY '\\n' " + row_columns();
    const auto stored = static_cast<std::size_t>(statement_->executeUpdate(sql));
    const sql::SQLWarning* warning = statement_->getWarnings();
    if (stored != bars.size() || warning != nullptr) {
      const std::string why = warning ? std::string(warning->getMessage()) : "";
      statement_->clearWarnings();
      throw DataError(describe() + ": symbol " + symbol + ": LOAD DATA stored " + std::to_string(stored) + " of " +
                      std::to_string(bars.size()) + " rows" + (why.empty() ? "" : " (" + why + ")"));
    }
  }
  // Error numbers of a server (or client) that does not allow LOAD DATA LOCAL INFILE:
  // ER_NOT_ALLOWED_COMMAND, MySQL 8's local files disabled, MariaDB's local infile capability
  // disabled, the client's refusal.
  static bool local_infile_refused(int code) {
    return code == 1148 || code == 3948 || code == 4166 || code == 2068;
  }

  // The same as multi-row INSERTs in SQL text, kInsertBatch rows a statement, for a server that
  // refuses LOAD DATA LOCAL (its local_infile off): the server parses the numbers faster than the
  // connector binds 15 parameters a row (half the client CPU of 500-row prepared statements).
  void insert_rows(const std::string& symbol, const std::vector<Bar>& bars) {
    std::string sql;
    std::vector<double> values;
    for (std::size_t first = 0; first < bars.size(); first += kInsertBatch) {
      const std::size_t rows = std::min(kInsertBatch, bars.size() - first);
      sql = insert_head();
      for (std::size_t r = 0; r < rows; ++r) {
        const Bar& b = bars[first + r];
        sql += r == 0 ? "('" : ",('";
        append_key(sql, symbol);
        sql += "','";
        append_key(sql, b.trade_date);
        sql += '\'';
        bar_values(b, values);
        for (double v : values) {
          sql += ',';
          append_number(sql, v, true);
        }
        sql += ')';
      }
      statement_->execute(sql);
    }
  }

  void commit() override {
    if (!in_transaction_) return;
    try {
      connection_->commit();
      connection_->setAutoCommit(true);
      in_transaction_ = false;
    } catch (const sql::SQLException& e) {
      rollback();
      throw mysql::query_error(settings_, e);
    }
  }

  void rollback() noexcept override {
    if (!in_transaction_) return;
    in_transaction_ = false;
    try {
      connection_->rollback();
      connection_->setAutoCommit(true);
    } catch (...) {  // the connection is gone: the server dropped the transaction with it
    }
  }

  ~MysqlStore() override {
    rollback();
    if (memfd_ >= 0) close(memfd_);
  }

 private:
  mysql::Settings settings_;
  std::unique_ptr<sql::Connection> connection_;
  std::unique_ptr<sql::Statement> statement_;  // LOAD DATA and text INSERTs (declared after connection_: ends first)
  bool in_transaction_ = false;
  bool load_data_ = true;  // until the server refuses LOAD DATA LOCAL
  int memfd_ = -1;         // the rows LOAD DATA reads
};

}  // namespace

std::unique_ptr<KlineStore> open_kline_store(const std::string& url, const std::string& password_env) {
  static const std::regex mysql_url(R"(mysql://([^:@/]+)(:[^@/]*)?@([^:/]+)(?::(\d+))?/([A-Za-z0-9_]+))");
  std::smatch m;
  if (std::regex_match(url, m, mysql_url)) {
    if (m[2].matched) {
      throw ConfigError("--db: do not put the password in the URL; set an environment variable " +
                        std::string("and name it with --password-env"));
    }
    mysql::Settings s;
    s.user = m[1];
    s.host = m[3];
    s.port = m[4].matched ? std::stoi(m[4]) : 3306;
    s.database = m[5];
    s.password_env = password_env;
    return std::make_unique<MysqlStore>(s);
  }
  if (url.rfind("mysql:", 0) == 0) {
    throw ConfigError("--db " + url + ": expected mysql://user@host[:port]/database");
  }
  std::string path = url.rfind("sqlite:", 0) == 0 ? url.substr(7) : url;
  if (path.empty()) throw ConfigError("--db: empty SQLite path");
  return std::make_unique<SqliteStore>(path);
}

}  // namespace klab
