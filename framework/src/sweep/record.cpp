#include "sweep/record.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <fstream>
#include <iomanip>
#include <map>
#include <ostream>
#include <sstream>

#include "eval/metrics.h"
#include "klab/error.h"
#include "klab/stats.h"
#include "runs/files.h"
#include "runs/training_manager.h"

namespace klab {

namespace fs = std::filesystem;

namespace {

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

}  // namespace

std::string trial_name(std::size_t index) {
  std::ostringstream s;
  s << "trial-" << std::setw(4) << std::setfill('0') << index;
  return s.str();
}
fs::path trial_experiment_file(const fs::path& record, std::size_t i) { return record / "trials" / (trial_name(i) + ".json"); }
fs::path trial_status_file(const fs::path& record, std::size_t i) { return record / "trials" / (trial_name(i) + ".status.json"); }
fs::path trial_log_file(const fs::path& record, std::size_t i) { return record / "logs" / (trial_name(i) + ".log"); }

void write_trial_status(const fs::path& record, std::size_t i, const nlohmann::json& status) {
  files::write_json(trial_status_file(record, i), status);
}

// Marks a trial pending again before it (re)starts, keeping the run it had begun, which the
// trial process then continues from its newest checkpoint.
void queue_trial(const fs::path& record, std::size_t i) {
  const nlohmann::json previous = read_trial_status(record, i);
  nlohmann::json s = {{"index", i}, {"status", "pending"}, {"queued_at", files::iso_now()}};
  for (const char* key : {"run_name", "run_dir"}) {
    if (previous.contains(key)) s[key] = previous[key];
  }
  write_trial_status(record, i, s);
}

// Marks a trial failed or interrupted, and its run too when the trial had created one.
void end_trial(const fs::path& record, std::size_t i, const std::string& status, const std::string& error) {
  nlohmann::json s = read_trial_status(record, i);
  s["status"] = status;
  s["error"] = error;
  s["finished_at"] = files::iso_now();
  write_trial_status(record, i, s);
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

std::string walk_forward_name(std::size_t group) {
  std::ostringstream s;
  s << "wf-" << std::setw(4) << std::setfill('0') << group;
  return s.str();
}
fs::path walk_forward_dir(const fs::path& record, std::size_t group) {
  return record / "walk_forward" / walk_forward_name(group);
}

nlohmann::json read_walk_forward_status(const fs::path& record, std::size_t group) {
  try {
    return files::read_json(walk_forward_dir(record, group) / "status.json");
  } catch (const Error&) {
    return {{"group", group}, {"status", "pending"}};
  }
}

nlohmann::json read_trial_status(const fs::path& record, std::size_t i) {
  try {
    return files::read_json(trial_status_file(record, i));
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

fs::path create_sweep_record(const SweepPlan& plan, const fs::path& out, const std::string& executor) {
  const fs::path record = create_record_dir(out, plan.name);
  fs::create_directories(record / "trials");
  fs::create_directories(record / "logs");
  nlohmann::json sweep = {{"name", plan.name},
                          {"file", plan.file},
                          {"created_at", files::iso_now()},
                          {"metric", plan.metric},
                          {"metric_mode", plan.metric_mode.empty() ? (higher_is_better(plan.metric) ? "max" : "min")
                                                                   : plan.metric_mode},
                          {"executor", executor.empty() ? plan.executor : executor},
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
  if (plan.walk_forward) {  // trials are segments; each (point, seed) group makes one combined record
    sweep["walk_forward"] = true;
    sweep["rolling"] = plan.rolling;
  }
  for (const auto& t : plan.trials) {
    nlohmann::json experiment = t.experiment;
    experiment["output_dir"] = out.string();
    // Relative data paths are resolved now, so trial processes may run from anywhere.
    if (experiment["data"]["options"].contains("path") && experiment["data"]["options"]["path"].is_string()) {
      experiment["data"]["options"]["path"] = fs::absolute(experiment["data"]["options"]["path"].get<std::string>()).string();
    }
    files::write_json(trial_experiment_file(record, t.index), experiment);
    sweep["trials"].push_back({{"index", t.index}, {"params", t.params}, {"seed", t.seed}, {"point", t.point_key},
                               {"threads", t.spec.train.threads}, {"experiment", trial_name(t.index) + ".json"}});
    if (plan.walk_forward) {
      sweep["trials"].back()["segment"] = t.segment;
      sweep["trials"].back()["group"] = t.group;
    }
    write_trial_status(record, t.index, {{"index", t.index}, {"status", "pending"}});
  }
  files::write_json(record / "sweep.json", sweep);
  std::ifstream original(plan.file);
  if (original) {
    std::stringstream text;
    text << original.rdbuf();
    files::write_atomic(record / "experiment.yaml", text.str());
  }
  return record;
}

void print_trial_line(std::ostream* out, const fs::path& record, const nlohmann::json& sweep, std::size_t index,
            std::size_t done, std::size_t total, double seconds) {
  if (!out) return;
  const auto s = read_trial_status(record, index);
  const auto& t = sweep["trials"][index];
  const std::string metric = sweep.value("metric", "mae");
  *out << "[" << done << "/" << total << "] " << trial_name(index) << " " << std::left << std::setw(11)
       << s.value("status", "?") << std::right;
  if (s.value("status", "") == "completed" && s.contains("eval")) {
    *out << metric << " " << std::fixed << std::setprecision(4) << metric_value(s["eval"], metric) << std::defaultfloat;
  } else if (s.contains("error")) {
    *out << s["error"].get<std::string>().substr(0, 120);
  }
  *out << "  " << describe_params(t["params"], t.value("seed", 0), true);
  if (t.contains("segment") && t["segment"].is_object()) {
    *out << " segment " << t["segment"].value("index", 0) << " (test "
         << t["segment"].value("test_start", "") << " .. " << t["segment"].value("test_end", "") << ")";
  }
  *out << "  (" << std::fixed
       << std::setprecision(1) << seconds << " s)" << std::defaultfloat << "\n"
       << std::flush;
}

SweepOutcome rank_sweep(const fs::path& record) {
  nlohmann::json sweep = files::read_json(record / "sweep.json");
  SweepOutcome outcome;
  outcome.record_dir = record;
  outcome.metric = sweep.value("metric", std::string("mae"));
  const bool higher = sweep.value("metric_mode", std::string(higher_is_better(outcome.metric) ? "max" : "min")) == "max";
  outcome.higher_is_better = higher;
  std::map<std::string, LeaderboardRow> points;
  std::vector<std::string> order;
  // The values a point is judged by: each completed trial's metric, or for a walk-forward sweep
  // each group's combined out-of-sample metric (one per seed), with where it came from.
  std::map<std::string, std::vector<std::pair<double, std::string>>> values;
  const bool walk_forward = sweep.value("walk_forward", false);
  outcome.walk_forward = walk_forward;
  std::map<std::size_t, std::string> group_point;
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
    if (walk_forward) group_point[t.value("group", std::size_t{0})] = key;
    if (st == "completed") {
      ++outcome.completed;
      if (walk_forward) continue;  // counted per group below
      ++row.completed;
      const double v = metric_value(s.value("eval", nlohmann::json::object()), outcome.metric);
      if (!std::isnan(v)) values[key].emplace_back(v, s.value("run_name", ""));  // NaN: e.g. rank_ic of one stock
    } else if (st == "failed" || st == "interrupted") {
      ++(st == "failed" ? outcome.failed : outcome.interrupted);
      if (walk_forward) continue;
      ++row.failed;
    } else {
      ++outcome.pending;
    }
  }
  for (const auto& [group, key] : group_point) {
    const nlohmann::json s = read_walk_forward_status(record, group);
    const std::string st = s.value("status", "pending");
    if (st == "completed") {
      ++points[key].completed;
      const double v = metric_value(s.value("eval", nlohmann::json::object()), outcome.metric);
      if (!std::isnan(v)) values[key].emplace_back(v, walk_forward_name(group));
    } else if (st == "failed") {
      ++points[key].failed;
    }
  }
  for (const auto& key : order) {
    LeaderboardRow row = points[key];
    const auto& vs = values[key];
    row.valued = vs.size();
    if (!vs.empty()) {
      std::vector<double> numbers;
      double best = vs.front().first;
      row.best_run = vs.front().second;
      for (const auto& [v, source] : vs) {
        numbers.push_back(v);
        if (higher ? v > best : v < best) {
          best = v;
          row.best_run = source;
        }
      }
      const MeanStd ms = mean_std(numbers);
      row.mean = ms.mean;
      row.std = vs.size() > 1 ? ms.std : 0.0;
    }
    outcome.leaderboard.push_back(row);
  }
  std::stable_sort(outcome.leaderboard.begin(), outcome.leaderboard.end(), [&](const LeaderboardRow& a, const LeaderboardRow& b) {
    if ((a.valued > 0) != (b.valued > 0)) return a.valued > 0;
    if (a.valued == 0) return false;
    return higher ? a.mean > b.mean : a.mean < b.mean;
  });
  for (std::size_t r = 0; r < outcome.leaderboard.size(); ++r) outcome.leaderboard[r].rank = r + 1;
  return outcome;
}

SweepOutcome collect_sweep(const fs::path& record) {
  SweepOutcome outcome = rank_sweep(record);
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
    if (row.valued) {
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
  out << "leaderboard by " << outcome.metric << (outcome.higher_is_better ? " (higher is better)" : " (lower is better)")
      << (outcome.walk_forward ? ", out of sample over every walk-forward segment" : "")
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
    if (row.valued) {
      value << std::fixed << std::setprecision(4) << row.mean;
      if (row.valued > 1) value << "±" << std::setprecision(4) << row.std;
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


std::map<std::string, nlohmann::json> sweep_trial_runs(const fs::path& record) {
  std::map<std::string, nlohmann::json> runs;
  const nlohmann::json sweep = files::read_json(record / "sweep.json");
  for (const auto& t : sweep.value("trials", nlohmann::json::array())) {
    const auto s = read_trial_status(record, t.value("index", std::size_t{0}));
    if (s.contains("run_name") && s["run_name"].is_string()) {
      runs[s["run_name"].get<std::string>()] = {{"trial", t["index"]}, {"params", t["params"]},
                                                {"trial_status", s.value("status", "")}};
    }
  }
  return runs;
}

}  // namespace klab
