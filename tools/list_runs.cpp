// list_runs — lists, compares and maintains the runs under out/.
// Over 400 lines: one tool with four jobs users asked for together (list, detail, compare,
// prune/delete); what it reads and decides lives in runs/run_index.h and sweep/record.h.
//
//   list_runs                                    table of every run, newest first
//   list_runs --sort mae --filter status=completed --filter model=lstm
//   list_runs --run 000001_lstm_20250119_143025  one run in detail
//   list_runs --compare RUN_A RUN_B              side by side
//   list_runs --sweep grid_20250119_150000       the runs of one sweep
//   list_runs --json
//   list_runs --delete RUN [--yes]               remove one run
//   list_runs --prune --filter status=failed [--keep-best 3 --sort mae] [--dry-run] [--yes]
//   list_runs --copy RUN --to backups/
#include <unistd.h>

#include <algorithm>
#include <iomanip>
#include <iostream>
#include <map>
#include <set>

#include <boost/program_options.hpp>

#include "cli/options.h"
#include "runs/files.h"
#include "runs/predictions_file.h"
#include "klab/data/dates.h"
#include "runs/run_index.h"
#include "runs/run_lock.h"
#include "runs/training_manager.h"
#include "sweep/record.h"

namespace po = boost::program_options;
namespace fs = std::filesystem;

