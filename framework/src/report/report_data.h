// report/report_data.h — what the report pages show, read from an output folder.
//
// Each page is one JSON document built from the out/ files alone (nothing is written, nothing is
// trained): the runs index (the same records as `list_runs --json`, plus the sweep records), one
// run (loss per epoch, predictions beside persistence, daily IC, the backtest's equity curve,
// its config, metadata and training.log), one sweep (its leaderboard and every trial's
// parameters and metric) and a comparison of runs. A file that is missing or broken becomes a
// line in the document's `problems`, never an exception: a broken run shows as broken.
//
// Runs and sweeps are named by their folder name alone (is_plain_name); anything else — a path,
// "..", an absolute path — is refused with NotFound, so the pages reveal nothing outside the
// output folder.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "klab/error.h"

namespace klab::report {

// A run, sweep or symbol asked for that does not exist (or is not a plain name): HTTP 404.
class NotFound : public IoError {
 public:
  using IoError::IoError;
};

// One folder name: letters, digits, '_', '.', '-', not starting with '.' or '-'.
bool is_plain_name(const std::string& name);

// {"page": "index", "output_dir", "runs": [list_runs --json records], "sweeps": [{name, experiment,
// created, metric, metric_mode, trials, completed, failed, pending, best}], "problems"}.
nlohmann::json index_data(const std::filesystem::path& output_dir);

// Rows of predictions a run page carries at most (a universe run's test set can hold millions:
// beyond this, the one symbol asked for, or the first).
inline constexpr std::size_t kMaxPredictionRows = 100000;

// {"page": "run", "name", "record", "metadata", "experiment", "config", "training_args", "eval",
//  "epochs": [{epoch, train_loss, val_loss, seconds}], "best_epoch", "log" (training.log's last
//  lines), "predictions": {kind: "price"|"return", symbols, names, rows: [[date, symbol, predicted,
//  actual, last_close]]}, "ic": {dates, ic, rank_ic}, "backtest": {dates, value, bench,
//  bench_cap_weighted, excess, cost, turnover, holdings, summary, options}, "lacks": [what the page
//  cannot show and why], "problems", "active": still being written}.
// `symbol` (optional) picks the symbol whose predictions a large run carries. Throws NotFound.
nlohmann::json run_data(const std::filesystem::path& output_dir, const std::string& name,
                        const std::string& symbol = "");

// A run's test predictions alone (run_data's "predictions", {} when it has none), for a page that
// switches stock: without the rest of the run's files. Throws NotFound.
nlohmann::json run_predictions(const std::filesystem::path& output_dir, const std::string& name,
                               const std::string& symbol);

// {"page": "sweep", "name", "sweep" (its sweep.json, trials omitted), "metric", "metric_mode",
//  "leaderboard": [{rank, params, mean, std, completed, failed, best_run}], "trials": [{index,
//  params (flattened: "model.hidden_size"), seed, status, run, value, error}], "axes": the
//  flattened parameter names that vary, "problems"}. Throws NotFound.
nlohmann::json sweep_data(const std::filesystem::path& output_dir, const std::string& record);

// {"page": "compare", "runs": [run_data without log and predictions, ...]}. Throws NotFound for a
// name that is not a run, and ConfigError for fewer than two names.
nlohmann::json compare_data(const std::filesystem::path& output_dir, const std::vector<std::string>& names);

// "A,B,,C" -> {A, B, C}: the runs of a comparison as a URL or the command line gives them.
std::vector<std::string> split_names(const std::string& comma_separated);

}  // namespace klab::report
