// klab/data/schema.h — the two tables klab reads, with one DDL for SQLite and MySQL/MariaDB.
//
// stock_basic_info: one row per symbol. stock_kline_data: one row per symbol and trading day,
// raw prices, volume in shares, amount in CNY, the cumulative adjustment factor
// (data/adjust.h) and the float and total market caps (CNY, NULL where the export has none).
// docs/DATA.md documents every column. MySQL additionally gets DEFAULT CHARSET=utf8mb4 so
// Chinese security names survive a server with latin1 defaults.
#pragma once

#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "klab/data_source.h"

namespace klab::schema {

inline const std::vector<std::string>& create_statements() {
  static const std::vector<std::string> statements = {
      "CREATE TABLE IF NOT EXISTS stock_basic_info ("
      " symbol VARCHAR(6) NOT NULL PRIMARY KEY,"
      " name VARCHAR(64) NOT NULL DEFAULT '',"
      " exchange VARCHAR(2) NOT NULL DEFAULT '',"
      " list_date DATE NULL,"
      " last_date DATE NULL,"
      " price_adjustment VARCHAR(8) NOT NULL DEFAULT 'none'"
      ")",
      "CREATE TABLE IF NOT EXISTS stock_kline_data ("
      " symbol VARCHAR(6) NOT NULL,"
      " trade_date DATE NOT NULL,"
      " open DOUBLE NOT NULL,"
      " high DOUBLE NOT NULL,"
      " low DOUBLE NOT NULL,"
      " close DOUBLE NOT NULL,"
      " pre_close DOUBLE NOT NULL DEFAULT 0,"
      " volume DOUBLE NOT NULL DEFAULT 0,"
      " amount DOUBLE NOT NULL DEFAULT 0,"
      " adj_factor DOUBLE NOT NULL DEFAULT 1,"
      " float_market_cap DOUBLE NULL,"
      " total_market_cap DOUBLE NULL,"
      " st DOUBLE NULL,"
      " PRIMARY KEY (symbol, trade_date)"
      ")",
  };
  return statements;
}

// Columns added to stock_kline_data after its first release: a writer adds the missing ones
// (ALTER TABLE stock_kline_data ADD COLUMN <name> <type>) before it writes; a reader reads those
// present (a database written by an older klab lacks them: read as unknown).
inline const std::vector<std::pair<std::string, std::string>>& added_kline_columns() {
  static const std::vector<std::pair<std::string, std::string>> columns = {
      {"float_market_cap", "DOUBLE NULL"}, {"total_market_cap", "DOUBLE NULL"}, {"st", "DOUBLE NULL"}};
  return columns;
}
// Bit i: added_kline_columns()[i] exists in the table.
inline unsigned all_added_columns() { return (1u << added_kline_columns().size()) - 1; }

// Bars of one symbol in a date range, oldest first: the nine original columns, then the added
// columns present in `present` (in added_kline_columns() order).
inline std::string select_bars_sql(unsigned present) {
  std::string sql = "SELECT trade_date, open, high, low, close, pre_close, volume, amount, adj_factor";
  for (std::size_t i = 0; i < added_kline_columns().size(); ++i) {
    if (present & (1u << i)) sql += ", " + added_kline_columns()[i].first;
  }
  return sql + " FROM stock_kline_data WHERE symbol = ? AND trade_date >= ? AND trade_date <= ? ORDER BY trade_date";
}

// An added column's value of the bar as stored (NaN: NULL); `index` into added_kline_columns().
inline double added_column(const Bar& b, std::size_t index) {
  switch (index) {
    case 0: return b.float_market_cap;
    case 1: return b.total_market_cap;
    case 2: return b.st < 0 ? std::numeric_limits<double>::quiet_NaN() : static_cast<double>(b.st);
    default: return std::numeric_limits<double>::quiet_NaN();
  }
}

// Stores an added column's value (NaN: NULL) into the bar; `index` into added_kline_columns().
inline void set_added_column(Bar& b, std::size_t index, double value) {
  switch (index) {
    case 0: b.float_market_cap = value; break;
    case 1: b.total_market_cap = value; break;
    case 2: b.st = value == value ? static_cast<int>(value) : -1; break;
    default: break;
  }
}

inline const char* kSelectSymbols =
    "SELECT symbol, name, exchange, list_date FROM stock_basic_info ORDER BY symbol";

// Open ends of a date range, as bound to select_bars_sql().
inline const char* kEarliestDate = "1000-01-01";
inline const char* kLatestDate = "9999-12-31";

}  // namespace klab::schema
