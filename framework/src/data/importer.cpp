#include "data/importer.h"

#include "data/qlib_dir.h"

#include <algorithm>
#include <deque>
#include <future>
#include <map>
#include <thread>

#include "data/bar_compare.h"
#include "klab/data/adjust.h"
#include "klab/error.h"
#include "klab/symbols.h"

namespace klab {

ImportCounts& ImportCounts::operator+=(const ImportCounts& o) {
  read += o.read;
  inserted += o.inserted;
  updated += o.updated;
  unchanged += o.unchanged;
  rejected += o.rejected;
  return *this;
}

namespace {

// One series holds one kind of prices: raw prices with pre_close (factors derived from them)
// or a pre-adjusted export. Mixing them would silently rewrite the series.
void check_same_kind(KlineStore& store, const std::string& symbol, bool has_pre_close, const std::string& file) {
  const std::string kind = has_pre_close ? "none" : "forward";
  const std::string stored = store.stored_adjustment(symbol);
  if (!stored.empty() && stored != kind) {
    auto describe = [](const std::string& k) {
      return k == "none" ? std::string("raw prices with pre_close") : k + "-adjusted prices";
    };
    throw DataError(file + ": symbol " + symbol + ": the database holds " + describe(stored) + ", this file has " +
                    describe(kind) + "; klab does not mix them in one series (import it into another database, "
                    "or export raw prices with pre_close)");
  }
}

// Merges one symbol's parsed rows into the store; returns the counts for those rows. The stored
// series and the file's rows are both in date order: one pass merges them (a file's bar replaces
// the stored one of its day; the last of several rows of one day wins, as in the file).
ImportCounts import_symbol(KlineStore& store, const std::string& symbol,
                           std::vector<const KlineRow*> rows, bool has_pre_close) {
  ImportCounts counts;
  const std::vector<Bar> existing = store.existing_bars(symbol);
  std::stable_sort(rows.begin(), rows.end(),
                   [](const KlineRow* a, const KlineRow* b) { return a->bar.trade_date < b->bar.trade_date; });
  std::vector<Bar> series;
  std::vector<const Bar*> stored_of;  // per bar of series: the stored bar of its day, or nullptr
  std::vector<bool> from_file;
  series.reserve(existing.size() + rows.size());
  std::string name;
  std::size_t e = 0, r = 0;
  while (e < existing.size() || r < rows.size()) {
    if (r == rows.size() || (e < existing.size() && existing[e].trade_date < rows[r]->bar.trade_date)) {
      series.push_back(existing[e]);
      stored_of.push_back(&existing[e]);
      from_file.push_back(false);
      ++e;
      continue;
    }
    for (; r + 1 < rows.size() && rows[r + 1]->bar.trade_date == rows[r]->bar.trade_date; ++r) {
      if (!rows[r]->name.empty()) name = rows[r]->name;
    }
    Bar bar = rows[r]->bar;
    if (!rows[r]->name.empty()) name = rows[r]->name;  // rows are oldest first: the latest name wins
    const Bar* stored = nullptr;
    if (e < existing.size() && existing[e].trade_date == bar.trade_date) stored = &existing[e++];
    // A file without market caps or daily names (Tushare, AkShare) never blanks the caps or
    // risk-warning flags another file stored.
    if (stored) {
      if (bar.float_market_cap != bar.float_market_cap) bar.float_market_cap = stored->float_market_cap;
      if (bar.total_market_cap != bar.total_market_cap) bar.total_market_cap = stored->total_market_cap;
      if (bar.st < 0) bar.st = stored->st;
    }
    series.push_back(bar);
    stored_of.push_back(stored);
    from_file.push_back(true);
    ++r;
  }
  if (has_pre_close) {
    derive_adj_factors(series);  // over the whole merged series, never the file's part alone
  } else {
    for (auto& b : series) b.adj_factor = 1.0;  // a forward-adjusted export: prices are final
  }

  std::vector<Bar> inserts, updates;
  for (std::size_t i = 0; i < series.size(); ++i) {
    if (stored_of[i] == nullptr) {
      inserts.push_back(series[i]);
    } else if (!same_bar(*stored_of[i], series[i])) {
      updates.push_back(series[i]);
    } else if (from_file[i]) {
      ++counts.unchanged;
    }
  }
  counts.inserted = inserts.size();
  counts.updated = updates.size();

  SymbolRecord info;
  info.symbol = symbol;
  info.name = name;
  info.exchange = exchange_of(symbol);
  info.list_date = series.empty() ? "" : series.front().trade_date;
  info.last_date = series.empty() ? "" : series.back().trade_date;
  info.price_adjustment = has_pre_close ? "none" : "forward";
  if (!inserts.empty() || !updates.empty() || !name.empty()) store.write(info, inserts, updates);
  return counts;
}

}  // namespace

ImportReport import_kline_files(
    KlineStore& store, const std::vector<std::filesystem::path>& files,
    const std::string& fallback_symbol,
    const std::function<void(std::size_t, std::size_t, const std::string&)>& progress) {
  ImportReport report;
  // Files are read and parsed ahead on other threads (a CPU's worth, a few files each) while this
  // one merges and writes them in order: the store sees exactly the sequence a one-thread import
  // gives, and a file's parse error reaches it when its turn comes.
  auto parse = [&files, &fallback_symbol](std::size_t i) {
    // A Qlib data directory is one "file" of many symbols; anything else is a CSV export.
    return is_qlib_directory(files[i]) ? read_qlib_directory(files[i]) : read_kline_csv(files[i], fallback_symbol);
  };
  const std::size_t lookahead = 2 * std::max(1u, std::thread::hardware_concurrency());
  std::deque<std::future<KlineFile>> ahead;
  std::size_t next = 0;
  for (std::size_t i = 0; i < files.size(); ++i) {
    while (next < files.size() && ahead.size() < lookahead) ahead.push_back(std::async(std::launch::async, parse, next++));
    std::future<KlineFile> parsing = std::move(ahead.front());
    ahead.pop_front();
    if (progress) progress(i, files.size(), files[i].string());
    FileImport result;
    result.path = files[i].string();
    try {
      KlineFile parsed = parsing.get();
      result.format = format_name(parsed.format);
      result.counts.read = parsed.rows_read;
      result.counts.rejected = parsed.rejected.size();
      result.rejections = std::move(parsed.rejected);
      std::map<std::string, std::vector<const KlineRow*>> by_symbol;
      for (const auto& row : parsed.rows) by_symbol[row.symbol].push_back(&row);
      // Every symbol is checked before any is written: a refused file changes nothing.
      for (const auto& [symbol, rows] : by_symbol) check_same_kind(store, symbol, parsed.has_pre_close, result.path);
      for (const auto& [symbol, rows] : by_symbol) {
        result.symbols.push_back(symbol);
        result.counts += import_symbol(store, symbol, rows, parsed.has_pre_close);
      }
    } catch (const Error& e) {
      result.error = e.what();
      ++report.failed_files;
    }
    report.total += result.counts;
    report.files.push_back(std::move(result));
  }
  return report;
}

}  // namespace klab