namespace {

std::string cell(const nlohmann::json& fields, const std::string& key, int precision = 4) {
  if (!fields.contains(key) || fields[key].is_null()) return "-";
  const auto& v = fields[key];
  if (v.is_number_float()) {
    std::ostringstream s;
    s << std::fixed << std::setprecision(precision) << v.get<double>();
    return s.str();
  }
  if (v.is_string()) return v.get<std::string>();
  return v.dump();
}

void print_table(const std::vector<klab::RunRecord>& runs, std::ostream& out) {
  struct Column {
    const char* title;
    const char* key;
    int width;
    int precision;
  };
  const std::vector<Column> columns = {{"NAME", "name", 36, 0},        {"SYMBOL", "symbol", 8, 0},
                                       {"MODEL", "model", 12, 0},      {"STATUS", "status", 13, 0},
                                       {"CREATED", "created", 20, 0},  {"EPOCHS", "epochs", 7, 0},
                                       {"MAE", "mae", 11, 4},          {"RMSE", "rmse", 11, 4},
                                       {"MAPE%", "mape", 8, 2},        {"DIR%", "direction_accuracy", 7, 2},
                                       {"RANK_IC", "rank_ic", 9, 4},   {"EXCESS", "excess_return", 9, 4},
                                       {"BASE_MAE", "baseline_mae", 10, 4}, {"TEST", "test_samples", 7, 0}};
  for (const auto& c : columns) out << std::left << std::setw(c.width) << c.title;
  out << "\n";
  for (const auto& r : runs) {
    for (const auto& c : columns) {
      std::string text = cell(r.fields, c.key, c.precision);
      if (static_cast<int>(text.size()) >= c.width) text = text.substr(0, static_cast<std::size_t>(c.width - 2)) + "…";
      if (std::string(c.key) == "test_samples" && r.fields.value("small_test_set", false)) text += "!";
      out << std::left << std::setw(c.width) << text;
    }
    // The reason last, whole: a failed or interrupted run says why.
    if (r.fields.contains("error") && r.fields["error"].is_string()) {
      std::string why = r.fields["error"].get<std::string>();
      if (why.size() > 160) why = why.substr(0, 157) + "...";
      out << why;
    } else if (r.fields.contains("owner")) {
      out << "written by " << r.fields["owner"].get<std::string>();
    }
    out << "\n";
    for (const auto& p : r.problems) out << "    ! " << p << "\n";
  }
  out << runs.size() << " run(s)";
  const auto small = std::count_if(runs.begin(), runs.end(), [](const klab::RunRecord& r) {
    return r.fields.value("small_test_set", false);
  });
  if (small > 0) {
    out << "; " << small << " with fewer than " << static_cast<int>(klab::kSmallTestSet)
        << " test windows (TEST!): their metrics say little";
  }
  out << "\n";
}

void print_json_file(std::ostream& out, const std::string& title, const fs::path& path) {
  out << "\n" << title << " (" << path.filename().string() << "):\n";
  try {
    out << klab::files::read_json(path).dump(2) << "\n";
  } catch (const klab::Error& e) {
    out << "  (" << e.what() << ")\n";
  }
}

void print_run(const klab::RunRecord& r, std::ostream& out) {
  out << "run " << r.name << "\n  folder  " << r.path.string() << "\n";
  for (const auto& [key, value] : r.fields.items()) {
    out << "  " << std::left << std::setw(20) << key << cell(r.fields, key) << "\n";
  }
  for (const auto& p : r.problems) out << "  ! " << p << "\n";
  print_json_file(out, "evaluation", r.path / "results" / "eval_results.json");
  try {
    const auto predictions = klab::read_predictions(r.path);
    std::set<std::string> symbols, dates;
    for (const auto& p : predictions) {
      symbols.insert(p.symbol);
      dates.insert(p.date);
    }
    out << "\npredictions: " << predictions.size() << " test predictions, " << symbols.size() << " symbol(s), "
        << dates.size() << " day(s)"
        << (dates.empty() ? std::string() : " from " + *dates.begin() + " to " + *dates.rbegin()) << "\n";
  } catch (const klab::Error& e) {
    out << "\npredictions: (" << e.what() << ")\n";
  }
  print_json_file(out, "training", r.path / "model" / "training_args.json");
  print_json_file(out, "model", r.path / "model" / "config.json");
  out << "\ncheckpoints:";
  std::error_code ec;
  std::vector<std::string> names;
  for (const auto& item : fs::directory_iterator(r.path / "checkpoints", ec)) {
    if (item.is_directory() && item.path().filename().string()[0] != '.') names.push_back(item.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  for (const auto& n : names) out << " " << n;
  out << (names.empty() ? " none\n" : "\n");
  try {
    const std::string log = klab::files::read_text(r.path / "logs" / "training.log");
    std::vector<std::string> lines;
    std::istringstream in(log);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    out << "\nlast lines of training.log:\n";
    for (std::size_t i = lines.size() > 8 ? lines.size() - 8 : 0; i < lines.size(); ++i) out << "  " << lines[i] << "\n";
  } catch (const klab::Error&) {
  }
}

void flatten(const nlohmann::json& j, const std::string& prefix, std::map<std::string, std::string>& out) {
  if (j.is_object()) {
    for (const auto& [k, v] : j.items()) flatten(v, prefix.empty() ? k : prefix + "." + k, out);
  } else if (!j.is_null()) {
    out[prefix] = j.is_string() ? j.get<std::string>() : j.dump();
  }
}

void print_compare(const klab::RunRecord& a, const klab::RunRecord& b, std::ostream& out) {
  auto facts = [](const klab::RunRecord& r) {
    std::map<std::string, std::string> m;
    for (const auto& [k, v] : r.fields.items()) m["run." + k] = v.is_string() ? v.get<std::string>() : v.dump();
    try {
      auto experiment = klab::files::read_json(r.path / "experiment.json");
      flatten(experiment, "experiment", m);
    } catch (const klab::Error&) {
    }
    return m;
  };
  const auto fa = facts(a), fb = facts(b);
  std::set<std::string> keys;
  for (const auto& [k, v] : fa) keys.insert(k);
  for (const auto& [k, v] : fb) keys.insert(k);
  // Columns as wide as their longest entry: keys and values are never cut.
  std::size_t key_width = 4, value_width = a.name.size();
  for (const auto& k : keys) {
    key_width = std::max(key_width, k.size());
    if (fa.count(k)) value_width = std::max(value_width, fa.at(k).size());
  }
  key_width += 2;
  value_width = std::min<std::size_t>(value_width + 2, 80);
  out << "  " << std::left << std::setw(static_cast<int>(key_width)) << "" << std::setw(static_cast<int>(value_width))
      << a.name << b.name << "\n";
  for (const auto& k : keys) {
    const std::string va = fa.count(k) ? fa.at(k) : "-", vb = fb.count(k) ? fb.at(k) : "-";
    if (k == "run.name") continue;
    out << (va == vb ? "  " : "* ") << std::left << std::setw(static_cast<int>(key_width)) << k
        << std::setw(static_cast<int>(value_width)) << va << vb << "\n";
  }
  out << "(* = differs)\n";
}

const klab::RunRecord& find_run(const std::vector<klab::RunRecord>& runs, const std::string& name) {
  for (const auto& r : runs) {
    if (r.name == name || r.path == fs::path(name)) return r;
  }
  throw klab::IoError("run " + name + ": no such run");
}

// Deletes one run folder while holding its lock, so a process that starts writing it (a resume)
// in the meantime is refused, and a run whose writer appeared since the listing is kept.
bool delete_run(const klab::RunRecord& r, std::string& why) {
  if (!fs::exists(r.path / "metadata.json")) {
    why = "not a run (no metadata.json)";
    return false;
  }
  std::unique_ptr<klab::RunLock> lock;
  try {
    lock = klab::RunLock::acquire(r.path);
  } catch (const klab::RunBusyError& e) {
    why = e.what();
    return false;
  }
  fs::remove_all(r.path);
  return true;
}

bool confirm(const std::string& question, bool yes) {
  if (yes) return true;
  if (!isatty(STDIN_FILENO)) {
    throw klab::cli::UsageError(question + " — not a terminal: pass --yes to confirm or --dry-run to preview");
  }
  std::cout << question << " [y/N] " << std::flush;
  std::string answer;
  std::getline(std::cin, answer);
  return answer == "y" || answer == "Y" || answer == "yes";
}

// Days since an ISO time, or -1 when it is not one (such a run is never "older than").
long days_since(const std::string& iso) {
  const std::string day = iso.size() < 10 ? "" : klab::normalize_date(iso.substr(0, 10));
  if (day.empty()) return -1;
  // Calendar days between that local date and today's (run times are local wall-clock).
  return klab::days_from_iso(klab::files::iso_now().substr(0, 10)) - klab::days_from_iso(day);
}

int run(int argc, char** argv) {
  po::options_description options("list_runs [options]");
  options.add_options()
      ("help,h", "show this help")
      ("output-dir", po::value<std::string>()->default_value("out"), "where the runs are")
      ("run", po::value<std::string>(), "show one run in detail")
      ("filter", po::value<std::vector<std::string>>()->composing(),
       "FIELD=V, FIELD!=V, FIELD<N, FIELD>N, FIELD~TEXT (repeatable; all must hold)")
      ("sort", po::value<std::string>(), "mae, rmse, mape, r2, direction_accuracy, ic, rank_ic, icir, rank_icir, created, name, ... (best first)")
      ("reverse", "reverse the order")
      ("limit", po::value<long>(), "at most this many rows (>= 1)")
      ("json", "print JSON")
      ("sweep", po::value<std::string>(), "only the runs of this sweep record (name under out/.sweeps/ or path)")
      ("compare", po::value<std::vector<std::string>>()->multitoken(), "two runs side by side")
      ("delete", po::value<std::string>(), "delete this run")
      ("prune", "delete every run the filters select (except --keep-best)")
      ("older-than", po::value<long>(), "with --prune: only runs created at least N days ago (N >= 0)")
      ("keep-best", po::value<long>(), "with --prune: keep the best N selected runs by --sort (default mae; N >= 0)")
      ("copy", po::value<std::string>(), "copy this run ...")
      ("to", po::value<std::string>(), "... into this folder")
      ("dry-run", "show what --delete/--prune would remove, remove nothing")
      ("yes,y", "do not ask for confirmation");
  po::variables_map vm;
  if (!klab::cli::parse_command_line(argc, argv, options, vm)) return klab::cli::kExitOk;
  const fs::path out_dir = vm["output-dir"].as<std::string>();
  if (!fs::is_directory(out_dir)) {
    throw klab::IoError("--output-dir " + out_dir.string() + ": no such folder");
  }
  auto count_flag = [&](const char* name, long minimum) -> long {
    if (!vm.count(name)) return 0;
    const long v = vm[name].as<long>();
    if (v < minimum) {
      throw klab::cli::UsageError(std::string("--") + name + " " + std::to_string(v) + ": must be >= " + std::to_string(minimum));
    }
    return v;
  };
  const long limit = count_flag("limit", 1), older_than = count_flag("older-than", 0), keep_best = count_flag("keep-best", 0);
  auto runs = klab::load_run_index(out_dir);

  std::vector<klab::RunFilter> filters;
  if (vm.count("filter")) {
    for (const auto& f : vm["filter"].as<std::vector<std::string>>()) filters.push_back(klab::RunFilter::parse(f));
  }
  auto selected = [&](const klab::RunRecord& r) {
    return std::all_of(filters.begin(), filters.end(), [&](const klab::RunFilter& f) { return f.matches(r); });
  };

  if (vm.count("run")) {
    print_run(find_run(runs, vm["run"].as<std::string>()), std::cout);
    return klab::cli::kExitOk;
  }
  if (vm.count("compare")) {
    const auto names = vm["compare"].as<std::vector<std::string>>();
    if (names.size() != 2) throw klab::cli::UsageError("--compare takes two runs");
    print_compare(find_run(runs, names[0]), find_run(runs, names[1]), std::cout);
    return klab::cli::kExitOk;
  }
  if (vm.count("copy")) {
    if (!vm.count("to")) throw klab::cli::UsageError("--copy needs --to FOLDER");
    const auto& r = find_run(runs, vm["copy"].as<std::string>());
    const fs::path target = fs::path(vm["to"].as<std::string>()) / r.name;
    if (fs::exists(target)) throw klab::IoError(target.string() + ": already exists; nothing copied");
    // A copy inside the run itself would copy itself again and again.
    const fs::path from = fs::weakly_canonical(r.path), into = fs::weakly_canonical(target);
    const auto [end, unused] = std::mismatch(from.begin(), from.end(), into.begin(), into.end());
    if (end == from.end()) {
      throw klab::IoError("--to " + vm["to"].as<std::string>() + ": is inside run " + r.name + "; nothing copied");
    }
    if (auto owner = klab::RunLock::holder(r.path)) {
      throw klab::IoError("run " + r.name + " is being written by " + owner->describe() + "; copy it when it has finished");
    }
    const fs::path tmp = target.parent_path() / (".copying-" + r.name);
    fs::create_directories(target.parent_path());
    fs::remove_all(tmp);
    fs::copy(r.path, tmp, fs::copy_options::recursive);
    fs::remove(tmp / klab::kRunLockFile);
    fs::rename(tmp, target);  // the copy appears whole or not at all
    std::cout << "copied " << r.path.string() << " -> " << target.string() << "\n";
    return klab::cli::kExitOk;
  }
  const bool dry = vm.count("dry-run") > 0, yes = vm.count("yes") > 0;
  if (vm.count("delete")) {
    const auto& r = find_run(runs, vm["delete"].as<std::string>());
    if (r.fields.contains("owner")) {
      throw klab::IoError("run " + r.name + " is being written by " + r.fields["owner"].get<std::string>() +
                          "; nothing deleted (stop that process first)");
    }
    std::cout << (dry ? "would delete " : "delete ") << r.path.string() << " (" << cell(r.fields, "status") << ")\n";
    if (dry) return klab::cli::kExitOk;
    if (!confirm("Delete this run?", yes)) {
      std::cout << "nothing deleted\n";
      return klab::cli::kExitOk;
    }
    std::string why;
    if (!delete_run(r, why)) throw klab::IoError("run " + r.name + ": " + why + "; nothing deleted");
    return klab::cli::kExitOk;
  }
  if (vm.count("prune")) {
    if (filters.empty() && !vm.count("older-than") && !vm.count("keep-best")) {
      throw klab::cli::UsageError("--prune needs a selection: --filter, --older-than or --keep-best");
    }
    // Prune touches only runs it can read, and never one a live process is writing; it says
    // what it passed over. An unreadable run goes only when asked for by --filter status=unreadable.
    const bool unreadable_asked = std::any_of(filters.begin(), filters.end(), [](const klab::RunFilter& f) {
      return f.field == "status" && f.op == "=" && f.value == "unreadable";
    });
    std::vector<klab::RunRecord> chosen;
    std::vector<std::string> skipped;
    for (const auto& r : runs) {
      if (!selected(r)) continue;
      if (r.fields["status"] == "unreadable" && !unreadable_asked) {
        skipped.push_back(r.name + ": unreadable (" + (r.problems.empty() ? "no status" : r.problems.front()) +
                          "); select it with --filter status=unreadable");
        continue;
      }
      if (vm.count("older-than") && days_since(cell(r.fields, "created")) < older_than) continue;
      if (r.fields.contains("owner")) {
        skipped.push_back(r.name + ": being written by " + r.fields["owner"].get<std::string>());
        continue;
      }
      chosen.push_back(r);
    }
    for (const auto& name : klab::TrainingManager::other_folders(out_dir)) {
      skipped.push_back(name + "/: not a run (no metadata.json)");
    }
    std::vector<klab::RunRecord> keep;
    if (vm.count("keep-best")) {
      const std::string metric = vm.count("sort") ? vm["sort"].as<std::string>() : "mae";
      klab::sort_runs(chosen, metric);
      const std::size_t n = std::min(static_cast<std::size_t>(keep_best), chosen.size());
      std::size_t kept = 0;
      std::vector<klab::RunRecord> rest;
      for (auto& r : chosen) {
        if (kept < n && r.fields.contains(metric)) {
          keep.push_back(r);
          ++kept;
        } else {
          rest.push_back(r);
        }
      }
      chosen = rest;
    }
    for (const auto& r : keep) std::cout << "keep   " << r.name << "\n";
    for (const auto& why : skipped) std::cout << "skip   " << why << "\n";
    for (const auto& r : chosen) std::cout << (dry ? "would delete " : "delete ") << r.name << " (" << cell(r.fields, "status") << ")\n";
    if (chosen.empty()) {
      std::cout << "nothing to delete\n";
      return klab::cli::kExitOk;
    }
    if (dry) return klab::cli::kExitOk;
    if (!confirm("Delete these " + std::to_string(chosen.size()) + " run(s)?", yes)) {
      std::cout << "nothing deleted\n";
      return klab::cli::kExitOk;
    }
    std::size_t deleted = 0;
    for (const auto& r : chosen) {
      std::string why;
      if (delete_run(r, why)) {
        ++deleted;
      } else {
        std::cout << "skip   " << r.name << ": " << why << "\n";
      }
    }
    std::cout << "deleted " << deleted << " run(s)\n";
    return klab::cli::kExitOk;
  }

  std::vector<klab::RunRecord> shown;
  std::map<std::string, nlohmann::json> sweep_trials;
  if (vm.count("sweep")) sweep_trials = klab::sweep_trial_runs(klab::find_sweep_record(vm["sweep"].as<std::string>(), out_dir));
  for (auto& r : runs) {
    if (!selected(r)) continue;
    if (vm.count("sweep")) {
      auto it = sweep_trials.find(r.name);
      if (it == sweep_trials.end()) continue;
      r.fields["sweep_trial"] = it->second["trial"];
    }
    shown.push_back(r);
  }
  if (vm.count("sort")) klab::sort_runs(shown, vm["sort"].as<std::string>(), vm.count("reverse") > 0);
  else if (vm.count("reverse")) std::reverse(shown.begin(), shown.end());
  if (vm.count("limit") && shown.size() > static_cast<std::size_t>(limit)) shown.resize(static_cast<std::size_t>(limit));

  if (vm.count("json")) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& r : shown) out.push_back(klab::run_record_json(r));
    std::cout << out.dump(2) << "\n";
  } else {
    print_table(shown, std::cout);
  }
  return klab::cli::kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
  return klab::cli::guarded_main("list_runs", [&] { return run(argc, argv); });
}
