// fused_lstm.h — a stacked LSTM whose forward and backward through time are written by hand.
//
// The autograd LSTM spends most of an epoch recording and replaying many small operators.
// Here each layer does one input-projection GEMM for all time steps, one recurrent GEMM and one
// fused element-wise loop per step; the backward pass walks the steps once, keeping only
// [batch, 4*hidden] gate gradients per step, and forms the weight gradients as single large
// GEMMs over all steps. It is a torch::autograd::Function, so the rest of the model (the head,
// the loss, the optimizer) stays ordinary LibTorch. Gate order, weight layout and dropout
// between layers (same random draws, same order) are PyTorch's, so outputs and gradients match
// nn.LSTM's (tests/unit/models/fused_lstm_test.cpp) and the state_dict is unchanged.
#pragma once

#include <cmath>
#include <cstdint>
#include <vector>

#include <ATen/ATen.h>
#include <torch/csrc/autograd/custom_function.h>

namespace klab::plugins {

struct FusedLstmFunction : public torch::autograd::Function<FusedLstmFunction> {
  // x: [batch, seq, input] (batch_first). weights: per layer w_ih [4H, in], w_hh [4H, H],
  // b_ih [4H], b_hh [4H]. Returns the top layer's outputs [batch, seq, H].
  static torch::autograd::variable_list forward(torch::autograd::AutogradContext* ctx, const at::Tensor& x,
                                                at::TensorList weights, int64_t num_layers, double dropout,
                                                bool training) {
    const int64_t B = x.size(0), T = x.size(1);
    const int64_t H = weights[1].size(1);
    at::Tensor input = x.transpose(0, 1).contiguous();  // [T, B, in], time-major like ATen's LSTM
    std::vector<at::Tensor> saved = {x};
    for (int64_t l = 0; l < num_layers; ++l) {
      const at::Tensor& w_ih = weights[4 * l];
      const at::Tensor& w_hh = weights[4 * l + 1];
      const at::Tensor bias = weights[4 * l + 2] + weights[4 * l + 3];
      const int64_t in = input.size(2);
      // Pre-activations of every step at once: [T*B, 4H]; then the recurrent part is added per step.
      at::Tensor gates = at::addmm(bias, input.view({T * B, in}), w_ih.t()).view({T, B, 4 * H});
      at::Tensor h = at::zeros({T + 1, B, H}, x.options());
      at::Tensor c = at::zeros({T + 1, B, H}, x.options());
      const at::Tensor w_hh_t = w_hh.t();
      for (int64_t t = 0; t < T; ++t) {
        at::Tensor g = gates[t];
        g.addmm_(h[t], w_hh_t);
        float* a = g.data_ptr<float>();
        const float* c_prev = c[t].data_ptr<float>();
        float* c_next = c[t + 1].data_ptr<float>();
        float* h_next = h[t + 1].data_ptr<float>();
        for (int64_t b = 0; b < B; ++b) {
          float* row = a + b * 4 * H;
          for (int64_t j = 0; j < H; ++j) {
            const float i_gate = 1.0f / (1.0f + std::exp(-row[j]));
            const float f_gate = 1.0f / (1.0f + std::exp(-row[H + j]));
            const float g_gate = std::tanh(row[2 * H + j]);
            const float o_gate = 1.0f / (1.0f + std::exp(-row[3 * H + j]));
            const float cell = f_gate * c_prev[b * H + j] + i_gate * g_gate;
            row[j] = i_gate;
            row[H + j] = f_gate;
            row[2 * H + j] = g_gate;
            row[3 * H + j] = o_gate;
            c_next[b * H + j] = cell;
            h_next[b * H + j] = o_gate * std::tanh(cell);
          }
        }
      }
      at::Tensor output = h.slice(0, 1);  // [T, B, H]
      at::Tensor mask;
      if (training && dropout > 0 && l < num_layers - 1) {
        // As ATen's dropout between LSTM layers: bernoulli(1 - p) / (1 - p) on [T, B, H].
        mask = at::empty_like(output).bernoulli_(1 - dropout).div_(1 - dropout);
        output = output * mask;
      } else {
        mask = at::Tensor();
      }
      saved.insert(saved.end(), {input, gates, c, h, mask.defined() ? mask : at::empty({0}, x.options())});
      input = output.contiguous();
    }
    ctx->save_for_backward(saved);
    ctx->saved_data["num_layers"] = num_layers;
    ctx->saved_data["weights"] = c10::List<at::Tensor>(weights.vec());
    return {input.transpose(0, 1)};
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grad_outputs) {
    const auto saved = ctx->get_saved_variables();
    const int64_t num_layers = ctx->saved_data["num_layers"].toInt();
    const auto weight_list = ctx->saved_data["weights"].toTensorList();
    std::vector<at::Tensor> weights(weight_list.begin(), weight_list.end());
    const at::Tensor& x = saved[0];
    const int64_t B = x.size(0), T = x.size(1);
    const int64_t H = weights[1].size(1);
    std::vector<at::Tensor> grads(weights.size());
    at::Tensor d_out = grad_outputs[0].transpose(0, 1).contiguous();  // [T, B, H] w.r.t. the top output
    for (int64_t l = num_layers - 1; l >= 0; --l) {
      const at::Tensor& input = saved[1 + 5 * l];
      const at::Tensor& gates = saved[2 + 5 * l];
      const at::Tensor& c = saved[3 + 5 * l];
      const at::Tensor& h = saved[4 + 5 * l];
      const at::Tensor& w_ih = weights[4 * l];
      const at::Tensor& w_hh = weights[4 * l + 1];
      // Gradients of the gate pre-activations, every step: [T, B, 4H].
      at::Tensor d_gates = at::empty({T, B, 4 * H}, x.options());
      at::Tensor dh_next = at::zeros({B, H}, x.options());
      at::Tensor dc_next = at::zeros({B, H}, x.options());
      for (int64_t t = T - 1; t >= 0; --t) {
        const float* a = gates[t].data_ptr<float>();
        const float* c_prev = c[t].data_ptr<float>();
        const float* c_cur = c[t + 1].data_ptr<float>();
        const float* dy = d_out[t].data_ptr<float>();
        const float* dh_in = dh_next.data_ptr<float>();
        float* dc = dc_next.data_ptr<float>();
        float* dg = d_gates[t].data_ptr<float>();
        for (int64_t b = 0; b < B; ++b) {
          const float* row = a + b * 4 * H;
          float* drow = dg + b * 4 * H;
          for (int64_t j = 0; j < H; ++j) {
            const float i_gate = row[j], f_gate = row[H + j], g_gate = row[2 * H + j], o_gate = row[3 * H + j];
            const float tanh_c = std::tanh(c_cur[b * H + j]);
            const float dh = dy[b * H + j] + dh_in[b * H + j];
            const float dcell = dh * o_gate * (1.0f - tanh_c * tanh_c) + dc[b * H + j];
            drow[j] = dcell * g_gate * i_gate * (1.0f - i_gate);
            drow[H + j] = dcell * c_prev[b * H + j] * f_gate * (1.0f - f_gate);
            drow[2 * H + j] = dcell * i_gate * (1.0f - g_gate * g_gate);
            drow[3 * H + j] = dh * tanh_c * o_gate * (1.0f - o_gate);
            dc[b * H + j] = dcell * f_gate;
          }
        }
        dh_next = at::mm(d_gates[t], w_hh);  // [B, H]
      }
      const int64_t in = input.size(2);
      const at::Tensor dg_flat = d_gates.view({T * B, 4 * H});
      grads[4 * l] = at::mm(dg_flat.t(), input.view({T * B, in}));                      // w_ih
      grads[4 * l + 1] = at::mm(dg_flat.t(), h.slice(0, 0, T).reshape({T * B, H}));    // w_hh
      grads[4 * l + 2] = dg_flat.sum(0);                                               // b_ih
      grads[4 * l + 3] = grads[4 * l + 2].clone();                                     // b_hh
      at::Tensor d_input = at::mm(dg_flat, w_ih).view({T, B, in});
      if (l > 0) {
        const at::Tensor& mask = saved[5 + 5 * (l - 1)];
        d_out = mask.numel() > 0 ? (d_input * mask).contiguous() : d_input;
      } else {
        d_out = d_input;
      }
    }
    torch::autograd::variable_list result = {d_out.transpose(0, 1)};
    result.insert(result.end(), grads.begin(), grads.end());
    result.insert(result.end(), {at::Tensor(), at::Tensor(), at::Tensor()});  // num_layers, dropout, training
    return result;
  }
};

}  // namespace klab::plugins
