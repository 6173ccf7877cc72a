// libFuzzer target: the experiment YAML loader (config/experiment.cpp, parse_experiment) on any
// text. It must either accept the file or throw klab::Error — a ConfigError naming the file, line
// or key — never another exception (a yaml-cpp or standard-library exception escaping would reach
// the user as an unexplained failure), a crash or a hang. An accepted experiment must survive its
// own round trip: to_json() is valid JSON.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

#include "config/experiment.h"
#include "fuzz_support.h"
#include "klab/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 64 * 1024) return 0;  // experiment files are small; keep the search on structure
  const std::string text(reinterpret_cast<const char*>(data), size);
  return only_klab_errors([&] {
    const klab::ExperimentSpec spec = klab::parse_experiment(text, "fuzz.yaml");
    (void)spec.to_json().dump();
  });
}
