// mean_model.so — the smallest model that is not a torch module: it predicts the mean of the
// training labels for every window. Built against klab::sdk alone (no torch anywhere in this
// library: tests check its dynamic dependencies), it proves a model of another family runs end
// to end: fit, predictions, evaluation, out/ files, PredictionEngine.
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "klab/model.h"

namespace {

class MeanModel : public klab::Model {
 public:
  MeanModel(std::int64_t input_size, const std::string& json) : input_size_(input_size) {
    klab::Params p(json, "model 'mean_model'");
    klab::accept_model_identity(p, "mean_model", input_size);
    shrink_ = p.number("shrink", 0.0);
    p.integer("output_size", 1);
    p.finish();
    if (shrink_ < 0 || shrink_ > 1) throw klab::ConfigError("model 'mean_model': shrink must be in [0, 1]");
  }

  std::string model_type() const override { return "mean_model"; }
  std::string config_json() const override {
    return nlohmann::json{{"model_type", "mean_model"}, {"input_size", input_size_}, {"output_size", 1},
                          {"shrink", shrink_}}
        .dump();
  }
  std::int64_t input_size() const override { return input_size_; }
  std::int64_t output_size() const override { return 1; }

  std::string fit(const klab::WindowView& train, const klab::WindowView& validation) override {
    if (train.labels == nullptr || train.rows == 0) throw klab::TrainError("mean_model: no training labels");
    double sum = 0;
    for (std::int64_t i = 0; i < train.rows; ++i) sum += train.labels[i];
    mean_ = (1.0 - shrink_) * sum / static_cast<double>(train.rows);
    fitted_ = true;
    return nlohmann::json{{"train_loss", mse(train)}, {"val_loss", mse(validation)}, {"mean", mean_},
                          {"train_rows", train.rows}}
        .dump();
  }

  void predict(const klab::WindowView& view, float* out) override {
    for (std::int64_t i = 0; i < view.rows; ++i) out[i] = static_cast<float>(mean_);
  }

  std::string save(const std::string& folder) const override {
    if (!fitted_) throw klab::TrainError("mean_model: save() before fit()");
    const std::string file = folder + "/mean_model.json";
    std::ofstream out(file);
    out << nlohmann::json{{"mean", mean_}}.dump() << "\n";
    if (!out.flush()) throw klab::IoError(file + ": cannot write");
    return "mean_model.json";
  }

  void load(const std::string& folder) override {
    const std::string file = folder + "/mean_model.json";
    std::ifstream in(file);
    if (!in) throw klab::IoError(file + ": cannot read");
    std::stringstream text;
    text << in.rdbuf();
    try {
      mean_ = nlohmann::json::parse(text.str()).at("mean").get<double>();
    } catch (const nlohmann::json::exception& e) {
      throw klab::IoError(file + ": " + e.what());
    }
    fitted_ = true;
  }

 private:
  double mse(const klab::WindowView& view) const {
    if (view.labels == nullptr || view.rows == 0) return 0;
    double total = 0;
    for (std::int64_t i = 0; i < view.rows; ++i) total += (view.labels[i] - mean_) * (view.labels[i] - mean_);
    return total / static_cast<double>(view.rows);
  }

  std::int64_t input_size_;
  double shrink_ = 0;
  double mean_ = 0;
  bool fitted_ = false;
};

}  // namespace

KLAB_MODEL_PLUGIN("mean_model", "1.0.0", "Test model without torch: the mean of the training labels", MeanModel)
