// workflow/evaluate_panel.h — the evaluation of a run over several symbols, after its test
// predictions are written: how it ranks the stocks each day (IC, Rank IC: eval/cross_section.h),
// the TopkDropout portfolio its ranking buys (eval/backtest.h), and both again for a model-free
// signal — 5-day reversal — so a result is read beside what no model at all achieves.
#pragma once

#include <filesystem>
#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include "config/experiment.h"
#include "data/dataset.h"
#include "eval/predictions.h"
#include "klab/data_source.h"
#include "runs/training_manager.h"

namespace klab {

class PluginRegistry;

// Where an evaluation reads its predictions (dir/results/predictions.csv.gz) and writes
// results/ic.json and results/backtest.json; `log` takes its summary lines.
struct PanelOutputs {
  std::filesystem::path dir;
  std::function<void(const std::string&)> log;
};

// Adds cross_section, backtest and baseline_signal to `eval`; writes results/ic.json and
// results/backtest.json and their log lines.
void evaluate_panel(const ExperimentSpec& spec, const Dataset& ds, DataSource& source, const Predictions& predictions,
                    const PanelOutputs& outputs, nlohmann::json& eval);
// A run's: its folder and training.log.
void evaluate_panel(const ExperimentSpec& spec, const Dataset& ds, DataSource& source, const Predictions& predictions,
                    TrainingManager& manager, nlohmann::json& eval);

// The evaluation of test predictions made by several runs (a walk-forward's segments,
// concatenated): the pointwise metrics, then evaluate_panel over the closes and universe of
// `spec`'s stocks and dates (loaded here, without model features). Writes outputs.dir/data.json
// (the stocks used and skipped, as a run's metadata.json says them) and universe.json.
nlohmann::json evaluate_combined_predictions(const ExperimentSpec& spec, PluginRegistry& registry,
                                             const Predictions& predictions, const PanelOutputs& outputs);

// The model-free signal's score of a stock on a signal day: -(close_t / close_{t-5} - 1) in
// adjusted closes of the stock's own trading rows (losers of the last week rank first); NaN
// without five earlier rows.
double reversal_5d(const std::vector<std::string>& dates, const std::vector<double>& close, const std::string& day);

}  // namespace klab
