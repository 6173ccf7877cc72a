// data/targets.h — what a window is trained to predict: the raw target of a row (close, return,
// next_return) and the per-date cross-sectional normalisation of panel labels (docs/DATA.md).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace klab {

// The raw target of row i of a series of adjusted closes (DatasetSpec::target_kind), NaN when
// the series ends before its target row: the one definition training and prediction share.
double target_of_row(const std::vector<double>& close, std::size_t i, const std::string& kind, std::size_t horizon);

// Cross-sectional normalisation of one date's labels (in place): cs_rank = (average rank / n -
// 0.5) * 3.46, cs_zscore = (y - mean) / std (ddof 1; NaN for fewer than 2 or a zero std).
void normalize_cross_section(std::vector<double>& labels, const std::string& how);

}  // namespace klab
