#include "sweep/walk_forward.h"

#include <algorithm>
#include <fstream>
#include <map>
#include <ostream>
#include <set>
#include <vector>

#include "config/experiment.h"
#include "klab/error.h"
#include "plugins/registry.h"
#include "runs/files.h"
#include "runs/predictions_file.h"
#include "sweep/record.h"
#include "workflow/evaluate_panel.h"

namespace klab {

namespace fs = std::filesystem;

namespace {

struct Part {
  std::size_t trial = 0;
  nlohmann::json segment;
  nlohmann::json status;
};

// The experiment the group's segments were cut from, over the whole walk: the first segment's
// data start and split, the last one's end (what the combined evaluation loads).
ExperimentSpec whole_walk(const fs::path& record, const std::vector<Part>& parts, const std::string& name) {
  nlohmann::json j = files::read_json(trial_experiment_file(record, parts.back().trial));
  const nlohmann::json& first = parts.front().segment;
  j["name"] = name;
  j["data"]["start_date"] = first["data_start"];
  j["data"]["end_date"] = parts.back().segment["test_end"];
  j["data"]["split"] = {{"val_start", first["val_start"]}, {"test_start", first["test_start"]}};
  return ExperimentSpec::from_json(j, trial_experiment_file(record, parts.back().trial).string());
}

void combine_group(const fs::path& record, const nlohmann::json& sweep, std::size_t group, std::vector<Part> parts,
                   PluginRegistry& registry, std::ostream* progress) {
  const fs::path dir = walk_forward_dir(record, group);
  fs::create_directories(dir / "results");
  // This combination's own log: a retry after a failed one starts it afresh.
  std::ofstream(dir / "combine.log", std::ios::trunc);
  auto log = [&](const std::string& line) {
    std::ofstream(dir / "combine.log", std::ios::app) << "[" << files::log_now() << "] " << line << "\n";
  };

  // The segments' test predictions, each kept to its own test dates, in date order.
  Predictions predictions;
  nlohmann::json segments = nlohmann::json::array();
  std::set<std::pair<std::string, std::string>> seen;
  for (const Part& part : parts) {
    const std::string run_dir = part.status.value("run_dir", "");
    const std::string from = part.segment["test_start"], to = part.segment["test_end"];
    const Predictions run = read_predictions(run_dir);
    std::size_t kept = 0;
    for (const auto& p : run) {
      if (p.date < from || p.date > to) continue;
      if (!seen.insert({p.date, p.symbol}).second) {
        throw DataError(run_dir + ": prediction for " + p.symbol + " on " + p.date + " also in an earlier segment");
      }
      predictions.push_back(p);
      ++kept;
    }
    nlohmann::json s = part.segment;
    s["trial"] = trial_name(part.trial);
    s["run_name"] = part.status.value("run_name", "");
    s["run_dir"] = run_dir;
    s["test_predictions"] = kept;
    const nlohmann::json& eval = part.status.value("eval", nlohmann::json::object());
    if (eval.contains("cross_section")) {
      s["ic_mean"] = eval["cross_section"].value("ic_mean", nlohmann::json(nullptr));
      s["rank_ic_mean"] = eval["cross_section"].value("rank_ic_mean", nlohmann::json(nullptr));
    }
    segments.push_back(s);
    log("segment " + std::to_string(s["index"].get<std::size_t>()) + ": " + from + " .. " + to + ", " +
        std::to_string(kept) + " predictions from " + run_dir);
  }
  std::stable_sort(predictions.begin(), predictions.end(), [](const Prediction& a, const Prediction& b) {
    return a.date != b.date ? a.date < b.date : a.symbol < b.symbol;
  });
  if (predictions.empty()) throw DataError("the segments hold no test predictions");

  const ExperimentSpec spec = whole_walk(record, parts, sweep.value("name", std::string("walk_forward")));
  files::write_json(dir / "experiment.json", spec.to_json());
  files::write_json(dir / "segments.json", segments);
  write_predictions(dir / "results", predictions, true);

  nlohmann::json eval = evaluate_combined_predictions(spec, registry, predictions, PanelOutputs{dir, log});
  eval["test_start"] = parts.front().segment["test_start"];
  eval["walk_forward"] = {{"segments", segments.size()},
                          {"rolling", sweep.value("rolling", nlohmann::json(nullptr))},
                          {"note", "the segments' test predictions, concatenated: every date predicted by a model "
                                   "trained and validated before its segment's test start"}};
  files::write_json(dir / "results" / "eval_results.json", eval);
  files::write_json(dir / "status.json", {{"group", group},
                                          {"status", "completed"},
                                          {"trials", [&] {
                                             nlohmann::json t = nlohmann::json::array();
                                             for (const auto& p : parts) t.push_back(p.trial);
                                             return t;
                                           }()},
                                          {"eval", eval},
                                          {"finished_at", files::iso_now()}});
  if (progress) {
    const auto& cs = eval["cross_section"];
    *progress << walk_forward_name(group) << ": " << parts.size() << " segments, " << cs.value("days", 0)
              << " test days out of sample: IC " << files::log_number(cs.value("ic_mean", 0.0)) << ", Rank IC "
              << files::log_number(cs.value("rank_ic_mean", 0.0));
    if (eval.contains("backtest") && eval["backtest"].contains("excess_return_with_cost")) {
      *progress << ", excess return "
                << files::log_number(eval["backtest"]["excess_return_with_cost"].value("annualized_return", 0.0))
                << " a year after costs";
    }
    *progress << " (" << dir.string() << ")\n";
  }
}

}  // namespace

std::size_t combine_walk_forward(const fs::path& record, PluginRegistry& registry, std::ostream* progress) {
  const nlohmann::json sweep = files::read_json(record / "sweep.json");
  if (!sweep.value("walk_forward", false)) return 0;
  std::map<std::size_t, std::vector<Part>> groups;
  for (const auto& t : sweep["trials"]) {
    const std::size_t i = t["index"];
    groups[t.value("group", std::size_t{0})].push_back({i, t["segment"], read_trial_status(record, i)});
  }
  std::size_t combined = 0;
  for (auto& [group, parts] : groups) {
    if (read_walk_forward_status(record, group).value("status", "") == "completed") continue;
    std::string failed;
    bool finished = true;
    for (const auto& p : parts) {
      const std::string st = p.status.value("status", "pending");
      if (st == "failed" || st == "interrupted") failed += (failed.empty() ? "" : ", ") + trial_name(p.trial);
      finished = finished && st == "completed";
    }
    if (!failed.empty()) {
      fs::create_directories(walk_forward_dir(record, group));
      files::write_json(walk_forward_dir(record, group) / "status.json",
                        {{"group", group}, {"status", "failed"}, {"error", "segment trial(s) " + failed + " did not complete"}});
      continue;
    }
    if (!finished) continue;
    std::sort(parts.begin(), parts.end(), [](const Part& a, const Part& b) { return a.segment["index"] < b.segment["index"]; });
    try {
      combine_group(record, sweep, group, parts, registry, progress);
      ++combined;
    } catch (const std::exception& e) {
      files::write_json(walk_forward_dir(record, group) / "status.json",
                        {{"group", group}, {"status", "failed"}, {"error", e.what()}});
      if (progress) *progress << walk_forward_name(group) << ": not combined: " << e.what() << "\n";
    }
  }
  return combined;
}

}  // namespace klab
