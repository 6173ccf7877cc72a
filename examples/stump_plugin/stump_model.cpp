// stump.so — an example model plugin of the fit family: a regression stump (a tree of depth 1)
// over each window's last row. No torch: it learns in one call, fit(), and saves its own file.
//
// fit() tries every feature and every threshold between two consecutive sorted values, keeps the
// split with the least squared error of the two leaf means, and reports the training and
// validation mean squared errors; save() writes model/stump.json, load() reads it back.
#include <algorithm>
#include <cmath>
#include <fstream>
#include <numeric>
#include <sstream>
#include <vector>

#include <nlohmann/json.hpp>

#include "klab/model.h"

namespace {

class StumpModel : public klab::Model {
 public:
  StumpModel(std::int64_t input_size, const std::string& json) : input_size_(input_size) {
    klab::Params p(json, "model 'stump'");
    klab::accept_model_identity(p, "stump", input_size);
    min_leaf_ = p.integer_at_least("min_leaf", 100, 1);  // fewest training rows in a leaf
    p.integer("output_size", 1);
    p.finish();
  }

  std::string model_type() const override { return "stump"; }
  std::string config_json() const override {
    return nlohmann::json{{"model_type", "stump"}, {"input_size", input_size_}, {"output_size", 1}, {"min_leaf", min_leaf_}}
        .dump();
  }
  std::int64_t input_size() const override { return input_size_; }
  std::int64_t output_size() const override { return 1; }

  std::string fit(const klab::WindowView& train, const klab::WindowView& validation) override {
    const std::int64_t n = train.rows;
    if (n < 2 * min_leaf_) throw klab::TrainError("stump: fewer than 2 x min_leaf training windows");
    std::vector<std::int64_t> order(static_cast<std::size_t>(n));
    double best = INFINITY;
    for (std::int64_t f = 0; f < input_size_; ++f) {
      std::iota(order.begin(), order.end(), 0);
      std::sort(order.begin(), order.end(), [&](std::int64_t a, std::int64_t b) { return x(train, a, f) < x(train, b, f); });
      double total = 0, total_sq = 0;
      for (std::int64_t i = 0; i < n; ++i) total += train.labels[i], total_sq += train.labels[i] * train.labels[i];
      double left = 0, left_sq = 0;
      for (std::int64_t k = 1; k < n; ++k) {  // left leaf: the k smallest values
        const double y = train.labels[order[k - 1]];
        left += y, left_sq += y * y;
        const double lo = x(train, order[k - 1], f), hi = x(train, order[k], f);
        if (k < min_leaf_ || n - k < min_leaf_ || !(lo < hi)) continue;
        const double sse = (left_sq - left * left / k) + (total_sq - left_sq - (total - left) * (total - left) / (n - k));
        if (sse < best) {
          best = sse;
          feature_ = f;
          threshold_ = 0.5 * (lo + hi);
          left_value_ = left / k;
          right_value_ = (total - left) / (n - k);
        }
      }
    }
    if (feature_ < 0) throw klab::TrainError("stump: no feature varies enough to split");
    return nlohmann::json{{"train_loss", mse(train)}, {"val_loss", mse(validation)}, {"feature", feature_},
                          {"threshold", threshold_}}
        .dump();
  }

  void predict(const klab::WindowView& view, float* out) override {
    for (std::int64_t i = 0; i < view.rows; ++i) {
      out[i] = static_cast<float>(x(view, i, feature_) <= threshold_ ? left_value_ : right_value_);
    }
  }

  std::string save(const std::string& folder) const override {
    std::ofstream out(folder + "/stump.json");
    out << nlohmann::json{{"feature", feature_}, {"threshold", threshold_}, {"left", left_value_}, {"right", right_value_}}
        << "\n";
    if (!out.flush()) throw klab::IoError(folder + "/stump.json: cannot write");
    return "stump.json";
  }

  void load(const std::string& folder) override {
    std::ifstream in(folder + "/stump.json");
    std::stringstream text;
    text << in.rdbuf();
    try {
      const auto j = nlohmann::json::parse(text.str());
      feature_ = j.at("feature").get<std::int64_t>();
      threshold_ = j.at("threshold").get<double>();
      left_value_ = j.at("left").get<double>();
      right_value_ = j.at("right").get<double>();
    } catch (const nlohmann::json::exception& e) {
      throw klab::IoError(folder + "/stump.json: " + e.what());
    }
  }

 private:
  // The window's last row, feature f (undefined values count as 0, the scaled centre).
  static double x(const klab::WindowView& v, std::int64_t row, std::int64_t f) {
    const float value = klab::row_of(v, row, klab::RowInput::last_row)[f];
    return std::isfinite(value) ? value : 0.0;
  }
  double mse(const klab::WindowView& v) {
    if (v.rows == 0 || v.labels == nullptr) return 0;
    std::vector<float> out(static_cast<std::size_t>(v.rows));
    predict(v, out.data());
    double s = 0;
    for (std::int64_t i = 0; i < v.rows; ++i) s += (out[static_cast<std::size_t>(i)] - v.labels[i]) * (out[static_cast<std::size_t>(i)] - v.labels[i]);
    return s / static_cast<double>(v.rows);
  }

  std::int64_t input_size_, min_leaf_ = 100, feature_ = -1;
  double threshold_ = 0, left_value_ = 0, right_value_ = 0;
};

}  // namespace

KLAB_MODEL_PLUGIN("stump", "0.1.0", "Example of the fit family: a regression stump on the last row", StumpModel)
