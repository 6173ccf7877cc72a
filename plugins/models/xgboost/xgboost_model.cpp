// xgboost.so — gradient-boosted trees on Debian's libxgboost (its C API), a model of the fit
// family (klab/model.h): no torch in this library. It learns in one call on the training windows —
// each window's last row of features (`input: last_row`, Qlib's tree models on Alpha158) or the
// whole window flattened (`input: flatten`, [seq_length × n_features] columns) — adding one tree
// per round and stopping when the validation RMSE has not improved for early_stopping_rounds; the
// booster is cut to its best round and saved as model/xgboost_model.json, XGBoost's own JSON
// format, which Python's xgboost.Booster(model_file=...) loads as it is. docs/PLUGINS.md.
#include <xgboost/c_api.h>

#include <cmath>
#include <cstdio>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "klab/model.h"

namespace {

constexpr const char* kModelFile = "xgboost_model.json";

void check(int status, const std::string& what) {
  if (status != 0) throw klab::TrainError("xgboost: " + what + ": " + XGBGetLastError());
}

struct Matrix {
  DMatrixHandle handle = nullptr;
  ~Matrix() {
    if (handle) XGDMatrixFree(handle);
  }
};

class XgboostModel : public klab::Model {
 public:
  XgboostModel(std::int64_t input_size, const std::string& json) : input_size_(input_size) {
    klab::Params p(json, "model 'xgboost'");
    klab::accept_model_identity(p, "xgboost", input_size);
    p.integer("output_size", 1);
    input_ = p.choice("input", "last_row", {"last_row", "flatten"});
    seq_length_ = p.integer_at_least("seq_length", 0, 0);  // recorded by config_json once fitted
    max_depth_ = p.integer_at_least("max_depth", 6, 1);
    eta_ = p.number_in("eta", 0.1, 1e-6, 1.0 + 1e-12);
    subsample_ = p.number_in("subsample", 1.0, 1e-6, 1.0 + 1e-12);
    colsample_ = p.number_in("colsample", 1.0, 1e-6, 1.0 + 1e-12);
    lambda_ = p.number_in("lambda", 1.0, 0.0, std::numeric_limits<double>::max());
    alpha_ = p.number_in("alpha", 0.0, 0.0, std::numeric_limits<double>::max());
    min_child_weight_ = p.number_in("min_child_weight", 1.0, 0.0, std::numeric_limits<double>::max());
    num_round_ = p.integer_at_least("num_round", 500, 1);
    early_stopping_rounds_ = p.integer_at_least("early_stopping_rounds", 50, 0);
    nthread_ = p.integer_at_least("nthread", 0, 0);
    seed_ = p.integer_at_least("seed", 0, 0);
    tree_method_ = p.choice("tree_method", "hist", {"hist", "exact", "approx"});
    max_bin_ = p.integer_at_least("max_bin", 256, 2);
    p.finish();
  }

  ~XgboostModel() override {
    if (booster_) XGBoosterFree(booster_);
  }

  std::string model_type() const override { return "xgboost"; }
  std::string config_json() const override {
    nlohmann::json j = {{"model_type", "xgboost"}, {"input_size", input_size_}, {"output_size", 1},
                        {"input", input_},         {"max_depth", max_depth_},   {"eta", eta_},
                        {"subsample", subsample_}, {"colsample", colsample_},   {"lambda", lambda_},
                        {"alpha", alpha_},         {"min_child_weight", min_child_weight_},
                        {"num_round", num_round_}, {"early_stopping_rounds", early_stopping_rounds_},
                        {"nthread", nthread_},     {"seed", seed_},             {"tree_method", tree_method_},
                        {"max_bin", max_bin_}};
    if (seq_length_ > 0) j["seq_length"] = seq_length_;
    return j.dump();
  }
  std::int64_t input_size() const override { return input_size_; }
  std::int64_t output_size() const override { return 1; }

