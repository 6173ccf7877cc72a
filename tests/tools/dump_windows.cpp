// dump_windows RUN_DIR OUT_FILE [test|train|val] — test helper: rebuilds a run's dataset from its
// experiment.json and pickles a split's windows {"inputs": [N, seq_length, F], "labels": [N]
// (scaled, as the model learnt them)} — the test split in the order of results/predictions.json —
// so a Python model can be fed exactly what klab's model saw.
#include <iostream>

#include <torch/torch.h>

#include "config/experiment.h"
#include "data/dataset.h"
#include "klab/data_source.h"
#include "plugins/registry.h"
#include "runs/files.h"
#include "runs/state_dict.h"

int main(int argc, char** argv) {
  if (argc != 3 && argc != 4) {
    std::cerr << "usage: dump_windows RUN_DIR OUT_FILE [test|train|val]\n";
    return 2;
  }
  try {
    const std::filesystem::path run = argv[1];
    auto spec = klab::ExperimentSpec::from_json(klab::files::read_json(run / "experiment.json"), "experiment.json");
    klab::PluginRegistry registry;
    registry.discover();
    auto source = registry.create_data_source(spec.source, spec.source_options.dump());
    auto ds = klab::Dataset::build(*source, spec.dataset_spec(spec.symbols));
    const std::string split = argc == 4 ? argv[3] : "test";
    if (split != "test" && split != "train" && split != "val") throw klab::ConfigError("split: test, train or val");
    const auto& windows = split == "test" ? ds.test() : split == "train" ? ds.train() : ds.val();
    const auto n = static_cast<int64_t>(windows.size());
    auto labels = torch::empty({n}, torch::kFloat64);
    auto inputs = torch::empty({n, static_cast<int64_t>(spec.train.seq_length), static_cast<int64_t>(ds.n_features())});
    for (int64_t i = 0; i < n; ++i) {
      ds.fill_window(windows[static_cast<std::size_t>(i)], inputs[i].data_ptr<float>());
      labels[i] = ds.scaled_target(windows[static_cast<std::size_t>(i)]);
    }
    c10::impl::GenericDict out(c10::StringType::get(), c10::AnyType::get());
    out.insert("inputs", inputs);
    out.insert("labels", labels);
    klab::save_pickle(argv[2], out);
  } catch (const std::exception& e) {
    std::cerr << "dump_windows: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
