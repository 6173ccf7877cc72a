#include "data/adjust.h"

#include "klab/error.h"

namespace klab {

Adjustment parse_adjustment(const std::string& text, const std::string& key) {
  if (text == "none" || text.empty()) return Adjustment::kNone;
  if (text == "forward" || text == "qfq") return Adjustment::kForward;
  if (text == "backward" || text == "hfq") return Adjustment::kBackward;
  throw ConfigError(key + ": unknown price adjustment \"" + text +
                    "\" (expected none, forward or backward)");
}

const char* adjustment_name(Adjustment adjustment) {
  switch (adjustment) {
    case Adjustment::kNone:
      return "none";
    case Adjustment::kForward:
      return "forward";
    case Adjustment::kBackward:
      return "backward";
  }
  return "?";
}

void derive_adj_factors(std::vector<Bar>& bars) {
  double factor = 1.0;
  for (std::size_t i = 0; i < bars.size(); ++i) {
    if (i > 0 && bars[i].pre_close > 0 && bars[i - 1].close > 0) {
      factor *= bars[i - 1].close / bars[i].pre_close;
    }
    bars[i].adj_factor = factor;
  }
}

std::vector<Bar> adjust_bars(const std::vector<Bar>& bars, Adjustment adjustment) {
  std::vector<Bar> out = bars;
  if (adjustment == Adjustment::kNone || bars.empty()) return out;
  const double reference = adjustment == Adjustment::kForward ? bars.back().adj_factor : 1.0;
  for (auto& b : out) {
    const double ratio = b.adj_factor / reference;
    b.open *= ratio;
    b.high *= ratio;
    b.low *= ratio;
    b.close *= ratio;
    b.pre_close *= ratio;
    b.volume /= ratio;
  }
  return out;
}

}  // namespace klab
