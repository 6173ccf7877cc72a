// dump_labels EXPERIMENT.yaml OUT.csv [INPUTS.csv] — test helper: builds the experiment's dataset
// (symbols as listed, or every symbol of the source for `all`) and writes one line per window:
// split, as-of date, symbol, target date, raw target and the target the model is trained on
// (scaled_target: the per-date normalised label with target.normalize); with INPUTS.csv also
// every test window as the model sees it (as_of, symbol, then seq_length x features values, row
// by row), so a pandas reference can recompute them from the database and docs/DATA.md.
#include <fstream>
#include <iostream>
#include <vector>

#include "config/experiment.h"
#include "data/dataset.h"
#include "klab/data_source.h"
#include "plugins/registry.h"

int main(int argc, char** argv) {
  if (argc != 3 && argc != 4) {
    std::cerr << "usage: dump_labels EXPERIMENT.yaml OUT.csv [INPUTS.csv]\n";
    return 2;
  }
  try {
    const auto spec = klab::load_experiment(argv[1]);
    klab::PluginRegistry registry;
    registry.discover();
    auto source = registry.create_data_source(spec.source, spec.source_options.dump());
    std::vector<std::string> symbols = spec.symbols;
    if (symbols == std::vector<std::string>{"all"}) {
      symbols.clear();
      for (const auto& info : source->list_symbols()) symbols.push_back(info.symbol);
    }
    const auto ds = klab::Dataset::build(*source, spec.dataset_spec(symbols));
    std::ofstream out(argv[2]);
    out.precision(17);
    out << "split,as_of,symbol,target_date,raw_target,train_target\n";
    const std::pair<const char*, const std::vector<klab::WindowRef>*> splits[] = {
        {"train", &ds.train()}, {"val", &ds.val()}, {"test", &ds.test()}};
    for (const auto& [name, windows] : splits) {
      for (const auto& w : *windows) {
        const auto& s = ds.series()[w.series];
        out << name << ',' << s.dates[w.end_row] << ',' << s.symbol << ',' << ds.target_date(w) << ','
            << ds.raw_target(w) << ',' << ds.scaled_target(w) << '\n';
      }
    }
    if (argc == 4) {
      std::ofstream inputs(argv[3]);
      inputs.precision(9);
      const std::size_t n = spec.train.seq_length * ds.n_features();
      std::vector<float> window(n);
      for (const auto& w : ds.test()) {
        ds.fill_window(w, window.data());
        inputs << ds.series()[w.series].dates[w.end_row] << ',' << ds.series()[w.series].symbol;
        for (float v : window) inputs << ',' << v;
        inputs << '\n';
      }
    }
    std::cout << "filled_nan_values=" << ds.filled_nan_values() << " filled_nan_rows=" << ds.filled_nan_rows()
              << " undefined_label_windows=" << ds.undefined_label_windows() << "\n";
  } catch (const std::exception& e) {
    std::cerr << "dump_labels: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
