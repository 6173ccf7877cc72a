// workflow/evaluate_panel.h — the evaluation of a run over several symbols, after its test
// predictions are written: how it ranks the stocks each day (IC, Rank IC: eval/cross_section.h),
// the TopkDropout portfolio its ranking buys (eval/backtest.h), and both again for a model-free
// signal — 5-day reversal — so a result is read beside what no model at all achieves.
#pragma once

#include <nlohmann/json.hpp>

#include "config/experiment.h"
#include "data/dataset.h"
#include "eval/predictions.h"
#include "klab/data_source.h"
#include "runs/training_manager.h"

namespace klab {

// Adds cross_section, backtest and baseline_signal to `eval`; writes results/ic.json and
// results/backtest.json and their training.log lines.
void evaluate_panel(const ExperimentSpec& spec, const Dataset& ds, DataSource& source, const Predictions& predictions,
                    TrainingManager& manager, nlohmann::json& eval);

// The model-free signal's score of a stock on a signal day: -(close_t / close_{t-5} - 1) in
// adjusted closes of the stock's own trading rows (losers of the last week rank first); NaN
// without five earlier rows.
double reversal_5d(const std::vector<std::string>& dates, const std::vector<double>& close, const std::string& day);

}  // namespace klab
