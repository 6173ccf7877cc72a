// eval/predictions.h — the one artifact every later step shares: predictions keyed by
// (date, symbol), each beside its label.
//
// A run's test set (workflow/), PredictionEngine (predict/), the run files (runs/
// predictions_file.h), evaluation (eval/metrics.h) and later cross-sectional metrics, backtests
// and reports all read and write this type. Prices are in the run's adjustment (`prices`);
// the label is the realised close of `date`, NaN when it is not known (yet).
#pragma once

#include <limits>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace klab {

struct Prediction {
  Prediction() = default;
  Prediction(std::string date_, std::string symbol_, double prediction_, double label_, double last_close_)
      : date(std::move(date_)), symbol(std::move(symbol_)), prediction(prediction_), label(label_),
        last_close(last_close_) {}

  std::string date;    // the trading day predicted (the target day)
  std::string symbol;  // 6-digit code
  double prediction = 0;  // predicted close on `date` (NaN when the target is not a price)
  double label = std::numeric_limits<double>::quiet_NaN();  // realised close on `date`; NaN: unknown
  double last_close = 0;  // close on as_of, the last bar the model saw

  // Provenance, as PredictionEngine fills it (a run's test set fills as_of and horizon).
  std::string as_of;            // the last bar used
  bool date_estimated = false;  // `date` is as_of + horizon weekdays: the data has no such day yet
  int horizon = 1;
  std::string prices;           // "backward-adjusted" | "forward-adjusted" | "none-adjusted"
  double market_last_close = 0;       // the raw close quoted on as_of
  double market_predicted_close = 0;  // market_last_close * (1 + predicted_return()): a quote

  // When the model does not predict a close (target.kind next_return: a return from the next
  // close; target.normalize: a cross-sectional score), the prediction in the target's own units
  // and the realised return of the target; `prediction` is then NaN (no price is implied).
  double predicted_target = std::numeric_limits<double>::quiet_NaN();
  double label_target = std::numeric_limits<double>::quiet_NaN();

  bool has_label() const { return label == label || label_target == label_target; }
  double predicted_return() const {
    return predicted_target == predicted_target ? predicted_target : prediction / last_close - 1.0;
  }
  double label_return() const { return label_target == label_target ? label_target : label / last_close - 1.0; }

  // The service's and `predict --json`'s object: symbol, as_of, target_date, predicted_close,
  // predicted_return, ... and actual_close when the label is known.
  nlohmann::json to_json() const;
};

using Predictions = std::vector<Prediction>;

}  // namespace klab
