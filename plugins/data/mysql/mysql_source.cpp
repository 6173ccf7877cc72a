// mysql.so — the production data source: MySQL/MariaDB with klab's schema, via Connector/C++.
// Options: {"host", "port", "user", "database", "password_env", "socket"}; the password is read
// from the environment variable password_env names; "retries" (default 5) bounds reconnection
// after a lost connection. Prepared statements only.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <thread>

#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>

#include "klab/data/mysql_db.h"
#include "klab/data/schema.h"
#include "klab/data_source.h"
#include "klab/params.h"
#include "klab/symbols.h"

namespace {

class MysqlSource : public klab::DataSource {
 public:
  explicit MysqlSource(const std::string& json) {
    klab::Params p(json, "data source 'mysql'");
    settings_ = klab::mysql::read_settings(p);
    p.finish();
    connection_ = klab::mysql::connect(settings_);
    try {
      present_ = klab::mysql::added_columns_present(*connection_);
    } catch (const sql::SQLException& e) {
      throw klab::mysql::query_error(settings_, e);
    }
  }

  std::string display_name() const override { return "MySQL"; }

  std::vector<klab::SymbolInfo> list_symbols() override {
    return reconnecting([this] {
      try {
        std::unique_ptr<sql::PreparedStatement> q(connection_->prepareStatement(klab::schema::kSelectSymbols));
        std::unique_ptr<sql::ResultSet> rs(q->executeQuery());
        std::vector<klab::SymbolInfo> out;
        while (rs->next()) {
          out.push_back({rs->getString(1), rs->getString(2), rs->getString(3),
                         rs->isNull(4) ? std::string() : std::string(rs->getString(4))});
        }
        return out;
      } catch (const sql::SQLException& e) {
        throw klab::mysql::query_error(settings_, e);
      }
    });
  }

  std::vector<klab::Bar> load_bars(const std::string& symbol, const std::string& start_date,
                                   const std::string& end_date) override {
    return reconnecting([&] {
      return klab::mysql::select_bars(*connection_, settings_, klab::symbol_or_verbatim(symbol), start_date,
                                      end_date, present_);
    });
  }

 private:
  static std::string seconds(std::chrono::milliseconds ms) {
    char text[32];
    std::snprintf(text, sizeof text, "%.2f", static_cast<double>(ms.count()) / 1000.0);
    return text;
  }
  // An error message without its leading "mysql://...: " (the final error names the server once).
  std::string without_server(const std::string& message) const {
    const std::string prefix = settings_.describe() + ": ";
    return message.rfind(prefix, 0) == 0 ? message.substr(prefix.size()) : message;
  }

  // Runs `read` (which may use connection_); when the connection is lost, reconnects and runs it
  // again, up to settings_.retries times with doubling waits, then fails naming the server and
  // the last error. Reads only: repeating one is harmless.
  template <typename Read>
  auto reconnecting(Read read) -> decltype(read()) {
    auto wait = std::chrono::milliseconds(250);
    std::chrono::milliseconds waited{0};
    for (int attempt = 0;; ++attempt) {
      std::string problem;
      try {
        if (!connection_) connection_ = klab::mysql::connect(settings_);
        return read();
      } catch (const klab::mysql::QueryError& e) {
        if (!klab::mysql::connection_lost(e.code())) throw;
        problem = e.what();
      } catch (const klab::DataError& e) {
        if (connection_) throw;  // not a failed reconnection
        problem = e.what();      // the server is not back yet
      }
      connection_.reset();
      if (attempt >= settings_.retries) {
        throw klab::UnavailableError(settings_.describe() + ": lost the connection to the server and " +
                              std::to_string(settings_.retries) + " reconnection attempt" +
                              (settings_.retries == 1 ? "" : "s") + " over " +
                              seconds(waited) +
                              " s failed; last: " + without_server(problem));
      }
      std::this_thread::sleep_for(wait);
      waited += wait;
      wait = std::min(wait * 2, std::chrono::milliseconds(4000));
    }
  }

  klab::mysql::Settings settings_;
  std::unique_ptr<sql::Connection> connection_;
  long present_ = -1;  // the added columns the table has (asked once)
};

}  // namespace

KLAB_DATA_SOURCE_PLUGIN("mysql", "1.0.0", "MySQL/MariaDB database with klab's kline schema",
                        MysqlSource)
