#include "sweep/trial.h"

#include <unistd.h>

#include <iostream>

#include "config/experiment.h"
#include "runs/files.h"
#include "sweep/record.h"
#include "train/process_policy.h"
#include "workflow/run.h"

namespace klab {

namespace fs = std::filesystem;

int run_trial_process(const fs::path& record, std::size_t index, PluginRegistry& registry) {
  stop_on_signals();  // the sweep ends its trials with SIGTERM: finish the run's files first
  // A trial that was interrupted (or failed) after its run began training continues that run
  // from its newest checkpoint, instead of starting a new one and leaving the old one failed.
  const nlohmann::json previous = read_trial_status(record, index);
  fs::path earlier_run;
  if (previous.contains("run_dir") && previous["run_dir"].is_string() &&
      fs::is_regular_file(fs::path(previous["run_dir"].get<std::string>()) / "experiment.json")) {
    earlier_run = previous["run_dir"].get<std::string>();
  } else if (previous.contains("run_dir") && previous["run_dir"].is_string() &&
             fs::is_regular_file(fs::path(previous["run_dir"].get<std::string>()) / "metadata.json")) {
    // Cut before that run saved its experiment: a new run starts; the old one says why it ended
    // (resume_experiment records it as failed) instead of staying "initialized" in list_runs.
    const fs::path cut = previous["run_dir"].get<std::string>();
    try {
      resume_experiment(cut.filename().string(), cut.parent_path(), registry, {});
    } catch (const std::exception&) {
    }
  }
  nlohmann::json status = {{"index", index}, {"status", "running"}, {"started_at", files::iso_now()},
                           {"pid", static_cast<long>(getpid())}};
  char host[256] = {0};
  gethostname(host, sizeof host - 1);
  status["host"] = host;
  write_trial_status(record, index, status);
  try {
    const fs::path file = trial_experiment_file(record, index);
    ExperimentSpec spec = ExperimentSpec::from_json(files::read_json(file), file.string());
    RunOptions options;
    options.on_created = [&](const std::string& run_name, const fs::path& run_dir) {
      status["run_name"] = run_name;
      status["run_dir"] = fs::absolute(run_dir).string();
      write_trial_status(record, index, status);
    };
    RunResult result;
    if (auto done = earlier_run.empty() ? std::nullopt : completed_run_result(earlier_run)) {
      // Cut after its run completed, before this trial said so: the run is collected as it is.
      std::cout << "trial " << index << ": " << earlier_run.filename().string() << " had completed\n";
      result = std::move(*done);
      options.on_created(result.run_name, result.run_dir);  // the trial names its run, as when it ran it
    } else if (!earlier_run.empty()) {
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
    write_trial_status(record, index, status);
    std::cout << "trial " << index << " completed: " << result.run_dir.string() << "\n";
    return 0;
  } catch (const std::exception& e) {
    status["status"] = "failed";
    status["error"] = e.what();
    status["finished_at"] = files::iso_now();
    write_trial_status(record, index, status);
    std::cerr << "trial " << index << " failed: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace klab
