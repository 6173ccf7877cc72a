#include "report/report_data.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "eval/metrics.h"
#include "runs/files.h"
#include "runs/predictions_file.h"
#include "runs/run_index.h"
#include "runs/training_manager.h"
#include "sweep/record.h"

namespace klab::report {

namespace fs = std::filesystem;

namespace {

constexpr std::size_t kLogLines = 400;  // training.log's last lines on a run page
constexpr std::size_t kMaxCompared = 12;

// A run file as JSON, or null with a line in `problems` when it is there but cannot be read.
nlohmann::json optional_file(const fs::path& path, const std::string& shown_as, nlohmann::json& problems) {
  std::error_code ec;
  if (!fs::exists(path, ec)) return nullptr;
  try {
    return files::read_json(path);
  } catch (const std::exception& e) {
    problems.push_back(shown_as + ": " + std::string(e.what()).substr(0, 300));
    return nullptr;
  }
}

double number_or_nan(const nlohmann::json& j, const char* key) {
  const auto it = j.find(key);
  return it != j.end() && it->is_number() ? it->get<double>() : std::nan("");
}

// metadata.json's stock_names ({"600519": "贵州茅台"}), {} when the run recorded none.
nlohmann::json stock_names_of(const nlohmann::json& metadata) {
  const auto it = metadata.is_object() ? metadata.find("stock_names") : metadata.end();
  return it != metadata.end() && it->is_object() ? *it : nlohmann::json::object();
}

// NaN and infinities become null (JSON has neither).
nlohmann::json number(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); }

std::string last_lines(const fs::path& path, std::size_t n) {
  std::ifstream in(path);
  if (!in) return "";
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(in, line)) lines.push_back(line);
  std::ostringstream out;
  if (lines.size() > n) out << "... (" << lines.size() - n << " earlier lines in logs/training.log)\n";
  for (std::size_t i = lines.size() > n ? lines.size() - n : 0; i < lines.size(); ++i) out << lines[i] << "\n";
  return out.str();
}

// "model": {"type": "lstm", "hidden_size": 32} -> model.type, model.hidden_size.
void flatten(const nlohmann::json& j, const std::string& prefix, nlohmann::json& out) {
  if (j.is_object() && !j.empty()) {
    for (const auto& [k, v] : j.items()) flatten(v, prefix.empty() ? k : prefix + "." + k, out);
  } else {
    out[prefix] = j;
  }
}

nlohmann::json epochs_of(const nlohmann::json& log) {
  nlohmann::json epochs = nlohmann::json::array();
  if (!log.is_array()) return epochs;
  for (const auto& e : log) {
    if (!e.is_object() || !e.contains("epoch") || !e["epoch"].is_number()) continue;
    epochs.push_back({{"epoch", e["epoch"]},
                      {"train_loss", number(number_or_nan(e, "train_loss"))},
                      {"val_loss", number(number_or_nan(e, "val_loss"))},
                      {"seconds", number(number_or_nan(e, "epoch_seconds"))}});
  }
  return epochs;
}

nlohmann::json ic_of(const nlohmann::json& ic) {
  if (!ic.is_object() || !ic.contains("days") || !ic["days"].is_array()) return nullptr;
  nlohmann::json dates = nlohmann::json::array(), ics = nlohmann::json::array(), ranks = nlohmann::json::array(),
                 stocks = nlohmann::json::array();
  for (const auto& d : ic["days"]) {
    if (!d.is_object()) continue;
    dates.push_back(files::text_or(d, "date"));
    ics.push_back(number(number_or_nan(d, "ic")));
    ranks.push_back(number(number_or_nan(d, "rank_ic")));
    stocks.push_back(number(number_or_nan(d, "stocks")));
  }
  return {{"dates", dates}, {"ic", ics}, {"rank_ic", ranks}, {"stocks", stocks}};
}

nlohmann::json backtest_of(const nlohmann::json& bt) {
  if (!bt.is_object() || !bt.contains("daily") || !bt["daily"].is_array()) return nullptr;
  nlohmann::json out = {{"summary", bt.value("summary", nlohmann::json::object())},
                        {"options", bt.value("options", nlohmann::json::object())},
                        {"strategy", bt.value("strategy", nlohmann::json())}};
  const char* columns[] = {"value", "return", "bench", "bench_cap_weighted", "excess", "cost", "turnover", "holdings"};
  out["dates"] = nlohmann::json::array();
  for (const char* c : columns) out[c] = nlohmann::json::array();
  for (const auto& d : bt["daily"]) {
    if (!d.is_object()) continue;
    out["dates"].push_back(files::text_or(d, "date"));
    for (const char* c : columns) out[c].push_back(number(number_or_nan(d, c)));
  }
  return out;
}

