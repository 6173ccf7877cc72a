#include "predict/history_cache.h"

namespace klab {

std::size_t SymbolHistory::bytes() const {
  std::size_t n = sizeof(SymbolHistory) + (bars.capacity() + adjusted.capacity()) * sizeof(Bar) +
                  frame.values.capacity() * sizeof(double) + closes.capacity() * sizeof(double);
  for (const auto& d : frame.dates) n += sizeof(std::string) + (d.size() > 15 ? d.capacity() : 0);
  return n;
}

std::shared_ptr<const SymbolHistory> HistoryCache::find(const std::string& symbol) {
  auto it = map_.find(symbol);
  if (it == map_.end()) return nullptr;
  order_.splice(order_.begin(), order_, it->second.position);
  return it->second.history;
}

void HistoryCache::put(const std::string& symbol, std::shared_ptr<const SymbolHistory> history) {
  erase(symbol);
  const std::size_t bytes = history->bytes();
  if (bytes > limit_) return;
  order_.push_front(symbol);
  map_[symbol] = {std::move(history), order_.begin(), bytes};
  stats.bytes += bytes;
  while (stats.bytes > limit_) {
    erase(order_.back());
    ++stats.evicted;
  }
  stats.entries = map_.size();
}

void HistoryCache::erase(const std::string& symbol) {
  auto it = map_.find(symbol);
  if (it == map_.end()) return;
  stats.bytes -= it->second.bytes;
  order_.erase(it->second.position);
  map_.erase(it);
  stats.entries = map_.size();
}

}  // namespace klab
