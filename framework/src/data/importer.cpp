#include "data/importer.h"

#include "data/qlib_dir.h"

#include <algorithm>
#include <chrono>
#include <deque>
#include <future>
#include <tuple>
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
// `rows`: the symbol's rows, by date (rows of one day in file order).
ImportCounts import_symbol(KlineStore& store, const std::string& symbol,
                           const std::vector<const KlineRow*>& rows, bool has_pre_close) {
  ImportCounts counts;
  const std::vector<Bar> existing = store.existing_bars(symbol);
  std::vector<Bar> series;
  std::vector<const Bar*> stored_of;  // per bar of series: the stored bar of its day, or nullptr
  std::vector<bool> from_file;
  series.reserve(existing.size() + rows.size());
  stored_of.reserve(series.capacity());
  from_file.reserve(series.capacity());
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

  const std::string list_date = series.empty() ? "" : series.front().trade_date;
  const std::string last_date = series.empty() ? "" : series.back().trade_date;
  std::vector<Bar> inserts, updates;  // series' bars move there
  for (std::size_t i = 0; i < series.size(); ++i) {
    if (stored_of[i] == nullptr) {
      if (inserts.empty()) inserts.reserve(series.size() - i);
      inserts.push_back(std::move(series[i]));
    } else if (!same_bar(*stored_of[i], series[i])) {
      updates.push_back(std::move(series[i]));
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
  info.list_date = list_date;
  info.last_date = last_date;
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

  // Writes are committed a group of files at a time (a commit per symbol waited on the disk more
  // than it wrote): after a file once the group holds kCommitRows rows or is kCommitSeconds old,
  // and at the end. A failed write rolls the group back: its files are reported failed with the
  // reason, and importing them again (idempotent) finishes the job.
  constexpr std::size_t kCommitRows = 200000;
  constexpr double kCommitSeconds = 1.0;
  std::vector<std::size_t> uncommitted;  // indices into report.files
  std::size_t uncommitted_rows = 0;
  auto group_opened = std::chrono::steady_clock::now();
  auto lose_uncommitted = [&](const std::string& why) {
    for (std::size_t f : uncommitted) {
      FileImport& lost = report.files[f];
      lost.error = "not stored: " + why + "; import it again";
      lost.counts.inserted = lost.counts.updated = lost.counts.unchanged = 0;
    }
    uncommitted.clear();
    uncommitted_rows = 0;
  };
  auto commit = [&] {
    if (uncommitted.empty()) return;
    try {
      store.commit();
      uncommitted.clear();
      uncommitted_rows = 0;
    } catch (const Error& e) {
      lose_uncommitted(std::string("the commit failed: ") + e.what());
    }
  };

  for (std::size_t i = 0; i < files.size(); ++i) {
    while (next < files.size() && ahead.size() < lookahead) ahead.push_back(std::async(std::launch::async, parse, next++));
    std::future<KlineFile> parsing = std::move(ahead.front());
    ahead.pop_front();
    if (progress) progress(i, files.size(), files[i].string());
    FileImport result;
    result.path = files[i].string();
    bool writing = false;
    try {
      KlineFile parsed = parsing.get();
      result.format = format_name(parsed.format);
      result.counts.read = parsed.rows_read;
      result.counts.rejected = parsed.rejected.size();
      result.rejections = std::move(parsed.rejected);
      // The rows by symbol, then date (a CSV file's come so; a Qlib directory's by instrument).
      std::vector<const KlineRow*> ordered;
      ordered.reserve(parsed.rows.size());
      for (const auto& row : parsed.rows) ordered.push_back(&row);
      auto by_symbol_date = [](const KlineRow* a, const KlineRow* b) {
        return std::tie(a->symbol, a->bar.trade_date) < std::tie(b->symbol, b->bar.trade_date);
      };
      if (!std::is_sorted(ordered.begin(), ordered.end(), by_symbol_date)) {
        std::stable_sort(ordered.begin(), ordered.end(), by_symbol_date);
      }
      std::vector<std::vector<const KlineRow*>> by_symbol;
      for (const KlineRow* row : ordered) {
        if (by_symbol.empty() || by_symbol.back().front()->symbol != row->symbol) by_symbol.emplace_back();
        by_symbol.back().push_back(row);
      }
      // Every symbol is checked before any is written: a refused file changes nothing.
      for (const auto& rows : by_symbol) check_same_kind(store, rows.front()->symbol, parsed.has_pre_close, result.path);
      writing = true;
      if (uncommitted.empty()) group_opened = std::chrono::steady_clock::now();
      for (const auto& rows : by_symbol) {
        result.symbols.push_back(rows.front()->symbol);
        result.counts += import_symbol(store, rows.front()->symbol, rows, parsed.has_pre_close);
      }
    } catch (const Error& e) {
      result.error = e.what();
      result.counts.inserted = result.counts.updated = result.counts.unchanged = 0;
      if (writing) {  // the database failed under this file: nothing since the last commit stays
        store.rollback();
        lose_uncommitted("rolled back with " + result.path + ", whose write failed");
      }
    }
    const bool wrote = result.error.empty() && !result.symbols.empty();
    report.files.push_back(std::move(result));
    if (wrote) {
      uncommitted.push_back(report.files.size() - 1);
      uncommitted_rows += report.files.back().counts.inserted + report.files.back().counts.updated;
      const std::chrono::duration<double> age = std::chrono::steady_clock::now() - group_opened;
      if (uncommitted_rows >= kCommitRows || age.count() >= kCommitSeconds) commit();
    }
  }
  commit();
  for (const auto& f : report.files) {
    report.total += f.counts;
    if (!f.error.empty()) ++report.failed_files;
  }
  return report;
}

}  // namespace klab
