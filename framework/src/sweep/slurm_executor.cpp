#include "sweep/slurm_executor.h"

#include <sys/wait.h>

#include <chrono>
#include <cstdio>
#include <ostream>
#include <sstream>
#include <thread>

#include "klab/error.h"
#include "runs/files.h"
#include "sweep/local_executor.h"
#include "sweep/record.h"

namespace klab {

namespace fs = std::filesystem;

namespace {

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

constexpr int kSqueueRetries = 12;  // 0.5 + 1 + 2 + ... + 16 s: about two minutes

// A Slurm array task gets sweep.slurm.cpus_per_task CPUs, by default the trials' train.threads.
int cpus_per_task(const nlohmann::json& sweep) {
  const int set = sweep.contains("slurm") ? sweep["slurm"].value("cpus_per_task", 0) : 0;
  return set > 0 ? set : max_trial_threads(sweep);
}

}  // namespace

void require_sbatch_value(const std::string& where, const std::string& key, const std::string& value) {
  for (unsigned char c : value) {
    if (c < 0x20 || c == 0x7f) {
      throw ConfigError(where + "sweep.slurm." + key + ": control characters (a newline) are not allowed");
    }
  }
}

std::string slurm_array_script(const fs::path& record, const nlohmann::json& sweep, const std::vector<std::size_t>& todo,
                               const SweepOptions& options) {
  const auto& slurm = sweep["slurm"];
  // sweep.json may have been edited by hand: nothing reaches an #SBATCH line with a line break.
  for (const char* key : {"partition", "time_limit", "mem"}) require_sbatch_value("", key, slurm.value(key, std::string()));
  for (const auto& extra : slurm.value("extra_args", nlohmann::json::array())) {
    require_sbatch_value("", "extra_args", extra.get<std::string>());
  }
  require_sbatch_value("", "name", sweep.value("name", std::string()));
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
  return script.str();
}

std::string run_slurm_trials(const fs::path& record, const nlohmann::json& sweep, const std::vector<std::size_t>& todo,
                      const SweepOptions& options) {
  fs::create_directories(record / "slurm");
  const std::string script = slurm_array_script(record, sweep, todo, options);
  const fs::path script_path = record / "slurm" / "sweep.sbatch";
  files::write_atomic(script_path, script);
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
        print_trial_line(options.progress, record, sweep, i, ++reported, todo.size(), 0.0);
      }
    }
  };
  // squeue failing (slurmctld restarting, a network blip) is retried with growing pauses, up to
  // about two minutes in a row; then the wait ends with the error and `sweep --collect` later.
  int failures = 0;
  std::chrono::milliseconds pause(500);
  while (true) {
    const std::string queue = run_command("squeue -h -j " + job + " -o %i", &code);
    report_new();
    if (code == 0 && queue.empty()) break;
    if (code != 0 && queue.find("Invalid job id") != std::string::npos) break;
    if (code == 0) {
      failures = 0;
      pause = std::chrono::milliseconds(500);
    } else if (++failures >= kSqueueRetries) {
      throw IoError("squeue failed " + std::to_string(failures) + " times in a row (last: exit " + std::to_string(code) +
                    ": " + queue.substr(0, 200) + "); job " + job + " may still run: sweep --collect " + record.string());
    } else {
      pause = std::min(pause * 2, std::chrono::milliseconds(16000));
    }
    std::this_thread::sleep_for(pause);
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

}  // namespace klab
