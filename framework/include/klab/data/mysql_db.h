// klab/data/mysql_db.h — MySQL/MariaDB connection settings and connecting with Connector/C++ 1.1.
//
// Settings come from the experiment's data.options (host, port, user, database, password_env);
// the password itself only ever comes from the environment variable that password_env names,
// so it never appears in a YAML file, out/ or a log. Header-only: used by mysql.so and by the
// importer.
#pragma once

#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include <cppconn/connection.h>
#include <cppconn/exception.h>
#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>
#include <mysql_driver.h>

#include "klab/data/schema.h"
#include "klab/data_source.h"
#include "klab/error.h"
#include "klab/params.h"

namespace klab::mysql {

struct Settings {
  std::string host = "127.0.0.1";
  int port = 3306;
  std::string user = "root";
  std::string database = "market";
  std::string password_env = "KLAB_DB_PASSWORD";  // "" for no password
  std::string socket;                             // unix socket instead of TCP when set
  // A data source that loses its connection (the server restarted, a network blip) reconnects
  // and repeats the read this many times, waiting 0.25 s, 0.5 s, 1 s, ... (doubling, at most
  // 4 s each) before each attempt, then fails with one clear error.
  int retries = 5;

  // "mysql://user@host:port/database" — never contains the password.
  std::string describe() const {
    return "mysql://" + user + "@" + host + ":" + std::to_string(port) + "/" + database;
  }
};

// Reads the settings from a data source's options; rejects a literal "password" key.
inline Settings read_settings(Params& p) {
  if (p.has("password")) {
    throw ConfigError(p.owner() + ": do not put the password in the experiment file; set an " +
                      "environment variable and name it with 'password_env'");
  }
  Settings s;
  s.host = p.text("host", s.host);
  s.port = static_cast<int>(p.integer_at_least("port", s.port, 1));
  s.user = p.text("user", s.user);
  s.database = p.text("database", s.database);
  s.password_env = p.text("password_env", s.password_env);
  s.socket = p.text("socket", "");
  const auto retries = p.integer_at_least("retries", s.retries, 0);
  if (retries > 20) throw ConfigError(p.owner() + ": retries " + std::to_string(retries) + ": at most 20");
  s.retries = static_cast<int>(retries);
  return s;
}

// Connects, selects the database (creating it when `create_database`), and sets utf8mb4.
// Throws DataError with a message that names the server but never the password.
// local_infile: allow LOAD DATA LOCAL INFILE on this connection (the importer's bulk path). A
// reading data source never asks for it: it would let the server ask for the client's files.
inline std::unique_ptr<sql::Connection> connect(const Settings& s, bool create_database = false,
                                                bool local_infile = false) {
  std::string password;
  if (!s.password_env.empty()) {
    const char* value = std::getenv(s.password_env.c_str());
    if (value == nullptr) {
      throw ConfigError(s.describe() + ": environment variable " + s.password_env +
                        " (password_env) is not set");
    }
    password = value;
  }
  sql::ConnectOptionsMap options;
  options["hostName"] = sql::SQLString(s.socket.empty()
                                           ? "tcp://" + s.host + ":" + std::to_string(s.port)
                                           : "unix://" + s.socket);
  options["userName"] = sql::SQLString(s.user);
  options["password"] = sql::SQLString(password);
  options["OPT_CHARSET_NAME"] = sql::SQLString("utf8mb4");
  if (local_infile) options["OPT_LOCAL_INFILE"] = 1;
  try {
    std::unique_ptr<sql::Connection> connection(
        sql::mysql::get_mysql_driver_instance()->connect(options));
    std::unique_ptr<sql::Statement> statement(connection->createStatement());
    if (create_database) {
      statement->execute("CREATE DATABASE IF NOT EXISTS `" + s.database +
                         "` DEFAULT CHARACTER SET utf8mb4");
    }
    connection->setSchema(s.database);
    return connection;
  } catch (const sql::SQLException& e) {
    std::string reason = e.what();
    if (e.getErrorCode() == 1045) {
      reason = "access denied for user '" + s.user + "' (check the password in $" +
               s.password_env + ")";
    } else if (e.getErrorCode() == 1049) {
      reason = "unknown database '" + s.database + "'";
    }
    throw DataError(s.describe() + ": cannot connect: " + reason);
  }
}

// A query that failed, with the server's or the client library's error number.
class QueryError : public DataError {
 public:
  QueryError(const std::string& message, int code) : DataError(message), code_(code) {}
  int code() const { return code_; }

