#include "predict/history_cache.h"

#include <cmath>

namespace klab {

std::size_t SymbolHistory::bytes() const {
  std::size_t n = sizeof(SymbolHistory) + (bars.capacity() + adjusted.capacity()) * sizeof(Bar) +
                  frame.values.capacity() * sizeof(double) + closes.capacity() * sizeof(double);
  for (const auto& d : frame.dates) n += sizeof(std::string) + (d.size() > 15 ? d.capacity() : 0);
  return n;
}

bool same_bar(const Bar& a, const Bar& b) {
  auto same = [](double x, double y) { return x == y || (std::isnan(x) && std::isnan(y)); };
  return a.trade_date == b.trade_date && same(a.open, b.open) && same(a.high, b.high) && same(a.low, b.low) &&
         same(a.close, b.close) && same(a.pre_close, b.pre_close) && same(a.volume, b.volume) &&
         same(a.amount, b.amount) && same(a.adj_factor, b.adj_factor) &&
         same(a.float_market_cap, b.float_market_cap) && same(a.total_market_cap, b.total_market_cap) && a.st == b.st;
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
