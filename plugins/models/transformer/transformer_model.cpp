// transformer.so — a Transformer encoder over the feature window.
//
// input_proj (Linear input_size -> d_model) -> positional encoding -> nn.TransformerEncoder
// (post-norm layers, as PyTorch's defaults) -> pooling over time (last step or mean) -> fc.
// The equivalent Python module (sequence-first encoder, as LibTorch's C++ layer is):
//     self.input_proj = nn.Linear(input_size, d_model)
//     self.register_buffer("positional_encoding", pe)         # sinusoidal, [max_len, d_model]
//     # or self.positional_encoding = nn.Parameter(...)       # learned
//     self.encoder = nn.TransformerEncoder(nn.TransformerEncoderLayer(d_model, nhead,
//                                          dim_feedforward, dropout, activation), num_layers)
//     self.fc = nn.Linear(d_model, output_size)
#include <cmath>

#include <nlohmann/json.hpp>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/transformercoder.h>
#include <torch/nn/modules/transformerlayer.h>

#include "klab/torch_model.h"
#include "klab/params.h"

namespace {

class TransformerModel : public klab::TorchModel {
 public:
  TransformerModel(std::int64_t input_size, const std::string& json) : input_size_(input_size) {
    klab::Params p(json, "model 'transformer'");
    klab::accept_model_identity(p, "transformer", input_size);
    d_model_ = p.integer_at_least("d_model", 64, 1);
    // model/config.json carries hidden_size (= d_model) for the specification's loaders; it
    // comes back here when a run is loaded, and must agree.
    const std::int64_t hidden_size = p.integer_at_least("hidden_size", d_model_, 1);
    if (hidden_size != d_model_) {
      throw klab::ConfigError("model 'transformer': hidden_size (" + std::to_string(hidden_size) +
                              ") is d_model (" + std::to_string(d_model_) + "); give d_model only");
    }
    nhead_ = p.integer_at_least("nhead", 4, 1);
    num_layers_ = p.integer_at_least("num_layers", 2, 1);
    dim_feedforward_ = p.integer_at_least("dim_feedforward", 128, 1);
    dropout_ = p.number_in("dropout", 0.1, 0.0, 1.0);
    activation_ = p.choice("activation", "relu", {"relu", "gelu"});
    positional_encoding_ = p.choice("positional_encoding", "sinusoidal",
                                    {"sinusoidal", "learned", "none"});
    pooling_ = p.choice("pooling", "last", {"last", "mean"});
    max_len_ = p.integer_at_least("max_len", 512, 1);
    output_size_ = p.integer_at_least("output_size", 1, 1);
    p.finish();
    if (d_model_ % nhead_ != 0) {
      throw klab::ConfigError("model 'transformer': d_model (" + std::to_string(d_model_) +
                              ") must be divisible by nhead (" + std::to_string(nhead_) + ")");
    }

    input_proj_ = register_module("input_proj", torch::nn::Linear(input_size, d_model_));
    if (positional_encoding_ == "sinusoidal") {
      position_ = register_buffer("positional_encoding", sinusoidal_table(max_len_, d_model_));
    } else if (positional_encoding_ == "learned") {
      position_ = register_parameter("positional_encoding",
                                     torch::randn({max_len_, d_model_}) * 0.02);
    }
    torch::nn::TransformerEncoderLayerOptions layer(d_model_, nhead_);
    layer.dim_feedforward(dim_feedforward_).dropout(dropout_);
    if (activation_ == "gelu") {
      layer.activation(torch::kGELU);
    } else {
      layer.activation(torch::kReLU);
    }
    encoder_ = register_module(
        "encoder", torch::nn::TransformerEncoder(
                       torch::nn::TransformerEncoderOptions(layer, num_layers_)));
    fc_ = register_module("fc", torch::nn::Linear(d_model_, output_size_));
  }

  torch::Tensor forward(const torch::Tensor& input) override {
    TORCH_CHECK(input.dim() == 3 && input.size(2) == input_size_,
                "transformer: expected input [batch, seq_len, ", input_size_, "], got ",
                input.sizes());
    const std::int64_t seq_len = input.size(1);
    TORCH_CHECK(!position_.defined() || seq_len <= max_len_, "transformer: seq_len ", seq_len,
                " exceeds max_len ", max_len_, "; raise model.max_len");
    auto x = input_proj_->forward(input);  // [batch, seq, d_model]
    if (position_.defined()) x = x + position_.slice(0, 0, seq_len).unsqueeze(0);
    x = encoder_->forward(x.transpose(0, 1));  // [seq, batch, d_model]
    auto pooled = pooling_ == "mean" ? x.mean(0) : x.select(0, seq_len - 1);
    return fc_->forward(pooled);
  }

  std::string model_type() const override { return "transformer"; }
  std::int64_t input_size() const override { return input_size_; }
  std::int64_t output_size() const override { return output_size_; }

  std::string config_json() const override {
    nlohmann::json config = {{"model_type", "transformer"},
                             {"input_size", input_size_},
                             {"d_model", d_model_},
                             {"hidden_size", d_model_},
                             {"nhead", nhead_},
                             {"num_layers", num_layers_},
                             {"dim_feedforward", dim_feedforward_},
                             {"dropout", dropout_},
                             {"activation", activation_},
                             {"positional_encoding", positional_encoding_},
                             {"pooling", pooling_},
                             {"max_len", max_len_},
                             {"output_size", output_size_}};
    return config.dump();
  }

 private:
  // PE[pos, 2i] = sin(pos / 10000^(2i/d)), PE[pos, 2i+1] = cos(pos / 10000^(2i/d)).
  static torch::Tensor sinusoidal_table(std::int64_t max_len, std::int64_t d_model) {
    auto position = torch::arange(max_len, torch::kFloat).unsqueeze(1);
    auto div_term = torch::exp(torch::arange(0, d_model, 2, torch::kFloat) *
                               (-std::log(10000.0) / static_cast<double>(d_model)));
    auto table = torch::zeros({max_len, d_model});
    table.index_put_({torch::indexing::Slice(), torch::indexing::Slice(0, torch::indexing::None, 2)},
                     torch::sin(position * div_term));
    auto odd = torch::cos(position * div_term);
    table.index_put_({torch::indexing::Slice(), torch::indexing::Slice(1, torch::indexing::None, 2)},
                     odd.slice(1, 0, d_model / 2));
    return table;
  }

  std::int64_t input_size_;
  std::int64_t d_model_ = 0, nhead_ = 0, num_layers_ = 0, dim_feedforward_ = 0;
  double dropout_ = 0;
  std::string activation_, positional_encoding_, pooling_;
  std::int64_t max_len_ = 0, output_size_ = 1;
  torch::nn::Linear input_proj_{nullptr};
  torch::Tensor position_;
  torch::nn::TransformerEncoder encoder_{nullptr};
  torch::nn::Linear fc_{nullptr};
};

}  // namespace

KLAB_MODEL_PLUGIN("transformer", "1.0.0",
                  "Transformer encoder with positional encoding and last/mean pooling",
                  TransformerModel)