 private:
  int code_;
};

// Whether an error number means the connection is gone (the server stopped or restarted, the
// network dropped it) rather than that the query is wrong: a new connection may succeed.
inline bool connection_lost(int code) {
  switch (code) {
    case 1053:  // ER_SERVER_SHUTDOWN
    case 1927:  // ER_CONNECTION_KILLED
    case 2002:  // CR_CONNECTION_ERROR (socket)
    case 2003:  // CR_CONN_HOST_ERROR
    case 2006:  // CR_SERVER_GONE_ERROR
    case 2013:  // CR_SERVER_LOST
    case 2055:  // CR_SERVER_LOST_EXTENDED
    case 4031:  // ER_CLIENT_INTERACTION_TIMEOUT
      return true;
    default:
      return false;
  }
}

// A Connector/C++ failure during a query, as a DataError naming the server.
inline QueryError query_error(const Settings& s, const sql::SQLException& e) {
  return QueryError(s.describe() + ": query failed: " + e.what() + " (error " + std::to_string(e.getErrorCode()) + ")",
                    e.getErrorCode());
}

// Whether `table` of the connection's database has `column`.
inline bool has_column(sql::Connection& connection, const std::string& table, const std::string& column) {
  std::unique_ptr<sql::PreparedStatement> q(connection.prepareStatement(
      "SELECT COUNT(*) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND "
      "COLUMN_NAME = ?"));
  q->setString(1, table);
  q->setString(2, column);
  std::unique_ptr<sql::ResultSet> rs(q->executeQuery());
  return rs->next() && rs->getInt(1) > 0;
}

// Which of schema::added_kline_columns() stock_kline_data has (bit i: column i).
inline unsigned added_columns_present(sql::Connection& connection) {
  unsigned present = 0;
  const auto& columns = schema::added_kline_columns();
  for (std::size_t i = 0; i < columns.size(); ++i) {
    if (has_column(connection, "stock_kline_data", columns[i].first)) present |= 1u << i;
  }
  return present;
}

// Bars of `symbol` in [start, end] (empty = open), oldest first. `present`: the added columns the
// table has; -1 asks the server (a source that reads often asks once and passes it). Columns it
// lacks are read as unknown.
inline std::vector<Bar> select_bars(sql::Connection& connection, const Settings& s, const std::string& symbol,
                                    const std::string& start, const std::string& end, long present = -1) {
  try {
    const unsigned have = present < 0 ? added_columns_present(connection) : static_cast<unsigned>(present);
    std::unique_ptr<sql::PreparedStatement> q(connection.prepareStatement(schema::select_bars_sql(have)));
    q->setString(1, symbol);
    q->setString(2, start.empty() ? schema::kEarliestDate : start);
    q->setString(3, end.empty() ? schema::kLatestDate : end);
    std::unique_ptr<sql::ResultSet> rs(q->executeQuery());
    std::vector<Bar> bars;
    while (rs->next()) {
      Bar b;
      b.trade_date = rs->getString(1);
      b.open = static_cast<double>(rs->getDouble(2));
      b.high = static_cast<double>(rs->getDouble(3));
      b.low = static_cast<double>(rs->getDouble(4));
      b.close = static_cast<double>(rs->getDouble(5));
      b.pre_close = static_cast<double>(rs->getDouble(6));
      b.volume = static_cast<double>(rs->getDouble(7));
      b.amount = static_cast<double>(rs->getDouble(8));
      b.adj_factor = static_cast<double>(rs->getDouble(9));
      unsigned at = 10;
      for (std::size_t i = 0; i < schema::added_kline_columns().size(); ++i) {
        if (!(have & (1u << i))) continue;
        schema::set_added_column(b, i, rs->isNull(at) ? std::nan("") : static_cast<double>(rs->getDouble(at)));
        ++at;
      }
      bars.push_back(std::move(b));
    }
    return bars;
  } catch (const sql::SQLException& e) {
    throw query_error(s, e);
  }
}

}  // namespace klab::mysql
