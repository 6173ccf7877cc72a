// libFuzzer target: the prediction service's request handling (predict/service.cpp: what `serve`
// answers on POST /predict, POST /reload, GET /health and GET /model) over real runs. At start the
// build under test trains two small runs (ridge regression on the sample data, the linear plugin)
// into an output folder; a third copy of one sits outside it, reachable through a symbolic link
// in it, under a name no run inside has. Each input is one request: its first byte picks the
// endpoint (and, for /reload, whether the right token comes with it), the rest is the body.
// What must hold: every answer is one of the statuses the service documents, never a 5xx; its
// body is a JSON object, with a one-line "error" whenever the status is 400 or more; /reload
// without the token changes nothing; the service only ever serves a run of the output folder,
// and a 200 from /predict answers exactly the symbols asked.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "fuzz_support.h"
#include "plugins/registry.h"
#include "predict/service.h"

namespace fs = std::filesystem;

namespace {

constexpr const char* kToken = "fuzz-token-5d1e";
klab::PluginRegistry* g_registry = nullptr;
klab::PredictionService* g_service = nullptr;
std::set<std::string> g_runs;  // the runs inside the output folder

[[noreturn]] void finding(const std::string& what) {
  std::fprintf(stderr, "FINDING: %s\n", what.c_str());
  std::abort();
}

std::string show(const nlohmann::json& j) { return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace); }

void shell(const std::string& command) {
  if (std::system(command.c_str()) != 0) finding("fixture: " + command);
}

// Two runs of the linear model on the sample data, trained by the build's own tools.
fs::path make_fixture() {
  const char* tmp = std::getenv("TMPDIR");
  const fs::path root = fs::path(tmp && *tmp ? tmp : "/tmp") / ("klab_fuzz_serve_" + std::to_string(::getpid()));
  fs::remove_all(root);
  fs::create_directories(root / "out");
  const std::string bin = std::string(KLAB_FUZZ_BUILD_DIR) + "/bin/";
  shell(bin + "import_kline --quiet --db sqlite:" + (root / "kline.db").string() + " " + KLAB_FUZZ_SAMPLE_DIR + " > /dev/null");
  for (const char* symbol : {"600519", "600036"}) {
    std::ofstream(root / "exp.yaml") << "data: {source: sqlite, options: {path: " << (root / "kline.db").string()
                                     << "}, symbol: \"" << symbol << "\", start_date: 2019-01-01}\n"
                                     << "features: basic\ntarget: {kind: return}\nmodel: {type: linear}\n"
                                     << "train: {seq_length: 5}\noutput_dir: " << (root / "out").string() << "\n";
    shell(bin + "sweep --quiet " + (root / "exp.yaml").string() + " > /dev/null");
  }
  for (const auto& entry : fs::directory_iterator(root / "out")) {
    if (fs::is_regular_file(entry.path() / "metadata.json")) g_runs.insert(entry.path().filename().string());
  }
  if (g_runs.size() != 2) finding("fixture: expected two runs in " + (root / "out").string());
  // The same run outside the folder, renamed, and a link to it from inside.
  fs::copy(root / "out" / *g_runs.begin(), root / "OUTSIDE_RUN", fs::copy_options::recursive);
  auto meta = nlohmann::json::parse(std::ifstream(root / "OUTSIDE_RUN" / "metadata.json"));
  meta["run_name"] = "OUTSIDE_RUN";
  std::ofstream(root / "OUTSIDE_RUN" / "metadata.json") << meta.dump();
  fs::create_directory_symlink(root / "OUTSIDE_RUN", root / "out" / "outside_link");
  return root / "out";
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  const fs::path out = make_fixture();
  g_registry = new klab::PluginRegistry();
  g_registry->discover();
  klab::ServiceOptions options;
  options.output_dir = out;
  options.run = *g_runs.begin();
  options.engines = 2;
  options.cache_bytes = 4 << 20;
  options.token = kToken;
  g_service = new klab::PredictionService(options, *g_registry);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1 || size > 4096) return 0;
  const int endpoint = data[0] & 3;
  const bool with_token = data[0] & 4;
  const std::string body(reinterpret_cast<const char*>(data) + 1, size - 1);
  const std::string before = g_service->pool()->front().run_name();
  klab::ServiceReply reply;
  only_klab_errors([&] {
    switch (endpoint) {
      case 0: reply = g_service->predict(body); break;
      case 1: reply = g_service->reload(with_token ? std::string("Bearer ") + kToken : body.substr(0, 16), body); break;
      case 2: reply = g_service->health(); break;
      default: reply = g_service->model(); break;
    }
  });
  static const std::set<int> statuses{200, 400, 401, 404, 409, 413, 422, 503};
  if (!statuses.count(reply.status)) finding("status " + std::to_string(reply.status) + ": " + show(reply.body));
  if (!reply.body.is_object()) finding("not a JSON object: " + show(reply.body));
  // What serve sends, read back as JSON by a client: the same answer.
  if (nlohmann::json::parse(reply.text()).dump() != show(reply.body)) {
    finding("the answer as sent is not its JSON: " + reply.text().substr(0, 300));
  }
  if (reply.status >= 400) {
    const auto& e = reply.body["error"];
    if (!e.is_string() || e.get<std::string>().empty() || e.get<std::string>().find('\n') != std::string::npos) {
      finding("status " + std::to_string(reply.status) + " without a one-line error: " + show(reply.body));
    }
  }
  const std::string after = g_service->pool()->front().run_name();
  if (!g_runs.count(after)) finding("serving a run from outside the output folder: " + after + " after " + body);
  if (endpoint == 1 && !with_token && (reply.status != 401 || after != before)) {
    finding("/reload without the token answered " + std::to_string(reply.status));
  }
  if (endpoint == 0 && reply.status == 200) {
    // The symbols asked, each either predicted or in errors, in order.
    const auto request = nlohmann::json::parse(body);
    const auto asked = request.contains("symbols") ? request["symbols"] : nlohmann::json::array({request["symbol"]});
    if (reply.body["predictions"].size() + reply.body["errors"].size() != asked.size()) {
      finding("asked " + std::to_string(asked.size()) + " symbols, answered " + show(reply.body).substr(0, 300));
    }
  }
  return 0;
}
