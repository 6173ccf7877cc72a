#include "sweep/local_executor.h"

#include <signal.h>
#include <spawn.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <ostream>
#include <thread>

#include "klab/error.h"
#include "sweep/record.h"
#include "train/process_policy.h"

extern char** environ;

namespace klab {

namespace fs = std::filesystem;

namespace {

volatile sig_atomic_t g_interrupted = 0;
void on_interrupt(int) { g_interrupted = 1; }

std::string signal_text(int sig) {
  const char* name = strsignal(sig);
  return "signal " + std::to_string(sig) + " (" + (name ? name : "?") + ")";
}

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
  const std::string log = trial_log_file(record, index).string();
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

}  // namespace

int max_trial_threads(const nlohmann::json& sweep) {
  int threads = 1;
  for (const auto& t : sweep["trials"]) threads = std::max(threads, t.value("threads", 1));
  return threads;
}

// Workers x threads fill the machine: cores / train.threads unless the sweep says otherwise.
int default_workers(const nlohmann::json& sweep) { return std::max(1, cores_given() / max_trial_threads(sweep)); }

// The cores each of `workers` local trials is given (KLAB_TRIAL_CORES), capping its threads.
int trial_cores(int workers) { return std::max(1, cores_given() / workers); }

void run_local_trials(const fs::path& record, const nlohmann::json& sweep, const std::vector<std::size_t>& todo,
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
        error = "trial process crashed: " + signal_text(WTERMSIG(status)) + "; see " + trial_log_file(record, r.index).string();
      } else {
        error = "trial process exited with code " + std::to_string(WEXITSTATUS(status)) + " without a result; see " +
                trial_log_file(record, r.index).string();
      }
      end_trial(record, r.index, "failed", error);
    }
    ++done;
    print_trial_line(options.progress, record, sweep, r.index, done, todo.size(),
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

}  // namespace klab
