#include "data/importer.h"

#include "data/qlib_dir.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <exception>
#include <future>
#include <mutex>
#include <thread>
#include <unordered_map>

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
// the stored one of its day). `rows`: the symbol's rows, by date, one per day (KlineFile's order).
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

// The rows of one parsed file, by symbol then date, waiting for a writer.
struct FileJob {
  std::size_t file = 0;  // index into the report's files
  KlineFile parsed;
  std::vector<std::vector<const KlineRow*>> by_symbol;  // into parsed.rows
};

// One writer: a store (one database connection) and the thread that merges and writes the files
// given to it, in the order given, committing them a group at a time. Writes are committed after
// a file once the group holds kCommitRows rows or is kCommitSeconds old, and at the end (a commit
// per symbol waited on the disk more than it wrote). A failed write rolls the writer's group back:
// its files are reported failed with the reason, and importing them again (idempotent) finishes
// the job.
class Writer {
 public:
  Writer(KlineStore& store, std::vector<FileImport>& results) : store_(store), results_(results) {
    thread_ = std::thread([this] { run(); });
  }
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;
  ~Writer() { stop(false); }

  // Queues a file (waits while kQueued files wait already: parsed files are not piled up in memory
  // ahead of a slow database). Rethrows what stopped the writer, if anything did.
  void add(std::unique_ptr<FileJob> job) {
    std::unique_lock<std::mutex> lock(mutex_);
    changed_.wait(lock, [this] { return jobs_.size() < kQueued || failure_; });
    if (failure_) std::rethrow_exception(failure_);
    queued_rows_ += job->parsed.rows.size();
    jobs_.push_back(std::move(job));
    changed_.notify_all();
  }
  // Commits everything queued so far and returns once it is committed (or lost, reported).
  void commit_now() {
    std::unique_lock<std::mutex> lock(mutex_);
    jobs_.push_back(nullptr);  // a commit
    changed_.notify_all();
    changed_.wait(lock, [this] { return (jobs_.empty() && !busy_) || failure_; });
    if (failure_) std::rethrow_exception(failure_);
  }
  std::size_t queued_rows() {
    std::lock_guard<std::mutex> lock(mutex_);
    return queued_rows_;
  }
  // Commits the rest and ends the thread (commit = false: drops what is not committed).
  // Rethrows what stopped the writer.
  void finish() {
    stop(true);
    if (failure_) std::rethrow_exception(failure_);
  }

 private:
  static constexpr std::size_t kQueued = 2;
  static constexpr std::size_t kCommitRows = 200000;
  static constexpr double kCommitSeconds = 1.0;

  void stop(bool commit) {
    if (!thread_.joinable()) return;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
      commit_at_stop_ = commit;
      changed_.notify_all();
    }
    thread_.join();
  }

  void run() {
    for (;;) {
      std::unique_ptr<FileJob> job;  // nullptr: a commit
      {
        std::unique_lock<std::mutex> lock(mutex_);
        changed_.wait(lock, [this] { return !jobs_.empty() || stopping_; });
        if (stopping_ && (jobs_.empty() || !commit_at_stop_)) break;  // done, or dropped
        job = std::move(jobs_.front());
        jobs_.pop_front();
        busy_ = true;
      }
      try {
        if (job) {
          write_file(*job);
        } else {
          commit();
        }
      } catch (...) {  // not a DataError: the import stops, and this writer's group is dropped
        store_.rollback();
        std::lock_guard<std::mutex> lock(mutex_);
        failure_ = std::current_exception();
        busy_ = false;
        changed_.notify_all();
        return;
      }
      std::lock_guard<std::mutex> lock(mutex_);
      if (job) queued_rows_ -= job->parsed.rows.size();
      busy_ = false;
      changed_.notify_all();
    }
    if (commit_at_stop_) {
      try {
        commit();
      } catch (...) {
        failure_ = std::current_exception();
      }
    } else {
      store_.rollback();
    }
  }

  void write_file(FileJob& job) {
    FileImport& result = results_[job.file];
    bool writing = false;
    try {
      // Every symbol is checked before any is written: a refused file changes nothing.
      for (const auto& rows : job.by_symbol) {
        check_same_kind(store_, rows.front()->symbol, job.parsed.has_pre_close, result.path);
      }
      writing = true;
      if (uncommitted_.empty()) group_opened_ = std::chrono::steady_clock::now();
      for (const auto& rows : job.by_symbol) {
        result.symbols.push_back(rows.front()->symbol);
        result.counts += import_symbol(store_, rows.front()->symbol, rows, job.parsed.has_pre_close);
      }
    } catch (const Error& e) {
      result.error = e.what();
      result.counts.inserted = result.counts.updated = result.counts.unchanged = 0;
      if (writing) {  // the database failed under this file: nothing since the last commit stays
        store_.rollback();
        lose_uncommitted("rolled back with " + result.path + ", whose write failed");
      }
      return;
    }
    uncommitted_.push_back(job.file);
    uncommitted_rows_ += result.counts.inserted + result.counts.updated;
    const std::chrono::duration<double> age = std::chrono::steady_clock::now() - group_opened_;
    if (uncommitted_rows_ >= kCommitRows || age.count() >= kCommitSeconds) commit();
  }

  void commit() {
    if (uncommitted_.empty()) return;
    try {
      store_.commit();
      uncommitted_.clear();
      uncommitted_rows_ = 0;
    } catch (const Error& e) {
      lose_uncommitted(std::string("the commit failed: ") + e.what());
    }
  }

  void lose_uncommitted(const std::string& why) {
    for (std::size_t f : uncommitted_) {
      FileImport& lost = results_[f];
      lost.error = "not stored: " + why + "; import it again";
      lost.counts.inserted = lost.counts.updated = lost.counts.unchanged = 0;
    }
    uncommitted_.clear();
    uncommitted_rows_ = 0;
  }

  KlineStore& store_;
  std::vector<FileImport>& results_;  // sized before the writers start; each writes its files' entries
  // Owned by the thread:
  std::vector<std::size_t> uncommitted_;  // files written since the last commit
  std::size_t uncommitted_rows_ = 0;
  std::chrono::steady_clock::time_point group_opened_;
  // Shared, under mutex_:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<std::unique_ptr<FileJob>> jobs_;  // nullptr: commit
  std::size_t queued_rows_ = 0;
  bool busy_ = false, stopping_ = false, commit_at_stop_ = false;
  std::exception_ptr failure_;
  std::thread thread_;
};

}  // namespace

