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

struct RunRecord {
  std::string name;
  std::filesystem::path path;
  nlohmann::json fields = nlohmann::json::object();  // name, symbol, model, status, created, epochs, mae, ...
  std::vector<std::string> problems;
};

// Fields: name, symbol, model, status, created, updated, data_source, epochs, best_epoch, mae,
// rmse, mape, r2, direction_accuracy, test_samples, baseline_mae, error.
std::vector<RunRecord> load_run_index(const std::filesystem::path& output_dir);

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

}  // namespace klab
