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
#include <iostream>
#include <memory>
#include <thread>

#include <boost/program_options.hpp>
#include <httplib.h>

#include "cli/options.h"
#include "plugins/registry.h"
#include "predict/service.h"
#include "report/http_pages.h"

namespace po = boost::program_options;

namespace {

httplib::Server* g_server = nullptr;
void on_signal(int) {
  if (g_server) g_server->stop();
}

void reply(httplib::Response& res, const klab::ServiceReply& r) {
  res.status = r.status;
  res.set_content(r.text(), "application/json");
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
  klab::ServiceOptions service_options;
  service_options.output_dir = vm["output-dir"].as<std::string>();
  if (vm.count("run")) service_options.run = vm["run"].as<std::string>();
  if (vm.count("best-by")) service_options.best_by = vm["best-by"].as<std::string>();
  if (vm.count("filter")) service_options.filters = vm["filter"].as<std::vector<std::string>>();
  service_options.engines = static_cast<std::size_t>(engines);
  service_options.cache_bytes = static_cast<std::size_t>(cache_mb) << 20;
  if (vm.count("source")) {
    service_options.source = vm["source"].as<std::string>();
    service_options.source_options = vm["options"].as<std::string>();
  }
  // An optional token guards the one endpoint that changes the service (POST /reload). From the
  // environment or a file, never the command line (which every user of the machine can read).
  if (const char* env = std::getenv("KLAB_SERVE_TOKEN")) service_options.token = env;
  if (vm.count("token-file")) {
    std::ifstream in(vm["token-file"].as<std::string>());
    if (!in || !std::getline(in, service_options.token) || service_options.token.empty()) {
      throw klab::IoError(vm["token-file"].as<std::string>() + ": cannot read a token (one line)");
    }
  }
  // The endpoints themselves (predict/service.h): the run's engine pool, swapped atomically by
  // /reload; a prediction leases one engine of it, nothing else is locked, /health never waits.
  klab::PredictionService service(service_options, registry);

  httplib::Server server;
  server.new_task_queue = [threads] { return new httplib::ThreadPool(static_cast<size_t>(threads)); };
  // An idle keep-alive connection holds a worker: let it go after a second so idle clients
  // cannot starve /health and /predict.
  server.set_keep_alive_timeout(1);
  server.set_read_timeout(5, 0);
  server.set_payload_max_length(klab::PredictionService::kMaxBodyBytes);
  // Only SO_REUSEADDR: with httplib's SO_REUSEPORT a second server on the port would share it.
  server.set_socket_options([](socket_t sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  // Answers go out at once: without TCP_NODELAY a client that keeps its connection open waited
  // ~40 ms per answer (Nagle's algorithm against its delayed ACK). Accepted sockets inherit it.
  server.set_tcp_nodelay(true);
  server.Get("/health", [&](const httplib::Request&, httplib::Response& res) { reply(res, service.health()); });
  server.Get("/model", [&](const httplib::Request&, httplib::Response& res) { reply(res, service.model()); });
  klab::report::add_page_routes(server, service_options.output_dir);
  server.Post("/predict", [&](const httplib::Request& req, httplib::Response& res) { reply(res, service.predict(req.body)); });
  server.Post("/reload", [&](const httplib::Request& req, httplib::Response& res) {
    const auto r = service.reload(req.get_header_value("Authorization"), req.body);
    if (r.status == 200) {
      std::cout << "reloaded: " << (r.body["previous"].is_string() ? r.body["previous"].get<std::string>() : "")
                << " -> " << r.body["run"].get<std::string>() << std::endl;
    }
    reply(res, r);
  });
  // Whatever httplib answers by itself (unknown path, wrong method, body too large) is JSON too.
  server.set_error_handler(httplib::Server::HandlerWithResponse(
      [](const httplib::Request& req, httplib::Response& res) -> httplib::Server::HandlerResponse {
    if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;  // ours, already JSON
    if (res.status == 413) {
      reply(res, klab::PredictionService::body_too_large());
      return httplib::Server::HandlerResponse::Handled;
    }
    std::string message;
    const bool known = req.path == "/health" || req.path == "/model" || req.path == "/predict" || req.path == "/reload";
    if (res.status == 404 && known) {
      res.status = 405;
      message = req.method + " " + req.path + ": use " + (req.path == "/predict" || req.path == "/reload" ? "POST" : "GET");
    } else if (res.status == 404) {
      message = "no such endpoint: " + req.method + " " + req.path +
                " (GET /health, GET /model, POST /predict, POST /reload; pages: GET /, /runs/NAME, /sweeps/RECORD, /compare)";
    } else {
      message = "HTTP " + std::to_string(res.status);
    }
    reply(res, {res.status, {{"error", message}}});
    return httplib::Server::HandlerResponse::Handled;
  }));
  server.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
    try {
      if (ep) std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      const std::string what = e.what();
      reply(res, {500, {{"error", what.substr(0, what.find('\n'))}}});
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
  if (const auto pool = service.pool()) {
    std::cout << "serving run " << pool->front().run_name() << " on http://" << host << ":" << port
              << " (report pages at /; " << engines << " engine" << (engines == 1 ? "" : "s") << ")" << std::endl;
  } else {
    std::cout << "serving the report pages of " << service_options.output_dir.string() << " on http://" << host << ":" << port
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
