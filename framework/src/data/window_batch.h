// data/window_batch.h — windows of a Dataset gathered into the contiguous floats a model plugin
// reads (klab::WindowView): [rows, seq_length, n_features] scaled inputs and, when asked, one
// scaled label per row. What a model of the fit family learns from, and what every family
// predicts over.
#pragma once

#include <cstddef>
#include <vector>

#include "data/dataset.h"
#include "klab/model.h"

namespace klab {

struct WindowBatch {
  std::vector<float> inputs;
  std::vector<float> labels;  // empty unless gathered with labels
  std::size_t rows = 0, seq_length = 0, n_features = 0;
  WindowView view() const;
};

// windows[first, last) of `ds`, in that order.
WindowBatch gather_windows(const Dataset& ds, const std::vector<WindowRef>& windows, std::size_t first,
                           std::size_t last, bool with_labels);

// Indices into `windows` grouped by the windows' last input day, dates in order: one group is
// one date's cross-section (train.batch_by_date).
std::vector<std::vector<std::size_t>> group_by_date(const Dataset& ds, const std::vector<WindowRef>& windows);

// The model's first output for every window (scaled, as the model predicts it), predicted in
// batches of kPredictBatch windows so memory stays bounded at any universe size.
std::vector<double> predict_windows(Model& model, const Dataset& ds, const std::vector<WindowRef>& windows);
inline constexpr std::size_t kPredictBatch = 4096;

}  // namespace klab
