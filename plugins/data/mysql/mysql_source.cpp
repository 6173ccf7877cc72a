// mysql.so — the production data source: MySQL/MariaDB with klab's schema, via Connector/C++.
// Options: {"host", "port", "user", "database", "password_env", "socket"}; the password is read
// from the environment variable password_env names. Prepared statements only.
#include <memory>

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
    try {
      std::unique_ptr<sql::PreparedStatement> q(
          connection_->prepareStatement(klab::schema::kSelectSymbols));
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
  }

  std::vector<klab::Bar> load_bars(const std::string& symbol, const std::string& start_date,
                                   const std::string& end_date) override {
    return klab::mysql::select_bars(*connection_, settings_, klab::symbol_or_verbatim(symbol), start_date, end_date,
                                    present_);
  }

 private:
  klab::mysql::Settings settings_;
  std::unique_ptr<sql::Connection> connection_;
  long present_ = -1;  // the added columns the table has (asked once)
};

}  // namespace

KLAB_DATA_SOURCE_PLUGIN("mysql", "1.0.0", "MySQL/MariaDB database with klab's kline schema",
                        MysqlSource)