// The run's test predictions: all of them when they fit, else those of one symbol.
nlohmann::json predictions_of(const fs::path& run_dir, const std::string& wanted, const nlohmann::json& names,
                              nlohmann::json& problems, nlohmann::json& lacks) {
  Predictions predictions;
  try {
    predictions = read_predictions(run_dir);
  } catch (const std::exception& e) {
    std::error_code ec;
    if (fs::exists(run_dir / "results" / kPredictionsJson, ec) || fs::exists(run_dir / "results" / kPredictionsCsvGz, ec)) {
      problems.push_back(std::string(e.what()).substr(0, 300));
    } else {
      lacks.push_back("test predictions: results/ has no predictions file yet (written when the run is evaluated)");
    }
    return nullptr;
  }
  std::set<std::string> symbols;
  bool prices = true;
  for (const auto& p : predictions) {
    symbols.insert(p.symbol);
    // A several-symbol run's file holds returns (or scores): prices read back from it would be
    // last_close × (1 + score), which means nothing for a score.
    if (!std::isfinite(p.prediction) || std::isfinite(p.predicted_target)) prices = false;
  }
  if (!wanted.empty() && !symbols.count(wanted)) throw NotFound("symbol " + wanted + ": not in this run's predictions");
  const std::string only = predictions.size() <= kMaxPredictionRows ? wanted : (wanted.empty() && !symbols.empty() ? *symbols.begin() : wanted);
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& p : predictions) {
    if (!only.empty() && p.symbol != only) continue;
    if (prices) {
      rows.push_back({p.date, p.symbol, number(p.prediction), number(p.label), number(p.last_close)});
    } else {
      rows.push_back({p.date, p.symbol, number(p.predicted_return()), number(p.label_return()), number(p.last_close)});
    }
  }
  nlohmann::json shown_names = nlohmann::json::object();
  for (const auto& s : symbols) {  // names: stock_names_of(), always an object
    if (names.contains(s) && names[s].is_string()) shown_names[s] = names[s];
  }
  return {{"kind", prices ? "price" : "return"}, {"symbols", symbols}, {"names", shown_names}, {"rows", rows},
          {"complete", only.empty()}, {"total_rows", predictions.size()}};
}

const RunRecord* find_record(const std::vector<RunRecord>& runs, const std::string& name) {
  for (const auto& r : runs) {
    if (r.name == name) return &r;
  }
  return nullptr;
}

fs::path run_folder(const fs::path& output_dir, const std::string& name) {
  std::error_code ec;
  if (!is_plain_name(name) || !fs::is_directory(output_dir / name, ec) || !fs::exists(output_dir / name / "metadata.json", ec)) {
    throw NotFound("no run named \"" + name.substr(0, 200) + "\" in the output folder");
  }
  return output_dir / name;
}

nlohmann::json run_page(const fs::path& output_dir, const std::vector<RunRecord>& runs, const std::string& name,
                        const std::string& symbol, bool full) {
  const fs::path dir = run_folder(output_dir, name);
  nlohmann::json page = {{"page", "run"}, {"name", name}, {"problems", nlohmann::json::array()},
                         {"lacks", nlohmann::json::array()}};
  nlohmann::json& problems = page["problems"];
  nlohmann::json& lacks = page["lacks"];
  const RunRecord* record = find_record(runs, name);
  page["record"] = record ? run_record_json(*record) : nlohmann::json::object();
  if (record) {
    for (const auto& p : record->problems) problems.push_back(p);
  }
  page["metadata"] = optional_file(dir / "metadata.json", "metadata.json", problems);
  page["experiment"] = optional_file(dir / "experiment.json", "experiment.json", problems);
  page["config"] = optional_file(dir / "config.json", "config.json", problems);
  page["training_args"] = optional_file(dir / "model" / "training_args.json", "model/training_args.json", problems);
  page["eval"] = optional_file(dir / "results" / "eval_results.json", "results/eval_results.json", problems);
  page["epochs"] = epochs_of(optional_file(dir / "logs" / "metrics.json", "logs/metrics.json", problems));
  page["best_epoch"] = page["record"].value("best_epoch", nlohmann::json());
  if (page["epochs"].empty()) lacks.push_back("loss curves: logs/metrics.json has no finished epoch yet");
  const nlohmann::json names = stock_names_of(page["metadata"]);
  page["names"] = names;
  const nlohmann::json ic = optional_file(dir / "results" / "ic.json", "results/ic.json", problems);
  page["ic"] = ic_of(ic);
  const nlohmann::json bt = optional_file(dir / "results" / "backtest.json", "results/backtest.json", problems);
  page["backtest"] = backtest_of(bt);
  const bool several = page["record"].contains("rank_ic") || page["ic"].is_object() ||
                       (page["metadata"].is_object() && page["metadata"].contains("stock_symbols") &&
                        page["metadata"]["stock_symbols"].is_array() && page["metadata"]["stock_symbols"].size() > 1);
  if (page["ic"].is_null()) {
    lacks.push_back(several ? "daily IC and Rank IC: results/ic.json is not written yet (the run is not evaluated)"
                            : "daily IC and Rank IC: a one-stock run has no cross-section (train on several symbols "
                              "or a universe to rank stocks each day)");
  }
  if (page["backtest"].is_null()) {
    lacks.push_back(several ? "the backtest's equity curve: results/backtest.json is not written yet"
                            : "the backtest's equity curve: a one-stock run buys no portfolio (it needs several symbols)");
  }
  if (full) {
    page["log"] = last_lines(dir / "logs" / "training.log", kLogLines);
    page["predictions"] = predictions_of(dir, symbol, names, problems, lacks);
  }
  page["active"] = record && is_active_status(record->fields.value("status", ""));
  return page;
}

}  // namespace

