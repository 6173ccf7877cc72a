// featurize — computes klab's features for one symbol and writes them as CSV (date + one column
// per feature, warm-up rows as nan), to inspect them or compare with another implementation.
//
//   featurize --source sqlite --options '{"path": "data/sample/kline.db"}' --symbol 600519
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

#include <boost/program_options.hpp>

#include <unistd.h>

#include "cli/options.h"
#include "klab/data/dates.h"
#include "runs/files.h"
#include "klab/data/adjust.h"
#include "data/features.h"
#include "klab/data_source.h"
#include "plugins/registry.h"

namespace po = boost::program_options;

namespace {

std::vector<std::string> parse_features(const std::string& text) {
  const auto& sets = klab::feature_set_names();
  if (std::find(sets.begin(), sets.end(), text) != sets.end()) return klab::feature_set(text);
  std::vector<std::string> names;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    if (!item.empty()) names.push_back(item);
  }
  klab::validate_feature_names(names, "--features");
  return names;
}

int run(int argc, char** argv) {
  po::options_description options("featurize --symbol CODE [options]");
  options.add_options()
      ("help,h", "show this help")
      ("source", po::value<std::string>()->default_value("sqlite"), "data-source plugin")
      ("options", po::value<std::string>()->default_value(R"({"path": "data/sample/kline.db"})"),
       "the data source's options as JSON")
      ("symbol", po::value<std::string>(), "symbol (600519, sh600519, 600519.SH, ...)")
      ("start", po::value<std::string>()->default_value(""), "first date, ISO")
      ("end", po::value<std::string>()->default_value(""), "last date, ISO")
      ("adjust", po::value<std::string>()->default_value("backward"),
       "backward (causal) | forward (rescaled by the last day's factor: look-ahead) | none")
      ("features", po::value<std::string>()->default_value("default"),
       ("a set (" + klab::feature_set_list() + ") or a comma-separated list of names").c_str())
      ("out,o", po::value<std::string>(), "output CSV file (default: stdout)")
      ("plugin-dir", po::value<std::vector<std::string>>()->composing(), "extra plugin folder");
  po::variables_map vm;
  if (!klab::cli::parse_command_line(argc, argv, options, vm)) return klab::cli::kExitOk;
  if (!vm.count("symbol")) throw klab::cli::UsageError("--symbol is required");
  const auto names = parse_features(vm["features"].as<std::string>());
  const auto adjustment = klab::parse_adjustment(vm["adjust"].as<std::string>(), "--adjust");
  const std::string start = klab::require_date(vm["start"].as<std::string>(), "--start");
  const std::string end = klab::require_date(vm["end"].as<std::string>(), "--end");
  klab::require_ordered(start, end, "--start", "--end");
  // Never overwrite: not a user's file, and above all not the database being read.
  std::filesystem::path out_path;
  if (vm.count("out")) {
    out_path = vm["out"].as<std::string>();
    if (std::filesystem::exists(out_path)) {
      throw klab::IoError("--out " + out_path.string() + ": already exists; featurize writes only new files");
    }
  }

  const std::vector<std::filesystem::path> dirs = klab::cli::plugin_dirs(vm);
  klab::PluginRegistry registry;
  registry.discover(dirs);
  auto source = registry.create_data_source(vm["source"].as<std::string>(),
                                            vm["options"].as<std::string>());
  const std::string symbol = vm["symbol"].as<std::string>();
  auto bars = source->load_bars(symbol, start, end);
  if (bars.empty()) throw klab::DataError("symbol " + symbol + ": no bars in " + source->display_name());
  auto frame = klab::compute_features(klab::adjust_bars(bars, adjustment), names);

  std::ostringstream text;
  std::ostream& out = vm.count("out") ? static_cast<std::ostream&>(text) : std::cout;
  out << "date";
  for (const auto& n : frame.names) out << "," << n;
  out << "\n";
  char buf[64];
  for (std::size_t i = 0; i < frame.rows(); ++i) {
    out << frame.dates[i];
    for (std::size_t j = 0; j < frame.cols(); ++j) {
      std::snprintf(buf, sizeof buf, ",%.17g", frame.at(i, j));
      out << buf;
    }
    out << "\n";
  }
  if (!out_path.empty()) {
    // Written whole under a temporary name, then linked into place only if the name is still
    // free (no overwrite even when another process created it meanwhile).
    const auto tmp = out_path.parent_path() / ("." + out_path.filename().string() + ".tmp");
    klab::files::write_atomic(tmp, text.str());
    if (::link(tmp.c_str(), out_path.c_str()) != 0) {
      std::filesystem::remove(tmp);
      throw klab::IoError("--out " + out_path.string() + ": cannot create (exists now, or the folder is not writable)");
    }
    std::filesystem::remove(tmp);
  }
  return klab::cli::kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
  return klab::cli::guarded_main("featurize", [&] { return run(argc, argv); });
}
