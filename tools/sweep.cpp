// sweep — runs an experiment file: every trial of its sweep section (one trial without one),
// each written as a run in the out/ standard, and prints a summary.
//
//   sweep experiments/quickstart.yaml
//   sweep --resume 600519_lstm_20250119_143025          (continue a killed run)
#include <unistd.h>

#include <iomanip>
#include <iostream>

#include <boost/program_options.hpp>

#include "cli/main_guard.h"
#include "config/experiment.h"
#include "plugins/registry.h"
#include "train/trainer.h"

namespace po = boost::program_options;

namespace {

void print_summary(const klab::RunResult& r, std::ostream& out) {
  out << "run: " << r.run_dir.string() << "  (" << r.status << ", " << r.epochs_trained
      << " epochs, best epoch " << r.best_epoch << ", best val_loss " << r.best_val_loss << ")\n";
  const auto& e = r.eval;
  auto line = [&](const char* label, const nlohmann::json& m, bool with_direction) {
    out << std::fixed << std::setprecision(4) << "  " << std::left << std::setw(24) << label << "mae "
        << m.value("mae", 0.0) << "  rmse " << m.value("rmse", 0.0) << "  mape " << std::setprecision(2)
        << m.value("mape", 0.0) << "%  r2 " << std::setprecision(4) << m.value("r2", 0.0);
    if (with_direction) out << "  direction " << std::setprecision(2) << m.value("direction_accuracy", 0.0) << "%";
    out << std::defaultfloat << "\n";
  };
  out << "test set: " << e.value("test_samples", 0) << " windows from " << e.value("test_start", "") << ", "
      << e.value("prices", "") << " prices\n";
  line("model", e, true);
  if (e.contains("baseline")) line("baseline (persistence)", e["baseline"], false);
  if (e.contains("beats_baseline")) {
    out << "  beats the baseline: mae " << (e["beats_baseline"].value("mae", false) ? "yes" : "no") << ", rmse "
        << (e["beats_baseline"].value("rmse", false) ? "yes" : "no") << "\n";
  }
}

int run(int argc, char** argv) {
  po::options_description options("sweep EXPERIMENT.yaml [options] | sweep --resume RUN");
  options.add_options()
      ("help,h", "show this help")
      ("resume", po::value<std::string>(), "continue this run (name under the output folder, or a path) "
                                           "from its newest complete checkpoint")
      ("output-dir", po::value<std::string>(), "write runs here instead of the file's output_dir")
      ("plugin-dir", po::value<std::vector<std::string>>()->composing(), "extra plugin folder (repeatable)")
      ("progress", "print every epoch even when stdout is not a terminal")
      ("quiet,q", "print only the summary")
      ("experiment", po::value<std::string>(), "the experiment YAML file");
  po::positional_options_description positional;
  positional.add("experiment", 1);
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(argc, argv).options(options).positional(positional).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    throw klab::cli::UsageError(e.what());
  }
  if (vm.count("help")) {
    std::cout << options << "\n";
    return klab::cli::kExitOk;
  }
  if (vm.count("resume") == vm.count("experiment")) {
    throw klab::cli::UsageError("give an experiment file, or --resume RUN");
  }
  std::vector<std::filesystem::path> dirs;
  if (vm.count("plugin-dir")) {
    for (const auto& d : vm["plugin-dir"].as<std::vector<std::string>>()) dirs.emplace_back(d);
  }
  klab::PluginRegistry registry;
  registry.discover(dirs);

  klab::RunOptions run_options;
  run_options.plugin_dirs = dirs;
  const bool show = !vm.count("quiet") && (vm.count("progress") || isatty(STDOUT_FILENO));
  run_options.progress = show ? &std::cout : nullptr;
  if (vm.count("output-dir")) run_options.output_dir_override = vm["output-dir"].as<std::string>();

  klab::RunResult result;
  if (vm.count("resume")) {
    const std::string out_dir = vm.count("output-dir") ? vm["output-dir"].as<std::string>() : "out";
    result = klab::resume_experiment(vm["resume"].as<std::string>(), out_dir, registry, run_options);
  } else {
    const auto spec = klab::load_experiment(vm["experiment"].as<std::string>());
    if (show) {
      std::cout << "experiment " << spec.name << ": " << spec.model_type << " on "
                << (spec.symbols.size() == 1 ? spec.symbols[0] : std::to_string(spec.symbols.size()) + " symbols")
                << " from " << spec.source << ", " << spec.train.epochs << " epochs\n";
    }
    result = klab::run_experiment(spec, registry, run_options);
  }
  print_summary(result, std::cout);
  return klab::cli::kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
  return klab::cli::guarded_main("sweep", [&] { return run(argc, argv); });
}
