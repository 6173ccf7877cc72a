// linear.so — ridge regression in closed form, a model of the fit family (klab/model.h): no torch.
// The inputs are each window's last row of features (`input: last_row`) or the whole window
// flattened (`input: flatten`); the fit minimises
//     Σ (y_i − b − x_i·w)² + lambda · |w|²        (the intercept b is not penalised)
// by solving (XcᵀXc + lambda·I) w = Xcᵀ yc on the centred columns (Cholesky, in double), then
// b = ȳ − x̄·w. Undefined inputs (NaN) count as 0, the training centre of a scaled feature.
// Saved as model/linear_model.json ({intercept, coef, input, columns}): Python predicts with
// numpy in one line (docs/PLUGINS.md).
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "klab/model.h"

namespace {

constexpr const char* kModelFile = "linear_model.json";

class LinearModel : public klab::Model {
 public:
  LinearModel(std::int64_t input_size, const std::string& json) : input_size_(input_size) {
    klab::Params p(json, "model 'linear'");
    klab::accept_model_identity(p, "linear", input_size);
    p.integer("output_size", 1);
    input_ = p.choice("input", "last_row", {"last_row", "flatten"});
    lambda_ = p.number("lambda", 1.0);
    if (!(lambda_ >= 0) || !std::isfinite(lambda_)) {
      throw klab::ConfigError("model 'linear': 'lambda' must be a number >= 0, got " + nlohmann::json(lambda_).dump());
    }
    p.integer("seq_length", 0);  // written by config_json once fitted
    p.finish();
  }

  std::string model_type() const override { return "linear"; }
  std::string config_json() const override {
    nlohmann::json j = {{"model_type", "linear"}, {"input_size", input_size_}, {"output_size", 1},
                        {"input", input_},         {"lambda", lambda_}};
    if (seq_length_ > 0) j["seq_length"] = seq_length_;
    return j.dump();
  }
  std::int64_t input_size() const override { return input_size_; }
  std::int64_t output_size() const override { return 1; }

  std::string fit(const klab::WindowView& train, const klab::WindowView& validation) override {
    if (train.labels == nullptr || train.rows == 0) throw klab::TrainError("linear: no training windows");
    seq_length_ = train.seq_length;
    const std::int64_t p = columns(train);
    const auto n = static_cast<double>(train.rows);
    // Column means and label mean, then the centred normal equations, in double.
    std::vector<double> mean(static_cast<std::size_t>(p), 0.0), row(static_cast<std::size_t>(p));
    double y_mean = 0;
    for (std::int64_t i = 0; i < train.rows; ++i) {
      read_row(train, i, row);
      for (std::int64_t j = 0; j < p; ++j) mean[j] += row[j];
      y_mean += train.labels[i];
    }
    for (auto& m : mean) m /= n;
    y_mean /= n;
    std::vector<double> a(static_cast<std::size_t>(p * p), 0.0), b(static_cast<std::size_t>(p), 0.0);
    for (std::int64_t i = 0; i < train.rows; ++i) {
      read_row(train, i, row);
      for (std::int64_t j = 0; j < p; ++j) row[j] -= mean[j];
      const double y = train.labels[i] - y_mean;
      for (std::int64_t j = 0; j < p; ++j) {
        const double rj = row[j];
        if (rj == 0) continue;
        double* aj = a.data() + j * p;
        for (std::int64_t k = 0; k <= j; ++k) aj[k] += rj * row[k];  // lower triangle
        b[j] += rj * y;
      }
    }
    for (std::int64_t j = 0; j < p; ++j) a[j * p + j] += lambda_;
    coef_ = solve_spd(a, b, p);
    intercept_ = y_mean;
    for (std::int64_t j = 0; j < p; ++j) intercept_ -= mean[j] * coef_[j];
    fitted_ = true;
    return nlohmann::json{{"train_loss", mse(train)},
                          {"val_loss", mse(validation)},
                          {"train_rows", train.rows},
                          {"columns", p},
                          {"lambda", lambda_}}
        .dump();
  }

