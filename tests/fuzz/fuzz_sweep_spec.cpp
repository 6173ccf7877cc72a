// libFuzzer target: the sweep specification (sweep/sweep_spec.cpp, plan_sweep_text) on any text:
// the `sweep:` block's grid, random draws, seeds, metric, executor and Slurm settings, expanded
// into trials each validated as a full experiment. It must either plan the sweep or throw
// klab::Error (one line naming the file, line, trial and key), never another exception, a crash or
// a hang; every planned trial's experiment must serialise. The registry has no plugins, so the
// model and data-source checks answer "unknown plugin" (a klab::Error) without forking.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

#include "fuzz_support.h"
#include "klab/error.h"
#include "plugins/registry.h"
#include "sweep/sweep_spec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 64 * 1024) return 0;
  static klab::PluginRegistry registry;  // nothing discovered
  const std::string text(reinterpret_cast<const char*>(data), size);
  return only_klab_errors([&] {
    const klab::SweepPlan plan = klab::plan_sweep_text(text, "fuzz.yaml", registry);
    for (const auto& trial : plan.trials) (void)trial.experiment.dump();
  });
}
