// Choosing the best run for predict --best-by and serve --best-by (declared in predict/engine.h).
#include <algorithm>

#include "klab/error.h"
#include "predict/engine.h"
#include "runs/run_index.h"

namespace klab {

namespace fs = std::filesystem;

BestRunChoice choose_best_run(const fs::path& output_dir, const std::string& metric,
                              const std::vector<std::string>& filters, const std::vector<std::string>& symbols,
                              bool price_metric_ok) {
  if (!is_known_field(metric)) {
    throw ConfigError("--best-by " + metric + ": unknown metric (mae_vs_baseline, mape, direction_accuracy, r2, mae, ...)");
  }
  BestRunChoice choice;
  choice.metric = metric;
  if (is_price_metric(metric) && !price_metric_ok) {
    choice.metric = scale_free_metric(metric);
    choice.notes.push_back("ranked by " + choice.metric + " (" + metric + " / the persistence baseline's " + metric +
                           " on the same test windows): " + metric +
                           " itself is in price units and compares price levels, not models");
  }
  auto runs = load_run_index(output_dir);
  std::vector<RunFilter> parsed{RunFilter::parse("status=completed")};
  for (const auto& f : filters) parsed.push_back(RunFilter::parse(f));
  std::vector<RunRecord> chosen;
  std::size_t not_covering = 0, small = 0, without_metric = 0;
  for (auto& r : runs) {
    if (!std::all_of(parsed.begin(), parsed.end(), [&](const RunFilter& f) { return f.matches(r); })) continue;
    if (!std::all_of(symbols.begin(), symbols.end(), [&](const std::string& s) { return r.covers(s); })) {
      ++not_covering;
    } else if (!r.fields.contains(choice.metric)) {
      ++without_metric;
    } else if (r.fields.value("small_test_set", false)) {
      ++small;
    } else {
      chosen.push_back(r);
    }
  }
  std::string left_out;
  if (not_covering) left_out += ", " + std::to_string(not_covering) + " not trained on the symbol(s)";
  if (small) left_out += ", " + std::to_string(small) + " with fewer than " + std::to_string(static_cast<int>(kSmallTestSet)) + " test windows";
  if (without_metric) left_out += ", " + std::to_string(without_metric) + " without " + choice.metric;
  if (chosen.empty()) {
    throw IoError("no completed run in " + output_dir.string() + " qualifies for --best-by " + metric +
                  (left_out.empty() ? std::string(" (none matches the filters)") : " (left out" + left_out + ")"));
  }
  if (!left_out.empty()) choice.notes.push_back("left out" + left_out);
  sort_runs(chosen, choice.metric);
  choice.path = chosen.front().path;
  choice.value = chosen.front().fields[choice.metric].get<double>();
  choice.test_samples = chosen.front().fields.value("test_samples", 0.0);
  return choice;
}

fs::path best_run(const fs::path& output_dir, const std::string& metric, const std::vector<std::string>& filters) {
  return choose_best_run(output_dir, metric, filters).path;
}

}  // namespace klab