bool is_plain_name(const std::string& name) {
  if (name.empty() || name.size() > 255 || name[0] == '.' || name[0] == '-') return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-';
  });
}

std::vector<std::string> split_names(const std::string& text) {
  std::vector<std::string> names;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    if (!item.empty()) names.push_back(item);
  }
  return names;
}

nlohmann::json index_data(const fs::path& output_dir) {
  nlohmann::json page = {{"page", "index"}, {"output_dir", output_dir.string()}, {"runs", nlohmann::json::array()},
                         {"sweeps", nlohmann::json::array()}, {"problems", nlohmann::json::array()}};
  for (const auto& r : load_run_index(output_dir)) {
    nlohmann::json item = run_record_json(r);
    item.erase("path");  // the pages name runs, never disk paths
    // The stock's name beside its code (贵州茅台), when the run recorded it.
    nlohmann::json ignored = nlohmann::json::array();
    const nlohmann::json names = stock_names_of(optional_file(r.path / "metadata.json", "", ignored));
    const std::string symbol = item.value("symbol", "");
    if (names.contains(symbol) && names[symbol].is_string()) item["symbol_name"] = names[symbol];
    item["symbols"] = r.symbols.size();
    page["runs"].push_back(item);
  }
  for (const auto& name : TrainingManager::other_folders(output_dir)) {
    page["problems"].push_back(name + "/: not a run (no metadata.json)");
  }
  std::error_code ec;
  const fs::path records = output_dir / kSweepRecordsFolder;
  if (fs::is_directory(records, ec)) {
    std::vector<fs::path> dirs;
    for (const auto& e : fs::directory_iterator(records, ec)) {
      if (e.is_directory(ec) && fs::exists(e.path() / "sweep.json", ec)) dirs.push_back(e.path());
    }
    std::sort(dirs.begin(), dirs.end());
    for (const auto& d : dirs) {
      nlohmann::json s = {{"name", d.filename().string()}};
      try {
        const nlohmann::json sweep = files::read_json(d / "sweep.json");
        s["experiment"] = files::text_or(sweep, "name");
        s["created"] = files::text_or(sweep, "created_at");
        s["executor"] = files::text_or(sweep, "executor");
        const SweepOutcome o = rank_sweep(d);
        s["metric"] = o.metric;
        s["metric_mode"] = o.higher_is_better ? "max" : "min";
        s["trials"] = sweep.contains("trials") && sweep["trials"].is_array() ? sweep["trials"].size() : 0;
        s["completed"] = o.completed;
        s["failed"] = o.failed + o.interrupted;
        s["pending"] = o.pending;
        if (!o.leaderboard.empty() && o.leaderboard.front().valued) s["best"] = o.leaderboard.front().mean;
      } catch (const std::exception& e) {
        s["problem"] = std::string(e.what()).substr(0, 300);
      }
      page["sweeps"].push_back(s);
    }
  }
  return page;
}

nlohmann::json run_data(const fs::path& output_dir, const std::string& name, const std::string& symbol) {
  return run_page(output_dir, load_run_index(output_dir), name, symbol, true);
}

