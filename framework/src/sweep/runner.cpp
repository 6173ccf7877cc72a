#include "sweep/runner.h"

#include <signal.h>
#include <spawn.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <ostream>
#include <sstream>
#include <thread>

#include "klab/error.h"
#include "plugins/registry.h"
#include "runs/files.h"
#include "runs/training_manager.h"
#include "train/trainer.h"

extern char** environ;

namespace klab {

namespace fs = std::filesystem;

namespace {

volatile sig_atomic_t g_interrupted = 0;
void on_interrupt(int) { g_interrupted = 1; }

std::string trial_name(std::size_t index) {
  std::ostringstream s;
  s << "trial-" << std::setw(4) << std::setfill('0') << index;
  return s.str();
}
fs::path experiment_file(const fs::path& record, std::size_t i) { return record / "trials" / (trial_name(i) + ".json"); }
fs::path status_file(const fs::path& record, std::size_t i) { return record / "trials" / (trial_name(i) + ".status.json"); }
fs::path log_file(const fs::path& record, std::size_t i) { return record / "logs" / (trial_name(i) + ".log"); }

void write_status(const fs::path& record, std::size_t i, const nlohmann::json& status) {
  files::write_json(status_file(record, i), status);
}

// Marks a trial pending again before it (re)starts, keeping the run it had begun, which the
// trial process then continues from its newest checkpoint.
void queue_trial(const fs::path& record, std::size_t i) {
  const nlohmann::json previous = read_trial_status(record, i);
  nlohmann::json s = {{"index", i}, {"status", "pending"}, {"queued_at", files::iso_now()}};
  for (const char* key : {"run_name", "run_dir"}) {
    if (previous.contains(key)) s[key] = previous[key];
  }
  write_status(record, i, s);
}

// Marks a trial failed or interrupted, and its run too when the trial had created one.
void end_trial(const fs::path& record, std::size_t i, const std::string& status, const std::string& error) {
  nlohmann::json s = read_trial_status(record, i);
  s["status"] = status;
  s["error"] = error;
  s["finished_at"] = files::iso_now();
  write_status(record, i, s);
  if (s.contains("run_dir") && s["run_dir"].is_string()) {
    try {
      // Under the run's lock: if the trial's process is somehow still writing, it is left alone.
      auto manager = TrainingManager::open_for_writing(s["run_dir"].get<std::string>());
      const std::string run_status = files::text_or(manager.metadata(), "status");
      if (run_status != kStatusCompleted && run_status != kStatusFailed) manager.update_status(kStatusFailed, error);
    } catch (const Error&) {
    }
  }
}

// A value as a person reads it: 600519, 0.001, gru(hidden_size=32,num_layers=1).
std::string describe_value(const nlohmann::json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (!v.is_object()) return v.dump();
  std::string inner;
  for (auto it = v.begin(); it != v.end(); ++it) {
    if (it.key() == "type") continue;
    inner += (inner.empty() ? "" : ",") + it.key() + "=" + describe_value(*it);
  }
  return v.contains("type") ? describe_value(v["type"]) + "(" + inner + ")" : "{" + inner + "}";
}

std::string describe_params(const nlohmann::json& params, std::uint64_t seed, bool with_seed) {
  std::string out;
  for (auto it = params.begin(); it != params.end(); ++it) {
    out += (out.empty() ? "" : " ") + it.key() + "=" + describe_value(*it);
  }
  if (with_seed) out += (out.empty() ? "" : " ") + std::string("seed=") + std::to_string(seed);
  return out;
}

std::string signal_text(int sig) {
  const char* name = strsignal(sig);
  return "signal " + std::to_string(sig) + " (" + (name ? name : "?") + ")";
}

fs::path create_record_dir(const fs::path& output_dir, const std::string& name) {
  const fs::path sweeps = output_dir / kSweepRecordsFolder;
  fs::create_directories(sweeps);
  const std::string base = name + "_" + files::compact_now();
  for (int attempt = 1;; ++attempt) {
    fs::path dir = sweeps / (attempt == 1 ? base : base + "_" + std::to_string(attempt));
    if (::mkdir(dir.c_str(), 0755) == 0) return dir;
    if (errno != EEXIST || attempt > 1000) throw IoError(dir.string() + ": cannot create the sweep record");
  }
}

int max_trial_threads(const nlohmann::json& sweep) {
  int threads = 1;
  for (const auto& t : sweep["trials"]) threads = std::max(threads, t.value("threads", 1));
  return threads;
}

// A Slurm array task gets sweep.slurm.cpus_per_task CPUs, by default the trials' train.threads.
int cpus_per_task(const nlohmann::json& sweep) {
  const int set = sweep.contains("slurm") ? sweep["slurm"].value("cpus_per_task", 0) : 0;
  return set > 0 ? set : max_trial_threads(sweep);
}

// Workers x threads fill the machine: cores / train.threads unless the sweep says otherwise.
int default_workers(const nlohmann::json& sweep) { return std::max(1, cores_given() / max_trial_threads(sweep)); }

// The cores each of `workers` local trials is given (KLAB_TRIAL_CORES), capping its threads.
int trial_cores(int workers) { return std::max(1, cores_given() / workers); }

struct Running {
  pid_t pid;
  std::size_t index;
  std::chrono::steady_clock::time_point started;
};

// Each local trial is told its share of the machine (KLAB_TRIAL_CORES), which caps its torch
// threads (apply_runtime_policy): workers x threads never exceed the cores.
pid_t spawn_trial(const fs::path& record, std::size_t index, const SweepOptions& options, int cores) {
  std::vector<std::string> args = {options.self_exe.string(), "--run-trial", std::to_string(index), "--sweep-dir",
                                   record.string()};
  for (const auto& d : options.plugin_dirs) {
    args.push_back("--plugin-dir");
    args.push_back(d.string());
  }
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  const std::string log = log_file(record, index).string();
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  // A process group of its own: the terminal's Ctrl-C reaches only the sweep, which then ends
  // its trials itself and records them as interrupted.
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
  posix_spawnattr_setpgroup(&attr, 0);
  pid_t pid = 0;
  std::vector<std::string> env_strings = {"KLAB_TRIAL_CORES=" + std::to_string(cores)};
  for (char** e = environ; *e; ++e) {
    if (std::strncmp(*e, "KLAB_TRIAL_CORES=", 17) != 0) env_strings.emplace_back(*e);
  }
  std::vector<char*> envp;
  for (auto& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);
  const int rc = posix_spawn(&pid, argv[0], &actions, &attr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) throw IoError(options.self_exe.string() + ": cannot start a trial process: " + std::strerror(rc));
  return pid;
}

void report(std::ostream* out, const fs::path& record, const nlohmann::json& sweep, std::size_t index,
            std::size_t done, std::size_t total, double seconds) {
  if (!out) return;
  const auto s = read_trial_status(record, index);
  const auto& t = sweep["trials"][index];
  const std::string metric = sweep.value("metric", "mae");
  *out << "[" << done << "/" << total << "] " << trial_name(index) << " " << std::left << std::setw(11)
       << s.value("status", "?") << std::right;
  if (s.value("status", "") == "completed" && s.contains("eval")) {
    *out << metric << " " << std::fixed << std::setprecision(4) << s["eval"].value(metric, 0.0) << std::defaultfloat;
  } else if (s.contains("error")) {
    *out << s["error"].get<std::string>().substr(0, 120);
  }
  *out << "  " << describe_params(t["params"], t.value("seed", 0), true) << "  (" << std::fixed
       << std::setprecision(1) << seconds << " s)" << std::defaultfloat << "\n"
       << std::flush;
}

void run_local(const fs::path& record, const nlohmann::json& sweep, const std::vector<std::size_t>& todo,
               const SweepOptions& options, int workers) {
  struct sigaction sa {}, old_int {}, old_term {};
  sa.sa_handler = on_interrupt;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: waitpid returns at once on Ctrl-C
  g_interrupted = 0;
  sigaction(SIGINT, &sa, &old_int);
  sigaction(SIGTERM, &sa, &old_term);

  std::vector<Running> running;
  std::size_t next = 0, done = 0;
  const int cores = trial_cores(workers);
  auto finish = [&](Running r, int status) {
    nlohmann::json s = read_trial_status(record, r.index);
    const std::string state = s.value("status", "pending");
    if (state != "completed" && state != "failed") {
      std::string error;
      if (WIFSIGNALED(status)) {
        error = "trial process crashed: " + signal_text(WTERMSIG(status)) + "; see " + log_file(record, r.index).string();
      } else {
        error = "trial process exited with code " + std::to_string(WEXITSTATUS(status)) + " without a result; see " +
                log_file(record, r.index).string();
      }
      end_trial(record, r.index, "failed", error);
    }
    ++done;
    report(options.progress, record, sweep, r.index, done, todo.size(),
           std::chrono::duration<double>(std::chrono::steady_clock::now() - r.started).count());
  };

  while ((next < todo.size() || !running.empty()) && !g_interrupted) {
    while (next < todo.size() && static_cast<int>(running.size()) < workers && !g_interrupted) {
      const std::size_t index = todo[next++];
      queue_trial(record, index);
      running.push_back({spawn_trial(record, index, options, cores), index, std::chrono::steady_clock::now()});
    }
    int status = 0;
    const pid_t pid = waitpid(-1, &status, 0);
    if (pid < 0) {
      if (errno == EINTR) continue;
      break;
    }
    auto it = std::find_if(running.begin(), running.end(), [pid](const Running& r) { return r.pid == pid; });
    if (it == running.end()) continue;
    Running r = *it;
    running.erase(it);
    finish(r, status);
  }

  if (g_interrupted) {
    if (options.progress) *options.progress << "interrupted: ending " << running.size() << " running trial(s)\n";
    for (const auto& r : running) kill(-r.pid, SIGTERM);
    for (const auto& r : running) {
      int status = 0;
      for (int i = 0; i < 100 && waitpid(r.pid, &status, WNOHANG) == 0; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
      if (waitpid(r.pid, &status, WNOHANG) == 0) {
        kill(-r.pid, SIGKILL);
        waitpid(r.pid, &status, 0);
      }
      end_trial(record, r.index, "interrupted", "interrupted by the user; run sweep --resume to finish");
    }
  }
  sigaction(SIGINT, &old_int, nullptr);
  sigaction(SIGTERM, &old_term, nullptr);
}

std::string run_command(const std::string& command, int* exit_code) {
  std::string output;
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (!pipe) throw IoError("cannot run: " + command);
  char buf[4096];
  while (std::fgets(buf, sizeof buf, pipe)) output += buf;
  const int status = pclose(pipe);
  *exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 255;
  while (!output.empty() && (output.back() == '\n' || output.back() == '\r')) output.pop_back();
  return output;
}

std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string run_slurm(const fs::path& record, const nlohmann::json& sweep, const std::vector<std::size_t>& todo,
                      const SweepOptions& options) {
  const auto& slurm = sweep["slurm"];
  fs::create_directories(record / "slurm");
  std::string array;
  for (std::size_t i = 0; i < todo.size(); ++i) array += (i ? "," : "") + std::to_string(todo[i]);
  if (slurm.value("max_concurrent", 0) > 0) array += "%" + std::to_string(slurm.value("max_concurrent", 0));
  std::ostringstream script;
  script << "#!/bin/bash\n"
         << "# klab sweep " << sweep.value("name", "") << ": one array task per trial (written by sweep)\n"
         << "#SBATCH --job-name=klab-" << sweep.value("name", "sweep") << "\n"
         << "#SBATCH --array=" << array << "\n"
         << "#SBATCH --cpus-per-task=" << cpus_per_task(sweep) << "\n"
         << "#SBATCH --time=" << slurm.value("time_limit", std::string("01:00:00")) << "\n"
         << "#SBATCH --output=" << (record / "slurm" / "trial-%a.out").string() << "\n";
  if (!slurm.value("partition", std::string()).empty()) script << "#SBATCH --partition=" << slurm["partition"].get<std::string>() << "\n";
  if (!slurm.value("mem", std::string()).empty()) script << "#SBATCH --mem=" << slurm["mem"].get<std::string>() << "\n";
  for (const auto& extra : slurm.value("extra_args", nlohmann::json::array())) script << "#SBATCH " << extra.get<std::string>() << "\n";
  script << "set -euo pipefail\n"
         << "cd " << shell_quote(fs::current_path().string()) << "\n";
  script << "exec " << shell_quote(options.self_exe.string()) << " --run-trial \"$SLURM_ARRAY_TASK_ID\" --sweep-dir "
         << shell_quote(record.string());
  for (const auto& d : options.plugin_dirs) script << " --plugin-dir " << shell_quote(fs::absolute(d).string());
  script << "\n";
  const fs::path script_path = record / "slurm" / "sweep.sbatch";
  files::write_atomic(script_path, script.str());
  for (std::size_t i : todo) queue_trial(record, i);

  int code = 0;
  const std::string out = run_command("sbatch --parsable " + shell_quote(script_path.string()), &code);
  if (code != 0) throw IoError("sbatch failed (exit " + std::to_string(code) + "): " + out);
  const std::string job = out.substr(0, out.find(';'));
  files::write_atomic(record / "slurm" / "job_id", job + "\n");
  if (options.progress) *options.progress << "submitted Slurm array job " << job << " (" << todo.size() << " tasks)\n";
  if (!options.wait) return job;

  // Wait for the array to leave the queue; squeue answers faster than sbatch --wait.
  std::size_t reported = 0;
  std::vector<bool> seen(sweep["trials"].size(), false);
  auto report_new = [&] {
    for (std::size_t i : todo) {
      if (seen[i]) continue;
      const std::string st = read_trial_status(record, i).value("status", "pending");
      if (st == "completed" || st == "failed") {
        seen[i] = true;
        report(options.progress, record, sweep, i, ++reported, todo.size(), 0.0);
      }
    }
  };
  while (true) {
    const std::string queue = run_command("squeue -h -j " + job + " -o %i", &code);
    report_new();
    if (code == 0 && queue.empty()) break;
    if (code != 0 && queue.find("Invalid job id") != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  for (std::size_t i : todo) {
    const std::string st = read_trial_status(record, i).value("status", "pending");
    if (st != "completed" && st != "failed") {
      end_trial(record, i, "failed", "Slurm task " + job + "_" + std::to_string(i) +
                                         " ended without a result; see " + (record / "slurm" / ("trial-" + std::to_string(i) + ".out")).string());
    }
  }
  report_new();
  return job;
}

SweepOutcome execute(const fs::path& record, const SweepOptions& options, bool only_unfinished) {
  nlohmann::json sweep = files::read_json(record / "sweep.json");
  const std::size_t n = sweep["trials"].size();
  std::vector<std::size_t> todo;
  for (std::size_t i = 0; i < n; ++i) {
    const std::string st = read_trial_status(record, i).value("status", "pending");
    if (!only_unfinished || st != "completed") todo.push_back(i);
  }
  const std::string executor = options.executor.empty() ? sweep.value("executor", std::string("local")) : options.executor;
  int workers = options.workers > 0 ? options.workers : sweep.value("workers", 0);
  if (workers <= 0) workers = default_workers(sweep);
  if (options.progress && executor != "slurm" && workers * max_trial_threads(sweep) > cores_given()) {
    *options.progress << "note: " << workers << " worker(s) x train.threads " << max_trial_threads(sweep) << " exceed the "
                      << cores_given() << " core(s): each trial gets " << trial_cores(workers) << " thread(s)\n";
  }
  if (options.progress) {
    *options.progress << "sweep " << sweep.value("name", "") << ": " << todo.size() << " trial(s) of " << n << ", "
                      << (executor == "slurm" ? std::string("Slurm") : std::to_string(workers) + " worker(s)")
                      << ", record " << record.string() << "\n"
                      << std::flush;
  }
  SweepOutcome outcome;
  if (executor == "slurm") {
    outcome.slurm_job = run_slurm(record, sweep, todo, options);
    if (!options.wait) {
      outcome.record_dir = record;
      outcome.pending = todo.size();
      return outcome;
    }
  } else {
    run_local(record, sweep, todo, options, workers);
  }
  SweepOutcome collected = collect_sweep(record);
  collected.slurm_job = outcome.slurm_job;
  return collected;
}

}  // namespace

nlohmann::json read_trial_status(const fs::path& record, std::size_t i) {
  try {
    return files::read_json(status_file(record, i));
  } catch (const Error&) {
    return {{"index", i}, {"status", "pending"}};
  }
}

std::optional<fs::path> locate_sweep_record(const std::string& name_or_path, const fs::path& output_dir) {
  // .sweeps/ since records moved out of the runs' way; sweeps/ where older klab left them.
  for (const fs::path& p : {fs::path(name_or_path), output_dir / kSweepRecordsFolder / name_or_path,
                            output_dir / "sweeps" / name_or_path}) {
    if (fs::is_regular_file(p / "sweep.json")) return p;
  }
  return std::nullopt;
}

fs::path find_sweep_record(const std::string& name_or_path, const fs::path& output_dir) {
  if (auto record = locate_sweep_record(name_or_path, output_dir)) return *record;
  throw IoError("sweep " + name_or_path + ": no sweep record (sweep.json) there or in " +
                (output_dir / kSweepRecordsFolder).string());
}

SweepOutcome run_sweep(const SweepPlan& plan, const SweepOptions& options) {
  if (plan.trials.empty()) throw ConfigError(plan.file + ": the sweep has no trials");
  const std::string output_dir = options.output_dir_override.empty() ? plan.trials[0].spec.output_dir : options.output_dir_override;
  const fs::path out = fs::absolute(output_dir);
  const fs::path record = create_record_dir(out, plan.name);
  fs::create_directories(record / "trials");
  fs::create_directories(record / "logs");
  nlohmann::json sweep = {{"name", plan.name},
                          {"file", plan.file},
                          {"created_at", files::iso_now()},
                          {"metric", plan.metric},
                          {"executor", options.executor.empty() ? plan.executor : options.executor},
                          {"workers", plan.workers},
                          {"output_dir", out.string()},
                          {"slurm",
                           {{"partition", plan.slurm.partition},
                            {"time_limit", plan.slurm.time_limit},
                            {"cpus_per_task", plan.slurm.cpus_per_task},
                            {"max_concurrent", plan.slurm.max_concurrent},
                            {"mem", plan.slurm.mem},
                            {"extra_args", plan.slurm.extra_args}}},
                          {"trials", nlohmann::json::array()}};
  for (const auto& t : plan.trials) {
    nlohmann::json experiment = t.experiment;
    experiment["output_dir"] = out.string();
    // Relative data paths are resolved now, so trial processes may run from anywhere.
    if (experiment["data"]["options"].contains("path") && experiment["data"]["options"]["path"].is_string()) {
      experiment["data"]["options"]["path"] = fs::absolute(experiment["data"]["options"]["path"].get<std::string>()).string();
    }
    files::write_json(experiment_file(record, t.index), experiment);
    sweep["trials"].push_back({{"index", t.index}, {"params", t.params}, {"seed", t.seed}, {"point", t.point_key},
                               {"threads", t.spec.train.threads}, {"experiment", trial_name(t.index) + ".json"}});
    write_status(record, t.index, {{"index", t.index}, {"status", "pending"}});
  }
  files::write_json(record / "sweep.json", sweep);
  std::ifstream original(plan.file);
  if (original) {
    std::stringstream text;
    text << original.rdbuf();
    files::write_atomic(record / "experiment.yaml", text.str());
  }
  return execute(record, options, false);
}

SweepOutcome resume_sweep(const fs::path& record_dir, const SweepOptions& options) {
  return execute(record_dir, options, true);
}

SweepOutcome collect_sweep(const fs::path& record) {
  nlohmann::json sweep = files::read_json(record / "sweep.json");
  SweepOutcome outcome;
  outcome.record_dir = record;
  outcome.metric = sweep.value("metric", std::string("mae"));
  const bool higher = higher_is_better(outcome.metric);
  std::map<std::string, LeaderboardRow> points;
  std::vector<std::string> order;
  std::map<std::string, double> best_value;
  for (const auto& t : sweep["trials"]) {
    const std::size_t i = t["index"];
    const auto s = read_trial_status(record, i);
    const std::string st = s.value("status", "pending");
    const std::string key = t.value("point", t["params"].dump());
    if (!points.count(key)) {
      order.push_back(key);
      points[key].params = t["params"];
    }
    LeaderboardRow& row = points[key];
    row.trials.push_back(i);
    if (st == "completed") {
      ++outcome.completed;
      ++row.completed;
      const double v = s["eval"].value(outcome.metric, std::nan(""));
      row.mean += v;  // sum for now
      const bool better = !best_value.count(key) || (higher ? v > best_value[key] : v < best_value[key]);
      if (better) {
        best_value[key] = v;
        row.best_run = s.value("run_name", "");
      }
    } else if (st == "failed") {
      ++outcome.failed;
      ++row.failed;
    } else if (st == "interrupted") {
      ++outcome.interrupted;
      ++row.failed;
    } else {
      ++outcome.pending;
    }
  }
  for (const auto& key : order) {
    LeaderboardRow row = points[key];
    if (row.completed > 0) {
      row.mean /= static_cast<double>(row.completed);
      double ss = 0;
      for (std::size_t i : row.trials) {
        const auto s = read_trial_status(record, i);
        if (s.value("status", "") == "completed") {
          const double v = s["eval"].value(outcome.metric, 0.0);
          ss += (v - row.mean) * (v - row.mean);
        }
      }
      row.std = row.completed > 1 ? std::sqrt(ss / static_cast<double>(row.completed - 1)) : 0.0;
    }
    outcome.leaderboard.push_back(row);
  }
  std::stable_sort(outcome.leaderboard.begin(), outcome.leaderboard.end(), [&](const LeaderboardRow& a, const LeaderboardRow& b) {
    if ((a.completed > 0) != (b.completed > 0)) return a.completed > 0;
    return higher ? a.mean > b.mean : a.mean < b.mean;
  });
  for (std::size_t r = 0; r < outcome.leaderboard.size(); ++r) outcome.leaderboard[r].rank = r + 1;

  // leaderboard.csv: one row per point; parameter columns in sweep order.
  std::vector<std::string> keys;
  for (const auto& row : outcome.leaderboard) {
    for (auto it = row.params.begin(); it != row.params.end(); ++it) {
      if (std::find(keys.begin(), keys.end(), it.key()) == keys.end()) keys.push_back(it.key());
    }
  }
  std::ostringstream csv;
  csv << "rank";
  for (const auto& k : keys) csv << "," << k;
  csv << "," << outcome.metric << "_mean," << outcome.metric << "_std,completed,failed,best_run,trials\n";
  for (const auto& row : outcome.leaderboard) {
    csv << row.rank;
    for (const auto& k : keys) {
      csv << ",";
      if (row.params.contains(k)) {
        const std::string text = describe_value(row.params[k]);
        csv << (text.find(',') == std::string::npos ? text : "\"" + text + "\"");
      }
    }
    csv << "," << std::setprecision(10);
    if (row.completed) {
      csv << row.mean << "," << row.std;
    } else {
      csv << ",";
    }
    csv << "," << row.completed << "," << row.failed << "," << row.best_run << ",";
    for (std::size_t j = 0; j < row.trials.size(); ++j) csv << (j ? " " : "") << row.trials[j];
    csv << "\n";
  }
  files::write_atomic(record / "leaderboard.csv", csv.str());
  return outcome;
}

void print_leaderboard(const SweepOutcome& outcome, std::ostream& out, std::size_t max_rows) {
  out << "leaderboard by " << outcome.metric << (higher_is_better(outcome.metric) ? " (higher is better)" : " (lower is better)")
      << ": " << outcome.completed << " completed, " << outcome.failed << " failed";
  if (outcome.interrupted) out << ", " << outcome.interrupted << " interrupted";
  if (outcome.pending) out << ", " << outcome.pending << " pending";
  out << "\n";
  out << std::left << std::setw(5) << "rank" << std::setw(22) << (outcome.metric + " (mean±std)") << std::setw(6) << "ok"
      << std::setw(36) << "best run" << "params\n";
  std::size_t shown = 0;
  for (const auto& row : outcome.leaderboard) {
    if (shown++ >= max_rows) {
      out << "... " << outcome.leaderboard.size() - max_rows << " more in " << (outcome.record_dir / "leaderboard.csv").string() << "\n";
      break;
    }
    std::ostringstream value;
    if (row.completed) {
      value << std::fixed << std::setprecision(4) << row.mean;
      if (row.completed > 1) value << "±" << std::setprecision(4) << row.std;
    } else {
      value << "-";
    }
    std::string params = describe_params(row.params, 0, false);
    if (params.empty()) params = "(base)";
    out << std::left << std::setw(5) << row.rank << std::setw(22) << value.str() << std::setw(6)
        << (std::to_string(row.completed) + "/" + std::to_string(row.completed + row.failed)) << std::setw(36)
        << (row.best_run.empty() ? "-" : row.best_run) << params << "\n";
  }
  out << "record: " << outcome.record_dir.string() << "\n";
}

int run_trial_process(const fs::path& record, std::size_t index, PluginRegistry& registry) {
  stop_on_signals();  // the sweep ends its trials with SIGTERM: finish the run's files first
  // A trial that was interrupted (or failed) after its run began training continues that run
  // from its newest checkpoint, instead of starting a new one and leaving the old one failed.
  const nlohmann::json previous = read_trial_status(record, index);
  fs::path earlier_run;
  if (previous.contains("run_dir") && previous["run_dir"].is_string() &&
      fs::is_regular_file(fs::path(previous["run_dir"].get<std::string>()) / "experiment.json")) {
    earlier_run = previous["run_dir"].get<std::string>();
  }
  nlohmann::json status = {{"index", index}, {"status", "running"}, {"started_at", files::iso_now()},
                           {"pid", static_cast<long>(getpid())}};
  char host[256] = {0};
  gethostname(host, sizeof host - 1);
  status["host"] = host;
  write_status(record, index, status);
  try {
    const fs::path file = experiment_file(record, index);
    ExperimentSpec spec = ExperimentSpec::from_json(files::read_json(file), file.string());
    RunOptions options;
    options.on_created = [&](const std::string& run_name, const fs::path& run_dir) {
      status["run_name"] = run_name;
      status["run_dir"] = fs::absolute(run_dir).string();
      write_status(record, index, status);
    };
    RunResult result;
    if (!earlier_run.empty()) {
      std::cout << "trial " << index << ": resuming " << earlier_run.filename().string() << "\n";
      result = resume_experiment(earlier_run.string(), earlier_run.parent_path(), registry, options);
    } else {
      result = run_experiment(spec, registry, options);
    }
    status["status"] = "completed";
    status["eval"] = result.eval;
    status["epochs_trained"] = result.epochs_trained;
    status["best_epoch"] = result.best_epoch;
    status["finished_at"] = files::iso_now();
    write_status(record, index, status);
    std::cout << "trial " << index << " completed: " << result.run_dir.string() << "\n";
    return 0;
  } catch (const std::exception& e) {
    status["status"] = "failed";
    status["error"] = e.what();
    status["finished_at"] = files::iso_now();
    write_status(record, index, status);
    std::cerr << "trial " << index << " failed: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace klab
