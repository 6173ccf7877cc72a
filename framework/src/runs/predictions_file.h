// runs/predictions_file.h — a run's test predictions on disk, keyed by (date, symbol).
//
// One symbol: results/predictions.json, the specification's file ([{date, symbol, actual,
// predicted, last_close}, ...]). Several symbols: results/predictions.csv.gz, gzip-compressed
// CSV with the header `date,symbol,prediction,label,last_close,as_of`: prediction and label are returns
// to 8 significant digits — the predicted and realised return of the target (next-day for close
// and return targets, from the next close for next_return), the prediction a cross-sectional
// score when target.normalize is set — and last_close is the close of the last input day in the
// run's adjustment, as_of that last input day (the signal day a backtest trades on; files of an
// older klab lack the column and are still read). pandas reads it in one call:
// pd.read_csv("results/predictions.csv.gz", dtype={"symbol": str}).
// Both are written atomically.
#pragma once

#include <filesystem>
#include <vector>

#include "eval/predictions.h"

namespace klab {

inline constexpr const char* kPredictionsJson = "predictions.json";
inline constexpr const char* kPredictionsCsvGz = "predictions.csv.gz";

// Writes into `results_dir` the file for the run's kind; returns its path.
std::filesystem::path write_predictions(const std::filesystem::path& results_dir,
                                        const Predictions& predictions, bool several_symbols);
// Whichever of the two a run has (results/predictions.csv.gz first). Throws IoError naming the
// file when neither exists or one is malformed.
Predictions read_predictions(const std::filesystem::path& run_dir);

}  // namespace klab
