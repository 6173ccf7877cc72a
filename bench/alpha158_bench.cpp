// alpha158_bench — Alpha158 over every symbol of a data source: the time to load the bars, the
// time to compute the features on 1..N threads (best of --repeat), and with --dataset the memory
// of a dataset over all symbols (Alpha158, seq_length 20) beside what materialised windows would
// take. bench/run_alpha158_bench.sh runs it beside the pandas reference.
//
//   alpha158_bench --options '{"path": "u.db"}' [--threads 2] [--repeat 3] [--dataset]
#include <algorithm>
#include <atomic>
#include <chrono>
#include <fstream>
#include <iostream>
#include <limits>
#include <thread>

#include <boost/program_options.hpp>

#include "cli/main_guard.h"
#include "data/dataset.h"
#include "data/features.h"
#include "klab/data/adjust.h"
#include "plugins/registry.h"

namespace po = boost::program_options;

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

long peak_rss_kib() {
  std::ifstream status("/proc/self/status");
  std::string key;
  long value = 0;
  while (status >> key) {
    if (key == "VmHWM:") status >> value;
  }
  return value;
}

int run(int argc, char** argv) {
  po::options_description options("alpha158_bench [options]");
  options.add_options()("help,h", "show this help")
      ("source", po::value<std::string>()->default_value("sqlite"), "data-source plugin")
      ("options", po::value<std::string>(), "data source options (JSON)")
      ("features", po::value<std::string>()->default_value("alpha158"), "feature set")
      ("threads", po::value<int>()->default_value(2), "threads computing features")
      ("repeat", po::value<int>()->default_value(3), "runs; the best is reported")
      ("dataset", "also build a dataset over all symbols (seq_length 20) and report its memory");
  po::variables_map vm;
  po::store(po::parse_command_line(argc, argv, options), vm);
  if (vm.count("help") || !vm.count("options")) {
    std::cout << options << "\n";
    return vm.count("help") ? 0 : 2;
  }
  klab::PluginRegistry registry;
  registry.discover();
  auto source = registry.create_data_source(vm["source"].as<std::string>(), vm["options"].as<std::string>());
  const auto names = klab::feature_set(vm["features"].as<std::string>());

  auto t0 = std::chrono::steady_clock::now();
  std::vector<std::vector<klab::Bar>> all;
  std::size_t rows = 0;
  for (const auto& info : source->list_symbols()) {
    all.push_back(klab::adjust_bars(source->load_bars(info.symbol, "", ""), klab::Adjustment::kBackward));
    rows += all.back().size();
  }
  std::cout << "load symbols=" << all.size() << " rows=" << rows << " seconds=" << seconds_since(t0) << "\n";

  const int max_threads = std::max(1, vm["threads"].as<int>());
  for (int threads = 1; threads <= max_threads; ++threads) {
    double best = std::numeric_limits<double>::infinity();
    std::size_t cells = 0;
    for (int r = 0; r < vm["repeat"].as<int>(); ++r) {
      std::atomic<std::size_t> next{0}, total{0};
      t0 = std::chrono::steady_clock::now();
      std::vector<std::thread> pool;
      for (int t = 0; t < threads; ++t) {
        pool.emplace_back([&] {
          for (std::size_t i = next++; i < all.size(); i = next++) {
            const auto frame = klab::compute_features(all[i], names);
            total += frame.values.size();
          }
        });
      }
      for (auto& th : pool) th.join();
      best = std::min(best, seconds_since(t0));
      cells = total;
    }
    std::cout << "features=" << vm["features"].as<std::string>() << " threads=" << threads << " rows=" << rows
              << " values=" << cells << " seconds=" << best << " rows_per_second=" << static_cast<double>(rows) / best
              << "\n";
  }

  if (vm.count("dataset")) {
    all.clear();
    all.shrink_to_fit();
    klab::DatasetSpec spec;
    for (const auto& info : source->list_symbols()) spec.symbols.push_back(info.symbol);
    spec.features = names;
    spec.seq_length = 20;
    spec.threads = static_cast<std::size_t>(max_threads);
    spec.skip_short_symbols = true;
    spec.split.val_start = "2015-01-01";
    spec.split.test_start = "2017-01-01";
    const long before = peak_rss_kib();
    t0 = std::chrono::steady_clock::now();
    auto ds = klab::Dataset::build(*source, spec);
    const double build = seconds_since(t0);
    const std::size_t windows = ds.train().size() + ds.val().size() + ds.test().size();
    const double materialised = static_cast<double>(windows) * 20 * names.size() * sizeof(float);
    std::cout << "dataset symbols=" << ds.series().size() << " windows=" << windows << " build_seconds=" << build
              << " dataset_mib=" << static_cast<double>(ds.memory_bytes()) / 1048576.0
              << " peak_rss_before_mib=" << static_cast<double>(before) / 1024.0
              << " peak_rss_mib=" << static_cast<double>(peak_rss_kib()) / 1024.0
              << " materialised_windows_would_be_mib=" << materialised / 1048576.0 << "\n";
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return klab::cli::guarded_main("alpha158_bench", [&] { return run(argc, argv); });
}
