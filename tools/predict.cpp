// predict — next-day predictions from a trained run.
//
//   predict --run 600519_lstm_20250119_143025 --symbol 600519
//   predict --best-by mae --filter model=lstm --symbol 600519 --symbol 000001 --json
//   predict --run RUN --symbol 600519 --date 2021-12-31
//   predict --run RUN --symbol 600519 --from 2021-06-01 --to 2021-12-31      (one per day)
#include <iomanip>
#include <iostream>
#include <sstream>

#include <boost/program_options.hpp>

#include "cli/options.h"
#include "klab/data/dates.h"
#include "klab/symbols.h"
#include "plugins/registry.h"
#include "predict/engine.h"

namespace po = boost::program_options;
namespace fs = std::filesystem;

namespace {

int run(int argc, char** argv) {
  po::options_description options("predict (--run RUN | --best-by METRIC) --symbol CODE [options]");
  options.add_options()
      ("help,h", "show this help")
      ("run", po::value<std::string>(), "the run (name under --output-dir, or a path)")
      ("best-by", po::value<std::string>(),
       "use the completed run, trained on the symbol(s), with the best METRIC (mae_vs_baseline, mape, "
       "direction_accuracy, r2; mae and rmse rank by their scale-free stand-ins)")
      ("price-metric", "with --best-by mae/rmse: rank by the price-unit metric itself")
      ("filter", po::value<std::vector<std::string>>()->composing(), "with --best-by: list_runs filters")
      ("symbol,s", po::value<std::vector<std::string>>()->composing(), "symbol(s) to predict (repeatable)")
      ("date", po::value<std::string>()->default_value(""), "predict as of this date (default: the latest bar)")
      ("from", po::value<std::string>(), "one prediction per trading day from this date ...")
      ("to", po::value<std::string>()->default_value(""), "... to this date")
      ("source", po::value<std::string>(), "data-source plugin instead of the run's")
      ("options", po::value<std::string>(), "its options as JSON")
      ("output-dir", po::value<std::string>()->default_value("out"), "where the runs are")
      ("plugin-dir", po::value<std::vector<std::string>>()->composing(), "extra plugin folder")
      ("json", "print JSON");
  po::variables_map vm;
  if (!klab::cli::parse_command_line(argc, argv, options, vm)) return klab::cli::kExitOk;
  if (vm.count("run") == vm.count("best-by")) throw klab::cli::UsageError("give --run RUN or --best-by METRIC");
  if (!vm.count("symbol")) throw klab::cli::UsageError("--symbol is required");
  if (vm.count("source") != vm.count("options")) throw klab::cli::UsageError("--source and --options go together");
  // One date parser for every tool (klab/data/dates.h), checked before anything is loaded.
  const std::string date = klab::require_date(vm["date"].as<std::string>(), "--date");
  const std::string from = vm.count("from") ? klab::require_date(vm["from"].as<std::string>(), "--from", false) : "";
  const std::string to = klab::require_date(vm["to"].as<std::string>(), "--to");
  if (!date.empty() && vm.count("from")) throw klab::cli::UsageError("--date and --from/--to: give one or the other");
  if (!to.empty() && !vm.count("from")) throw klab::cli::UsageError("--to needs --from");
  klab::require_ordered(from, to, "--from", "--to");
  std::vector<std::string> symbols;
  for (const auto& s : vm["symbol"].as<std::vector<std::string>>()) {
    const auto code = klab::normalize_symbol(s);
    symbols.push_back(code ? *code : s);
  }
  const fs::path out_dir = vm["output-dir"].as<std::string>();
  const std::vector<std::filesystem::path> dirs = klab::cli::plugin_dirs(vm);
  klab::PluginRegistry registry;
  registry.discover(dirs);

  fs::path run_dir;
  if (vm.count("run")) {
    run_dir = vm["run"].as<std::string>();
    if (!fs::is_directory(run_dir)) run_dir = out_dir / vm["run"].as<std::string>();
  } else {
    std::vector<std::string> filters;
    if (vm.count("filter")) filters = vm["filter"].as<std::vector<std::string>>();
    const auto choice = klab::choose_best_run(out_dir, vm["best-by"].as<std::string>(), filters, symbols,
                                              vm.count("price-metric") > 0);
    run_dir = choice.path;
    std::cerr << "best by " << choice.metric << ": " << run_dir.filename().string() << " (" << choice.metric << " "
              << choice.value << " on " << choice.test_samples << " test windows)\n";
    for (const auto& note : choice.notes) std::cerr << "note: " << note << "\n";
  }
  auto engine = klab::PredictionEngine::from_run(run_dir, registry);
  if (vm.count("source")) {
    engine.set_source(registry.create_data_source(vm["source"].as<std::string>(), vm["options"].as<std::string>()));
  }

  std::vector<klab::Prediction> predictions;
  std::vector<std::string> errors;
  for (const auto& symbol : symbols) {
    try {
      if (vm.count("from")) {
        auto range = engine.predict_range(symbol, from, to);
        if (range.empty()) {
          throw klab::DataError("symbol " + symbol + ": no trading day with a full window from " + from +
                                (to.empty() ? std::string() : " to " + to));
        }
        predictions.insert(predictions.end(), range.begin(), range.end());
      } else {
        predictions.push_back(engine.predict(symbol, date));
      }
    } catch (const klab::Error& e) {
      errors.push_back(e.what());
    }
  }

  if (vm.count("json")) {
    nlohmann::json out = {{"run", engine.run_name()}, {"predictions", nlohmann::json::array()}, {"errors", errors}};
    for (const auto& p : predictions) out["predictions"].push_back(p.to_json());
    std::cout << out.dump(2) << "\n";
  } else {
    std::cout << "run " << engine.run_name() << " (" << engine.experiment().model_type << ", "
              << engine.experiment().target_kind << " target"
              << (engine.experiment().target_normalize == "none" ? std::string()
                                                                  : " normalised by " + engine.experiment().target_normalize +
                                                                        ": RETURN is a score")
              << ", trained on " << engine.experiment().adjust
              << "-adjusted prices)\n";
    // LAST and PREDICTED are market quotes (the close the exchange printed, and the price the
    // predicted return implies from it); ADJ_* are the adjusted prices the model worked in.
    std::cout << std::left << std::setw(8) << "SYMBOL" << std::setw(12) << "AS_OF" << std::setw(13) << "FOR"
              << std::setw(12) << "LAST" << std::setw(12) << "PREDICTED" << std::setw(10) << "RETURN" << std::setw(12)
              << "ADJ_LAST" << "ADJ_PREDICTED\n";
    for (const auto& p : predictions) {
      std::ostringstream ret;
      ret << std::fixed << std::showpos << std::setprecision(3) << p.predicted_return() * 100 << "%";
      std::cout << std::left << std::setw(8) << p.symbol << std::setw(12) << p.as_of << std::setw(13)
                << (p.date + (p.date_estimated ? "*" : "")) << std::fixed << std::setprecision(2)
                << std::setw(12) << p.market_last_close << std::setw(12) << p.market_predicted_close << std::setw(10)
                << ret.str() << std::setw(12) << p.last_close << p.prediction << std::defaultfloat << "\n";
    }
    if (std::any_of(predictions.begin(), predictions.end(), [](const auto& p) { return p.date_estimated; })) {
      std::cout << "* the next weekday after the last bar; exchange holidays are not known\n";
    }
    for (const auto& e : errors) std::cerr << "predict: error: " << e << "\n";
  }
  return errors.empty() ? klab::cli::kExitOk : klab::cli::kExitError;
}

}  // namespace

int main(int argc, char** argv) {
  return klab::cli::guarded_main("predict", [&] { return run(argc, argv); });
}
