// sweep/trial.h — the body of a trial process (`sweep --run-trial N --sweep-dir RECORD`): runs
// trial N's experiment (or continues the run it had begun), keeping its status file current.
#pragma once

#include <cstddef>
#include <filesystem>

namespace klab {

class PluginRegistry;

// Returns the process exit code: 0 completed, 1 failed (the status file says why).
int run_trial_process(const std::filesystem::path& record_dir, std::size_t index, PluginRegistry& registry);

}  // namespace klab
