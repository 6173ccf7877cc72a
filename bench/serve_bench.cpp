// serve_bench — latency and throughput of a running `serve`: sequential requests for p50/p99
// latency (a new connection each), the same on one kept-alive connection, then several client
// threads for requests per second.
//   serve_bench --port P [--requests 300] [--threads 4] [--symbol 600519]
#include <algorithm>
#include <atomic>
#include <chrono>
#include <iostream>
#include <thread>
#include <vector>

#include <boost/program_options.hpp>
#include <httplib.h>

namespace po = boost::program_options;
using Clock = std::chrono::steady_clock;

int main(int argc, char** argv) {
  po::options_description options("serve_bench --port P [options]");
  options.add_options()("help,h", "show this help")("port", po::value<int>(), "the service's port")
      ("requests", po::value<int>()->default_value(300), "requests per phase")
      ("threads", po::value<int>()->default_value(4), "client threads in the throughput phase")
      ("symbol", po::value<std::string>()->default_value("600519"), "symbol to predict");
  po::variables_map vm;
  po::store(po::parse_command_line(argc, argv, options), vm);
  if (vm.count("help") || !vm.count("port")) {
    std::cout << options << "\n";
    return vm.count("help") ? 0 : 2;
  }
  const int port = vm["port"].as<int>(), n = vm["requests"].as<int>(), threads = vm["threads"].as<int>();
  const std::string body = "{\"symbol\": \"" + vm["symbol"].as<std::string>() + "\"}";
  httplib::Client client("127.0.0.1", port);
  std::vector<double> latencies;
  for (int i = 0; i < n + 10; ++i) {
    const auto t0 = Clock::now();
    auto res = client.Post("/predict", body, "application/json");
    const double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    if (!res || res->status != 200) {
      std::cerr << "serve_bench: request failed\n";
      return 1;
    }
    if (i >= 10) latencies.push_back(ms);  // the first requests warm the page cache
  }
  std::sort(latencies.begin(), latencies.end());
  auto pct = [&](double q) { return latencies[static_cast<std::size_t>(q * (latencies.size() - 1))]; };

  // A client that keeps its connection open (requests.Session, a browser, a load balancer).
  auto keep_alive = [&](const std::string& what, bool predict) {
    httplib::Client c("127.0.0.1", port);
    c.set_keep_alive(true);
    // httplib's client writes a POST's headers and body apart: without TCP_NODELAY on its side the
    // body waits for the server's delayed ACK (Python's http.client sends both in one write).
    c.set_tcp_nodelay(true);
    std::vector<double> ms;
    for (int i = 0; i < 110; ++i) {
      const auto t0 = Clock::now();
      auto res = predict ? c.Post("/predict", body, "application/json") : c.Get("/health");
      if (!res || res->status != 200) return false;
      if (i >= 10) ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    }
    std::sort(ms.begin(), ms.end());
    std::cout << "keep-alive " << what << " (one connection, 100 requests): p50 " << ms[50] << " ms, p99 " << ms[98]
              << " ms\n";
    return true;
  };
  if (!keep_alive("GET /health", false) || !keep_alive("POST /predict", true)) {
    std::cerr << "serve_bench: keep-alive request failed\n";
    return 1;
  }

  std::atomic<int> done{0}, failed{0};
  const auto t0 = Clock::now();
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      httplib::Client c("127.0.0.1", port);
      while (done.fetch_add(1) < n) {
        auto res = c.Post("/predict", body, "application/json");
        if (!res || res->status != 200) failed.fetch_add(1);
      }
    });
  }
  for (auto& th : pool) th.join();
  const double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  std::cout << "latency (sequential, " << latencies.size() << " requests): p50 " << pct(0.5) << " ms, p99 " << pct(0.99)
            << " ms, max " << latencies.back() << " ms\n"
            << "throughput (" << threads << " client threads, " << n << " requests): " << n / seconds
            << " requests/s, " << failed.load() << " failed\n";
  return failed.load() == 0 ? 0 : 1;
}
