// tcn.so — a temporal convolutional network (Bai et al. 2018, as in Qlib's TCN): residual blocks of
// two dilated causal 1-D convolutions with weight normalisation, ReLU and dropout, dilation
// doubling per block, then a linear head on the last time step.
//
// Parameter names match this Python module (tests/python/check_interop.py builds it and loads the
// state_dict with strict=True):
//     conv = lambda i, o, d: nn.utils.weight_norm(nn.Conv1d(i, o, k, padding=(k - 1) * d, dilation=d))
//     block b: conv1 = conv(in_b, channels, 2^b), conv2 = conv(channels, channels, 2^b),
//              downsample = nn.Conv1d(in_b, channels, 1) when in_b != channels
//     self.tcn = nn.ModuleDict({"network": nn.ModuleList(blocks)}); self.linear = nn.Linear(channels, output_size)
//     block(x) = relu(drop(relu(chomp(conv2(drop(relu(chomp(conv1(x))))))) + (downsample(x) or x))
// so tcn.network.0.conv1.weight_g, tcn.network.0.conv1.weight_v, tcn.network.0.conv1.bias, ...
// Input [batch, seq_len, features] is read as [batch, features, seq_len] (channels = features).
#include <cmath>

#include <nlohmann/json.hpp>
#include <torch/nn/functional/conv.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>

#include "klab/params.h"
#include "klab/torch_model.h"

namespace {

// nn.utils.weight_norm(nn.Conv1d(...)) (dim 0): weight = weight_g * weight_v / ||weight_v||, the
// norm over every dimension but the output channel.
class WeightNormConvImpl : public torch::nn::Module {
 public:
  WeightNormConvImpl(std::int64_t in, std::int64_t out, std::int64_t kernel, std::int64_t dilation)
      : padding_((kernel - 1) * dilation), dilation_(dilation) {
    torch::nn::Conv1d init(torch::nn::Conv1dOptions(in, out, kernel));  // PyTorch's initialisation
    auto v = init->weight.detach().clone();
    weight_g_ = register_parameter("weight_g", v.flatten(1).norm(2, 1).reshape({out, 1, 1}).clone());
    weight_v_ = register_parameter("weight_v", v);
    bias_ = register_parameter("bias", init->bias.detach().clone());
  }
  torch::Tensor forward(const torch::Tensor& x) {
    const auto norm = weight_v_.flatten(1).norm(2, 1).reshape({weight_v_.size(0), 1, 1});
    const auto weight = weight_v_ * (weight_g_ / norm);
    auto y = torch::nn::functional::conv1d(
        x, weight, torch::nn::functional::Conv1dFuncOptions().bias(bias_).padding(padding_).dilation(dilation_));
    return y.slice(2, 0, y.size(2) - padding_);  // chomp: causal, the output at t sees inputs <= t
  }

 private:
  std::int64_t padding_, dilation_;
  torch::Tensor weight_g_, weight_v_, bias_;
};
TORCH_MODULE(WeightNormConv);

class TemporalBlockImpl : public torch::nn::Module {
 public:
  TemporalBlockImpl(std::int64_t in, std::int64_t out, std::int64_t kernel, std::int64_t dilation, double dropout)
      : dropout_(dropout) {
    conv1_ = register_module("conv1", WeightNormConv(in, out, kernel, dilation));
    conv2_ = register_module("conv2", WeightNormConv(out, out, kernel, dilation));
    if (in != out) downsample_ = register_module("downsample", torch::nn::Conv1d(torch::nn::Conv1dOptions(in, out, 1)));
  }
  torch::Tensor forward(const torch::Tensor& x) {
    auto h = torch::dropout(torch::relu(conv1_->forward(x)), dropout_, is_training());
    h = torch::dropout(torch::relu(conv2_->forward(h)), dropout_, is_training());
    return torch::relu(h + (downsample_ ? downsample_->forward(x) : x));
  }

 private:
  double dropout_;
  WeightNormConv conv1_{nullptr}, conv2_{nullptr};
  torch::nn::Conv1d downsample_{nullptr};
};
TORCH_MODULE(TemporalBlock);

class TcnModel : public klab::TorchModel {
 public:
  TcnModel(std::int64_t input_size, const std::string& json) : input_size_(input_size) {
    klab::Params p(json, "model 'tcn'");
    klab::accept_model_identity(p, "tcn", input_size);
    channels_ = p.integer_at_least("channels", 32, 1);
    num_layers_ = p.integer_at_least("num_layers", 5, 1);
    kernel_size_ = p.integer_at_least("kernel_size", 3, 2);
    dropout_ = p.number_in("dropout", 0.0, 0.0, 1.0);
    output_size_ = p.integer_at_least("output_size", 1, 1);
    p.finish();
    if (num_layers_ > 16) throw klab::ConfigError("model 'tcn': 'num_layers' must be <= 16 (dilation 2^15)");
    auto tcn = register_module("tcn", std::make_shared<torch::nn::Module>());
    network_ = tcn->register_module("network", torch::nn::ModuleList());
    for (std::int64_t b = 0; b < num_layers_; ++b) {
      network_->push_back(TemporalBlock(b == 0 ? input_size : channels_, channels_, kernel_size_,
                                        std::int64_t{1} << b, dropout_));
    }
    linear_ = register_module("linear", torch::nn::Linear(channels_, output_size_));
  }

  torch::Tensor forward(const torch::Tensor& input) override {
    TORCH_CHECK(input.dim() == 3 && input.size(2) == input_size_, "tcn: expected input [batch, seq_len, ",
                input_size_, "], got ", input.sizes());
    auto h = input.transpose(1, 2);  // [batch, features, seq_len]
    for (const auto& block : *network_) h = block->as<TemporalBlock>()->forward(h);
    return linear_->forward(h.select(2, h.size(2) - 1));
  }

  std::string model_type() const override { return "tcn"; }
  std::int64_t input_size() const override { return input_size_; }
  std::int64_t output_size() const override { return output_size_; }
  std::string config_json() const override {
    return nlohmann::json{{"model_type", "tcn"},        {"input_size", input_size_},   {"channels", channels_},
                          {"num_layers", num_layers_},  {"kernel_size", kernel_size_}, {"dropout", dropout_},
                          {"output_size", output_size_}}
        .dump();
  }

 private:
  std::int64_t input_size_, channels_ = 32, num_layers_ = 5, kernel_size_ = 3, output_size_ = 1;
  double dropout_ = 0;
  torch::nn::ModuleList network_{nullptr};
  torch::nn::Linear linear_{nullptr};
};

}  // namespace

KLAB_MODEL_PLUGIN("tcn", "1.0.0", "Temporal convolutional network: dilated causal convolutions, weight norm, residuals",
                  TcnModel)
