// serve — an HTTP prediction service over a trained run, and the report pages of the output
// folder, on a loopback port.
//
//   serve --run 600519_lstm_20250119_143025 [--port 8080]
//   serve --best-by mae --filter status=completed --port 0      (0: any free port)
//   serve                                                      (the pages alone, no model loaded)
//
//   GET  /            the runs index; /runs/NAME, /sweeps/RECORD, /compare?runs=A,B and their
//                     JSON under /api/ (report/http_pages.h): read-only
//   GET  /health      {"status": "ok", "run": ...}
//   GET  /model       the loaded run: model, features, target, metrics
//   POST /predict     {"symbol": "600519"[, "date": "2021-12-31"]} or {"symbols": [...]}
//   POST /reload      {} (the same selection again: a newer best run, new weights) or {"run": "NAME"}
//                     (NAME: a run under --output-dir; paths are refused)
// JSON in and out; every error, unknown paths and bodies over the limit (413) included, is a 4xx
// or 5xx with a one-line {"error": "..."}.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <regex>
#include <iostream>
#include <memory>
#include <thread>

#include <boost/program_options.hpp>
#include <httplib.h>

#include "cli/options.h"
#include "klab/data/dates.h"
#include "plugins/registry.h"
#include "predict/engine.h"
#include "predict/engine_pool.h"
#include "report/http_pages.h"

namespace po = boost::program_options;
namespace fs = std::filesystem;

namespace {

httplib::Server* g_server = nullptr;
void on_signal(int) {
  if (g_server) g_server->stop();
}

void reply(httplib::Response& res, int status, const nlohmann::json& body) {
  res.status = status;
  res.set_content(body.dump(2) + "\n", "application/json");
}

// Errors from deep inside (LibTorch's carry a C++ stack trace) travel as their first line.
std::string first_line(const std::string& text) { return text.substr(0, text.find('\n')); }

constexpr std::size_t kMaxBodyBytes = 1 << 20;  // 1 MiB: thousands of symbols fit
constexpr std::size_t kMaxBatch = 1000;          // symbols in one POST /predict

// Compares without leaking, through the time taken, where the first difference is.
bool same_secret(const std::string& given, const std::string& expected) {
  if (given.size() != expected.size()) return false;
  unsigned char diff = 0;
  for (std::size_t i = 0; i < given.size(); ++i) diff |= static_cast<unsigned char>(given[i] ^ expected[i]);
  return diff == 0;
}

// Why `port` on `host` cannot be listened on ("" when it can): probed with a plain socket, so a
// port another server holds is refused instead of shared (httplib sets SO_REUSEPORT).
std::string port_problem(const std::string& host, int port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (::inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1) return "";  // a name or IPv6: httplib decides
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return "";
  int yes = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  std::string problem;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    problem = errno == EADDRINUSE ? "port in use" : std::strerror(errno);
  }
  ::close(fd);
  return problem;
}

struct Selection {
  fs::path output_dir;
  std::string run;                   // fixed run, or "" for best-by
  std::string metric;
  std::vector<std::string> filters;
  fs::path resolve(const std::string& requested) const {
    if (!requested.empty()) {
      // Over HTTP only a run's name: no paths, so the service reveals nothing of the disk.
      static const std::regex name("[A-Za-z0-9_][A-Za-z0-9_.-]*");
      if (!std::regex_match(requested, name) || !fs::is_regular_file(output_dir / requested / "metadata.json")) {
        throw klab::IoError("no run named \"" + requested + "\" in the output folder");
      }
      return output_dir / requested;
    }
    if (!run.empty()) return fs::is_directory(run) ? fs::path(run) : output_dir / run;
    if (metric.empty()) throw klab::ConfigError("this service was started without a run: POST /reload {\"run\": \"NAME\"} to load one");
    return klab::best_run(output_dir, metric, filters);
  }
};