  std::string fit(const klab::WindowView& train, const klab::WindowView& validation) override {
    if (train.labels == nullptr || train.rows == 0) throw klab::TrainError("xgboost: no training windows");
    seq_length_ = train.seq_length;
    Matrix dtrain = matrix(train), dvalid = matrix(validation);
    check(XGDMatrixSetFloatInfo(dtrain.handle, "label", train.labels, static_cast<bst_ulong>(train.rows)),
          "training labels");
    const bool has_valid = validation.rows > 0 && validation.labels != nullptr;
    if (has_valid) {
      check(XGDMatrixSetFloatInfo(dvalid.handle, "label", validation.labels, static_cast<bst_ulong>(validation.rows)),
            "validation labels");
    }
    if (booster_) XGBoosterFree(booster_);
    booster_ = nullptr;
    DMatrixHandle cache[] = {dtrain.handle, dvalid.handle};
    check(XGBoosterCreate(cache, has_valid ? 2 : 1, &booster_), "create booster");
    set_params(booster_);

    // Rounds until the validation RMSE has not improved for early_stopping_rounds. XGBoost keeps
    // both matrices' predictions cached, so evaluating the training RMSE each round costs one pass
    // over the labels: the kept round's training loss without predicting again.
    const char* names[] = {"train", "valid"};
    double best = std::numeric_limits<double>::infinity(), train_rmse_at_best = 0;
    std::int64_t best_round = 0, rounds = 0;
    nlohmann::json curve = nlohmann::json::array();
    for (std::int64_t round = 0; round < num_round_; ++round) {
      check(XGBoosterUpdateOneIter(booster_, static_cast<int>(round), dtrain.handle), "boosting round");
      rounds = round + 1;
      const char* result = nullptr;
      DMatrixHandle eval[] = {dtrain.handle, dvalid.handle};
      check(XGBoosterEvalOneIter(booster_, static_cast<int>(round), eval, names, has_valid ? 2 : 1, &result),
            "evaluation");
      const double train_rmse = rmse_of(result, "train-rmse:");
      if (!has_valid) {
        best_round = round;
        train_rmse_at_best = train_rmse;
        continue;
      }
      const double rmse = rmse_of(result, "valid-rmse:");
      curve.push_back(rmse);
      if (rmse < best) {
        best = rmse;
        best_round = round;
        train_rmse_at_best = train_rmse;
      } else if (early_stopping_rounds_ > 0 && round - best_round >= early_stopping_rounds_) {
        break;
      }
    }
    // Keep the trees up to the best round: what is saved is what was selected.
    if (best_round + 1 < rounds) {
      BoosterHandle sliced = nullptr;
      check(XGBoosterSlice(booster_, 0, static_cast<int>(best_round + 1), 1, &sliced), "cut to the best round");
      XGBoosterFree(booster_);
      booster_ = sliced;
    }
    // The kept round's RMSEs squared: the mean squared errors over the same rows.
    return nlohmann::json{{"train_loss", train_rmse_at_best * train_rmse_at_best},
                          {"val_loss", has_valid ? best * best : 0.0},
                          {"rounds", rounds},
                          {"best_round", best_round + 1},
                          {"best_val_rmse", has_valid ? nlohmann::json(best) : nlohmann::json(nullptr)},
                          {"val_rmse_by_round", curve},
                          {"train_rows", train.rows},
                          {"columns", columns(train)}}
        .dump();
  }

  void predict(const klab::WindowView& view, float* out) override {
    if (!booster_) throw klab::TrainError("xgboost: predict() before fit() or load()");
    if (view.rows == 0) return;
    Matrix d = matrix(view);
    const char* config = R"({"type": 0, "training": false, "iteration_begin": 0, "iteration_end": 0, "strict_shape": false})";
    const bst_ulong* shape = nullptr;
    bst_ulong dim = 0;
    const float* result = nullptr;
    check(XGBoosterPredictFromDMatrix(booster_, d.handle, config, &shape, &dim, &result), "predict");
    for (std::int64_t i = 0; i < view.rows; ++i) out[i] = result[i];
  }

