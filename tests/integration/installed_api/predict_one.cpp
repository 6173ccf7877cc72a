// predict_one RUN_DIR SYMBOL — the next-day prediction of one symbol from a run, through the
// installed PredictionEngine; prints the prediction's JSON.
#include <iostream>

#include "plugins/registry.h"
#include "predict/engine.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: predict_one RUN_DIR SYMBOL\n";
    return 2;
  }
  try {
    klab::PluginRegistry registry;
    registry.discover();
    auto engine = klab::PredictionEngine::from_run(argv[1], registry);
    std::cout << engine.predict(argv[2]).to_json().dump() << "\n";
  } catch (const std::exception& e) {
    std::cerr << "predict_one: error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
