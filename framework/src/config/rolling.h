// config/rolling.h — walk-forward evaluation: `evaluation.rolling: {train_years, valid_years,
// test_months}` cuts an experiment's test period into consecutive segments, each retrained on the
// years just before it.
//
// Segment k tests the target dates [test_start + k·test_months, test_start + (k+1)·test_months),
// the last one ending at data.end_date; it validates on the valid_years before its test start and
// trains on the train_years before that; its data begins warmup_months earlier still (0 by
// default), so the features' warm-up rows come from before its training years. A segment is a
// complete experiment (its own run in the out/ standard): nothing it trains on or scales with
// lies on or after its test start. `sweep` runs the segments as trials and writes the combined
// out-of-sample record (docs/EVALUATION.md "Walk-forward").
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace klab {

struct RollingSpec {
  int train_years = 0, valid_years = 0, test_months = 0, warmup_months = 0;
  bool enabled() const { return test_months > 0; }
  nlohmann::json to_json() const;
};

struct Segment {
  std::size_t index = 0;
  std::string data_start, train_start, val_start, test_start, test_end;  // ISO dates, test_end inclusive
  nlohmann::json to_json() const;
};

// The ISO date `months` calendar months after `iso` (negative: before), the day clamped to the
// month's last day (2020-01-31 + 1 month = 2020-02-29).
std::string add_months(const std::string& iso, int months);

// The segments from `first_test_start` to `end_date` (inclusive). Throws ConfigError (naming
// evaluation.rolling) when there is not one.
std::vector<Segment> rolling_segments(const RollingSpec& rolling, const std::string& first_test_start,
                                      const std::string& end_date);

}  // namespace klab