  void predict(const klab::WindowView& view, float* out) override {
    if (!fitted_) throw klab::TrainError("linear: predict() before fit() or load()");
    if (view.rows > 0 && columns(view) != static_cast<std::int64_t>(coef_.size())) {
      throw klab::TrainError("linear: windows have " + std::to_string(columns(view)) + " columns, the model " +
                             std::to_string(coef_.size()));
    }
    std::vector<double> row(coef_.size());
    for (std::int64_t i = 0; i < view.rows; ++i) {
      read_row(view, i, row);
      double s = intercept_;
      for (std::size_t j = 0; j < coef_.size(); ++j) s += coef_[j] * row[j];
      out[i] = static_cast<float>(s);
    }
  }

  std::string save(const std::string& folder) const override {
    if (!fitted_) throw klab::TrainError("linear: save() before fit()");
    const std::string file = folder + "/" + kModelFile;
    std::ofstream out(file);
    out << nlohmann::json{{"intercept", intercept_}, {"coef", coef_}, {"input", input_}, {"columns", coef_.size()},
                          {"lambda", lambda_}}
               .dump(1)
        << "\n";
    if (!out.flush()) throw klab::IoError(file + ": cannot write");
    return kModelFile;
  }

  void load(const std::string& folder) override {
    const std::string file = folder + "/" + kModelFile;
    std::ifstream in(file);
    if (!in) throw klab::IoError(file + ": cannot read");
    std::stringstream text;
    text << in.rdbuf();
    try {
      const auto j = nlohmann::json::parse(text.str());
      intercept_ = j.at("intercept").get<double>();
      coef_ = j.at("coef").get<std::vector<double>>();
    } catch (const nlohmann::json::exception& e) {
      throw klab::IoError(file + ": " + e.what());
    }
    fitted_ = true;
  }

 private:
  std::int64_t columns(const klab::WindowView& view) const { return klab::row_width(view, klab::row_input(input_)); }

  void read_row(const klab::WindowView& view, std::int64_t i, std::vector<double>& row) const {
    const float* start = klab::row_of(view, i, klab::row_input(input_));
    for (std::size_t j = 0; j < row.size(); ++j) row[j] = std::isfinite(start[j]) ? start[j] : 0.0;
  }

  // Solves A x = b for a symmetric positive definite A given by its lower triangle (Cholesky).
  static std::vector<double> solve_spd(std::vector<double> a, std::vector<double> b, std::int64_t p) {
    for (std::int64_t j = 0; j < p; ++j) {
      double d = a[j * p + j];
      for (std::int64_t k = 0; k < j; ++k) d -= a[j * p + k] * a[j * p + k];
      if (!(d > 0)) {
        throw klab::TrainError("linear: the normal equations are singular (a constant or repeated column); "
                               "set lambda > 0");
      }
      const double l = std::sqrt(d);
      a[j * p + j] = l;
      for (std::int64_t i = j + 1; i < p; ++i) {
        double s = a[i * p + j];
        for (std::int64_t k = 0; k < j; ++k) s -= a[i * p + k] * a[j * p + k];
        a[i * p + j] = s / l;
      }
    }
    for (std::int64_t i = 0; i < p; ++i) {  // L z = b
      double s = b[i];
      for (std::int64_t k = 0; k < i; ++k) s -= a[i * p + k] * b[k];
      b[i] = s / a[i * p + i];
    }
    for (std::int64_t i = p - 1; i >= 0; --i) {  // Lᵀ x = z
      double s = b[i];
      for (std::int64_t k = i + 1; k < p; ++k) s -= a[k * p + i] * b[k];
      b[i] = s / a[i * p + i];
    }
    return b;
  }

  double mse(const klab::WindowView& view) {
    if (view.rows == 0 || view.labels == nullptr) return 0;
    std::vector<float> out(static_cast<std::size_t>(view.rows));
    predict(view, out.data());
    double total = 0;
    for (std::int64_t i = 0; i < view.rows; ++i) {
      const double e = static_cast<double>(out[static_cast<std::size_t>(i)]) - view.labels[i];
      total += e * e;
    }
    return total / static_cast<double>(view.rows);
  }

  std::int64_t input_size_;
  std::string input_;
  double lambda_ = 1.0;
  std::int64_t seq_length_ = 0;
  std::vector<double> coef_;
  double intercept_ = 0;
  bool fitted_ = false;
};

}  // namespace

KLAB_MODEL_PLUGIN("linear", "1.0.0", "Ridge regression in closed form on the last row or the flattened window", LinearModel)
