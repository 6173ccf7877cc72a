// alstm.so — Qlib's ALSTM: the features projected (Linear + tanh), a stacked GRU or LSTM over the
// window, attention pooling over its time steps, and a head on [last step, attention-pooled].
//
// Parameter names match the Python module of Qlib's pytorch_alstm.py, so the state_dict loads
// there (and in tests/python/check_interop.py) with strict=True:
//     self.net = nn.Sequential(); net.fc_in = nn.Linear(input_size, hidden_size); net.act = nn.Tanh()
//     self.rnn = nn.GRU(hidden_size, hidden_size, num_layers, batch_first=True, dropout=dropout)
//     self.att_net = nn.Sequential(att_fc_in = nn.Linear(hidden_size, hidden_size // 2),
//                                  att_dropout = nn.Dropout(dropout), att_act = nn.Tanh(),
//                                  att_fc_out = nn.Linear(hidden_size // 2, 1, bias=False),
//                                  att_softmax = nn.Softmax(dim=1))
//     self.fc_out = nn.Linear(hidden_size * 2, output_size)
//     forward: h = rnn(net(x)); a = att_net(h); out = fc_out(cat(h[:, -1], (h * a).sum(1)))
// The recurrent layer runs on the fused LSTM/GRU path (impl: fused, the default) or LibTorch's
// module (impl: autograd), as lstm.so and gru.so do.
#include <nlohmann/json.hpp>
#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/rnn.h>

#include "../common/fused_rnn_function.h"
#include "klab/params.h"
#include "klab/torch_model.h"

namespace {

class AlstmModel : public klab::TorchModel {
 public:
  AlstmModel(std::int64_t input_size, const std::string& json) : input_size_(input_size) {
    klab::Params p(json, "model 'alstm'");
    klab::accept_model_identity(p, "alstm", input_size);
    hidden_size_ = p.integer_at_least("hidden_size", 64, 2);
    num_layers_ = p.integer_at_least("num_layers", 2, 1);
    dropout_ = p.number_in("dropout", 0.0, 0.0, 1.0);
    rnn_type_ = p.choice("rnn_type", "gru", {"gru", "lstm"});
    impl_ = p.choice("impl", "fused", {"fused", "autograd"});
    output_size_ = p.integer_at_least("output_size", 1, 1);
    p.finish();

    torch::OrderedDict<std::string, torch::nn::AnyModule> in;
    in.insert("fc_in", torch::nn::AnyModule(torch::nn::Linear(input_size, hidden_size_)));
    in.insert("act", torch::nn::AnyModule(torch::nn::Tanh()));
    net_ = register_module("net", torch::nn::Sequential(std::move(in)));
    const double between = num_layers_ > 1 ? dropout_ : 0.0;
    if (rnn_type_ == "gru") {
      gru_ = register_module("rnn", torch::nn::GRU(torch::nn::GRUOptions(hidden_size_, hidden_size_)
                                                       .num_layers(num_layers_).dropout(between).batch_first(true)));
    } else {
      lstm_ = register_module("rnn", torch::nn::LSTM(torch::nn::LSTMOptions(hidden_size_, hidden_size_)
                                                         .num_layers(num_layers_).dropout(between).batch_first(true)));
    }
    torch::OrderedDict<std::string, torch::nn::AnyModule> att;
    att.insert("att_fc_in", torch::nn::AnyModule(torch::nn::Linear(hidden_size_, hidden_size_ / 2)));
    att.insert("att_dropout", torch::nn::AnyModule(torch::nn::Dropout(dropout_)));
    att.insert("att_act", torch::nn::AnyModule(torch::nn::Tanh()));
    att.insert("att_fc_out",
               torch::nn::AnyModule(torch::nn::Linear(torch::nn::LinearOptions(hidden_size_ / 2, 1).bias(false))));
    att.insert("att_softmax", torch::nn::AnyModule(torch::nn::Softmax(1)));
    att_net_ = register_module("att_net", torch::nn::Sequential(std::move(att)));
    fc_out_ = register_module("fc_out", torch::nn::Linear(hidden_size_ * 2, output_size_));
  }

  torch::Tensor forward(const torch::Tensor& input) override {
    TORCH_CHECK(input.dim() == 3 && input.size(2) == input_size_, "alstm: expected input [batch, seq_len, ",
                input_size_, "], got ", input.sizes());
    const torch::Tensor projected = net_->forward(input);
    torch::Tensor h;  // [batch, seq_len, hidden]
    if (impl_ == "fused") {
      auto params = (rnn_type_ == "gru" ? gru_->named_parameters(false) : lstm_->named_parameters(false));
      std::vector<torch::Tensor> weights;
      for (int64_t l = 0; l < num_layers_; ++l) {
        for (const char* name : {"weight_ih_l", "weight_hh_l", "bias_ih_l", "bias_hh_l"}) {
          weights.push_back(params[name + std::to_string(l)]);
        }
      }
      h = klab::plugins::fused_rnn(projected.contiguous(), weights,
                                   rnn_type_ == "gru" ? klab::fused::Cell::gru : klab::fused::Cell::lstm,
                                   num_layers_, num_layers_ > 1 ? dropout_ : 0.0, is_training(), *workspace_);
    } else {
      h = rnn_type_ == "gru" ? std::get<0>(gru_->forward(projected)) : std::get<0>(lstm_->forward(projected));
    }
    const torch::Tensor score = att_net_->forward(h);      // [batch, seq_len, 1], softmax over time
    const torch::Tensor pooled = (h * score).sum(1);       // [batch, hidden]
    return fc_out_->forward(torch::cat({h.select(1, h.size(1) - 1), pooled}, 1));
  }

  std::string model_type() const override { return "alstm"; }
  std::int64_t input_size() const override { return input_size_; }
  std::int64_t output_size() const override { return output_size_; }
  std::string config_json() const override {
    return nlohmann::json{{"model_type", "alstm"},   {"input_size", input_size_}, {"hidden_size", hidden_size_},
                          {"num_layers", num_layers_}, {"dropout", dropout_},     {"rnn_type", rnn_type_},
                          {"impl", impl_},           {"output_size", output_size_}}
        .dump();
  }

 private:
  std::int64_t input_size_, hidden_size_ = 64, num_layers_ = 2, output_size_ = 1;
  double dropout_ = 0;
  std::string rnn_type_, impl_;
  std::shared_ptr<klab::plugins::FusedRnnWorkspace> workspace_ = std::make_shared<klab::plugins::FusedRnnWorkspace>();
  torch::nn::Sequential net_{nullptr}, att_net_{nullptr};
  torch::nn::GRU gru_{nullptr};
  torch::nn::LSTM lstm_{nullptr};
  torch::nn::Linear fc_out_{nullptr};
};

}  // namespace

KLAB_MODEL_PLUGIN("alstm", "1.0.0", "Qlib's ALSTM: projected features, GRU/LSTM, attention pooling over time", AlstmModel)
