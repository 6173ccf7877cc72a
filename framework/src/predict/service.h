// predict/service.h — what `serve` answers on /health, /model, /predict and /reload, apart from
// HTTP: each endpoint takes the request's body (and /reload its Authorization header) and gives a
// status and a JSON body. tools/serve.cpp mounts them on its HTTP server; the fuzz target
// tests/fuzz/fuzz_serve_api.cpp calls them directly.
//
// Predictions run on an EnginePool (predict/engine_pool.h) swapped atomically by reload(): a
// request in flight finishes on the pool it started on, health() and model() never wait.
#pragma once

#include <cstddef>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "predict/engine_pool.h"

namespace klab {

class PluginRegistry;

struct ServiceOptions {
  std::filesystem::path output_dir;  // the runs /reload may load
  std::string run;                   // the run served at start (a name under output_dir, or a path)
  std::string best_by;               // or: the completed run with the best metric (list_runs filters)
  std::vector<std::string> filters;
  std::size_t engines = 1;           // predictions at once
  std::size_t cache_bytes = 0;       // history cache, shared by the engines
  std::string source, source_options;  // a data-source plugin in place of the run's ("" = the run's)
  std::string token;                 // when set, /reload needs "Authorization: Bearer <token>"
};

struct ServiceReply {
  int status = 200;
  nlohmann::json body;  // an object; {"error": "one line"} for every status >= 400
  std::string text() const;  // the body as sent: indented JSON and a newline
};

class PredictionService {
 public:
  static constexpr std::size_t kMaxBodyBytes = 1 << 20;  // 1 MiB: thousands of symbols fit
  static constexpr std::size_t kMaxBatch = 1000;          // symbols in one POST /predict

  // Loads the run of `options` (run or best_by), or none when both are empty: the pages alone
  // until a /reload names one. Throws klab errors (no such run, no plugin for its model).
  PredictionService(ServiceOptions options, PluginRegistry& registry);

  // 413 for a body over kMaxBodyBytes (an HTTP server that refuses it before reading gives this).
  static ServiceReply body_too_large();

  ServiceReply health() const;
  ServiceReply model() const;
  ServiceReply predict(const std::string& body);
  ServiceReply reload(const std::string& authorization, const std::string& body);

  // The pool in service (nullptr: no run loaded).
  std::shared_ptr<EnginePool> pool() const { return std::atomic_load(&pool_); }
  const ServiceOptions& options() const { return options_; }

 private:
  std::shared_ptr<EnginePool> open_pool(const std::string& requested) const;

  ServiceOptions options_;
  PluginRegistry& registry_;
  std::shared_ptr<EnginePool> pool_;
};

}  // namespace klab
