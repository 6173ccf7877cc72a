// predictions_bench — how large and how slow a market-scale run's predictions file is: N test
// predictions (default 480,000, the 1,026-stock run of docs/BENCHMARKS.md) written as klab
// writes a multi-symbol run (results/predictions.csv.gz) and, for reference in the same run, as
// the one-symbol JSON format (pretty-printed, as the specification's predictions.json).
//
//   build/bin/predictions_bench [--rows 480000]
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <unistd.h>
#include <random>

#include <boost/program_options.hpp>

#include "cli/options.h"
#include "klab/data/dates.h"
#include "runs/predictions_file.h"

namespace fs = std::filesystem;
namespace po = boost::program_options;

int main(int argc, char** argv) {
  return klab::cli::guarded_main("predictions_bench", [&] {
    po::options_description options("predictions_bench [options]");
    options.add_options()("help,h", "show this help")("rows", po::value<std::size_t>()->default_value(480000),
                                                      "test predictions to write");
    po::variables_map vm;
    if (!klab::cli::parse_command_line(argc, argv, options, vm)) return 0;
    const std::size_t rows = vm["rows"].as<std::size_t>();
    // 1,026 symbols x trading days, prices and returns of a realistic spread.
    std::mt19937_64 rng(7);
    std::normal_distribution<double> ret(0.0, 0.02);
    std::lognormal_distribution<double> price(3.0, 1.2);
    klab::Predictions p;  // {date, symbol, prediction, label, last_close}
    p.reserve(rows);
    const std::size_t symbols = 1026;
    std::vector<double> level(symbols);
    for (auto& l : level) l = price(rng);
    for (std::size_t i = 0; i < rows; ++i) {
      const std::size_t s = i % symbols;
      char code[8];
      std::snprintf(code, sizeof code, "%06zu", 600000 + s);
      const double last = level[s];
      p.push_back({klab::iso_from_days(18262 + static_cast<long>(i / symbols)), code, last * (1 + ret(rng) * 0.1),
                   last * (1 + ret(rng)), last});
    }
    const fs::path dir = fs::temp_directory_path() / ("klab_predictions_bench_" + std::to_string(::getpid()));
    fs::create_directories(dir / "results");
    auto timed = [&](bool several) {
      const auto t0 = std::chrono::steady_clock::now();
      const fs::path file = klab::write_predictions(dir / "results", p, several);
      const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      return std::make_pair(s, static_cast<double>(fs::file_size(file)) / (1024.0 * 1024.0));
    };
    const auto [gz_s, gz_mb] = timed(true);
    const auto [json_s, json_mb] = timed(false);
    const auto t0 = std::chrono::steady_clock::now();
    const auto back = klab::read_predictions(dir);  // the csv.gz (read first when both exist)
    const double read_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (back.size() != rows) throw klab::IoError("read back " + std::to_string(back.size()) + " rows");
    fs::remove_all(dir);
    std::printf("rows %zu (%zu symbols)\n", rows, symbols);
    std::printf("predictions.csv.gz (several symbols): write %.2f s, read %.2f s, %.1f MiB\n", gz_s, read_s, gz_mb);
    std::printf("predictions.json (one-symbol format, reference): %.2f s, %.1f MiB\n", json_s, json_mb);
    std::printf("goal (issue #21): < 10 MiB and < 1 s: %s\n", gz_mb < 10 && gz_s < 1 ? "PASS" : "FAIL");
    return 0;
  });
}
