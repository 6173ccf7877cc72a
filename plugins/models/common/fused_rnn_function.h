// fused_rnn_function.h — the fused stacked LSTM/GRU (fused_rnn.h) as an autograd operation, so
// the rest of a model (the head, the loss, the optimizer) stays ordinary LibTorch.
//
// Inputs and parameters are exactly nn.LSTM's / nn.GRU's (batch_first, PyTorch names and
// layouts, zero initial state), dropout between layers draws the same random numbers in the same
// order as ATen's, so outputs and gradients match the autograd modules
// (tests/unit/models/fused_rnn_test.cpp) and the state_dict is unchanged.
#pragma once

#include <cstdint>
#include <mutex>
#include <vector>

#include <ATen/core/Tensor.h>

#include "fused_rnn.h"

namespace klab::plugins {

// One model's workspace, reused from batch to batch while no earlier graph still holds it: no
// allocation and no page faults per batch.
class FusedRnnWorkspace {
 public:
  at::Tensor acquire(std::int64_t floats);

 private:
  std::mutex mutex_;
  at::Tensor cached_;
};

// x: [batch, seq, input] float32 on the CPU. weights: per layer w_ih, w_hh, b_ih, b_hh (the
// registered parameters: their .grad receives the gradients). Returns [batch, seq, hidden].
// The batch is split across at::get_num_threads() threads.
at::Tensor fused_rnn(const at::Tensor& x, const std::vector<at::Tensor>& weights, fused::Cell cell,
                     std::int64_t num_layers, double dropout, bool training, FusedRnnWorkspace& workspace);

}  // namespace klab::plugins
