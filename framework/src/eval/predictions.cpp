#include "eval/predictions.h"

namespace klab {

nlohmann::json Prediction::to_json() const {
  nlohmann::json out = {{"symbol", symbol},
                        {"as_of", as_of},
                        {"target_date", date},
                        {"target_date_estimated", date_estimated},
                        {"horizon", horizon},
                        {"last_close", last_close},
                        {"predicted_close", prediction},
                        {"predicted_return", predicted_return()},
                        {"prices", prices},
                        {"market_last_close", market_last_close},
                        {"market_predicted_close", market_predicted_close}};
  if (has_label()) out["actual_close"] = label;
  return out;
}

}  // namespace klab
