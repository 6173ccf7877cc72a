// data/windows.h — which windows of a symbol's feature rows a model may be given: one
// implementation for training data (Dataset) and for prediction (PredictionEngine), so the two
// can never disagree about a window.
//
// A window is `seq` consecutive rows ending at `end`. It is usable when every feature of those
// rows is finite, and no calendar gap longer than max_gap_days (a suspension) lies between its
// first row and `through`: the target row when training (end + horizon), `end` itself when
// predicting (the target is the unknown future). Prefix counts make each check O(1).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace klab {

class WindowRules {
 public:
  enum class Verdict { kUsable, kNonFinite, kGap };

  // rows x features values, row-major (the unscaled feature matrix), and each row's trade date.
  // With non_finite_allowed (data.fill_nan: the scaler fills them), only gaps rule windows out.
  WindowRules(const std::vector<std::string>& dates, const double* values, std::size_t features, int max_gap_days,
              bool non_finite_allowed = false);

  // Requires seq >= 1, end + 1 >= seq and through >= end, through < rows. A non-finite feature
  // is reported before a gap.
  Verdict check(std::size_t end, std::size_t seq, std::size_t through) const;
  // The first row in [first, last] with a non-finite feature, or npos.
  std::size_t first_non_finite(std::size_t first, std::size_t last) const;
  // The first row i in (first, last] with a gap longer than max_gap_days before it, or npos.
  std::size_t first_gap(std::size_t first, std::size_t last) const;

  static constexpr std::size_t npos = static_cast<std::size_t>(-1);

 private:
  std::vector<std::size_t> bad_prefix_, break_prefix_;  // counts over rows [0, i)
};

}  // namespace klab
