// klab/data/sqlite_db.h — a thin RAII layer over the SQLite C API: a connection and prepared
// statements that throw DataError naming the database file. Header-only: used by the sqlite.so
// plugin and by the importer.
#pragma once

#include <sqlite3.h>

#include <limits>
#include <string>
#include <vector>

#include "klab/data/schema.h"
#include "klab/data_source.h"
#include "klab/error.h"

namespace klab::sqlite {

class Statement;

class Database {
 public:
  // read_only: the file must exist. Otherwise it is created if missing.
  Database(const std::string& path, bool read_only) : path_(path) {
    int flags = read_only ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    if (sqlite3_open_v2(path.c_str(), &db_, flags | SQLITE_OPEN_NOMUTEX, nullptr) != SQLITE_OK) {
      std::string message = db_ ? sqlite3_errmsg(db_) : "out of memory";
      sqlite3_close(db_);
      db_ = nullptr;
      throw DataError("sqlite " + path + ": cannot open: " + message);
    }
    sqlite3_busy_timeout(db_, 10000);
  }
  ~Database() { sqlite3_close(db_); }
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  void exec(const std::string& sql) {
    char* error = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &error) != SQLITE_OK) {
      std::string message = error ? error : "unknown error";
      sqlite3_free(error);
      throw DataError("sqlite " + path_ + ": " + message);
    }
  }

  sqlite3* handle() const { return db_; }
  const std::string& path() const { return path_; }
  [[noreturn]] void fail(const std::string& what) const {
    throw DataError("sqlite " + path_ + ": " + what + ": " + sqlite3_errmsg(db_));
  }

 private:
  std::string path_;
  sqlite3* db_ = nullptr;
};

class Statement {
 public:
  Statement(Database& db, const std::string& sql) : db_(db) {
    if (sqlite3_prepare_v2(db.handle(), sql.c_str(), -1, &stmt_, nullptr) != SQLITE_OK) {
      db.fail("cannot prepare \"" + sql.substr(0, 60) + "...\"");
    }
  }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Statement& bind(int index, const std::string& value) {
    sqlite3_bind_text(stmt_, index, value.c_str(), static_cast<int>(value.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Statement& bind(int index, double value) {
    sqlite3_bind_double(stmt_, index, value);
    return *this;
  }
  Statement& bind_null(int index) {
    sqlite3_bind_null(stmt_, index);
    return *this;
  }

  // True while a row is available. A failed step resets the statement before it throws: one kept
  // for reuse would otherwise refuse the next bindings and run again with the old ones.
  bool step() {
    int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    const std::string message = sqlite3_errmsg(db_.handle());
    sqlite3_reset(stmt_);
    throw DataError("sqlite " + db_.path() + ": query failed: " + message);
  }
  void run() {
    while (step()) {
    }
    reset();
  }
  void reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }

  std::string text(int column) const {
    const unsigned char* t = sqlite3_column_text(stmt_, column);
    return t ? reinterpret_cast<const char*>(t) : "";
  }
  double number(int column) const { return sqlite3_column_double(stmt_, column); }
  // NULL reads as NaN (unknown).
  double number_or_nan(int column) const {
    return sqlite3_column_type(stmt_, column) == SQLITE_NULL ? std::numeric_limits<double>::quiet_NaN()
                                                             : sqlite3_column_double(stmt_, column);
  }
  // Binds NaN as NULL.
  Statement& bind_or_null(int index, double value) { return value == value ? bind(index, value) : bind_null(index); }

 private:
  Database& db_;
  sqlite3_stmt* stmt_ = nullptr;
};

// Whether `table` has `column` (databases written by an older klab lack the newer columns).
inline bool has_column(Database& db, const std::string& table, const std::string& column) {
  Statement q(db, "SELECT 1 FROM pragma_table_info(?) WHERE name = ?");
  q.bind(1, table).bind(2, column);
  return q.step();
}

// Which of schema::added_kline_columns() stock_kline_data has (bit i: column i).
inline unsigned added_columns_present(Database& db) {
  unsigned present = 0;
  const auto& columns = schema::added_kline_columns();
  for (std::size_t i = 0; i < columns.size(); ++i) {
    if (has_column(db, "stock_kline_data", columns[i].first)) present |= 1u << i;
  }
  return present;
}

// Bars of `symbol` in [start, end] (empty = open), oldest first. `present`: the added columns
// the table has (added_columns_present); -1 asks the database (a source that reads often asks
// once and passes it). Columns it lacks are read as unknown.
inline std::vector<Bar> select_bars(Database& db, const std::string& symbol, const std::string& start,
                                    const std::string& end, long present = -1) {
  const unsigned have = present < 0 ? added_columns_present(db) : static_cast<unsigned>(present);
  Statement q(db, schema::select_bars_sql(have));
  q.bind(1, symbol)
      .bind(2, start.empty() ? std::string(schema::kEarliestDate) : start)
      .bind(3, end.empty() ? std::string(schema::kLatestDate) : end);
  std::vector<Bar> bars;
  while (q.step()) {
    Bar b;
    b.trade_date = q.text(0);
    b.open = q.number(1);
    b.high = q.number(2);
    b.low = q.number(3);
    b.close = q.number(4);
    b.pre_close = q.number(5);
    b.volume = q.number(6);
    b.amount = q.number(7);
    b.adj_factor = q.number(8);
    int at = 9;
    for (std::size_t i = 0; i < schema::added_kline_columns().size(); ++i) {
      if (have & (1u << i)) schema::set_added_column(b, i, q.number_or_nan(at++));
    }
    bars.push_back(std::move(b));
  }
  return bars;
}

}  // namespace klab::sqlite
