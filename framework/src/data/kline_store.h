// data/kline_store.h — writing bars into a database with klab's schema (SQLite or MySQL).
//
// The read side is the data-source plugins; this is the write side the importer uses. A store
// is named by a URL: "sqlite:path/to/kline.db" (or a path ending in .db) or
// "mysql://user@host:port/database" with the password in an environment variable.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "klab/data_source.h"

namespace klab {

struct SymbolRecord {
  std::string symbol, name, exchange, list_date, last_date;
  std::string price_adjustment;  // "none": raw prices with pre_close; "forward": pre-adjusted export
};

class KlineStore {
 public:
  virtual ~KlineStore() = default;
  virtual std::string describe() const = 0;  // never contains a password
  // Every stored bar of `symbol`, oldest first (one per trade date).
  virtual std::vector<Bar> existing_bars(const std::string& symbol) = 0;
  // The price_adjustment recorded for `symbol` ("none", "forward"), "" when the symbol is new.
  virtual std::string stored_adjustment(const std::string& symbol) = 0;
  // Inserts and updates one symbol's bars and its stock_basic_info row. An empty info.name keeps
  // the name already stored. Writes go into one transaction, opened by the first write after a
  // commit() or rollback(): readers see them, all at once, when commit() returns. A writer that
  // committed every symbol would wait for the disk ~4 times per symbol (more than the writing).
  virtual void write(const SymbolRecord& info, const std::vector<Bar>& inserts,
                     const std::vector<Bar>& updates) = 0;
  // Makes every write since the last commit durable; throws DataError when it cannot (the writes
  // are then lost: the transaction is rolled back).
  virtual void commit() = 0;
  // Drops every write since the last commit (after a write failed). Closing a store with writes
  // not committed drops them too.
  virtual void rollback() noexcept = 0;
  // Another connection to the same database, for a second writer, or nullptr where the database
  // takes one writer at a time (SQLite). Its transactions are its own: it reads what the other
  // connection committed, never what it has not.
  virtual std::unique_ptr<KlineStore> another_connection() { return nullptr; }
};

// Creates the database file / schema if missing. `password_env` names the environment variable
// that holds a MySQL password ("" for none).
std::unique_ptr<KlineStore> open_kline_store(const std::string& url, const std::string& password_env);

}  // namespace klab
