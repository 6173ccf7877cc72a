// csv.so — a folder of daily-bar CSV files (the 邢不行, Tushare or AkShare exports that
// tools/import_kline reads), one file per symbol, read directly without a database.
// Options: {"path": "folder"}. A file is matched to a symbol by its name: sh600519.csv,
// 600519.csv, 600519.SH.csv, sh600519.csv.gz (read streaming), ... Rows the importer would
// reject are skipped the same way, and
// adj_factor is derived exactly as the importer does, so all sources return identical bars.
#include <filesystem>
#include <map>

#include "klab/data/adjust.h"
#include "klab/data/kline_csv.h"
#include "klab/data_source.h"
#include "klab/params.h"
#include "klab/symbols.h"

namespace fs = std::filesystem;

namespace {

class CsvSource : public klab::DataSource {
 public:
  explicit CsvSource(const std::string& json) {
    klab::Params p(json, "data source 'csv'");
    folder_ = p.text("path", "");
    p.finish();
    if (folder_.empty()) throw klab::ConfigError("data source 'csv': option 'path' is required");
    if (!fs::is_directory(folder_)) throw klab::DataError("csv " + folder_ + ": no such folder");
    for (const auto& item : fs::directory_iterator(folder_)) {
      if (!klab::is_kline_file(item.path())) continue;
      if (auto code = klab::normalize_symbol(klab::kline_file_stem(item.path()))) {
        files_[*code] = item.path();
      }
    }
  }

  std::string display_name() const override { return "CSV"; }

  std::vector<klab::SymbolInfo> list_symbols() override {
    std::vector<klab::SymbolInfo> out;
    for (const auto& [code, path] : files_) {
      const auto& bars = bars_of(code);
      out.push_back({code, names_[code], klab::exchange_of(code),
                     bars.empty() ? std::string() : bars.front().trade_date});
    }
    return out;
  }

  std::vector<klab::Bar> load_bars(const std::string& symbol, const std::string& start_date,
                                   const std::string& end_date) override {
    auto code = klab::normalize_symbol(symbol);
    if (!code || files_.count(*code) == 0) return {};
    std::vector<klab::Bar> out;
    for (const auto& b : bars_of(*code)) {
      if ((start_date.empty() || b.trade_date >= start_date) &&
          (end_date.empty() || b.trade_date <= end_date)) {
        out.push_back(b);
      }
    }
    return out;
  }

 private:
  const std::vector<klab::Bar>& bars_of(const std::string& code) {
    auto cached = cache_.find(code);
    if (cached != cache_.end()) return cached->second;
    auto file = klab::read_kline_csv(files_.at(code), code);
    std::vector<klab::Bar> bars;
    for (const auto& row : file.rows) {
      if (row.symbol != code) continue;
      bars.push_back(row.bar);
      if (!row.name.empty()) names_[code] = row.name;
    }
    if (file.has_pre_close) klab::derive_adj_factors(bars);
    return cache_[code] = std::move(bars);
  }

  std::string folder_;
  std::map<std::string, fs::path> files_;
  std::map<std::string, std::vector<klab::Bar>> cache_;
  std::map<std::string, std::string> names_;
};

}  // namespace

KLAB_DATA_SOURCE_PLUGIN("csv", "1.0.0", "A folder of daily-bar CSV files, one per symbol",
                        CsvSource)
