// serve_bench — latency, throughput and a bounded load test of a running `serve`.
//
//   serve_bench --port P [--symbols 600519,000001] [--requests 1000] [--threads 1,2,4]
//               [--load 100000 --pid PID]
//
// 1. latency: sequential POST /predict, a new connection each, then the same and GET /health on
//    one kept-alive connection (requests.Session, a browser, a load balancer);
// 2. throughput: for each count of client threads, each thread on its own kept-alive connection;
// 3. load (--load N): N predictions from the largest thread count, symbols in turn; every answer
//    must be a 200, and the server's resident memory (--pid) is read after the first tenth and at
//    the end: a growth beyond 10 % of the first reading plus 8 MiB fails.
// Exits 1 on any failed request or memory growth.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <boost/program_options.hpp>
#include <httplib.h>

namespace po = boost::program_options;
using Clock = std::chrono::steady_clock;

namespace {

std::vector<std::string> split(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream in(text);
  for (std::string item; std::getline(in, item, ',');) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

double percentile(std::vector<double> ms, double q) {
  std::sort(ms.begin(), ms.end());
  return ms[static_cast<std::size_t>(q * static_cast<double>(ms.size() - 1))];
}

// VmRSS of `pid` in KiB (0 if unknown).
long rss_kib(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return 0;
}

struct Client {
  explicit Client(int port, bool keep_alive) : http("127.0.0.1", port) {
    http.set_keep_alive(keep_alive);
    // httplib's client writes a POST's headers and body apart: without TCP_NODELAY on its side the
    // body waits for the server's delayed ACK (Python's http.client sends both in one write).
    http.set_tcp_nodelay(true);
  }
  // Milliseconds, or -1 for a failed request.
  double post(const std::string& body) {
    const auto t0 = Clock::now();
    auto res = http.Post("/predict", body, "application/json");
    if (!res || res->status != 200) return -1;
    return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
  }
  double health() {
    const auto t0 = Clock::now();
    auto res = http.Get("/health");
    if (!res || res->status != 200) return -1;
    return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
  }
  httplib::Client http;
};

}  // namespace

int main(int argc, char** argv) {
  po::options_description options("serve_bench --port P [options]");
  options.add_options()("help,h", "show this help")("port", po::value<int>(), "the service's port")
      ("requests", po::value<int>()->default_value(1000), "requests per latency and throughput phase")
      ("threads", po::value<std::string>()->default_value("1,2,4"), "client thread counts for throughput")
      ("symbols", po::value<std::string>()->default_value("600519"), "symbols to predict, in turn")
      ("load", po::value<int>()->default_value(0), "requests of the load test (0: none)")
      ("pid", po::value<int>()->default_value(0), "the server's process id, for its memory");
  po::variables_map vm;
  po::store(po::parse_command_line(argc, argv, options), vm);
  if (vm.count("help") || !vm.count("port")) {
    std::cout << options << "\n";
    return vm.count("help") ? 0 : 2;
  }
  const int port = vm["port"].as<int>(), n = vm["requests"].as<int>(), load = vm["load"].as<int>(),
            pid = vm["pid"].as<int>();
  std::vector<std::string> bodies;
  for (const auto& s : split(vm["symbols"].as<std::string>())) bodies.push_back("{\"symbol\": \"" + s + "\"}");
  std::vector<int> thread_counts;
  for (const auto& t : split(vm["threads"].as<std::string>())) thread_counts.push_back(std::stoi(t));
  if (bodies.empty() || thread_counts.empty() || n < 100) {
    std::cerr << "serve_bench: give symbols, thread counts and at least 100 requests\n";
    return 2;
  }
  std::cout << std::fixed << std::setprecision(3);
  // Warm-up: every symbol once (the first request of a symbol loads its history).
  {
    Client warm(port, true);
    for (int round = 0; round < 3; ++round) {
      for (const auto& b : bodies) {
        if (warm.post(b) < 0) {
          std::cerr << "serve_bench: request failed during warm-up\n";
          return 1;
        }
      }
    }
  }

  auto sequential = [&](const std::string& what, bool keep_alive, bool predict) {
    Client c(port, keep_alive);
    std::vector<double> ms;
    for (int i = 0; i < n; ++i) {
      const double t = predict ? (keep_alive ? c.post(bodies[i % bodies.size()])
                                             : Client(port, false).post(bodies[i % bodies.size()]))
                               : c.health();
      if (t < 0) return false;
      ms.push_back(t);
    }
    std::cout << what << " (" << n << " requests one after the other): p50 " << percentile(ms, 0.5) << " ms, p99 "
              << percentile(ms, 0.99) << " ms, max " << *std::max_element(ms.begin(), ms.end()) << " ms\n";
    return true;
  };
  if (!sequential("POST /predict, a new connection each", false, true) ||
      !sequential("POST /predict, one kept-alive connection", true, true) ||
      !sequential("GET /health, one kept-alive connection", true, false)) {
    std::cerr << "serve_bench: a request failed\n";
    return 1;
  }

  // `total` predictions from `threads` clients, each on its own kept-alive connection.
  auto parallel = [&](int threads, int total, std::vector<double>* latencies, long* rss_early) {
    std::atomic<int> next{0}, failed{0};
    std::vector<std::vector<double>> ms(static_cast<std::size_t>(threads));
    std::vector<std::thread> pool;
    const auto t0 = Clock::now();
    for (int t = 0; t < threads; ++t) {
      pool.emplace_back([&, t] {
        Client c(port, true);
        for (int i; (i = next.fetch_add(1)) < total;) {
          const double v = c.post(bodies[static_cast<std::size_t>(i) % bodies.size()]);
          if (v < 0) {
            failed.fetch_add(1);
          } else {
            ms[static_cast<std::size_t>(t)].push_back(v);
          }
          if (rss_early && i == total / 10) *rss_early = rss_kib(pid);
        }
      });
    }
    for (auto& th : pool) th.join();
    const double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    for (auto& v : ms) latencies->insert(latencies->end(), v.begin(), v.end());
    return std::make_pair(total / seconds, failed.load());
  };
  int failures = 0;
  for (int threads : thread_counts) {
    std::vector<double> ms;
    const auto [rate, failed] = parallel(threads, n, &ms, nullptr);
    failures += failed;
    std::cout << "throughput, " << threads << " client thread" << (threads == 1 ? "" : "s") << ": "
              << std::setprecision(0) << rate << std::setprecision(3) << " predictions/s, p50 "
              << (ms.empty() ? 0 : percentile(ms, 0.5)) << " ms, p99 " << (ms.empty() ? 0 : percentile(ms, 0.99))
              << " ms, " << failed << " failed\n";
  }
  bool grew = false;
  if (load > 0) {
    const int threads = *std::max_element(thread_counts.begin(), thread_counts.end());
    long early = 0;
    std::vector<double> ms;
    const auto [rate, failed] = parallel(threads, load, &ms, pid ? &early : nullptr);
    failures += failed;
    const long end = pid ? rss_kib(pid) : 0;
    std::cout << "load: " << load << " predictions from " << threads << " threads, " << std::setprecision(0) << rate
              << std::setprecision(3) << " predictions/s, p99 " << (ms.empty() ? 0 : percentile(ms, 0.99)) << " ms, "
              << failed << " failed";
    if (pid) {
      grew = end > early + early / 10 + 8 * 1024;
      std::cout << "; server memory " << early / 1024.0 << " MiB after " << load / 10 << " requests, " << end / 1024.0
                << " MiB at the end" << (grew ? " (GREW)" : "");
    }
    std::cout << "\n";
  }
  return failures == 0 && !grew ? 0 : 1;
}
