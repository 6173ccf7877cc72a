// klab/data_source.h — the interface every data-source plugin implements.
//
// A DataSource answers two questions over the schema of docs/DATA.md: which symbols exist
// (stock_basic_info) and what were one symbol's daily bars over a date range
// (stock_kline_data). It is built from a JSON object of options (path, host, ...) and knows
// nothing of features or training. Dates are ISO "YYYY-MM-DD" strings; symbols are 6-digit codes.
#pragma once

#include <limits>
#include <string>
#include <vector>

#include "klab/plugin.h"

namespace klab {

struct SymbolInfo {
  std::string symbol;    // "600519"
  std::string name;      // "贵州茅台"
  std::string exchange;  // "SH" | "SZ" | "BJ"
  std::string list_date; // first trading day known, ISO
};

// One daily bar, raw (unadjusted) prices as traded, with the cumulative adjustment factor.
struct Bar {
  std::string trade_date;  // ISO date
  double open = 0;
  double high = 0;
  double low = 0;
  double close = 0;
  double pre_close = 0;    // exchange's previous close, ex-rights adjusted; 0 if unknown
  double volume = 0;       // shares
  double amount = 0;       // CNY
  double adj_factor = 1;   // cumulative backward adjustment factor (docs/DATA.md)
  // Market capitalisation that day in CNY (邢不行 exports carry both); NaN where the source has none.
  double float_market_cap = std::numeric_limits<double>::quiet_NaN();  // 流通市值
  double total_market_cap = std::numeric_limits<double>::quiet_NaN();  // 总市值
  // Under risk warning that day (the name carried ST or *ST: a ±5 % price limit on the main
  // boards): 1 yes, 0 no, -1 unknown (the export has no daily name).
  int st = -1;
};

class DataSource {
 public:
  virtual ~DataSource() = default;

  // Human-readable name for config.json's data_source ("SQLite", "MySQL", "CSV").
  virtual std::string display_name() const = 0;

  virtual std::vector<SymbolInfo> list_symbols() = 0;

  // Bars of `symbol` with start_date <= trade_date <= end_date, oldest first. An empty start or
  // end date leaves that side open. An unknown symbol yields no bars (not an error).
  virtual std::vector<Bar> load_bars(const std::string& symbol, const std::string& start_date,
                                     const std::string& end_date) = 0;
};

// Factory exported by a data-source plugin; throws klab::ConfigError for bad options and
// klab::DataError when the source cannot be opened.
using DataSourceFactoryFn = DataSource*(const char* options_json);

}  // namespace klab

// Declares a data-source plugin: its manifest and a factory that constructs `SourceClass` from
// (const std::string& options_json).
#define KLAB_DATA_SOURCE_PLUGIN(plugin_name, plugin_version, plugin_description, SourceClass) \
  namespace klab_plugin_entry {                                                              \
  const ::klab::PluginManifest* manifest() {                                                 \
    static const ::klab::PluginManifest m{::klab::kPluginAbiVersion, ::klab::kDataSourceKind, \
                                          plugin_name, plugin_version,                       \
                                          plugin_description, ""};                           \
    return &m;                                                                               \
  }                                                                                          \
  ::klab::DataSource* create_data_source(const char* options_json) {                         \
    return new SourceClass(std::string(options_json));                                       \
  }                                                                                          \
  }                                                                                          \
  BOOST_DLL_ALIAS(klab_plugin_entry::manifest, KLAB_MANIFEST_SYMBOL)                         \
  BOOST_DLL_ALIAS(klab_plugin_entry::create_data_source, KLAB_DATA_SOURCE_FACTORY_SYMBOL)
