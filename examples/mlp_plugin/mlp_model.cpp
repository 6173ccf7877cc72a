// tiny_mlp.so — an example model plugin: a small MLP over each window's last step and its mean.
//
// Equivalent Python module (same parameter names, so klab's state_dict loads in Python):
//     self.net = nn.Sequential(nn.Linear(2 * input_size, hidden_size), nn.ReLU(),
//                              nn.Dropout(dropout), nn.Linear(hidden_size, output_size))
#include <nlohmann/json.hpp>
#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/linear.h>

#include "klab/torch_model.h"
#include "klab/params.h"

namespace {

class MlpModel : public klab::TorchModel {
 public:
  MlpModel(std::int64_t input_size, const std::string& json) : input_size_(input_size) {
    klab::Params p(json, "model 'tiny_mlp'");  // names the plugin in every error message
    klab::accept_model_identity(p, "tiny_mlp", input_size);
    hidden_size_ = p.integer_at_least("hidden_size", 64, 1);
    dropout_ = p.number_in("dropout", 0.1, 0.0, 1.0);
    output_size_ = p.integer_at_least("output_size", 1, 1);
    p.finish();  // rejects any key not read above, e.g. a misspelt "hiden_size"

    net_ = register_module("net", torch::nn::Sequential(
                                      torch::nn::Linear(2 * input_size, hidden_size_),
                                      torch::nn::ReLU(), torch::nn::Dropout(dropout_),
                                      torch::nn::Linear(hidden_size_, output_size_)));
  }

  // [batch, seq_len, input_size] -> [batch, output_size]
  torch::Tensor forward(const torch::Tensor& input) override {
    auto last = input.select(1, input.size(1) - 1);
    auto mean = input.mean(1);
    return net_->forward(torch::cat({last, mean}, 1));
  }

  std::string model_type() const override { return "tiny_mlp"; }
  std::int64_t input_size() const override { return input_size_; }
  std::int64_t output_size() const override { return output_size_; }

  std::string config_json() const override {
    return nlohmann::json{{"model_type", "tiny_mlp"},   {"input_size", input_size_},
                          {"hidden_size", hidden_size_}, {"dropout", dropout_},
                          {"output_size", output_size_}}
        .dump();
  }

 private:
  std::int64_t input_size_;
  std::int64_t hidden_size_ = 0;
  double dropout_ = 0;
  std::int64_t output_size_ = 1;
  torch::nn::Sequential net_{nullptr};
};

}  // namespace

// The plugin's entry point: name, version, one-line description, and the class to build.
KLAB_MODEL_PLUGIN("tiny_mlp", "0.1.0", "Example: MLP over the last step and the window mean", MlpModel)
