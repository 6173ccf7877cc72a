// xgboost_bench — does klab add anything to XGBoost's own cost? Builds the dataset of an
// experiment (e.g. experiments/universe_xgboost_alpha158.yaml on the whole universe), gathers its
// training and validation windows as the host does, writes them as raw float32 files for the
// Python reference (bench/xgboost_reference.py), then times the xgboost plugin's fit() — dense
// matrix, boosting rounds — with early stopping off, so both sides do the same rounds.
//
//   xgboost_bench --experiment FILE --db FILE --out DIR [--rounds 200] [--nthread 2] [--repeat 2]
#include <chrono>
#include <fstream>
#include <iostream>

#include <boost/program_options.hpp>
#include <nlohmann/json.hpp>

#include "cli/main_guard.h"
#include "config/experiment.h"
#include "data/dataset.h"
#include "data/window_batch.h"
#include "plugins/registry.h"
#include "workflow/run.h"

namespace po = boost::program_options;

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

void write_floats(const std::string& path, const std::vector<float>& v) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(v.data()), static_cast<std::streamsize>(v.size() * sizeof(float)));
  if (!out) throw klab::IoError(path + ": cannot write");
}

int run(int argc, char** argv) {
  po::options_description options("xgboost_bench [options]");
  options.add_options()("help,h", "show this help")
      ("experiment", po::value<std::string>(), "an experiment file with model.type xgboost")
      ("db", po::value<std::string>(), "SQLite file (replaces data.options.path)")
      ("out", po::value<std::string>(), "folder for the matrices handed to the Python reference")
      ("rounds", po::value<int>()->default_value(200), "boosting rounds (no early stopping)")
      ("nthread", po::value<int>()->default_value(2), "XGBoost threads")
      ("repeat", po::value<int>()->default_value(2), "fits; the best is reported");
  po::variables_map vm;
  po::store(po::parse_command_line(argc, argv, options), vm);
  if (vm.count("help") || !vm.count("experiment") || !vm.count("db") || !vm.count("out")) {
    std::cout << options << "\n";
    return vm.count("help") ? 0 : 2;
  }
  klab::ExperimentSpec spec = klab::load_experiment(vm["experiment"].as<std::string>());
  spec.source_options["path"] = vm["db"].as<std::string>();
  klab::PluginRegistry registry;
  registry.discover();
  auto source = registry.create_data_source(spec.source, spec.source_options.dump());
  auto t0 = std::chrono::steady_clock::now();
  const klab::Dataset ds = klab::Dataset::build(*source, klab::run_dataset_spec(spec, *source));
  const double data_seconds = seconds_since(t0);
  t0 = std::chrono::steady_clock::now();
  const auto train = klab::gather_windows(ds, ds.train(), 0, ds.train().size(), true);
  const auto val = klab::gather_windows(ds, ds.val(), 0, ds.val().size(), true);
  const double gather_seconds = seconds_since(t0);

  nlohmann::json params = spec.model_params;
  params["num_round"] = vm["rounds"].as<int>();
  params["early_stopping_rounds"] = 0;
  params["nthread"] = vm["nthread"].as<int>();
  // Every setting with its effective value (the plugin's defaults filled in), for the reference.
  params = nlohmann::json::parse(
      registry.create_model("xgboost", static_cast<std::int64_t>(ds.n_features()), params.dump())->config_json());
  const std::string out = vm["out"].as<std::string>();
  write_floats(out + "/train.f32", train.inputs);
  write_floats(out + "/train_labels.f32", train.labels);
  write_floats(out + "/valid.f32", val.inputs);
  write_floats(out + "/valid_labels.f32", val.labels);
  std::ofstream(out + "/shape.json") << nlohmann::json{{"train_rows", train.rows}, {"valid_rows", val.rows},
                                                       {"seq_length", train.seq_length}, {"n_features", train.n_features},
                                                       {"params", params}}
                                            .dump();
  double best = 1e300;
  nlohmann::json report;
  for (int r = 0; r < vm["repeat"].as<int>(); ++r) {
    auto model = registry.create_model("xgboost", static_cast<std::int64_t>(ds.n_features()), params.dump());
    t0 = std::chrono::steady_clock::now();
    report = nlohmann::json::parse(model->fit(train.view(), val.view()));
    best = std::min(best, seconds_since(t0));
  }
  std::cout << "klab: rows=" << train.rows << " columns=" << report["columns"] << " rounds=" << report["rounds"]
            << " nthread=" << params["nthread"] << " data_seconds=" << data_seconds
            << " gather_seconds=" << gather_seconds << " fit_seconds=" << best
            << " val_rmse=" << report["val_rmse_by_round"].back() << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return klab::cli::guarded_main("xgboost_bench", [&] { return run(argc, argv); });
}
