// sweep/runner.h — running a sweep's trials and keeping its record.
//
// Each trial runs in a process of its own (the sweep binary itself, `--run-trial N`), so a
// trial that segfaults, throws or runs out of memory fails alone. The local executor keeps N
// such processes busy; the Slurm executor writes an sbatch array script whose task i runs trial
// i, submits it and (unless told not to) waits for it. Both leave the same record:
//   out/.sweeps/{name}_{timestamp}/     (a dot folder: out/*/ holds runs only)
//     sweep.json                the plan: name, file, executor, metric, every trial's params
//     trials/trial-NNNN.json    the experiment of trial N, exactly as it runs
//     trials/trial-NNNN.status.json   pending | running | completed | failed | interrupted,
//                                     run name and folder, error, eval metrics, times
//     logs/trial-NNNN.log       the trial process's output
//     leaderboard.csv           points ranked by the sweep's metric (mean and std over seeds)
//     slurm/                    sweep.sbatch, job id, task output (Slurm executor)
#pragma once

#include <filesystem>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sweep/sweep_spec.h"

namespace klab {

class PluginRegistry;

struct SweepOptions {
  std::filesystem::path self_exe;                    // the sweep binary (for trial processes)
  std::vector<std::filesystem::path> plugin_dirs;    // passed on to trial processes
  std::string output_dir_override;
  int workers = 0;              // overrides the plan; 0 = plan's, else cores / threads per trial
  std::string executor;         // overrides the plan when non-empty
  bool wait = true;             // slurm: wait for the array to finish
  std::ostream* progress = nullptr;
};

struct LeaderboardRow {
  std::size_t rank = 0;
  nlohmann::json params;
  double mean = 0, std = 0;
  std::size_t completed = 0, failed = 0;
  std::string best_run;
  std::vector<std::size_t> trials;
};

struct SweepOutcome {
  std::filesystem::path record_dir;
  std::size_t completed = 0, failed = 0, interrupted = 0, pending = 0;
  std::string slurm_job;        // set by the Slurm executor
  std::vector<LeaderboardRow> leaderboard;
  std::string metric;
};

// Writes the record and runs every trial. Returns when all have ended (or, for Slurm without
// wait, once submitted). Ctrl-C stops cleanly: running trials are ended and marked interrupted.
SweepOutcome run_sweep(const SweepPlan& plan, const SweepOptions& options);

// Runs again the trials of a record that did not complete (completed ones are skipped).
SweepOutcome resume_sweep(const std::filesystem::path& record_dir, const SweepOptions& options);

// Reads a record as it is now (e.g. after a Slurm job submitted without waiting).
SweepOutcome collect_sweep(const std::filesystem::path& record_dir);

// The body of a trial process: runs trial `index` of the record, writing its status file.
// Returns the process exit code.
int run_trial_process(const std::filesystem::path& record_dir, std::size_t index, PluginRegistry& registry);

// The leaderboard as a fixed-width table.
void print_leaderboard(const SweepOutcome& outcome, std::ostream& out, std::size_t max_rows = 20);

// Where sweep records live under the output folder: hidden, so that out/*/ is runs only (a
// script walking out/*/metadata.json, as the specification's list tool does, sees no record).
inline constexpr const char* kSweepRecordsFolder = ".sweeps";

// A record folder given as a path, or as a name under {output_dir}/.sweeps/ (or the older
// sweeps/); nullopt if neither
// holds a sweep.json. find_sweep_record throws IoError instead.
std::optional<std::filesystem::path> locate_sweep_record(const std::string& name_or_path,
                                                         const std::filesystem::path& output_dir);
std::filesystem::path find_sweep_record(const std::string& name_or_path, const std::filesystem::path& output_dir);

// trials/trial-NNNN.status.json of a record; {"status": "pending"} when it is missing or unreadable.
nlohmann::json read_trial_status(const std::filesystem::path& record_dir, std::size_t index);

}  // namespace klab
