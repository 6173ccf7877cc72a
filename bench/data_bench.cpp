// data_bench — time to load and featurize symbols from a data source, and the memory of a
// dataset over all of them. Prints one line per measurement; bench/run_data_bench.sh runs it
// against SQLite and MariaDB beside the pandas reference and prints the ratios.
//
//   data_bench --source sqlite --options '{"path": "k.db"}' [--repeat 3] [--dataset]
#include <chrono>
#include <fstream>
#include <iostream>
#include <limits>

#include <boost/program_options.hpp>

#include "cli/main_guard.h"
#include "klab/data/adjust.h"
#include "data/dataset.h"
#include "data/features.h"
#include "plugins/registry.h"

namespace po = boost::program_options;

namespace {

// Resident and peak resident memory of this process, in KiB (from /proc/self/status).
std::pair<long, long> rss_kib() {
  std::ifstream status("/proc/self/status");
  std::string key;
  long rss = 0, hwm = 0;
  while (status >> key) {
    if (key == "VmRSS:") status >> rss;
    if (key == "VmHWM:") status >> hwm;
  }
  return {rss, hwm};
}

int run(int argc, char** argv) {
  po::options_description options("data_bench [options]");
  options.add_options()("help,h", "show this help")
      ("source", po::value<std::string>()->default_value("sqlite"), "data-source plugin")
      ("options", po::value<std::string>(), "data source options (JSON)")
      ("repeat", po::value<int>()->default_value(3), "runs; the best is reported")
      ("dataset", "also build a dataset over all symbols (seq_length 60) and report its memory");
  po::variables_map vm;
  po::store(po::parse_command_line(argc, argv, options), vm);
  if (vm.count("help") || !vm.count("options")) {
    std::cout << options << "\n";
    return vm.count("help") ? 0 : 2;
  }
  klab::PluginRegistry registry;
  registry.discover();
  auto source = registry.create_data_source(vm["source"].as<std::string>(), vm["options"].as<std::string>());
  const auto symbols = source->list_symbols();
  const auto& names = klab::default_feature_names();

  double best = std::numeric_limits<double>::infinity();
  std::size_t rows = 0;
  for (int r = 0; r < vm["repeat"].as<int>(); ++r) {
    auto t0 = std::chrono::steady_clock::now();
    rows = 0;
    for (const auto& info : symbols) {
      auto bars = source->load_bars(info.symbol, "", "");
      auto frame = klab::compute_features(klab::adjust_bars(bars, klab::Adjustment::kForward), names);
      rows += frame.rows();
    }
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  std::cout << "load+featurize source=" << source->display_name() << " symbols=" << symbols.size()
            << " rows=" << rows << " features=" << names.size() << " seconds=" << best << "\n";

  if (vm.count("dataset")) {
    klab::DatasetSpec spec;
    for (const auto& info : symbols) spec.symbols.push_back(info.symbol);
    spec.features = names;
    spec.seq_length = 60;
    spec.start_date = "2000-01-01";
    auto before = rss_kib();
    auto t0 = std::chrono::steady_clock::now();
    auto ds = klab::Dataset::build(*source, spec);
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    auto after = rss_kib();
    const std::size_t windows = ds.train().size() + ds.val().size() + ds.test().size();
    const double materialised = static_cast<double>(windows) * 60 * names.size() * sizeof(float);
    std::cout << "dataset symbols=" << ds.series().size() << " windows=" << windows
              << " build_seconds=" << seconds << " dataset_mib=" << ds.memory_bytes() / 1048576.0
              << " rss_growth_mib=" << (after.first - before.first) / 1024.0
              << " peak_rss_mib=" << after.second / 1024.0
              << " materialised_windows_would_be_mib=" << materialised / 1048576.0 << "\n";
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return klab::cli::guarded_main("data_bench", [&] { return run(argc, argv); });
}
