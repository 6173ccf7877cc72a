// mlp.so — Qlib's MLP (its DNNModelPytorch network) over each window's last row (the day's
// features, Qlib's MLP on Alpha158) or the window flattened (`input: flatten` with `seq_length`
// equal to train.seq_length: Alpha360's 360 numbers):
// input dropout, `num_layers` blocks of Linear → BatchNorm1d → LeakyReLU(0.1), dropout, a linear
// head. Parameter names match Qlib's `Net` (pytorch_nn.py), so the state_dict (with BatchNorm's
// running statistics) loads there strictly:
//     self.dnn_layers = nn.ModuleList([nn.Dropout(p),
//                                      nn.Sequential(nn.Linear(d, h), nn.BatchNorm1d(h), nn.LeakyReLU(0.1)), ...,
//                                      nn.Dropout(p), nn.Linear(h, output_size)])
// i.e. dnn_layers.1.0.weight, dnn_layers.1.1.running_mean, ..., dnn_layers.{num_layers + 2}.weight.
#include <nlohmann/json.hpp>
#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/linear.h>

#include "klab/params.h"
#include "klab/torch_model.h"

namespace {

class MlpModel : public klab::TorchModel {
 public:
  MlpModel(std::int64_t input_size, const std::string& json) : input_size_(input_size) {
    klab::Params p(json, "model 'mlp'");
    klab::accept_model_identity(p, "mlp", input_size);
    input_ = p.choice("input", "last_row", {"last_row", "flatten"});
    hidden_size_ = p.integer_at_least("hidden_size", 256, 1);
    num_layers_ = p.integer_at_least("num_layers", 1, 1);
    dropout_ = p.number_in("dropout", 0.05, 0.0, 1.0);
    batch_norm_ = p.boolean("batch_norm", true);
    seq_length_ = p.integer_at_least("seq_length", 0, 0);  // flatten: the window's rows
    output_size_ = p.integer_at_least("output_size", 1, 1);
    p.finish();
    if (input_ == "flatten" && seq_length_ == 0) {
      throw klab::ConfigError("model 'mlp': input: flatten needs 'seq_length' (the experiment's train.seq_length)");
    }
    layers_ = register_module("dnn_layers", torch::nn::ModuleList());
    layers_->push_back(torch::nn::Dropout(dropout_));
    build(input_ == "last_row" ? input_size_ : seq_length_ * input_size_);
  }

  torch::Tensor forward(const torch::Tensor& input) override {
    TORCH_CHECK(input.dim() == 3 && input.size(2) == input_size_, "mlp: expected input [batch, seq_len, ",
                input_size_, "], got ", input.sizes());
    torch::Tensor x = input_ == "last_row" ? input.select(1, input.size(1) - 1) : input.flatten(1);
    TORCH_CHECK(x.size(1) == width_, "mlp: windows of ", input.size(1), " rows, but seq_length is ", seq_length_,
                " (set model.seq_length to train.seq_length)");
    x = torch::dropout(x, dropout_, is_training());
    for (auto& block : blocks_) x = block->forward(x);
    return head_->forward(torch::dropout(x, dropout_, is_training()));
  }

  std::string model_type() const override { return "mlp"; }
  std::int64_t input_size() const override { return input_size_; }
  std::int64_t output_size() const override { return output_size_; }
  std::string config_json() const override {
    nlohmann::json j = {{"model_type", "mlp"},       {"input_size", input_size_}, {"input", input_},
                        {"hidden_size", hidden_size_}, {"num_layers", num_layers_}, {"dropout", dropout_},
                        {"batch_norm", batch_norm_}, {"output_size", output_size_}};
    if (input_ == "flatten") j["seq_length"] = seq_length_;
    return j.dump();
  }

 private:
  void build(std::int64_t width) {
    width_ = width;
    std::int64_t in = width;
    for (std::int64_t l = 0; l < num_layers_; ++l) {
      torch::nn::Sequential block(torch::nn::Linear(in, hidden_size_));
      if (batch_norm_) block->push_back(torch::nn::BatchNorm1d(hidden_size_));
      block->push_back(torch::nn::LeakyReLU(torch::nn::LeakyReLUOptions().negative_slope(0.1)));
      layers_->push_back(block);
      blocks_.push_back(block);
      in = hidden_size_;
    }
    layers_->push_back(torch::nn::Dropout(dropout_));
    head_ = torch::nn::Linear(in, output_size_);
    layers_->push_back(head_);
  }

  std::int64_t input_size_, hidden_size_ = 256, num_layers_ = 1, seq_length_ = 0, output_size_ = 1, width_ = 0;
  std::string input_;
  double dropout_ = 0.05;
  bool batch_norm_ = true;
  torch::nn::ModuleList layers_{nullptr};  // every module, in Qlib's order and names
  std::vector<torch::nn::Sequential> blocks_;
  torch::nn::Linear head_{nullptr};
};

}  // namespace

KLAB_MODEL_PLUGIN("mlp", "1.0.0", "Qlib's MLP: Linear, BatchNorm, LeakyReLU blocks over the flattened window", MlpModel)
