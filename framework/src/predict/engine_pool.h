// predict/engine_pool.h — several PredictionEngines of one run, for concurrent requests.
//
// An engine serves one thread at a time (its model and data source are not shared-safe), so a
// service that answers requests in parallel holds a pool: each engine has its own model, data
// source connection and history cache; a request leases one for its duration and gives it back.
// Nothing else is locked, so predictions on N engines run N at a time. A pool is held through a
// shared_ptr: swapping the service's pool (on /reload) lets the requests in flight finish on the
// old one, which goes away with its last lease.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "predict/engine.h"

namespace klab {

class EnginePool : public std::enable_shared_from_this<EnginePool> {
 public:
  // `size` (>= 1) engines, each from `make`.
  static std::shared_ptr<EnginePool> create(std::size_t size, const std::function<PredictionEngine()>& make);

  // One engine for the holder alone, returned to the pool when the lease is destroyed.
  class Lease {
   public:
    Lease(Lease&& other) noexcept;
    Lease& operator=(Lease&&) = delete;
    ~Lease();
    PredictionEngine& operator*() const { return *engine_; }
    PredictionEngine* operator->() const { return engine_; }

   private:
    friend class EnginePool;
    Lease(std::shared_ptr<EnginePool> pool, std::size_t index);
    std::shared_ptr<EnginePool> pool_;
    std::size_t index_ = 0;
    PredictionEngine* engine_ = nullptr;
  };
  // Waits until an engine is free.
  Lease acquire();

  std::size_t size() const { return engines_.size(); }
  std::size_t busy() const;
  // What every engine shares (run name, metadata(), experiment()): read-only, safe beside leases.
  const PredictionEngine& front() const { return *engines_.front(); }

 private:
  EnginePool() = default;
  void release(std::size_t index);

  std::vector<std::unique_ptr<PredictionEngine>> engines_;
  mutable std::mutex mutex_;
  std::condition_variable freed_;
  std::vector<std::size_t> free_;  // indices of engines not leased
};

}  // namespace klab
