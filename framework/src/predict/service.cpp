#include "predict/service.h"

#include <regex>
#include <utility>

#include "klab/data/dates.h"
#include "klab/error.h"
#include "plugins/registry.h"
#include "predict/engine.h"

namespace fs = std::filesystem;

namespace klab {
namespace {

// One line, whatever the request carried: control characters the message echoes from it (a
// newline in a symbol or a date) are written as escapes.
std::string one_line(const std::string& message) {
  std::string line;
  for (const char c : message) {
    if (static_cast<unsigned char>(c) >= 0x20 && c != 0x7f) {
      line += c;
    } else {
      static const char* const hex = "0123456789abcdef";
      line += c == '\n' ? std::string("\\n") : std::string("\\x") + hex[(c >> 4) & 0xf] + hex[c & 0xf];
    }
  }
  return line;
}

ServiceReply error(int status, const std::string& message) { return {status, {{"error", one_line(message)}}}; }

// Errors from deep inside (LibTorch's carry a C++ stack trace) travel as their first line.
std::string first_line(const std::string& text) { return text.substr(0, text.find('\n')); }

// A body that is not JSON: a syntax error, or a number JSON can write but a double cannot hold
// (nlohmann throws out_of_range for 1e999, not parse_error).
ServiceReply malformed(const nlohmann::json::exception& e) { return error(400, std::string("malformed JSON: ") + e.what()); }

// Compares without leaking, through the time taken, where the first difference is.
bool same_secret(const std::string& given, const std::string& expected) {
  if (given.size() != expected.size()) return false;
  unsigned char diff = 0;
  for (std::size_t i = 0; i < given.size(); ++i) diff |= static_cast<unsigned char>(given[i] ^ expected[i]);
  return diff == 0;
}

const char* const kNoRun = "no run loaded (serve was started without --run or --best-by): POST /reload {\"run\": \"NAME\"}";

}  // namespace

std::string ServiceReply::text() const {
  // Strings that are not UTF-8 (a message from a data source) come out with U+FFFD in place of
  // the bytes, never as an exception instead of the answer.
  return body.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

PredictionService::PredictionService(ServiceOptions options, PluginRegistry& registry)
    : options_(std::move(options)), registry_(registry) {
  if (options_.engines < 1) throw ConfigError("a prediction service needs at least one engine");
  if (!options_.run.empty() || !options_.best_by.empty()) pool_ = open_pool("");
}

std::shared_ptr<EnginePool> PredictionService::open_pool(const std::string& requested) const {
  fs::path run_dir;
  if (!requested.empty()) {
    // Over HTTP only a run's name: no paths, so the service reveals nothing of the disk and loads
    // nothing from outside the output folder.
    static const std::regex name("[A-Za-z0-9_][A-Za-z0-9_.-]*");
    if (!std::regex_match(requested, name) || !fs::is_regular_file(options_.output_dir / requested / "metadata.json")) {
      throw IoError("no run named \"" + requested + "\" in the output folder");
    }
    run_dir = options_.output_dir / requested;
    // Nor through a link in the output folder that leads out of it.
    std::error_code ec_run, ec_root;
    const fs::path real = fs::canonical(run_dir, ec_run), root = fs::canonical(options_.output_dir, ec_root);
    if (ec_run || ec_root || real.parent_path() != root) throw IoError("run \"" + requested + "\" is not a folder of the output folder");
  } else if (!options_.run.empty()) {
    run_dir = fs::is_directory(options_.run) ? fs::path(options_.run) : options_.output_dir / options_.run;
  } else if (!options_.best_by.empty()) {
    run_dir = best_run(options_.output_dir, options_.best_by, options_.filters);
  } else {
    throw ConfigError("this service was started without a run: POST /reload {\"run\": \"NAME\"} to load one");
  }
  // The run's engines: each its own model, data-source connection and share of the cache.
  return EnginePool::create(options_.engines, [&] {
    auto engine = PredictionEngine::from_run(run_dir, registry_);
    if (!options_.source.empty()) {
      engine.set_source(registry_.create_data_source(options_.source, options_.source_options));
    }
    engine.set_cache_limit(options_.cache_bytes / options_.engines);
    return engine;
  });
}

ServiceReply PredictionService::body_too_large() {
  return error(413, "request body over the limit of " + std::to_string(kMaxBodyBytes) + " bytes");
}

ServiceReply PredictionService::health() const {
  const auto serving = pool();
  return {200,
          {{"status", "ok"},
           {"run", serving ? nlohmann::json(serving->front().run_name()) : nlohmann::json()},
           {"engines", serving ? serving->size() : 0},
           {"busy", serving ? serving->busy() : 0}}};
}

ServiceReply PredictionService::model() const {
  const auto serving = pool();
  if (!serving) return error(503, kNoRun);
  return {200, serving->front().metadata()};
}

ServiceReply PredictionService::predict(const std::string& text) {
  if (text.size() > kMaxBodyBytes) return body_too_large();
  nlohmann::json body;
  try {
    body = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    return malformed(e);
  }
  if (!body.is_object()) return error(400, "the request must be a JSON object");
  for (const auto& [key, value] : body.items()) {
    if (key != "symbol" && key != "symbols" && key != "date") return error(400, "unknown key '" + key + "' (symbol, symbols, date)");
  }
  if (body.contains("date") && !body["date"].is_string()) return error(400, "'date' must be a string YYYY-MM-DD");
  std::string date;
  try {
    date = require_date(body.value("date", ""), "date");
  } catch (const ConfigError& e) {
    return error(400, e.what());
  }
  const bool batch = body.contains("symbols");
  std::vector<std::string> symbols;
  if (batch == body.contains("symbol")) return error(400, "give 'symbol' or 'symbols'");
  if (batch) {
    const auto& list = body["symbols"];
    if (!list.is_array() || list.empty()) return error(400, "'symbols' must be a non-empty list");
    if (list.size() > kMaxBatch) {
      return error(400, "at most " + std::to_string(kMaxBatch) + " symbols per request, got " + std::to_string(list.size()));
    }
    for (const auto& s : list) {
      if (!s.is_string()) return error(400, "'symbols' must list strings such as \"600519\"");
      symbols.push_back(s.get<std::string>());
    }
  } else {
    if (!body["symbol"].is_string()) return error(400, "'symbol' must be a string such as \"600519\"");
    symbols.push_back(body["symbol"].get<std::string>());
  }
  const auto serving_pool = pool();  // the requests in flight keep the pool they started on
  if (!serving_pool) return error(503, kNoRun);
  auto serving = serving_pool->acquire();
  nlohmann::json out = {{"run", serving->run_name()}, {"predictions", nlohmann::json::array()}, {"errors", nlohmann::json::array()}};
  for (const auto& symbol : symbols) {
    int status = 500;
    std::string message;
    try {
      out["predictions"].push_back(serving->predict(symbol, date).to_json());
      continue;
    } catch (const UnknownSymbolError& e) {
      status = 404;
      message = e.what();
    } catch (const InsufficientHistoryError& e) {
      status = 422;
      message = e.what();
    } catch (const UnavailableError& e) {
      // The database is down: the whole request is a 503 (try again later). A batch stops here:
      // each further symbol would wait out the reconnection attempts again.
      return error(503, first_line(e.what()));
    } catch (const std::exception& e) {
      message = first_line(e.what());
    }
    if (!batch) return error(status, message);
    out["errors"].push_back({{"symbol", symbol}, {"error", one_line(message)}});
  }
  return {200, out};
}

ServiceReply PredictionService::reload(const std::string& authorization, const std::string& text) {
  if (!options_.token.empty() && !same_secret(authorization, "Bearer " + options_.token)) {
    return error(401, "POST /reload needs the service's token: Authorization: Bearer <token>");
  }
  if (text.size() > kMaxBodyBytes) return body_too_large();
  nlohmann::json body = nlohmann::json::object();
  if (!text.empty()) {
    try {
      body = nlohmann::json::parse(text);
    } catch (const nlohmann::json::exception& e) {
      return malformed(e);
    }
  }
  if (!body.is_object() || (body.contains("run") && !body["run"].is_string())) return error(400, "expected {} or {\"run\": \"NAME\"}");
  for (const auto& [key, value] : body.items()) {
    if (key != "run") return error(400, "unknown key '" + key + "' (run)");
  }
  try {
    auto fresh = open_pool(body.value("run", ""));  // built while requests go on
    const auto old = std::atomic_exchange(&pool_, fresh);  // its leases finish on it
    const std::string previous = old ? old->front().run_name() : "";
    return {200, {{"run", fresh->front().run_name()}, {"previous", previous.empty() ? nlohmann::json() : nlohmann::json(previous)}}};
  } catch (const std::exception& e) {
    return error(409, "reload failed, still serving the previous run: " + first_line(e.what()));
  }
}

}  // namespace klab
