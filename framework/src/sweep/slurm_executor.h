// sweep/slurm_executor.h — running a sweep's trials as one Slurm array job: task i runs trial i
// (`sweep --run-trial i`). The script is written into the record's slurm/ folder, submitted with
// sbatch, and (unless told not to) waited for through squeue.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sweep/sweep_options.h"

namespace klab {

// A value that goes into an #SBATCH line: one holding a newline or another control character
// would start a line of its own (a command run on the cluster), so it is refused, not escaped.
// Throws ConfigError "<where>sweep.slurm.<key>: control characters (a newline) are not allowed".
void require_sbatch_value(const std::string& where, const std::string& key, const std::string& value);

// The sbatch script for trials `todo` (#SBATCH lines from sweep.slurm: array, cpus-per-task,
// time, partition, mem, extra args).
std::string slurm_array_script(const std::filesystem::path& record, const nlohmann::json& sweep,
                               const std::vector<std::size_t>& todo, const SweepOptions& options);

// Submits trials `todo`; returns the job id. Waits for the array to leave the queue when
// options.wait, marking tasks that ended without a result failed.
std::string run_slurm_trials(const std::filesystem::path& record, const nlohmann::json& sweep,
                             const std::vector<std::size_t>& todo, const SweepOptions& options);

}  // namespace klab
