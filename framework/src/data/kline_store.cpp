#include "data/kline_store.h"

#include <algorithm>
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

// A bar's numbers in the order of bar_columns() (NaN is NULL).
std::vector<double> bar_values(const Bar& b) {
  std::vector<double> v = {b.open, b.high, b.low, b.close, b.pre_close, b.volume, b.amount, b.adj_factor};
  for (std::size_t i = 0; i < schema::added_kline_columns().size(); ++i) v.push_back(schema::added_column(b, i));
  return v;
}

// INSERT of `rows` bars at once (MySQL: a multi-row VALUES list): symbol, trade_date, values.
constexpr std::size_t kInsertBatch = 500;
std::string insert_statement(std::size_t rows) {
  std::string sql = "INSERT INTO stock_kline_data (symbol, trade_date", row = "(?, ?";
  for (const auto& c : bar_columns()) {
    sql += ", " + c;
    row += ", ?";
  }
  sql += ") VALUES " + row + ")";
  for (std::size_t r = 1; r < rows; ++r) sql += ", " + row + ")";
  return sql;
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

  void write(const SymbolRecord& info, const std::vector<Bar>& inserts,
             const std::vector<Bar>& updates) override {
    db_.exec("BEGIN IMMEDIATE");
    try {
      sqlite::Statement insert(db_, insert_statement(1));
      for (const auto& b : inserts) {
        insert.bind(1, info.symbol).bind(2, b.trade_date);
        const auto values = bar_values(b);
        for (std::size_t i = 0; i < values.size(); ++i) insert.bind_or_null(static_cast<int>(3 + i), values[i]);
        insert.run();
      }
      sqlite::Statement update(db_, update_statement());
      for (const auto& b : updates) {
        const auto values = bar_values(b);
        for (std::size_t i = 0; i < values.size(); ++i) update.bind_or_null(static_cast<int>(1 + i), values[i]);
        update.bind(static_cast<int>(values.size() + 1), info.symbol).bind(static_cast<int>(values.size() + 2), b.trade_date);
        update.run();
      }
      sqlite::Statement upsert(
          db_,
          "INSERT INTO stock_basic_info (symbol, name, exchange, list_date, last_date,"
          " price_adjustment) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(symbol) DO UPDATE SET"
          " name = CASE WHEN excluded.name = '' THEN stock_basic_info.name ELSE excluded.name END, exchange = excluded.exchange, list_date = excluded.list_date,"
          " last_date = excluded.last_date, price_adjustment = excluded.price_adjustment");
      upsert.bind(1, info.symbol).bind(2, info.name).bind(3, info.exchange).bind(4, info.list_date)
          .bind(5, info.last_date).bind(6, info.price_adjustment);
      upsert.run();
      db_.exec("COMMIT");
    } catch (...) {
      db_.exec("ROLLBACK");
      throw;
    }
  }

 private:
  sqlite::Database db_;
};

class MysqlStore : public KlineStore {
 public:
  explicit MysqlStore(mysql::Settings settings) : settings_(std::move(settings)) {
    connection_ = mysql::connect(settings_, true);
    try {
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
      connection_->setAutoCommit(false);
      auto bind = [](sql::PreparedStatement& q, unsigned first, const Bar& b) {
        const auto values = bar_values(b);
        for (unsigned i = 0; i < values.size(); ++i) {
          if (values[i] == values[i]) {
            q.setDouble(first + i, values[i]);
          } else {
            q.setNull(first + i, sql::DataType::DOUBLE);
          }
        }
      };
      // Many rows per INSERT: one round trip per kInsertBatch bars instead of one per bar.
      std::unique_ptr<sql::PreparedStatement> batch;
      std::size_t batch_rows = 0;
      for (std::size_t first = 0; first < inserts.size(); first += kInsertBatch) {
        const std::size_t rows = std::min(kInsertBatch, inserts.size() - first);
        if (rows != batch_rows) {
          batch.reset(connection_->prepareStatement(insert_statement(rows)));
          batch_rows = rows;
        }
        for (std::size_t r = 0; r < rows; ++r) {
          const Bar& b = inserts[first + r];
          const unsigned base = static_cast<unsigned>(r * (2 + bar_columns().size()));
          batch->setString(base + 1, info.symbol);
          batch->setString(base + 2, b.trade_date);
          bind(*batch, base + 3, b);
        }
        batch->executeUpdate();
      }
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
      connection_->commit();
      connection_->setAutoCommit(true);
    } catch (const sql::SQLException& e) {
      try {
        connection_->rollback();
      } catch (...) {
      }
      throw mysql::query_error(settings_, e);
    }
  }

 private:
  mysql::Settings settings_;
  std::unique_ptr<sql::Connection> connection_;
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
