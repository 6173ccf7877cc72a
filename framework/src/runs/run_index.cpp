#include "runs/run_index.h"

#include <algorithm>
#include <set>

#include "klab/error.h"
#include "runs/files.h"
#include "runs/training_manager.h"

namespace klab {

namespace fs = std::filesystem;

namespace {

const std::set<std::string>& numeric_fields() {
  static const std::set<std::string> f = {"epochs", "best_epoch", "mae", "rmse", "mape", "r2",
                                          "direction_accuracy", "test_samples", "baseline_mae"};
  return f;
}
const std::set<std::string>& text_fields() {
  static const std::set<std::string> f = {"name", "symbol", "model", "status", "created", "updated", "data_source", "error"};
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

}  // namespace

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
    f["symbol"] = m.value("stock_symbol", "");
    f["model"] = m.value("model_type", "");
    f["status"] = listing.problem.empty() ? m.value("status", "unknown") : "unreadable";
    f["created"] = m.value("created_at", "");
    f["updated"] = m.value("updated_at", "");
    f["data_source"] = m.value("data_source", "");
    if (m.contains("error") && m["error"].is_string()) f["error"] = m["error"];
    const auto args = optional_json(r.path / "model" / "training_args.json", r.problems);
    if (args.is_object()) {
      if (args.contains("total_epochs_trained")) f["epochs"] = args["total_epochs_trained"];
      if (args.contains("best_epoch")) f["best_epoch"] = args["best_epoch"];
    } else if (fs::exists(r.path / "logs" / "metrics.json")) {
      const auto log = optional_json(r.path / "logs" / "metrics.json", r.problems);
      if (log.is_array()) f["epochs"] = log.size();
    }
    const auto eval = optional_json(r.path / "results" / "eval_results.json", r.problems);
    const nlohmann::json metrics = eval.is_object() ? eval : m.value("eval_metrics", nlohmann::json::object());
    for (const char* k : {"mae", "rmse", "mape", "r2", "direction_accuracy", "test_samples"}) {
      if (metrics.is_object() && metrics.contains(k) && metrics[k].is_number()) f[k] = metrics[k];
    }
    if (eval.is_object() && eval.contains("baseline") && eval["baseline"].contains("mae")) f["baseline_mae"] = eval["baseline"]["mae"];
    out.push_back(std::move(r));
  }
  return out;
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
  const bool higher_first = field == "r2" || field == "direction_accuracy" || field == "created" || field == "updated" ||
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