  std::string save(const std::string& folder) const override {
    if (!booster_) throw klab::TrainError("xgboost: save() before fit()");
    const std::string file = folder + "/" + kModelFile;
    check(XGBoosterSaveModel(booster_, file.c_str()), file);
    return kModelFile;
  }

  void load(const std::string& folder) override {
    const std::string file = folder + "/" + kModelFile;
    if (booster_) XGBoosterFree(booster_);
    booster_ = nullptr;
    check(XGBoosterCreate(nullptr, 0, &booster_), "create booster");
    if (XGBoosterLoadModel(booster_, file.c_str()) != 0) {
      throw klab::IoError(file + ": cannot load the booster: " + XGBGetLastError());
    }
    set_params(booster_);
  }

 private:
  static double rmse_of(const char* text, const std::string& key) {
    const std::string s = text;
    const auto at = s.find(key);
    if (at == std::string::npos) throw klab::TrainError("xgboost: unexpected evaluation text \"" + s + "\"");
    return std::stod(s.substr(at + key.size()));
  }

  std::int64_t columns(const klab::WindowView& view) const { return klab::row_width(view, klab::row_input(input_)); }

  // The windows as XGBoost's dense matrix: a flattened window is the host's memory as it is; the
  // last row of each window is gathered. NaN is missing.
  Matrix matrix(const klab::WindowView& view) const {
    Matrix m;
    if (view.rows == 0) return m;
    if (view.n_features != input_size_) {
      throw klab::TrainError("xgboost: windows have " + std::to_string(view.n_features) + " features, the model " +
                             std::to_string(input_size_));
    }
    const auto rows = static_cast<bst_ulong>(view.rows);
    const auto cols = static_cast<bst_ulong>(columns(view));
    if (input_ == "flatten") {
      check(XGDMatrixCreateFromMat_omp(view.inputs, rows, cols, std::nanf(""), &m.handle, threads()), "matrix");
      return m;
    }
    std::vector<float> last(static_cast<std::size_t>(view.rows * view.n_features));
    for (std::int64_t i = 0; i < view.rows; ++i) {
      const float* row = klab::row_of(view, i, klab::RowInput::last_row);
      std::copy(row, row + view.n_features, last.begin() + i * view.n_features);
    }
    check(XGDMatrixCreateFromMat_omp(last.data(), rows, cols, std::nanf(""), &m.handle, threads()), "matrix");
    return m;
  }

  int threads() const { return static_cast<int>(nthread_); }  // 0: XGBoost's default

  void set_params(BoosterHandle b) const {
    auto set = [&](const char* key, const std::string& value) { check(XGBoosterSetParam(b, key, value.c_str()), key); };
    auto num = [](double v) { return nlohmann::json(v).dump(); };
    set("objective", "reg:squarederror");
    set("eval_metric", "rmse");
    set("max_depth", std::to_string(max_depth_));
    set("eta", num(eta_));
    set("subsample", num(subsample_));
    set("colsample_bytree", num(colsample_));
    set("lambda", num(lambda_));
    set("alpha", num(alpha_));
    set("min_child_weight", num(min_child_weight_));
    set("tree_method", tree_method_);
    set("max_bin", std::to_string(max_bin_));
    set("seed", std::to_string(seed_));
    set("verbosity", "0");
    if (nthread_ > 0) set("nthread", std::to_string(nthread_));
  }

  std::int64_t input_size_;
  std::string input_, tree_method_;
  std::int64_t seq_length_ = 0, max_depth_ = 6, num_round_ = 500, early_stopping_rounds_ = 50, nthread_ = 0, seed_ = 0,
               max_bin_ = 256;
  double eta_ = 0.1, subsample_ = 1, colsample_ = 1, lambda_ = 1, alpha_ = 0, min_child_weight_ = 1;
  BoosterHandle booster_ = nullptr;
};

}  // namespace

KLAB_MODEL_PLUGIN("xgboost", "1.0.0", "Gradient-boosted trees (libxgboost): the last row or the flattened window",
                  XgboostModel)
