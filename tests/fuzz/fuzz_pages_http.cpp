// libFuzzer target: the report pages' HTTP routes (report/http_pages.cpp, as `serve` mounts them)
// on any request target. A real httplib server with the routes listens on loopback over a small
// output folder (one run); each input becomes the target of one GET request written to the socket
// as it is (bytes that would end the request line are dropped). What must hold: the answer is a
// complete HTTP response, never a 5xx, and it never carries the content of a file outside the
// output folder (a sentinel file sits right beside it, and /etc/passwd is a classic).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <cerrno>
#include <cstring>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include <httplib.h>

#include "report/http_pages.h"

namespace fs = std::filesystem;

namespace {

constexpr const char* kSentinel = "KLAB-FUZZ-SENTINEL-7f3a";
int g_port = 0;

[[noreturn]] void finding(const std::string& what) {
  std::fprintf(stderr, "FINDING: %s\n", what.c_str());
  std::abort();
}

void write(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p) << text;
}

// out/ with one run (the files a page reads), and a sentinel file beside out/.
fs::path make_fixture() {
  const char* tmp = std::getenv("TMPDIR");
  const fs::path root = fs::path(tmp && *tmp ? tmp : "/tmp") / ("klab_fuzz_pages_" + std::to_string(::getpid()));
  const fs::path run = root / "out" / "600519_lstm_20250101_000000";
  write(root / "secret.txt", kSentinel);
  write(root / "out" / "secret.txt", kSentinel);  // not a run: no page may serve it either
  write(run / "metadata.json", R"({"run_name": "600519_lstm_20250101_000000", "status": "completed", "model_type": "lstm",
    "stock_symbol": "600519", "stock_symbols": ["600519"], "stock_names": {"600519": "贵州茅台"},
    "created_at": "2025-01-01T00:00:00"})");
  write(run / "logs" / "metrics.json", R"([{"epoch": 1, "train_loss": 1.0, "val_loss": 1.1}])");
  write(run / "logs" / "training.log", "[2025-01-01 00:00:00] Epoch 1\n");
  write(run / "results" / "eval_results.json", R"({"mae": 1.0, "baseline": {"mae": 1.1}})");
  write(run / "results" / "predictions.json",
        R"([{"date": "2021-01-04", "symbol": "600519", "actual": 2.0, "predicted": 2.1, "last_close": 2.0}])");
  write(run / "experiment.json", R"({"name": "fuzz"})");
  return root / "out";
}

// Bytes of the whole answer once its head has arrived: head + Content-Length, or 0 (unknown:
// read until the server closes).
std::size_t complete_size(const std::string& response) {
  const std::size_t end = response.find("\r\n\r\n");
  if (end == std::string::npos) return 0;
  std::string head = response.substr(0, end);
  for (auto& c : head) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  const std::size_t at = head.find("\r\ncontent-length:");
  if (at == std::string::npos) return 0;
  return end + 4 + std::strtoull(head.c_str() + at + 17, nullptr, 10);
}

// One request on a fresh connection; the whole answer. Read as a client does, up to its
// Content-Length: after a request it cannot parse, httplib answers 400 and keeps the connection
// open until its read timeout (5 s), and waiting for the close made this target ~7 requests/s.
std::string exchange(const std::string& request) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(g_port));
  ::inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
  // libFuzzer's timer signal (-timeout) can interrupt a blocking connect (EINTR: 15 times in a
  // 34-minute campaign): three attempts, 100 ms apart, before a failed connect is a finding.
  int fd = -1;
  for (int attempt = 1;; ++attempt) {
    fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) break;
    const int error = errno;
    ::close(fd);
    if (attempt == 3) finding(std::string("cannot connect: ") + std::strerror(error));
    std::fprintf(stderr, "connect failed (%s), attempt %d\n", std::strerror(error), attempt);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  if (::send(fd, request.data(), request.size(), 0) != static_cast<ssize_t>(request.size())) finding("short send");
  std::string response;
  char buf[65536];
  for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;) {
    response.append(buf, static_cast<size_t>(n));
    const std::size_t whole = complete_size(response);
    if (whole != 0 && response.size() >= whole) break;
  }
  ::close(fd);
  return response;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  // The page assets of the build under test, with a stub in place of the 1 MB chart library: the
  // search is on routing and data, and every page would otherwise carry a megabyte.
  const fs::path out = make_fixture(), web = out.parent_path() / "web";
  fs::create_directories(web);
  for (const char* asset : {"page.html", "report.css", "report.js"}) {
    fs::copy_file(fs::path(KLAB_FUZZ_WEB_DIR) / asset, web / asset, fs::copy_options::overwrite_existing);
  }
  write(web / "echarts.min.js", "/* stub */");
  ::setenv("KLAB_WEB_DIR", web.c_str(), 1);
  static httplib::Server server;
  server.set_tcp_nodelay(true);  // as serve does: no 40 ms Nagle wait per answer
  klab::report::add_page_routes(server, out);
  g_port = server.bind_to_any_port("127.0.0.1");
  if (g_port <= 0) finding("cannot listen on loopback");
  std::thread([] { server.listen_after_bind(); }).detach();
  while (!server.is_running()) std::this_thread::yield();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 2048) return 0;
  std::string target;
  for (size_t i = 0; i < size; ++i) {
    const char c = static_cast<char>(data[i]);
    if (c != '\r' && c != '\n' && c != ' ' && c != '\0') target += c;
  }
  if (target.empty() || target[0] != '/') target = "/" + target;
  const std::string request = "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";

  std::string response = exchange(request);
  // One empty answer was seen once in a 20-minute campaign on a loaded machine and did not
  // reproduce (docs/RELIABILITY.md): a second attempt tells a dropped connection from a request
  // the server cannot answer.
  if (response.empty()) response = exchange(request);
  if (response.rfind("HTTP/1.1 ", 0) != 0 || response.size() < 12) finding("no HTTP response for " + target);
  const int status = std::atoi(response.c_str() + 9);
  if (status >= 500) finding("HTTP " + std::to_string(status) + " for " + target + ": " + response.substr(0, 300));
  // A secret in the answer is a finding unless the request carried it itself: pages echo the
  // path they could not find, and the fuzzer learns the strings this check compares with (it
  // once asked for /runs/600519_root:x:0:0lstm_... and got that name back in a 404).
  const std::string decoded = httplib::detail::decode_url(target, true);  // as the server reads it
  const auto leaked = [&](const std::string& secret) {
    return response.find(secret) != std::string::npos && target.find(secret) == std::string::npos &&
           decoded.find(secret) == std::string::npos;
  };
  if (leaked(kSentinel)) finding("a file outside the runs was served for " + target);
  if (leaked("root:x:0:0")) finding("/etc/passwd was served for " + target);
  return 0;
}
