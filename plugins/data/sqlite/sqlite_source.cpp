// sqlite.so — the embedded default data source: a SQLite file with klab's schema.
// Options: {"path": "data/sample/kline.db"}. Opened read-only; prepared statements only.
#include <filesystem>
#include <memory>

#include "klab/data/schema.h"
#include "klab/data/sqlite_db.h"
#include "klab/data_source.h"
#include "klab/params.h"
#include "klab/symbols.h"

namespace {

class SqliteSource : public klab::DataSource {
 public:
  explicit SqliteSource(const std::string& json) {
    klab::Params p(json, "data source 'sqlite'");
    path_ = p.text("path", "");
    p.finish();
    if (path_.empty()) throw klab::ConfigError("data source 'sqlite': option 'path' is required");
    if (!std::filesystem::is_regular_file(path_)) {
      throw klab::DataError("sqlite " + path_ + ": no such database file (create it with " +
                            "build/bin/import_kline --db sqlite:" + path_ + " FILES...)");
    }
    db_ = std::make_unique<klab::sqlite::Database>(path_, true);
    present_ = klab::sqlite::added_columns_present(*db_);
  }

  std::string display_name() const override { return "SQLite"; }

  std::vector<klab::SymbolInfo> list_symbols() override {
    klab::sqlite::Statement q(*db_, klab::schema::kSelectSymbols);
    std::vector<klab::SymbolInfo> out;
    while (q.step()) out.push_back({q.text(0), q.text(1), q.text(2), q.text(3)});
    return out;
  }

  std::vector<klab::Bar> load_bars(const std::string& symbol, const std::string& start_date,
                                   const std::string& end_date) override {
    return klab::sqlite::select_bars(*db_, klab::symbol_or_verbatim(symbol), start_date, end_date, present_);
  }

 private:
  std::string path_;
  std::unique_ptr<klab::sqlite::Database> db_;
  long present_ = -1;  // the added columns the table has (asked once)
};

}  // namespace

KLAB_DATA_SOURCE_PLUGIN("sqlite", "1.0.0", "Embedded SQLite database with klab's kline schema",
                        SqliteSource)