nlohmann::json run_predictions(const fs::path& output_dir, const std::string& name, const std::string& symbol) {
  const fs::path dir = run_folder(output_dir, name);
  nlohmann::json problems = nlohmann::json::array(), lacks = nlohmann::json::array();
  const nlohmann::json names = stock_names_of(optional_file(dir / "metadata.json", "metadata.json", problems));
  const nlohmann::json predictions = predictions_of(dir, symbol, names, problems, lacks);
  return predictions.is_null() ? nlohmann::json::object() : predictions;
}

nlohmann::json compare_data(const fs::path& output_dir, const std::vector<std::string>& names) {
  if (names.size() < 2) throw ConfigError("compare: name two runs or more (runs=A,B)");
  if (names.size() > kMaxCompared) throw ConfigError("compare: at most " + std::to_string(kMaxCompared) + " runs at once");
  const auto runs = load_run_index(output_dir);
  nlohmann::json page = {{"page", "compare"}, {"runs", nlohmann::json::array()}};
  for (const auto& n : names) page["runs"].push_back(run_page(output_dir, runs, n, "", false));
  return page;
}

nlohmann::json sweep_data(const fs::path& output_dir, const std::string& name) {
  std::error_code ec;
  const fs::path record = output_dir / kSweepRecordsFolder / name;
  if (!is_plain_name(name) || !fs::exists(record / "sweep.json", ec)) {
    throw NotFound("no sweep record named \"" + name.substr(0, 200) + "\" in the output folder");
  }
  nlohmann::json page = {{"page", "sweep"}, {"name", name}, {"problems", nlohmann::json::array()}};
  nlohmann::json sweep;
  try {
    sweep = files::read_json(record / "sweep.json");
  } catch (const std::exception& e) {
    page["problems"].push_back(std::string(e.what()).substr(0, 300));
    page["trials"] = nlohmann::json::array();
    page["leaderboard"] = nlohmann::json::array();
    return page;
  }
  const std::string metric = sweep.value("metric", std::string("mae"));
  page["metric"] = metric;
  page["metric_mode"] = sweep.value("metric_mode", std::string(higher_is_better(metric) ? "max" : "min"));
  nlohmann::json summary = sweep;
  summary.erase("trials");
  page["sweep"] = summary;
  page["trials"] = nlohmann::json::array();
  std::map<std::string, std::set<std::string>> seen;  // flattened key -> distinct values
  const nlohmann::json trials = sweep.value("trials", nlohmann::json::array());
  for (const auto& t : trials) {
    if (!t.is_object() || !t.contains("index") || !t["index"].is_number_unsigned()) continue;
    const std::size_t i = t["index"];
    nlohmann::json params = nlohmann::json::object();
    flatten(t.value("params", nlohmann::json::object()), "", params);
    nlohmann::json row = {{"index", i}, {"params", params}, {"seed", t.value("seed", nlohmann::json())}};
    if (t.contains("segment")) row["segment"] = t["segment"];
    for (const auto& [k, v] : params.items()) seen[k].insert(v.dump());
    seen["seed"].insert(row["seed"].dump());
    try {
      const nlohmann::json s = read_trial_status(record, i);
      row["status"] = files::text_or(s, "status", "pending");
      row["run"] = files::text_or(s, "run_name");
      if (s.contains("error") && s["error"].is_string()) row["error"] = s["error"];
      if (row["status"] == "completed") row["value"] = number(metric_value(s.value("eval", nlohmann::json::object()), metric));
    } catch (const std::exception& e) {
      row["status"] = "unreadable";
      page["problems"].push_back(trial_name(i) + ": " + std::string(e.what()).substr(0, 300));
    }
    page["trials"].push_back(row);
  }
  nlohmann::json axes = nlohmann::json::array();
  for (const auto& [k, values] : seen) {
    if (values.size() > 1) axes.push_back(k);
  }
  page["axes"] = axes;
  page["leaderboard"] = nlohmann::json::array();
  try {
    const SweepOutcome o = rank_sweep(record);
    page["walk_forward"] = o.walk_forward;
    for (const auto& row : o.leaderboard) {
      nlohmann::json params = nlohmann::json::object();
      flatten(row.params, "", params);
      page["leaderboard"].push_back({{"rank", row.rank}, {"params", params},
                                     {"mean", row.valued ? number(row.mean) : nlohmann::json()},
                                     {"std", row.valued > 1 ? number(row.std) : nlohmann::json()},
                                     {"completed", row.completed}, {"failed", row.failed}, {"best_run", row.best_run}});
    }
  } catch (const std::exception& e) {
    page["problems"].push_back("leaderboard: " + std::string(e.what()).substr(0, 300));
  }
  return page;
}

}  // namespace klab::report
