// klab/data/kline_csv.h — reading daily-bar CSV exports into klab's units, row by row.
//
// Three formats, told apart by their header: the 邢不行 export of ../shared/data (a banner line,
// then Chinese headers, volume in shares, amount in CNY), Tushare pro.daily (ts_code,
// trade_date YYYYMMDD, vol in lots of 100, amount in thousand CNY, often newest first) and
// AkShare stock_zh_a_hist (日期, 开盘, ..., volume in lots, amount in CNY, usually already
// forward-adjusted, no pre_close). Every row comes out as shares / CNY / ISO dates, or as a
// rejection with the file, line and reason; a bad row never stops the good ones.
#pragma once

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include <zlib.h>

#include "klab/data/dates.h"
#include "klab/data_source.h"
#include "klab/error.h"
#include "klab/symbols.h"

namespace klab {

enum class KlineFormat { kXbx, kTushare, kAkshare, kQlib };  // kQlib: a Qlib data directory (host importer)
inline const char* format_name(KlineFormat format);

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

// Parses one file, plain CSV or gzip-compressed (.csv.gz, streamed). A file whose header lacks
// a required column, that cannot be read or is a corrupt archive, throws DataError naming the
// file. `fallback_symbol` is used when the export has no symbol column (AkShare without
// 股票代码); if empty the file's name without .csv / .csv.gz is tried.
inline KlineFile read_kline_csv(const std::filesystem::path& file, const std::string& fallback_symbol = "");

// Puts `file.rows` in the order KlineFile promises, by symbol then date (rows of one day keep
// their order), and refuses a second row of a day already accepted (into `file.rejected`, naming
// the first; rejections stay in line order). Every reader of a KlineFile ends with it.
inline void sort_by_symbol_date(KlineFile& file) {
  auto by_symbol_date = [](const KlineRow& a, const KlineRow& b) {
    return std::tie(a.symbol, a.bar.trade_date) < std::tie(b.symbol, b.bar.trade_date);
  };
  if (!std::is_sorted(file.rows.begin(), file.rows.end(), by_symbol_date)) {
    std::stable_sort(file.rows.begin(), file.rows.end(), by_symbol_date);
  }
  std::size_t kept = 0, first_of_day = 0;
  bool duplicates = false;
  for (std::size_t i = 0; i < file.rows.size(); ++i) {
    if (kept > 0 && file.rows[i].symbol == file.rows[first_of_day].symbol &&
        file.rows[i].bar.trade_date == file.rows[first_of_day].bar.trade_date) {
      const KlineRow& first = file.rows[first_of_day];
      file.rejected.push_back({file.path, file.rows[i].line,
                               "duplicate day " + first.bar.trade_date + " for " + first.symbol +
                                   (first.line > 0 ? " (first at line " + std::to_string(first.line) + ")" : "")});
      duplicates = true;
      continue;
    }
    if (kept != i) file.rows[kept] = std::move(file.rows[i]);
    first_of_day = kept++;
  }
  file.rows.resize(kept);
  if (duplicates) {
    std::stable_sort(file.rejected.begin(), file.rejected.end(),
                     [](const Rejection& a, const Rejection& b) { return a.line < b.line; });
  }
}

namespace kline_csv_detail {
// Whether `name` ends with `suffix` and has something before it.
inline bool has_suffix(const std::string& name, const std::string& suffix) {
  return name.size() > suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
}
}  // namespace kline_csv_detail

// Whether `file` is named as an export klab reads (*.csv or *.csv.gz), and that name without the
// extension ("sh600519" of sh600519.csv.gz).
inline bool is_kline_file(const std::filesystem::path& file) {
  const std::string name = file.filename().string();
  return kline_csv_detail::has_suffix(name, ".csv") || kline_csv_detail::has_suffix(name, ".csv.gz");
}
inline std::string kline_file_stem(const std::filesystem::path& file) {
  std::string name = file.filename().string();
  for (const std::string ext : {".gz", ".csv"}) {
    if (kline_csv_detail::has_suffix(name, ext)) name.resize(name.size() - ext.size());
  }
  return name;
}

// ---- implementation: header-only, so a data-source plugin needs the SDK alone ----

namespace kline_csv_detail {

// Where each field of a Bar comes from in one format, and the factors that bring its units to
// shares and CNY.
struct Layout {
  KlineFormat format;
  std::string symbol, name, date, open, high, low, close, pre_close, volume, amount;
  double volume_scale = 1.0;
  double amount_scale = 1.0;
  std::string float_cap, total_cap;  // optional columns, CNY
};

inline const std::vector<Layout>& layouts() {
  static const std::vector<Layout> all = {
      {KlineFormat::kXbx, "股票代码", "股票名称", "交易日期", "开盘价", "最高价", "最低价", "收盘价",
       "前收盘价", "成交量", "成交额", 1.0, 1.0, "流通市值", "总市值"},
      {KlineFormat::kTushare, "ts_code", "", "trade_date", "open", "high", "low", "close",
       "pre_close", "vol", "amount", 100.0, 1000.0, "", ""},
      {KlineFormat::kAkshare, "股票代码", "", "日期", "开盘", "最高", "最低", "收盘", "", "成交量",
       "成交额", 100.0, 1.0, "", ""},
  };
  return all;
}

// Lines of a file, plain or gzip-compressed (zlib reads both: a .csv.gz archive streams without a
// temporary file). The trailing newline is dropped.
class LineReader {
 public:
  explicit LineReader(const std::filesystem::path& file) : file_(gzopen(file.c_str(), "rb")) {
    if (file_ != nullptr) gzbuffer(file_, 1 << 17);
  }
  ~LineReader() {
    if (file_ != nullptr) gzclose(file_);
  }
  LineReader(const LineReader&) = delete;
  LineReader& operator=(const LineReader&) = delete;
  bool is_open() const { return file_ != nullptr; }

