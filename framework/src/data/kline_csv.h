// data/kline_csv.h — reading daily-bar CSV exports into klab's units, row by row.
//
// Three formats, told apart by their header: the 邢不行 export of ../shared/data (a banner line,
// then Chinese headers, volume in shares, amount in CNY), Tushare pro.daily (ts_code,
// trade_date YYYYMMDD, vol in lots of 100, amount in thousand CNY, often newest first) and
// AkShare stock_zh_a_hist (日期, 开盘, ..., volume in lots, amount in CNY, usually already
// forward-adjusted, no pre_close). Every row comes out as shares / CNY / ISO dates, or as a
// rejection with the file, line and reason; a bad row never stops the good ones.
// Compiled into libklab and into csv.so (no Torch, no database).
#pragma once

#include "data/dates.h"

#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

#include "klab/data_source.h"

namespace klab {

enum class KlineFormat { kXbx, kTushare, kAkshare };
const char* format_name(KlineFormat format);

struct KlineRow {
  std::string symbol;  // 6-digit code
  std::string name;    // security name on that day, "" if the export has none
  Bar bar;             // adj_factor left at 1: see adjust.h
  std::size_t line = 0;
};

struct Rejection {
  std::string file;
  std::size_t line = 0;  // 1-based line in the file; 0 for the whole file
  std::string reason;
};

struct KlineFile {
  std::string path;
  KlineFormat format = KlineFormat::kXbx;
  bool has_pre_close = true;        // false: prices arrive as exported (AkShare: forward-adjusted)
  std::size_t rows_read = 0;        // data rows seen, accepted or not
  std::vector<KlineRow> rows;       // accepted, sorted by symbol then date
  std::vector<Rejection> rejected;  // in line order
};

// Parses one file. A file whose header lacks a required column, or that cannot be read, throws
// DataError naming the file and the column. `fallback_symbol` is used when the export has no
// symbol column (AkShare without 股票代码); if empty the file's stem is tried.
KlineFile read_kline_csv(const std::filesystem::path& file, const std::string& fallback_symbol = "");


}  // namespace klab
