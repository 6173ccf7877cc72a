// sweep — runs an experiment file: every trial of its sweep section (one trial without one),
// each written as a run in the out/ standard, and prints a summary or a leaderboard.
//
//   sweep experiments/quickstart.yaml                  one run, in this process
//   sweep experiments/grid.yaml [--workers 2]          trials in parallel processes
//   sweep experiments/grid.yaml --executor slurm       an sbatch array on a Slurm cluster
//   sweep --resume 600519_lstm_20250119_143025          continue a killed run
//   sweep --resume grid_20250119_150000                 finish a sweep's unfinished trials
#include <unistd.h>

#include <climits>

#include <iomanip>
#include <sstream>
#include <iostream>

#include <boost/program_options.hpp>

#include "cli/options.h"
#include "config/experiment.h"
#include "plugins/registry.h"
#include "runs/run_index.h"
#include "sweep/runner.h"
#include "sweep/sweep_spec.h"
#include "train/process_policy.h"
#include "workflow/run.h"
#include "sweep/walk_forward.h"

namespace po = boost::program_options;

namespace {

void print_summary(const klab::RunResult& r, std::ostream& out) {
  // Fixed precision, whatever an earlier progress line left on the stream.
  std::ostringstream best;
  best << std::fixed << std::setprecision(6) << r.best_val_loss;
  out << "run: " << r.run_dir.string() << "  (" << r.status << ", " << r.epochs_trained
      << " epochs, best epoch " << r.best_epoch << ", best val_loss " << best.str() << ")\n";
  const auto& e = r.eval;
  // A metric may be null (undefined: r2 of constant actuals): printed as "-".
  auto num = [](const nlohmann::json& m, const char* key, int precision) {
    if (!m.contains(key) || !m[key].is_number()) return std::string("-");
    std::ostringstream v;
    v << std::fixed << std::setprecision(precision) << m[key].get<double>();
    return v.str();
  };
  auto line = [&](const char* label, const nlohmann::json& m, bool with_direction) {
    out << "  " << std::left << std::setw(24) << label << "mae " << num(m, "mae", 4) << "  rmse " << num(m, "rmse", 4)
        << "  mape " << num(m, "mape", 2) << "%  r2 " << num(m, "r2", 4);
    if (with_direction) out << "  direction " << num(m, "direction_accuracy", 2) << "%";
    out << "\n";
  };

  out << "test set: " << e.value("test_samples", 0) << " windows from " << e.value("test_start", "") << ", "
      << e.value("prices", "") << " prices\n";
  if (e.value("test_samples", 0.0) < klab::kSmallTestSet) {
    out << "  note: fewer than " << static_cast<int>(klab::kSmallTestSet)
        << " test windows: these metrics say little (list_runs flags the run)\n";
  }
  if (e.contains("cross_section") && e["cross_section"].value("days", 0) > 0) {
    const auto& cs = e["cross_section"];
    out << "  ranking over " << cs.value("days", 0) << " days: IC " << num(cs, "ic_mean", 4) << " (ICIR "
        << num(cs, "icir", 3) << ")  Rank IC " << num(cs, "rank_ic_mean", 4) << " (ICIR " << num(cs, "rank_icir", 3)
        << ")\n";
  }
  if (e.contains("backtest") && e["backtest"].contains("error")) {
    out << "  backtest not run: " << e["backtest"]["error"].get<std::string>() << "\n";
  } else if (e.contains("backtest")) {
    const auto& bt = e["backtest"];
    const auto& with = bt["excess_return_with_cost"];
    const auto& without = bt["excess_return_without_cost"];
    out << "  backtest TopkDropout over " << bt.value("days", 0) << " days: excess return "
        << num(with, "annualized_return", 4) << " a year after costs (" << num(without, "annualized_return", 4)
        << " before; IR " << num(with, "information_ratio", 3) << ", max drawdown " << num(with, "max_drawdown", 4)
        << "); benchmark " << num(bt["benchmark"], "annualized_return", 4) << " a year\n";
  }
  if (e.contains("baseline_signal")) {
    const auto& b = e["baseline_signal"];
    out << "  model-free " << b.value("name", "") << ": Rank IC " << num(b["cross_section"], "rank_ic_mean", 4);
    if (b.contains("backtest") && b["backtest"].contains("excess_return_with_cost")) {
      out << ", excess return " << num(b["backtest"]["excess_return_with_cost"], "annualized_return", 4)
          << " a year after costs";
    }
    out << "\n";
  }
  if (e.value("metrics_on", "") == "scores") {
    out << "  the model predicts cross-sectional scores (target.normalize): pointwise errors are not shown\n";
    return;
  }
  line("model", e, true);
  if (e.contains("baseline")) line("baseline (persistence)", e["baseline"], true);
  if (e.contains("beats_baseline")) {
    out << "  beats the baseline: mae " << (e["beats_baseline"].value("mae", false) ? "yes" : "no") << ", rmse "
        << (e["beats_baseline"].value("rmse", false) ? "yes" : "no") << "\n";
  }
}

int run(int argc, char** argv) {
  po::options_description options("sweep EXPERIMENT.yaml [options] | sweep --resume RUN");
  options.add_options()
      ("help,h", "show this help")
      ("resume", po::value<std::string>(), "continue a run from its newest complete checkpoint, or a sweep "
                                           "(its record under out/.sweeps/) skipping completed trials")
      ("collect", po::value<std::string>(), "print the leaderboard of a sweep record as it is now")
      ("workers,j", po::value<int>(), "parallel trial processes (default: cores / train.threads)")
      ("executor", po::value<std::string>(), "local or slurm (default: the file's sweep.executor)")
      ("no-wait", "slurm: submit the array job and return")
      ("run-trial", po::value<std::size_t>(), "(internal) run one trial of --sweep-dir")
      ("sweep-dir", po::value<std::string>(), "(internal) the sweep record of --run-trial")
      ("output-dir", po::value<std::string>(), "write runs here instead of the file's output_dir")
      ("plugin-dir", po::value<std::vector<std::string>>()->composing(), "extra plugin folder (repeatable)")
      ("progress", "print every epoch even when stdout is not a terminal")
      ("quiet,q", "print only the summary")
      ("experiment", po::value<std::string>(), "the experiment YAML file");
  po::positional_options_description positional;
  positional.add("experiment", 1);
  po::variables_map vm;
  if (!klab::cli::parse_command_line(argc, argv, options, vm, &positional)) return klab::cli::kExitOk;
  const std::vector<std::filesystem::path> dirs = klab::cli::plugin_dirs(vm);
  klab::PluginRegistry registry;
  registry.discover(dirs);
  if (vm.count("run-trial")) {
    if (!vm.count("sweep-dir")) throw klab::cli::UsageError("--run-trial needs --sweep-dir");
    return klab::run_trial_process(vm["sweep-dir"].as<std::string>(), vm["run-trial"].as<std::size_t>(), registry);
  }
  const int modes = static_cast<int>(vm.count("resume") + vm.count("experiment") + vm.count("collect"));
  if (modes != 1) throw klab::cli::UsageError("give an experiment file, --resume RUN_OR_SWEEP, or --collect SWEEP");
  if (vm.count("executor") && vm["executor"].as<std::string>() != "local" && vm["executor"].as<std::string>() != "slurm") {
    throw klab::cli::UsageError("--executor: expected local or slurm");
  }
  if (vm.count("workers") && vm["workers"].as<int>() < 1) throw klab::cli::UsageError("--workers must be >= 1");
  const std::string out_dir = vm.count("output-dir") ? vm["output-dir"].as<std::string>() : "out";

  klab::SweepOptions sweep_options;
  char self[PATH_MAX] = {0};
  if (readlink("/proc/self/exe", self, sizeof self - 1) <= 0) throw klab::IoError("cannot find the sweep binary");
  sweep_options.self_exe = self;
  sweep_options.plugin_dirs = dirs;
  sweep_options.workers = vm.count("workers") ? vm["workers"].as<int>() : 0;
  sweep_options.executor = vm.count("executor") ? vm["executor"].as<std::string>() : "";
  sweep_options.wait = !vm.count("no-wait");
  sweep_options.progress = vm.count("quiet") ? nullptr : &std::cout;
  if (vm.count("output-dir")) sweep_options.output_dir_override = out_dir;
  auto finish_sweep = [&](klab::SweepOutcome outcome) {
    if (!outcome.slurm_job.empty() && !sweep_options.wait) {
      std::cout << "Slurm job " << outcome.slurm_job << " submitted; when it has finished: sweep --collect "
                << outcome.record_dir.string() << "\n";
      return klab::cli::kExitOk;
    }
    // Walk-forward: the groups whose segments have all completed, combined out of sample.
    if (klab::combine_walk_forward(outcome.record_dir, registry, &std::cout) > 0) {
      const std::string job = outcome.slurm_job;
      outcome = klab::collect_sweep(outcome.record_dir);
      outcome.slurm_job = job;
    }
    klab::print_leaderboard(outcome, std::cout);
    if (outcome.interrupted > 0) return 130;
    return outcome.failed > 0 ? klab::cli::kExitError : klab::cli::kExitOk;
  };
  if (vm.count("collect")) {
    return finish_sweep(klab::collect_sweep(klab::find_sweep_record(vm["collect"].as<std::string>(), out_dir)));
  }
  if (vm.count("resume")) {
    if (auto record = klab::locate_sweep_record(vm["resume"].as<std::string>(), out_dir)) {
      return finish_sweep(klab::resume_sweep(*record, sweep_options));
    }
  }
  if (vm.count("experiment")) {
    auto plan = klab::plan_sweep(vm["experiment"].as<std::string>(), registry, klab::symbols_of_source(registry));
    if (plan.has_sweep_section || plan.walk_forward || vm.count("workers") || vm.count("executor")) {
      return finish_sweep(klab::run_sweep(plan, sweep_options));
    }
  }

  klab::RunOptions run_options;
  run_options.plugin_dirs = dirs;
  const bool show = !vm.count("quiet") && (vm.count("progress") || isatty(STDOUT_FILENO));
  run_options.progress = show ? &std::cout : nullptr;
  if (vm.count("output-dir")) run_options.output_dir_override = vm["output-dir"].as<std::string>();

  // Ctrl-C ends the run at the next batch, marked failed and resumable, instead of leaving it
  // "training" forever.
  klab::stop_on_signals();
  klab::RunResult result;
  if (vm.count("resume")) {
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