int run(int argc, char** argv) {
  po::options_description options("serve [--run RUN | --best-by METRIC] [options]");
  options.add_options()
      ("help,h", "show this help")
      ("run", po::value<std::string>(), "the run to serve (name under --output-dir, or a path)")
      ("best-by", po::value<std::string>(), "serve the completed run with the best METRIC")
      ("filter", po::value<std::vector<std::string>>()->composing(), "with --best-by: list_runs filters")
      ("host", po::value<std::string>()->default_value("127.0.0.1"), "address to listen on")
      ("port", po::value<int>()->default_value(8080), "port (0 = any free port; the chosen one is printed)")
      ("output-dir", po::value<std::string>()->default_value("out"), "where the runs are")
      ("plugin-dir", po::value<std::vector<std::string>>()->composing(), "extra plugin folder")
      ("source", po::value<std::string>(), "data-source plugin instead of the run's")
      ("options", po::value<std::string>(), "its options as JSON")
      ("token-file", po::value<std::string>(), "a file whose first line is the token POST /reload must carry "
                                               "(Authorization: Bearer ...); or set KLAB_SERVE_TOKEN")
      ("threads", po::value<int>()->default_value(16), "HTTP worker threads (1-256; idle keep-alive connections hold one each for up to 1 s)")
      ("engines", po::value<int>(), "predictions run at once: engines of the run, each with its own model, "
                                    "data-source connection and cache (1-64; default: the CPU cores, at most --threads)")
      ("cache-mb", po::value<int>()->default_value(256), "memory for the symbols' histories and features, "
                                                          "shared by the engines (0: recompute on every request)");
  po::variables_map vm;
  if (!klab::cli::parse_command_line(argc, argv, options, vm)) return klab::cli::kExitOk;
  if (vm.count("run") && vm.count("best-by")) throw klab::cli::UsageError("give --run RUN or --best-by METRIC, not both");
  const bool pages_only = !vm.count("run") && !vm.count("best-by");
  if (vm.count("source") != vm.count("options")) throw klab::cli::UsageError("--source and --options go together");
  const int requested_port = vm["port"].as<int>();
  if (requested_port < 0 || requested_port > 65535) {
    throw klab::cli::UsageError("--port " + std::to_string(requested_port) + ": must be 0-65535 (0: any free port)");
  }
  const int threads = vm["threads"].as<int>();
  if (threads < 1 || threads > 256) throw klab::cli::UsageError("--threads " + std::to_string(threads) + ": must be 1-256");
  const int engines = vm.count("engines") ? vm["engines"].as<int>()
                                          : std::max(1, std::min<int>(threads, static_cast<int>(std::thread::hardware_concurrency())));
  if (engines < 1 || engines > 64) throw klab::cli::UsageError("--engines " + std::to_string(engines) + ": must be 1-64");
  const int cache_mb = vm["cache-mb"].as<int>();
  if (cache_mb < 0 || cache_mb > 1 << 20) throw klab::cli::UsageError("--cache-mb " + std::to_string(cache_mb) + ": must be 0-1048576");
  const std::string host = vm["host"].as<std::string>();
  if (requested_port != 0) {
    const std::string problem = port_problem(host, requested_port);
    if (!problem.empty()) throw klab::IoError("cannot listen on " + host + ":" + std::to_string(requested_port) + ": " + problem);
  }
  const std::vector<std::filesystem::path> dirs = klab::cli::plugin_dirs(vm);
  klab::PluginRegistry registry;
  registry.discover(dirs);
  Selection selection{vm["output-dir"].as<std::string>(), vm.count("run") ? vm["run"].as<std::string>() : "",
                      vm.count("best-by") ? vm["best-by"].as<std::string>() : "",
                      vm.count("filter") ? vm["filter"].as<std::vector<std::string>>() : std::vector<std::string>{}};
  // The run's engines: each its own model, data-source connection and share of the cache.
  auto open_pool = [&](const std::string& requested) {
    const fs::path run_dir = selection.resolve(requested);
    return klab::EnginePool::create(static_cast<std::size_t>(engines), [&] {
      auto engine = klab::PredictionEngine::from_run(run_dir, registry);
      if (vm.count("source")) {
        engine.set_source(registry.create_data_source(vm["source"].as<std::string>(), vm["options"].as<std::string>()));
      }
      engine.set_cache_limit(static_cast<std::size_t>(cache_mb) * (1u << 20) / static_cast<std::size_t>(engines));
      return engine;
    });
  };
  // The pool in service, swapped atomically by /reload. A prediction leases one engine of it for
  // its duration, nothing else is locked; /health and /model read a snapshot and never wait.
  std::shared_ptr<klab::EnginePool> engine = pages_only ? nullptr : open_pool("");
  // An optional token guards the one endpoint that changes the service (POST /reload). From the
  // environment or a file, never the command line (which every user of the machine can read).
  std::string token;
  if (const char* env = std::getenv("KLAB_SERVE_TOKEN")) token = env;
  if (vm.count("token-file")) {
    std::ifstream in(vm["token-file"].as<std::string>());
    if (!in || !std::getline(in, token) || token.empty()) {
      throw klab::IoError(vm["token-file"].as<std::string>() + ": cannot read a token (one line)");
    }
  }
  const auto current = [&engine] { return std::atomic_load(&engine); };

  httplib::Server server;
  server.new_task_queue = [threads] { return new httplib::ThreadPool(static_cast<size_t>(threads)); };
  // An idle keep-alive connection holds a worker: let it go after a second so idle clients
  // cannot starve /health and /predict.
  server.set_keep_alive_timeout(1);
  server.set_read_timeout(5, 0);
  server.set_payload_max_length(kMaxBodyBytes);
  // Only SO_REUSEADDR: with httplib's SO_REUSEPORT a second server on the port would share it.
  server.set_socket_options([](socket_t sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  // Answers go out at once: without TCP_NODELAY a client that keeps its connection open waited
  // ~40 ms per answer (Nagle's algorithm against its delayed ACK). Accepted sockets inherit it.
  server.set_tcp_nodelay(true);
  const std::string no_run = "no run loaded (serve was started without --run or --best-by): POST /reload {\"run\": \"NAME\"}";
  server.Get("/health", [&](const httplib::Request&, httplib::Response& res) {
    const auto serving = current();
    reply(res, 200, {{"status", "ok"},
                     {"run", serving ? nlohmann::json(serving->front().run_name()) : nlohmann::json()},
                     {"engines", serving ? serving->size() : 0},
                     {"busy", serving ? serving->busy() : 0}});
  });
  server.Get("/model", [&](const httplib::Request&, httplib::Response& res) {
    const auto serving = current();
    if (!serving) return reply(res, 503, {{"error", no_run}});
    reply(res, 200, serving->front().metadata());
  });
  klab::report::add_page_routes(server, selection.output_dir);
  server.Post("/predict", [&](const httplib::Request& req, httplib::Response& res) {
    nlohmann::json body;
    try {
      body = nlohmann::json::parse(req.body);
    } catch (const nlohmann::json::parse_error& e) {
      return reply(res, 400, {{"error", std::string("malformed JSON: ") + e.what()}});
    }
    if (!body.is_object()) return reply(res, 400, {{"error", "the request must be a JSON object"}});
    for (const auto& [key, value] : body.items()) {
      if (key != "symbol" && key != "symbols" && key != "date") {
        return reply(res, 400, {{"error", "unknown key '" + key + "' (symbol, symbols, date)"}});
      }
    }
    if (body.contains("date") && !body["date"].is_string()) return reply(res, 400, {{"error", "'date' must be a string YYYY-MM-DD"}});
    std::string date;
    try {
      date = klab::require_date(body.value("date", ""), "date");
    } catch (const klab::ConfigError& e) {
      return reply(res, 400, {{"error", e.what()}});
    }
    const bool batch = body.contains("symbols");
    std::vector<std::string> symbols;
    if (batch == body.contains("symbol")) return reply(res, 400, {{"error", "give 'symbol' or 'symbols'"}});
    if (batch) {
      if (!body["symbols"].is_array() || body["symbols"].empty()) return reply(res, 400, {{"error", "'symbols' must be a non-empty list"}});
      if (body["symbols"].size() > kMaxBatch) {
        return reply(res, 400, {{"error", "at most " + std::to_string(kMaxBatch) + " symbols per request, got " +
                                              std::to_string(body["symbols"].size())}});
      }
      for (const auto& s : body["symbols"]) {
        if (!s.is_string()) return reply(res, 400, {{"error", "'symbols' must list strings such as \"600519\""}});
        symbols.push_back(s.get<std::string>());
      }
    } else {
      if (!body["symbol"].is_string()) return reply(res, 400, {{"error", "'symbol' must be a string such as \"600519\""}});
      symbols.push_back(body["symbol"].get<std::string>());
    }
    const auto pool = current();  // the requests in flight keep the pool they started on
    if (!pool) return reply(res, 503, {{"error", no_run}});
    auto serving = pool->acquire();
    nlohmann::json out = {{"run", serving->run_name()}, {"predictions", nlohmann::json::array()}, {"errors", nlohmann::json::array()}};
    for (const auto& symbol : symbols) {
      try {
        out["predictions"].push_back(serving->predict(symbol, date).to_json());
      } catch (const klab::UnknownSymbolError& e) {
        if (!batch) return reply(res, 404, {{"error", e.what()}});
        out["errors"].push_back({{"symbol", symbol}, {"error", e.what()}});
      } catch (const klab::InsufficientHistoryError& e) {
        if (!batch) return reply(res, 422, {{"error", e.what()}});
        out["errors"].push_back({{"symbol", symbol}, {"error", e.what()}});
      } catch (const std::exception& e) {
        if (!batch) return reply(res, 500, {{"error", first_line(e.what())}});
        out["errors"].push_back({{"symbol", symbol}, {"error", first_line(e.what())}});
      }
    }
    reply(res, 200, out);
  });
  server.Post("/reload", [&](const httplib::Request& req, httplib::Response& res) {
    if (!token.empty() && !same_secret(req.get_header_value("Authorization"), "Bearer " + token)) {
      return reply(res, 401, {{"error", "POST /reload needs the service's token: Authorization: Bearer <token>"}});
    }
    nlohmann::json body = nlohmann::json::object();
    if (!req.body.empty()) {
      try {
        body = nlohmann::json::parse(req.body);
      } catch (const nlohmann::json::parse_error& e) {
        return reply(res, 400, {{"error", std::string("malformed JSON: ") + e.what()}});
      }
    }
    if (!body.is_object() || (body.contains("run") && !body["run"].is_string())) {
      return reply(res, 400, {{"error", "expected {} or {\"run\": \"NAME\"}"}});
    }
    for (const auto& [key, value] : body.items()) {
      if (key != "run") return reply(res, 400, {{"error", "unknown key '" + key + "' (run)"}});
    }
    try {
      auto fresh = open_pool(body.value("run", ""));  // built while requests go on
      const auto old = std::atomic_exchange(&engine, fresh);  // its leases finish on it
      const std::string previous = old ? old->front().run_name() : "";
      std::cout << "reloaded: " << previous << " -> " << fresh->front().run_name() << std::endl;
      reply(res, 200, {{"run", fresh->front().run_name()}, {"previous", previous.empty() ? nlohmann::json() : nlohmann::json(previous)}});
    } catch (const std::exception& e) {
      reply(res, 409, {{"error", "reload failed, still serving the previous run: " + first_line(e.what())}});
    }
  });
  // Whatever httplib answers by itself (unknown path, wrong method, body too large) is JSON too.
  server.set_error_handler(httplib::Server::HandlerWithResponse(
      [](const httplib::Request& req, httplib::Response& res) -> httplib::Server::HandlerResponse {
    if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;  // ours, already JSON
    std::string message;
    const bool known = req.path == "/health" || req.path == "/model" || req.path == "/predict" || req.path == "/reload";
    if (res.status == 404 && known) {
      res.status = 405;
      message = req.method + " " + req.path + ": use " + (req.path == "/predict" || req.path == "/reload" ? "POST" : "GET");
    } else if (res.status == 404) {
      message = "no such endpoint: " + req.method + " " + req.path +
                " (GET /health, GET /model, POST /predict, POST /reload; pages: GET /, /runs/NAME, /sweeps/RECORD, /compare)";
    } else if (res.status == 413) {
      message = "request body over the limit of " + std::to_string(kMaxBodyBytes) + " bytes";
    } else {
      message = "HTTP " + std::to_string(res.status);
    }
    reply(res, res.status, {{"error", message}});
    return httplib::Server::HandlerResponse::Handled;
  }));
  server.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
    try {
      if (ep) std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      reply(res, 500, {{"error", first_line(e.what())}});
    }
  });

  int port = requested_port;
  if (port == 0) {
    port = server.bind_to_any_port(host);
  } else if (!server.bind_to_port(host, port)) {
    port = -1;
  }
  if (port < 0) throw klab::IoError("cannot listen on " + host + ":" + std::to_string(requested_port) + ": port in use or not permitted");
  g_server = &server;
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  if (host == "0.0.0.0" || host == "::") {
    std::cerr << "serve: warning: listening on every network interface (" << host
              << "): anyone who can reach this machine can query the model and POST /reload\n";
  }
  if (engine) {
    std::cout << "serving run " << engine->front().run_name() << " on http://" << host << ":" << port
              << " (report pages at /; " << engines << " engine" << (engines == 1 ? "" : "s") << ")" << std::endl;
  } else {
    std::cout << "serving the report pages of " << selection.output_dir.string() << " on http://" << host << ":" << port
              << " (no run loaded)" << std::endl;
  }
  server.listen_after_bind();
  std::cout << "stopped" << std::endl;
  return klab::cli::kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
  return klab::cli::guarded_main("serve", [&] { return run(argc, argv); });
}
