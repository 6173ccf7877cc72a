// recurrent_model.h — the LSTM and GRU model plugins share one shape: a stacked recurrent layer
// (batch_first) followed by a linear head on the last time step.
//
// Parameter names match a Python module written as
//     self.lstm = nn.LSTM(input_size, hidden_size, num_layers, batch_first=True, ...)
//     self.fc = nn.Linear(hidden_size * num_directions, output_size)
// (self.gru for the GRU), so `lstm.weight_ih_l0`, ..., `fc.weight` load with strict=True.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/rnn.h>

#include "fused_rnn_function.h"
#include "klab/torch_model.h"
#include "klab/params.h"

namespace klab::plugins {

template <typename Rnn, typename RnnOptions>
class RecurrentModel : public TorchModel {
 public:
  RecurrentModel(const std::string& type, std::int64_t input_size, const std::string& json)
      : type_(type), input_size_(input_size) {
    Params p(json, "model '" + type + "'");
    accept_model_identity(p, type, input_size);
    hidden_size_ = p.integer_at_least("hidden_size", 128, 1);
    num_layers_ = p.integer_at_least("num_layers", 2, 1);
    dropout_ = p.number_in("dropout", 0.2, 0.0, 1.0);
    bidirectional_ = p.boolean("bidirectional", false);
    output_size_ = p.integer_at_least("output_size", 1, 1);
    // fused: the hand-written forward/backward (fused_rnn.h), the default where it applies (one
    // direction); autograd: LibTorch's nn module, the reference.
    impl_ = p.choice("impl", bidirectional_ ? "autograd" : "fused", {"autograd", "fused"});
    p.finish();
    if (impl_ == "fused" && bidirectional_) {
      throw ConfigError("model '" + type + "': impl: fused runs one direction only; use impl: autograd with "
                        "bidirectional: true");
    }

    rnn_ = register_module(type, Rnn(RnnOptions(input_size, hidden_size_)
                                         .num_layers(num_layers_)
                                         .dropout(num_layers_ > 1 ? dropout_ : 0.0)
                                         .batch_first(true)
                                         .bidirectional(bidirectional_)));
    const std::int64_t directions = bidirectional_ ? 2 : 1;
    fc_ = register_module("fc", torch::nn::Linear(hidden_size_ * directions, output_size_));
  }

  torch::Tensor forward(const torch::Tensor& input) override {
    TORCH_CHECK(input.dim() == 3 && input.size(2) == input_size_, type_,
                ": expected input [batch, seq_len, ", input_size_, "], got ", input.sizes());
    torch::Tensor sequence;  // [batch, seq_len, hidden * directions]
    if (impl_ == "fused") {
      // The registered parameters themselves, so their .grad() receives the fused gradients.
      std::vector<torch::Tensor> weights;
      auto params = rnn_->named_parameters(/*recurse=*/false);
      for (int64_t l = 0; l < num_layers_; ++l) {
        for (const char* name : {"weight_ih_l", "weight_hh_l", "bias_ih_l", "bias_hh_l"}) {
          weights.push_back(params[name + std::to_string(l)]);
        }
      }
      sequence = fused_rnn(input, weights, type_ == "lstm" ? fused::Cell::lstm : fused::Cell::gru, num_layers_,
                           num_layers_ > 1 ? dropout_ : 0.0, is_training(), *workspace_);
    } else {
      sequence = std::get<0>(rnn_->forward(input));
    }
    return fc_->forward(sequence.select(1, sequence.size(1) - 1));
  }

  std::string model_type() const override { return type_; }
  std::int64_t input_size() const override { return input_size_; }
  std::int64_t output_size() const override { return output_size_; }

  std::string config_json() const override {
    nlohmann::json config = {{"model_type", type_},         {"input_size", input_size_},
                             {"hidden_size", hidden_size_}, {"num_layers", num_layers_},
                             {"dropout", dropout_},         {"bidirectional", bidirectional_},
                             {"output_size", output_size_},  {"impl", impl_}};
    return config.dump();
  }

 private:
  std::string type_;
  std::int64_t input_size_;
  std::int64_t hidden_size_ = 0;
  std::int64_t num_layers_ = 0;
  double dropout_ = 0;
  bool bidirectional_ = false;
  std::int64_t output_size_ = 1;
  std::string impl_ = "fused";
  std::shared_ptr<FusedRnnWorkspace> workspace_ = std::make_shared<FusedRnnWorkspace>();
  Rnn rnn_{nullptr};
  torch::nn::Linear fc_{nullptr};
};

}  // namespace klab::plugins
