// klab/data/schema.h — the two tables klab reads, with one DDL for SQLite and MySQL/MariaDB.
//
// stock_basic_info: one row per symbol. stock_kline_data: one row per symbol and trading day,
// raw prices, volume in shares, amount in CNY, the cumulative adjustment factor
// (data/adjust.h) and the float and total market caps (CNY, NULL where the export has none).
// docs/DATA.md documents every column. MySQL additionally gets DEFAULT CHARSET=utf8mb4 so
// Chinese security names survive a server with latin1 defaults.
#pragma once

#include <string>
#include <utility>
#include <vector>

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
      " PRIMARY KEY (symbol, trade_date)"
      ")",
  };
  return statements;
}

inline const char* kSelectBars =
    "SELECT trade_date, open, high, low, close, pre_close, volume, amount, adj_factor,"
    " float_market_cap, total_market_cap"
    " FROM stock_kline_data WHERE symbol = ? AND trade_date >= ? AND trade_date <= ?"
    " ORDER BY trade_date";
// The same on a database written before the market-cap columns existed (caps read as unknown).
inline const char* kSelectBarsWithoutCaps =
    "SELECT trade_date, open, high, low, close, pre_close, volume, amount, adj_factor"
    " FROM stock_kline_data WHERE symbol = ? AND trade_date >= ? AND trade_date <= ?"
    " ORDER BY trade_date";

// Columns added to stock_kline_data after its first release: a writer adds the missing ones
// (ALTER TABLE stock_kline_data ADD COLUMN <name> <type>) before it writes.
inline const std::vector<std::pair<std::string, std::string>>& added_kline_columns() {
  static const std::vector<std::pair<std::string, std::string>> columns = {
      {"float_market_cap", "DOUBLE NULL"}, {"total_market_cap", "DOUBLE NULL"}};
  return columns;
}

inline const char* kSelectSymbols =
    "SELECT symbol, name, exchange, list_date FROM stock_basic_info ORDER BY symbol";

// Open ends of a date range, as bound to kSelectBars.
inline const char* kEarliestDate = "1000-01-01";
inline const char* kLatestDate = "9999-12-31";

}  // namespace klab::schema
