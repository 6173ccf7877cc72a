// sweep/local_executor.h — running a sweep's trials on this machine: N trial processes at a
// time (the sweep binary itself, `--run-trial N`), so a trial that segfaults, throws or runs out
// of memory fails alone. Ctrl-C ends the running trials and records them as interrupted.
#pragma once

#include <cstddef>
#include <filesystem>
#include <vector>

#include <nlohmann/json.hpp>

#include "sweep/sweep_options.h"

namespace klab {

// The largest train.threads of the sweep's trials.
int max_trial_threads(const nlohmann::json& sweep);
// Workers x threads fill the machine: cores / train.threads unless the sweep says otherwise.
int default_workers(const nlohmann::json& sweep);
// The cores each of `workers` local trials is given (KLAB_TRIAL_CORES), capping its threads.
int trial_cores(int workers);

// Runs trials `todo` of the record with `workers` processes at a time; returns when all ended.
void run_local_trials(const std::filesystem::path& record, const nlohmann::json& sweep,
                      const std::vector<std::size_t>& todo, const SweepOptions& options, int workers);

}  // namespace klab
