// data/importer.h — loading CSV exports into a KlineStore: idempotent, counted, explained.
//
// Each file is parsed (klab/data/kline_csv.h), each symbol's new rows are merged with what the store
// already holds, adj_factor is derived over the merged series, and only rows that are new or
// differ are written, committed a group of files at a time. Re-importing the same files inserts
// and updates nothing.
#pragma once

#include <cstddef>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "klab/data/kline_csv.h"
#include "data/kline_store.h"

namespace klab {

struct ImportCounts {
  std::size_t read = 0;       // data rows in the files
  std::size_t inserted = 0;   // new (symbol, day) rows
  std::size_t updated = 0;    // stored rows whose values changed (a changed adj_factor counts)
  std::size_t unchanged = 0;  // file rows identical to what was stored
  std::size_t rejected = 0;   // file rows refused, each with a reason
  ImportCounts& operator+=(const ImportCounts& o);
};

struct FileImport {
  std::string path;
  std::string format;             // xbx | tushare | akshare
  std::vector<std::string> symbols;
  ImportCounts counts;
  std::vector<Rejection> rejections;
  std::string error;              // the whole file failed (unreadable, header, database)
};

struct ImportReport {
  std::vector<FileImport> files;
  ImportCounts total;
  std::size_t failed_files = 0;
};

// progress(index, count, path) is called before each file. `connections`: how many writers (each
// its own connection) at most, where the store takes more than one (MySQL; SQLite has one writer):
// a symbol's rows always go through one of them.
ImportReport import_kline_files(
    KlineStore& store, const std::vector<std::filesystem::path>& files,
    const std::string& fallback_symbol = "",
    const std::function<void(std::size_t, std::size_t, const std::string&)>& progress = {},
    std::size_t connections = 2);

}  // namespace klab