ImportReport import_kline_files(
    KlineStore& store, const std::vector<std::filesystem::path>& files,
    const std::string& fallback_symbol,
    const std::function<void(std::size_t, std::size_t, const std::string&)>& progress,
    std::size_t connections) {
  ImportReport report;
  report.files.resize(files.size());
  // Files are read and parsed ahead on other threads (a CPU's worth, a few files each) while this
  // one hands them, in order, to the writers; a file's parse error reaches it when its turn comes.
  auto parse = [&files, &fallback_symbol](std::size_t i) {
    // A Qlib data directory is one "file" of many symbols; anything else is a CSV export.
    return is_qlib_directory(files[i]) ? read_qlib_directory(files[i]) : read_kline_csv(files[i], fallback_symbol);
  };
  const std::size_t lookahead = 2 * std::max(1u, std::thread::hardware_concurrency());
  std::deque<std::future<KlineFile>> ahead;
  std::size_t next = 0;

  // One writer per connection: the store's own, and more where the database takes concurrent
  // writers (MySQL: the server loads on as many cores; SQLite has one writer). A symbol stays with
  // the writer that first wrote it in this import, so each merge reads what was written before it
  // on the same connection; a file whose symbols several writers hold waits until they commit.
  std::vector<std::unique_ptr<KlineStore>> more_stores;  // outlive the writers (declared first)
  for (std::size_t k = 1; k < connections; ++k) {
    std::unique_ptr<KlineStore> another;
    try {
      another = store.another_connection();
    } catch (const Error&) {  // e.g. the server's connection limit: fewer writers
    }
    if (!another) break;
    more_stores.push_back(std::move(another));
  }
  std::vector<std::unique_ptr<Writer>> writers;
  writers.push_back(std::make_unique<Writer>(store, report.files));
  for (auto& s : more_stores) writers.push_back(std::make_unique<Writer>(*s, report.files));
  std::unordered_map<std::string, std::size_t> writer_of;  // symbol -> index into writers

  for (std::size_t i = 0; i < files.size(); ++i) {
    while (next < files.size() && ahead.size() < lookahead) ahead.push_back(std::async(std::launch::async, parse, next++));
    std::future<KlineFile> parsing = std::move(ahead.front());
    ahead.pop_front();
    if (progress) progress(i, files.size(), files[i].string());
    FileImport& result = report.files[i];
    result.path = files[i].string();
    auto job = std::make_unique<FileJob>();
    job->file = i;
    try {
      job->parsed = parsing.get();
    } catch (const Error& e) {
      result.error = e.what();
      continue;
    }
    KlineFile& parsed = job->parsed;
    result.format = format_name(parsed.format);
    result.counts.read = parsed.rows_read;
    result.counts.rejected = parsed.rejected.size();
    result.rejections = std::move(parsed.rejected);
    // The rows come by symbol, then date (KlineFile's order): one group per symbol.
    for (const KlineRow& row : parsed.rows) {
      if (job->by_symbol.empty() || job->by_symbol.back().front()->symbol != row.symbol) job->by_symbol.emplace_back();
      job->by_symbol.back().push_back(&row);
    }
    if (job->by_symbol.empty()) continue;

    // The writer that holds the file's symbols; the least busy one for symbols none holds yet.
    constexpr std::size_t kNone = static_cast<std::size_t>(-1);
    std::size_t w = kNone;
    bool held_by_several = false;
    for (const auto& rows : job->by_symbol) {
      auto it = writer_of.find(rows.front()->symbol);
      if (it == writer_of.end()) continue;
      if (w != kNone && it->second != w) held_by_several = true;
      w = it->second;
    }
    if (held_by_several) {  // commit all: then every connection reads what the others wrote
      for (auto& writer : writers) writer->commit_now();
      w = kNone;
    }
    if (w == kNone) {
      w = 0;
      for (std::size_t k = 1; k < writers.size(); ++k) {
        if (writers[k]->queued_rows() < writers[w]->queued_rows()) w = k;
      }
    }
    for (const auto& rows : job->by_symbol) writer_of[rows.front()->symbol] = w;
    writers[w]->add(std::move(job));
  }
  for (auto& writer : writers) writer->finish();
  for (const auto& f : report.files) {
    report.total += f.counts;
    if (!f.error.empty()) ++report.failed_files;
  }
  return report;
}

}  // namespace klab
