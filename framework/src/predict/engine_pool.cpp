#include "predict/engine_pool.h"

#include "klab/error.h"

namespace klab {

std::shared_ptr<EnginePool> EnginePool::create(std::size_t size, const std::function<PredictionEngine()>& make) {
  if (size == 0) throw ConfigError("a prediction engine pool needs at least one engine");
  std::shared_ptr<EnginePool> pool(new EnginePool);
  for (std::size_t i = 0; i < size; ++i) {
    pool->engines_.push_back(std::make_unique<PredictionEngine>(make()));
    pool->free_.push_back(size - 1 - i);  // engine 0 is leased first
  }
  return pool;
}

EnginePool::Lease EnginePool::acquire() {
  std::unique_lock<std::mutex> lock(mutex_);
  freed_.wait(lock, [this] { return !free_.empty(); });
  const std::size_t index = free_.back();
  free_.pop_back();
  lock.unlock();
  return Lease(shared_from_this(), index);
}

std::size_t EnginePool::busy() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return engines_.size() - free_.size();
}

void EnginePool::release(std::size_t index) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    free_.push_back(index);
  }
  freed_.notify_one();
}

EnginePool::Lease::Lease(std::shared_ptr<EnginePool> pool, std::size_t index)
    : pool_(std::move(pool)), index_(index), engine_(pool_->engines_[index].get()) {}

EnginePool::Lease::Lease(Lease&& other) noexcept
    : pool_(std::move(other.pool_)), index_(other.index_), engine_(other.engine_) {
  other.engine_ = nullptr;
}

EnginePool::Lease::~Lease() {
  if (pool_) pool_->release(index_);
}

}  // namespace klab