  bool getline(std::string& line) {
    line.clear();
    char buf[4096];
    while (gzgets(file_, buf, sizeof buf) != nullptr) {
      line += buf;
      if (!line.empty() && line.back() == '\n') {
        line.pop_back();
        return true;
      }
    }
    int error = Z_OK;
    gzerror(file_, &error);
    if (error != Z_OK && error != Z_STREAM_END) failed_ = true;
    return !line.empty();
  }
  bool failed() const { return failed_; }  // a corrupt or truncated archive

 private:
  gzFile file_ = nullptr;
  bool failed_ = false;
};

// Splits one CSV line into `fields` (reusing their storage: a reader calls it once per line):
// RFC 4180 quotes ("" inside quotes is one "), carriage returns outside quotes dropped, each
// field trimmed of spaces and tabs.
inline void split_csv_line(const std::string& line, std::vector<std::string>& fields) {
  std::size_t count = 0;
  auto next_field = [&]() -> std::string& {
    if (count == fields.size()) fields.emplace_back();
    std::string& f = fields[count++];
    f.clear();
    return f;
  };
  std::string* field = &next_field();
  bool quoted = false;
  const char* p = line.data();
  const char* const end = p + line.size();
  while (p < end) {
    if (quoted) {
      const char* q = static_cast<const char*>(std::memchr(p, '"', static_cast<std::size_t>(end - p)));
      if (q == nullptr) {
        field->append(p, end);
        break;
      }
      field->append(p, q);
      if (q + 1 < end && q[1] == '"') {
        *field += '"';
        p = q + 2;
      } else {
        quoted = false;
        p = q + 1;
      }
      continue;
    }
    const char* q = p;
    while (q < end && *q != ',' && *q != '"' && *q != '\r') ++q;
    field->append(p, q);
    if (q == end) break;
    if (*q == ',') {
      field = &next_field();
    } else if (*q == '"') {
      quoted = true;
    }
    p = q + 1;
  }
  fields.resize(count);
  for (auto& f : fields) {
    const auto last = f.find_last_not_of(" \t");
    if (last == std::string::npos) {
      f.clear();
      continue;
    }
    f.erase(last + 1);
    f.erase(0, f.find_first_not_of(" \t"));
  }
}

inline std::vector<std::string> split_csv_line(const std::string& line) {
  std::vector<std::string> fields;
  split_csv_line(line, fields);
  return fields;
}

// A whole field as a finite number, as strtod reads it. std::from_chars reads the common cases
// (digits, '.', exponent) several times faster; what it does not take whole ('+', hex, out of
// range) goes to strtod, so the accepted set and the values are strtod's.
inline std::optional<double> parse_number(const std::string& text) {
  if (text.empty()) return std::nullopt;
  const char* const last = text.data() + text.size();
  double v = 0;
  const auto fast = std::from_chars(text.data(), last, v);
  if (fast.ec == std::errc() && fast.ptr == last) {
    if (!std::isfinite(v)) return std::nullopt;
    return v;
  }
  char* end = nullptr;
  v = std::strtod(text.c_str(), &end);
  if (end != text.c_str() + text.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

inline std::string format_number(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.10g", v);
  return buf;
}

}  // namespace kline_csv_detail

inline const char* format_name(KlineFormat format) {
  switch (format) {
    case KlineFormat::kXbx:
      return "xbx";
    case KlineFormat::kTushare:
      return "tushare";
    case KlineFormat::kAkshare:
      return "akshare";
    case KlineFormat::kQlib:
      return "qlib";
  }
  return "?";
}

inline KlineFile read_kline_csv(const std::filesystem::path& file, const std::string& fallback_symbol) {
  using namespace kline_csv_detail;
  LineReader in(file);
  if (!in.is_open()) throw DataError(file.string() + ": cannot open");
  KlineFile out;
  out.path = file.string();

  // The header is the first line that names a known date column; lines before it (the 邢不行
  // banner) are skipped. A UTF-8 byte-order mark is dropped.
  std::string line;
  std::size_t line_no = 0;
  std::vector<std::string> header;
  const Layout* layout = nullptr;
  while (layout == nullptr && line_no < 3 && in.getline(line)) {
    ++line_no;
    if (line_no == 1 && line.rfind("\xEF\xBB\xBF", 0) == 0) line = line.substr(3);
    header = split_csv_line(line);
    for (const auto& candidate : layouts()) {
      if (std::find(header.begin(), header.end(), candidate.date) != header.end() &&
          std::find(header.begin(), header.end(), candidate.open) != header.end()) {
        layout = &candidate;
        break;
      }
    }
  }
  if (layout == nullptr) {
    throw DataError(file.string() + ": unrecognised CSV header (expected the 邢不行, Tushare " +
                    "pro.daily or AkShare stock_zh_a_hist columns)");
  }
  out.format = layout->format;
  out.has_pre_close = !layout->pre_close.empty();

  std::map<std::string, std::size_t> column;
  for (std::size_t i = 0; i < header.size(); ++i) column.emplace(header[i], i);
  auto index_of = [&](const std::string& name, bool required) -> std::optional<std::size_t> {
    if (name.empty()) return std::nullopt;
    auto it = column.find(name);
    if (it != column.end()) return it->second;
    if (required) {
      throw DataError(file.string() + ":" + std::to_string(line_no) + ": missing column '" + name +
                      "' in the " + format_name(layout->format) + " header");
    }
    return std::nullopt;
  };
  const auto c_date = *index_of(layout->date, true);
  const auto c_open = *index_of(layout->open, true);
  const auto c_high = *index_of(layout->high, true);
  const auto c_low = *index_of(layout->low, true);
  const auto c_close = *index_of(layout->close, true);
  const auto c_volume = *index_of(layout->volume, true);
  const auto c_amount = *index_of(layout->amount, true);
  const auto c_pre_close = index_of(layout->pre_close, true);
  const auto c_name = index_of(layout->name, false);
  const auto c_float_cap = index_of(layout->float_cap, false);
  const auto c_total_cap = index_of(layout->total_cap, false);
  auto c_symbol = index_of(layout->symbol, layout->format != KlineFormat::kAkshare);

  std::string default_symbol;
  if (!c_symbol) {
    auto code = normalize_symbol(fallback_symbol.empty() ? kline_file_stem(file) : fallback_symbol);
    if (!code) {
      throw DataError(file.string() + ": no symbol column and no symbol in the file name; " +
                      "pass --symbol");
    }
    default_symbol = *code;
  }

  std::vector<std::string> fields;
  while (in.getline(line)) {
    ++line_no;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    ++out.rows_read;
    split_csv_line(line, fields);
    auto reject = [&](const std::string& reason) {
      out.rejected.push_back({out.path, line_no, reason});
    };
    if (fields.size() < header.size()) {
      reject("missing column '" + header[fields.size()] + "' (" + std::to_string(fields.size()) +
             " of " + std::to_string(header.size()) + " fields)");
      continue;
    }
    KlineRow row;
    row.line = line_no;
    if (c_symbol) {
      auto code = normalize_symbol(fields[*c_symbol]);
      if (!code) {
        reject("bad symbol '" + fields[*c_symbol] + "'");
        continue;
      }
      row.symbol = *code;
    } else {
      row.symbol = default_symbol;
    }
    if (c_name) {
      row.name = fields[*c_name];
      // ST, *ST (and the S / N prefixes of share reform and relisting: SST, NST): risk warning.
      row.bar.st = row.name.find("ST") != std::string::npos ? 1 : 0;
    }
    row.bar.trade_date = normalize_date(fields[c_date]);
    if (row.bar.trade_date.empty()) {
      reject("bad date '" + fields[c_date] + "'");
      continue;
    }
    struct Field {
      std::size_t index;
      const std::string* name;
      double* target;
      double scale;
    };
    const Field numeric_fields[] = {{c_open, &layout->open, &row.bar.open, 1.0},
                                    {c_high, &layout->high, &row.bar.high, 1.0},
                                    {c_low, &layout->low, &row.bar.low, 1.0},
                                    {c_close, &layout->close, &row.bar.close, 1.0},
                                    {c_volume, &layout->volume, &row.bar.volume, layout->volume_scale},
                                    {c_amount, &layout->amount, &row.bar.amount, layout->amount_scale},
                                    {c_pre_close.value_or(0), &layout->pre_close, &row.bar.pre_close, 1.0}};
    const std::size_t numeric_count = c_pre_close ? 7 : 6;
    const Field* const numeric_end = numeric_fields + numeric_count;
    // Market caps: optional; an empty cell is unknown (NaN), anything else must be a number >= 0.
    for (const auto& [index, name, target] : {std::make_tuple(c_float_cap, &layout->float_cap, &row.bar.float_market_cap),
                                              std::make_tuple(c_total_cap, &layout->total_cap, &row.bar.total_market_cap)}) {
      if (!index || fields[*index].empty()) continue;
      auto v = parse_number(fields[*index]);
      if (!v || *v < 0) {
        reject("bad number in '" + *name + "': '" + fields[*index] + "'");
        break;
      }
      *target = *v;
    }
    if (!out.rejected.empty() && out.rejected.back().line == line_no) continue;
    std::string problem;
    for (const Field* f = numeric_fields; f != numeric_end; ++f) {
      auto v = parse_number(fields[f->index]);
      if (!v) {
        problem = "bad number in '" + *f->name + "': '" + fields[f->index] + "'";
        break;
      }
      *f->target = *v * f->scale;
      if (!std::isfinite(*f->target)) {  // finite as written, too large once in shares or CNY (found by fuzzing)
        problem = "number out of range in '" + *f->name + "': '" + fields[f->index] + "'";
        break;
      }
    }
    if (problem.empty()) {
      const Bar& b = row.bar;
      for (const Field* f = numeric_fields; f != numeric_end; ++f) {
        if (f->target == &row.bar.volume || f->target == &row.bar.amount) {
          if (*f->target < 0) problem = "negative " + *f->name + " " + format_number(*f->target);
        } else if (*f->target <= 0) {
          problem = "non-positive price in '" + *f->name + "': " + format_number(*f->target);
        }
        if (!problem.empty()) break;
      }
      if (problem.empty() && b.high < b.low) {
        problem = "high " + format_number(b.high) + " < low " + format_number(b.low);
      } else if (problem.empty() && (b.open < b.low || b.open > b.high || b.close < b.low ||
                                     b.close > b.high)) {
        problem = "open/close outside [low, high]";
      }
    }
    if (!problem.empty()) {
      reject(problem);
      continue;
    }
    out.rows.push_back(std::move(row));
  }
  if (in.failed()) {
    throw DataError(file.string() + ":" + std::to_string(line_no) + ": not a valid gzip file (corrupt or truncated); nothing of it was imported");
  }
  sort_by_symbol_date(out);
  return out;
}

}  // namespace klab
