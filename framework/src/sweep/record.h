// sweep/record.h — a sweep's record on disk, and the one reader of it (sweep, list_runs, tests).
//
//   out/.sweeps/{name}_{timestamp}/     (a dot folder: out/*/ holds runs only)
//     sweep.json                the plan: name, file, executor, metric, every trial's params
//     experiment.yaml           the experiment file as it was when the sweep began
//     trials/trial-NNNN.json    the experiment of trial N, exactly as it runs
//     trials/trial-NNNN.status.json   pending | running | completed | failed | interrupted,
//                                     run name and folder, error, eval metrics, times
//     logs/trial-NNNN.log       the trial process's output (local executor)
//     leaderboard.csv           points ranked by the sweep's metric (mean and std over seeds)
//     slurm/                    sweep.sbatch, job id, task output (Slurm executor)
//     walk_forward/wf-NNNN/     evaluation.rolling: group N's segments combined out of sample
//                               (status.json, experiment.json, segments.json, data.json, universe.json,
//                               results/{predictions.csv.gz, eval_results.json, ic.json, backtest.json})
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <iosfwd>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sweep/sweep_spec.h"

namespace klab {

// Where sweep records live under the output folder: hidden, so that out/*/ is runs only (a
// script walking out/*/metadata.json, as the specification's list tool does, sees no record).
inline constexpr const char* kSweepRecordsFolder = ".sweeps";

struct LeaderboardRow {
  std::size_t rank = 0;
  nlohmann::json params;
  double mean = 0, std = 0;
  std::size_t completed = 0, failed = 0;
  std::size_t valued = 0;  // completed trials that have the metric (mean and std are over these)
  std::string best_run;
  std::vector<std::size_t> trials;
};

struct SweepOutcome {
  std::filesystem::path record_dir;
  std::size_t completed = 0, failed = 0, interrupted = 0, pending = 0;
  std::string slurm_job;        // set by the Slurm executor
  std::vector<LeaderboardRow> leaderboard;
  std::string metric;
  bool higher_is_better = false;  // the sweep's metric mode
  bool walk_forward = false;      // values are the groups' combined records (walk_forward/)
};

// "trial-0007", and the files of trial i in `record`.
std::string trial_name(std::size_t index);
std::filesystem::path trial_experiment_file(const std::filesystem::path& record, std::size_t i);
std::filesystem::path trial_status_file(const std::filesystem::path& record, std::size_t i);
std::filesystem::path trial_log_file(const std::filesystem::path& record, std::size_t i);

// A new record for `plan` under {output_dir}/.sweeps/: sweep.json, every trial's experiment
// (relative data paths made absolute, so trials may run from anywhere) and pending status.
std::filesystem::path create_sweep_record(const SweepPlan& plan, const std::filesystem::path& output_dir,
                                          const std::string& executor_override);

// trials/trial-NNNN.status.json of a record; {"status": "pending"} when it is missing or unreadable.
nlohmann::json read_trial_status(const std::filesystem::path& record, std::size_t i);
void write_trial_status(const std::filesystem::path& record, std::size_t i, const nlohmann::json& status);
// Walk-forward: "wf-0003", the folder of group N's combined record, and its status.json
// ({"status": "pending"} until the group's segments have all completed and been combined).
std::string walk_forward_name(std::size_t group);
std::filesystem::path walk_forward_dir(const std::filesystem::path& record, std::size_t group);
nlohmann::json read_walk_forward_status(const std::filesystem::path& record, std::size_t group);
// Marks a trial pending again before it (re)starts, keeping the run it had begun, which the
// trial process then continues from its newest checkpoint.
void queue_trial(const std::filesystem::path& record, std::size_t i);
// Marks a trial failed or interrupted, and its run too when the trial had created one (under
// the run's lock: a process still writing it is left alone).
void end_trial(const std::filesystem::path& record, std::size_t i, const std::string& status, const std::string& error);

// Reads a record as it is now (e.g. after a Slurm job submitted without waiting) and ranks its
// points; writes nothing (the report pages read records this way).
SweepOutcome rank_sweep(const std::filesystem::path& record);
// rank_sweep, then writes the record's leaderboard.csv.
SweepOutcome collect_sweep(const std::filesystem::path& record);
// The leaderboard as a fixed-width table.
void print_leaderboard(const SweepOutcome& outcome, std::ostream& out, std::size_t max_rows = 20);
// One progress line for trial `index`: "[done/total] trial-0003 completed mape 1.2345  params".
void print_trial_line(std::ostream* out, const std::filesystem::path& record, const nlohmann::json& sweep,
                      std::size_t index, std::size_t done, std::size_t total, double seconds);
// A point as a person reads it: "data.symbol=600519 model=gru(hidden_size=32)" (+ seed=N).
std::string describe_params(const nlohmann::json& params, std::uint64_t seed, bool with_seed);

// The runs a record's trials made: run name -> {trial, params, trial_status}.
std::map<std::string, nlohmann::json> sweep_trial_runs(const std::filesystem::path& record);

// A record folder given as a path, or as a name under {output_dir}/.sweeps/ (or the older
// sweeps/); nullopt if neither holds a sweep.json. find_sweep_record throws IoError instead.
std::optional<std::filesystem::path> locate_sweep_record(const std::string& name_or_path,
                                                         const std::filesystem::path& output_dir);
std::filesystem::path find_sweep_record(const std::string& name_or_path, const std::filesystem::path& output_dir);

}  // namespace klab
