// runs/run_index.h — every run under an output folder as one flat record, for listing,
// filtering, sorting, comparing and pruning (tools/list_runs).
//
// A record is built from whatever of metadata.json, config.json, training_args.json and
// eval_results.json can be read; a missing or corrupt file leaves its fields empty and notes the
// problem, it never stops the listing.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace klab {

// Shown instead of initialized/preparing/training when no live process holds the run's lock
// (killed with kill -9, a lost node): the run can be resumed or pruned. Never written to
// metadata.json, which keeps what its writer last said.
inline constexpr const char* kStatusInterrupted = "interrupted";
// Runs evaluated on fewer test windows than this are flagged (small_test_set) and left out of
// --best-by unless asked for.
inline constexpr double kSmallTestSet = 30;

// initialized, preparing or training: a status whose writer should still be alive.
bool is_active_status(const std::string& status);

struct RunRecord {
  std::string name;
  std::filesystem::path path;
  nlohmann::json fields = nlohmann::json::object();  // name, symbol, model, status, created, epochs, mae, ...
  std::vector<std::string> symbols;                  // what it trained on (metadata stock_symbols); "all" = any
  std::vector<std::string> problems;
  bool covers(const std::string& symbol) const;
};

// Fields: name, symbol, model, status (incl. interrupted), created, updated, data_source, epochs,
// best_epoch, mae, rmse, mape, r2, direction_accuracy, test_samples, baseline_mae,
// mae_vs_baseline, small_test_set, error, owner (who is writing it). Values of the wrong type or
// non-finite metrics are left out and named in `problems`; nothing in a run's files throws.
std::vector<RunRecord> load_run_index(const std::filesystem::path& output_dir);
// A record as `list_runs --json` prints it and the report pages read it: its fields, its path and
// its problems (when it has any).
nlohmann::json run_record_json(const RunRecord& run);

// One condition: FIELD=VALUE, FIELD!=VALUE, FIELD<NUMBER, FIELD>NUMBER, FIELD<=, FIELD>=, or
// FIELD~TEXT (contains). Throws ConfigError naming the condition when it cannot be parsed.
struct RunFilter {
  std::string field, op, value;
  static RunFilter parse(const std::string& text);
  bool matches(const RunRecord& run) const;
};

// Sorts by a field: metrics best first (lower first, r2 and direction_accuracy higher first),
// dates newest first, text alphabetically; runs without the field last.
void sort_runs(std::vector<RunRecord>& runs, const std::string& field, bool reverse = false);

bool is_known_field(const std::string& field);

// Metrics in price units (mae, rmse, baseline_mae): comparing them across stocks or test periods
// compares price levels. scale_free_metric gives the scale-free metric that stands in for one
// (mae -> mae_vs_baseline: MAE over the persistence baseline's MAE on the same test windows).
bool is_price_metric(const std::string& field);
std::string scale_free_metric(const std::string& field);

}  // namespace klab
