#include "runs/run_index.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "eval/metrics.h"
#include "klab/error.h"
#include "runs/files.h"
#include "runs/run_lock.h"
#include "runs/training_manager.h"

namespace klab {

namespace fs = std::filesystem;

namespace {

const std::set<std::string>& numeric_fields() {
  static const std::set<std::string> f = {"epochs", "best_epoch", "mae", "rmse", "mape", "r2",
                                          "direction_accuracy", "test_samples", "baseline_mae", "baseline_rmse",
                                          "mae_vs_baseline", "rmse_vs_baseline", "ic", "rank_ic", "icir", "rank_icir",
                                          "excess_return", "information_ratio"};
  return f;
}
const std::set<std::string>& text_fields() {
  static const std::set<std::string> f = {"name", "symbol", "model", "status", "created", "updated", "data_source", "error", "owner"};
  return f;
}

nlohmann::json optional_json(const fs::path& path, std::vector<std::string>& problems) {
  if (!fs::exists(path)) return nullptr;
  try {
    return files::read_json(path);
  } catch (const Error& e) {
    problems.push_back(e.what());
    return nullptr;
  }
}

// A text field of metadata.json; a value of another type is a problem named with the file, never
// an exception that would hide every other run.
std::string text_field(const nlohmann::json& m, const char* key, std::vector<std::string>& problems) {
  const auto it = m.find(key);
  if (it != m.end() && !it->is_null() && !it->is_string()) {
    problems.push_back(std::string("metadata.json: ") + key + " is " + it->dump() + ", not a string");
  }
  return files::text_or(m, key);
}

// A metric as a finite number, or nothing (with a problem when it is there but not one).
void copy_metric(const nlohmann::json& from, const char* key, const char* file, nlohmann::json& fields,
                 std::vector<std::string>& problems) {
  if (!from.is_object()) return;
  const auto it = from.find(key);
  if (it == from.end() || it->is_null()) return;
  if (it->is_number() && std::isfinite(it->get<double>())) {
    fields[key] = *it;
  } else {
    problems.push_back(std::string(file) + ": " + key + " is " + it->dump() + ", not a finite number");
  }
}

}  // namespace

bool is_active_status(const std::string& status) {
  return status == kStatusInitialized || status == kStatusPreparing || status == kStatusTraining;
}

bool RunRecord::covers(const std::string& symbol) const {
  return std::find(symbols.begin(), symbols.end(), symbol) != symbols.end() ||
         std::find(symbols.begin(), symbols.end(), "all") != symbols.end();
}

bool is_price_metric(const std::string& field) {
  return field == "mae" || field == "rmse" || field == "baseline_mae" || field == "baseline_rmse";
}

std::string scale_free_metric(const std::string& field) {
  if (field == "mae" || field == "baseline_mae") return "mae_vs_baseline";
  if (field == "rmse" || field == "baseline_rmse") return "rmse_vs_baseline";
  return field;
}

bool is_known_field(const std::string& field) { return numeric_fields().count(field) || text_fields().count(field); }

std::vector<RunRecord> load_run_index(const fs::path& output_dir) {
  std::vector<RunRecord> out;
  for (auto& listing : TrainingManager::list_runs(output_dir)) {
    RunRecord r;
    r.name = listing.name;
    r.path = listing.path;
    if (!listing.problem.empty()) r.problems.push_back(listing.problem);
    const nlohmann::json& m = listing.metadata;
    auto& f = r.fields;
    f["name"] = r.name;
    f["symbol"] = text_field(m, "stock_symbol", r.problems);
    f["model"] = text_field(m, "model_type", r.problems);
    const std::string status = text_field(m, "status", r.problems);
    f["created"] = text_field(m, "created_at", r.problems);
    f["updated"] = text_field(m, "updated_at", r.problems);
    f["data_source"] = text_field(m, "data_source", r.problems);
    const std::string error = text_field(m, "error", r.problems);
    if (!error.empty()) f["error"] = error;
    if (!listing.problem.empty() || status.empty()) {
      if (listing.problem.empty() && r.problems.empty()) r.problems.push_back("metadata.json: no status");
      f["status"] = "unreadable";
    } else if (is_active_status(status)) {
      // Being written: by a live process holding the run's lock, or by one that died (kill -9,
      // a lost node) and left the status behind.
      if (auto owner = RunLock::holder(r.path)) {
        f["status"] = status;
        f["owner"] = owner->describe();
      } else {
        f["status"] = kStatusInterrupted;
        f["error"] = "the process writing it is gone (was " + status + "); resume with: sweep --resume " + r.name;
      }
    } else {
      f["status"] = status;
    }
    const auto args = optional_json(r.path / "model" / "training_args.json", r.problems);
    if (args.is_object()) {
      copy_metric(args, "total_epochs_trained", "training_args.json", f, r.problems);
      if (f.contains("total_epochs_trained")) f["epochs"] = f["total_epochs_trained"];
      f.erase("total_epochs_trained");
      copy_metric(args, "best_epoch", "training_args.json", f, r.problems);
    } else if (fs::exists(r.path / "logs" / "metrics.json")) {
      const auto log = optional_json(r.path / "logs" / "metrics.json", r.problems);
      if (log.is_array()) f["epochs"] = log.size();
    }
    const auto eval = optional_json(r.path / "results" / "eval_results.json", r.problems);
    const auto stored = m.find("eval_metrics");
    const nlohmann::json metrics = eval.is_object() ? eval : (stored != m.end() ? *stored : nlohmann::json::object());
    const char* metrics_file = eval.is_object() ? "eval_results.json" : "metadata.json";
    for (const char* k : {"mae", "rmse", "mape", "r2", "direction_accuracy", "test_samples"}) {
      copy_metric(metrics, k, metrics_file, f, r.problems);
    }
    // A run over several symbols: how it ranks stocks each day (eval_results.json cross_section)
    // and what its portfolio earns over the benchmark after costs (backtest).
    for (const char* k : {"ic", "rank_ic", "icir", "rank_icir", "excess_return", "information_ratio"}) {
      const double v = metric_value(eval, k);
      if (std::isfinite(v)) f[k] = v;
    }
    if (eval.is_object() && eval.contains("baseline")) {
      nlohmann::json baseline;
      copy_metric(eval["baseline"], "mae", "eval_results.json baseline", baseline, r.problems);
      copy_metric(eval["baseline"], "rmse", "eval_results.json baseline", baseline, r.problems);
      for (const char* k : {"mae", "rmse"}) {
        if (!baseline.contains(k)) continue;
        f[std::string("baseline_") + k] = baseline[k];
        if (f.contains(k) && baseline[k].get<double>() > 0) {
          f[std::string(k) + "_vs_baseline"] = f[k].get<double>() / baseline[k].get<double>();
        }
      }
    }
    const auto symbols = m.find("stock_symbols");
    if (symbols != m.end() && symbols->is_array()) {
      for (const auto& s : *symbols) {
        if (s.is_string()) r.symbols.push_back(s.get<std::string>());
      }
    } else if (!f["symbol"].get<std::string>().empty()) {
      r.symbols.push_back(f["symbol"].get<std::string>());
    }
    if (f.contains("test_samples") && f["test_samples"].get<double>() < kSmallTestSet) f["small_test_set"] = true;
    out.push_back(std::move(r));
  }
  return out;
}

nlohmann::json run_record_json(const RunRecord& run) {
  nlohmann::json item = run.fields;
  item["path"] = run.path.string();
  if (!run.problems.empty()) item["problems"] = run.problems;
  return item;
}

RunFilter RunFilter::parse(const std::string& text) {
  // The leftmost operator wins, the longer one at the same place ("<=" before "<").
  static const std::vector<std::string> ops = {"!=", "<=", ">=", "=", "<", ">", "~"};
  std::size_t first = std::string::npos;
  std::string first_op;
  for (const auto& o : ops) {
    const auto p = text.find(o);
    if (p != std::string::npos && p > 0 && (p < first || (p == first && o.size() > first_op.size()))) {
      first = p;
      first_op = o;
    }
  }
  if (first == std::string::npos) {
    throw ConfigError("--filter " + text + ": expected FIELD=VALUE, FIELD!=VALUE, FIELD<N, FIELD>N or FIELD~TEXT");
  }
  RunFilter f{text.substr(0, first), first_op, text.substr(first + first_op.size())};
  if (!is_known_field(f.field)) {
    throw ConfigError("--filter " + text + ": unknown field '" + f.field +
                      "' (name, symbol, model, status, created, data_source, epochs, mae, rmse, mape, r2, direction_accuracy, ...)");
  }
  if (f.op != "=" && f.op != "!=" && f.op != "~" && numeric_fields().count(f.field)) {
    try {
      std::size_t used = 0;
      std::stod(f.value, &used);
      if (used != f.value.size()) throw std::invalid_argument("trailing characters");
    } catch (const std::exception&) {
      throw ConfigError("--filter " + text + ": '" + f.value + "' is not a number");
    }
  }
  return f;
}

bool RunFilter::matches(const RunRecord& run) const {
  if (!run.fields.contains(field)) return op == "!=";
  const nlohmann::json& v = run.fields[field];
  if (v.is_number()) {
    const double x = v.get<double>();
    double y = 0;
    try {
      y = std::stod(value);
    } catch (const std::exception&) {
      return op == "!=";
    }
    if (op == "=") return x == y;
    if (op == "!=") return x != y;
    if (op == "<") return x < y;
    if (op == ">") return x > y;
    if (op == "<=") return x <= y;
    if (op == ">=") return x >= y;
    return false;
  }
  const std::string s = v.is_string() ? v.get<std::string>() : v.dump();
  if (op == "=") return s == value;
  if (op == "!=") return s != value;
  if (op == "~") return s.find(value) != std::string::npos;
  if (op == "<") return s < value;
  if (op == ">") return s > value;
  if (op == "<=") return s <= value;
  if (op == ">=") return s >= value;
  return false;
}

void sort_runs(std::vector<RunRecord>& runs, const std::string& field, bool reverse) {
  if (!is_known_field(field)) {
    throw ConfigError("--sort " + field + ": unknown field (mae, rmse, mape, r2, direction_accuracy, created, name, ...)");
  }
  const bool higher_first = higher_is_better(field) || field == "created" || field == "updated" ||
                            field == "epochs" || field == "test_samples";
  std::stable_sort(runs.begin(), runs.end(), [&](const RunRecord& a, const RunRecord& b) {
    const bool ha = a.fields.contains(field), hb = b.fields.contains(field);
    if (ha != hb) return ha;
    if (!ha) return false;
    const auto& x = a.fields[field];
    const auto& y = b.fields[field];
    bool less = x < y, greater = y < x;
    if (!less && !greater) return false;
    bool first = higher_first ? greater : less;
    return reverse ? !first : first;
  });
}

}  // namespace klab
