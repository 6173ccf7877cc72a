// sweep/sweep_options.h — how a sweep is run (as opposed to what it runs: sweep_spec.h).
#pragma once

#include <filesystem>
#include <iosfwd>
#include <string>
#include <vector>

namespace klab {

struct SweepOptions {
  std::filesystem::path self_exe;                    // the sweep binary (for trial processes)
  std::vector<std::filesystem::path> plugin_dirs;    // passed on to trial processes
  std::string output_dir_override;
  int workers = 0;              // overrides the plan; 0 = plan's, else cores / threads per trial
  std::string executor;         // overrides the plan when non-empty
  bool wait = true;             // slurm: wait for the array to finish
  std::ostream* progress = nullptr;
};

}  // namespace klab
