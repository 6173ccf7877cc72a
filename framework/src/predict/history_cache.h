// predict/history_cache.h — what PredictionEngine keeps between predictions of a symbol: its bars,
// adjusted bars and features, in a cache bounded in bytes (least recently used out first). The
// engine decides when an entry is still current (predict/engine.h, set_cache_limit).
#pragma once

#include <chrono>
#include <cstddef>
#include <list>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "data/features.h"
#include "klab/data_source.h"

namespace klab {

struct SymbolHistory {
  std::vector<Bar> bars;       // raw, from the experiment's start date on
  std::vector<Bar> adjusted;   // by the run's adjustment
  FeatureFrame frame;          // features of `adjusted`
  std::vector<double> closes;  // adjusted closes (labels of a target that is not a price)
  std::chrono::steady_clock::time_point loaded;  // when the whole history was last read
  std::size_t bytes() const;   // memory held, roughly
};

struct HistoryCacheStats {
  std::size_t hits = 0;      // the cached history was current
  std::size_t extended = 0;  // new bars appended
  std::size_t reloaded = 0;  // the last bar changed or vanished, or the entry was too old
  std::size_t misses = 0;    // not cached yet
  std::size_t evicted = 0;   // dropped to stay within the limit
  std::size_t entries = 0;
  std::size_t bytes = 0;
};

class HistoryCache {
 public:
  explicit HistoryCache(std::size_t limit_bytes) : limit_(limit_bytes) {}
  // The symbol's history (now the most recently used), or nullptr.
  std::shared_ptr<const SymbolHistory> find(const std::string& symbol);
  // Keeps `history` for `symbol` (replacing any), then drops the least recently used beyond the
  // limit; a history larger than the whole limit is not kept.
  void put(const std::string& symbol, std::shared_ptr<const SymbolHistory> history);
  HistoryCacheStats stats;

 private:
  struct Entry {
    std::shared_ptr<const SymbolHistory> history;
    std::list<std::string>::iterator position;
    std::size_t bytes = 0;
  };
  void erase(const std::string& symbol);
  std::size_t limit_;
  std::list<std::string> order_;  // most recently used first
  std::unordered_map<std::string, Entry> map_;
};

}  // namespace klab
