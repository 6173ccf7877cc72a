// dump_labels EXPERIMENT.yaml OUT.csv — test helper: builds the experiment's dataset (symbols as
// listed, or every symbol of the source for `all`) and writes one line per window: split, as-of
// date, symbol, target date, raw target and the target the model is trained on
// (scaled_target: the per-date normalised label with target.normalize), so a pandas reference
// can recompute both from the database and the formulas in docs/DATA.md.
#include <fstream>
#include <iostream>

#include "config/experiment.h"
#include "data/dataset.h"
#include "klab/data_source.h"
#include "plugins/registry.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: dump_labels EXPERIMENT.yaml OUT.csv\n";
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
    std::cout << "filled_nan_values=" << ds.filled_nan_values() << " filled_nan_rows=" << ds.filled_nan_rows()
              << " undefined_label_windows=" << ds.undefined_label_windows() << "\n";
  } catch (const std::exception& e) {
    std::cerr << "dump_labels: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
