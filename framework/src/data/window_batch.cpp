#include "data/window_batch.h"

#include <map>
#include <string>

#include <algorithm>

namespace klab {

WindowView WindowBatch::view() const {
  WindowView v;
  v.inputs = inputs.data();
  v.labels = labels.empty() ? nullptr : labels.data();
  v.rows = static_cast<std::int64_t>(rows);
  v.seq_length = static_cast<std::int64_t>(seq_length);
  v.n_features = static_cast<std::int64_t>(n_features);
  return v;
}

WindowBatch gather_windows(const Dataset& ds, const std::vector<WindowRef>& windows, std::size_t first,
                           std::size_t last, bool with_labels) {
  WindowBatch batch;
  batch.rows = last - first;
  batch.seq_length = ds.spec().seq_length;
  batch.n_features = ds.n_features();
  const std::size_t per_row = batch.seq_length * batch.n_features;
  batch.inputs.resize(batch.rows * per_row);
  if (with_labels) batch.labels.resize(batch.rows);
  for (std::size_t i = first; i < last; ++i) {
    ds.fill_window(windows[i], batch.inputs.data() + (i - first) * per_row);
    if (with_labels) batch.labels[i - first] = static_cast<float>(ds.scaled_target(windows[i]));
  }
  return batch;
}

std::vector<double> predict_windows(Model& model, const Dataset& ds, const std::vector<WindowRef>& windows) {
  std::vector<double> out;
  out.reserve(windows.size());
  const auto outputs = static_cast<std::size_t>(model.output_size());
  std::vector<float> predicted;
  for (std::size_t first = 0; first < windows.size(); first += kPredictBatch) {
    const std::size_t last = std::min(windows.size(), first + kPredictBatch);
    const WindowBatch batch = gather_windows(ds, windows, first, last, false);
    predicted.assign(batch.rows * outputs, 0.0f);
    model.predict(batch.view(), predicted.data());
    for (std::size_t i = 0; i < batch.rows; ++i) out.push_back(predicted[i * outputs]);
  }
  return out;
}

std::vector<std::vector<std::size_t>> group_by_date(const Dataset& ds, const std::vector<WindowRef>& windows) {
  std::map<std::string, std::vector<std::size_t>> by_date;
  for (std::size_t i = 0; i < windows.size(); ++i) {
    by_date[ds.series()[windows[i].series].dates[windows[i].end_row]].push_back(i);
  }
  std::vector<std::vector<std::size_t>> groups;
  groups.reserve(by_date.size());
  for (auto& [date, members] : by_date) groups.push_back(std::move(members));
  return groups;
}

}  // namespace klab
