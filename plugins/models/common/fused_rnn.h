// fused_rnn.h — stacked LSTM and GRU layers whose forward and backward through time are written
// by hand over raw float buffers (no LibTorch here; fused_rnn_function.h wraps it as an autograd
// function). GEMMs run on klab's kernels with weights packed once per batch — AVX-512
// (fused_gemm_avx512.cpp) or AVX2 + FMA (fused_gemm_avx2.cpp), whichever the CPU has — and on
// BLAS elsewhere.
//
// Why: LibTorch's autograd LSTM spends about two thirds of an epoch on operator dispatch, small
// element-wise kernels and allocation. Here each layer does
//   forward:  one input-projection GEMM for all time steps, then per step one recurrent GEMM and
//             one fused, vectorised element-wise loop (gate non-linearities, cell update);
//   backward: per step one fused element-wise loop (gate gradients) and one GEMM for the hidden
//             state's gradient; then the weight gradients as single large GEMMs over all steps
//             and the input gradient as one GEMM.
// (With klab's kernels a step's projections are computed per step instead, so its gates stay in
// cache for the loop: the LSTM's in one pass over [x_t | h_t-1]; the GRU's r and z in one pass,
// W_in x_t and W_hn h_t-1 apart. The GRU's backward keeps only n's recurrent gradient apart, r and
// z's being their input ones.) Every buffer lives in one caller-provided workspace, so nothing
// is allocated per step.
//
// Layout: PyTorch's. Weights w_ih [G*H, in], w_hh [G*H, H], biases [G*H], with G = 4 gates
// (i, f, g, o) for the LSTM and 3 (r, z, n) for the GRU. Activations are batch-major
// [batch][step][...] like a batch_first input, so the rows of one batch block are contiguous.
//
// Threads: the batch is split into contiguous row blocks, one per thread, for the recurrences
// (rows are independent); the weight gradients are split by output rows (gate units) and each
// is one GEMM over all batch rows and steps, so no partial sums need combining. Results depend on
// the thread count only through BLAS rounding blocks of rows differently (~1e-7 relative).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

namespace klab::fused {

enum class Cell { lstm, gru };

inline std::int64_t gate_count(Cell cell) { return cell == Cell::lstm ? 4 : 3; }

// One layer's parameters and, for backward, where its gradients go (overwritten, not added).
struct LayerParams {
  const float* w_ih = nullptr;  // [G*H, in]
  const float* w_hh = nullptr;  // [G*H, H]
  const float* b_ih = nullptr;  // [G*H]
  const float* b_hh = nullptr;  // [G*H]
  float* grad_w_ih = nullptr;
  float* grad_w_hh = nullptr;
  float* grad_b_ih = nullptr;
  float* grad_b_hh = nullptr;
};

// Runs task(k) for every k in [0, n), possibly on several threads at once; returns when all
// are done.
using ParallelFor = std::function<void(std::int64_t n, const std::function<void(std::int64_t)>& task)>;

class StackedRnn {
 public:
  // dropout_masks: whether the input of layers 1.. is the previous layer's output times a mask.
  StackedRnn(Cell cell, std::int64_t batch, std::int64_t steps, std::int64_t input, std::int64_t hidden,
             std::int64_t layers, bool dropout_masks);

  // Floats the workspace must hold; bind() lays every buffer out in it.
  std::size_t workspace_floats() const { return total_; }
  void bind(float* workspace);  // 64-byte aligned

  // Mask applied to layer l's output before layer l+1 (l < layers-1), [batch][steps][hidden],
  // already scaled by 1/(1-p). Fill it before forward(); only when constructed with masks.
  float* dropout_mask(std::int64_t layer) const;

  // x: [batch][steps][input]. threads >= 1 row blocks (at most batch).
  void forward(const float* x, const std::vector<LayerParams>& params, std::int64_t threads,
               const ParallelFor& parallel);
  // The top layer's outputs [batch][steps][hidden], valid after forward().
  const float* output() const { return layer_[layers_ - 1].h; }

  // dy: gradient w.r.t. output() [batch][steps][hidden]; dx: where the gradient w.r.t. x goes
  // (nullptr when not needed). Uses the activations of the last forward() and destroys them:
  // call once per forward.
  void backward(const float* x, const float* dy, float* dx, const std::vector<LayerParams>& params,
                std::int64_t threads, const ParallelFor& parallel);

 private:
  struct LayerBuffers {
    float* gates = nullptr;  // [B][T][G*H] gate activations; gate gradients after backward
    float* h = nullptr;      // [B][T][H] outputs
    float* aux = nullptr;    // LSTM: cell state c; GRU: W_hn h + b_hn
    float* aux2 = nullptr;   // LSTM: tanh(c); GRU: unused
    float* input = nullptr;  // [B][T][H] masked input of this layer (layers >= 1 with masks)
    float* mask = nullptr;   // [B][T][H] mask on this layer's output (with masks, below the top)
    float* bias = nullptr;   // [G*H] biases folded into the input projection
    // Weights packed for klab's GEMM kernel (unused where BLAS does the GEMMs).
    float* packed_w_t = nullptr;     // [W_ih^T; W_hh^T] [(in + H) x G*H]
    float* packed_w_ih = nullptr;    // W_ih [G*H x in]
    float* packed_w_hh = nullptr;    // W_hh [G*H x H]
  };

  std::size_t layout(float* base);
  std::int64_t in_size(std::int64_t l) const { return l == 0 ? input_ : hidden_; }
  const float* layer_input(std::int64_t l, const float* x) const;
  void forward_rows(std::int64_t l, const float* x, const LayerParams& p, std::int64_t r0, std::int64_t r1);
  void backward_rows(std::int64_t l, const float* dy, const LayerParams& p, std::int64_t r0, std::int64_t r1);
  void weight_grads(std::int64_t l, const float* x, const LayerParams& p, std::int64_t c0, std::int64_t c1);
  void input_grad_rows(std::int64_t l, float* dx, const LayerParams& p, std::int64_t r0, std::int64_t r1);

  Cell cell_;
  std::int64_t batch_, steps_, input_, hidden_, layers_, gates_;
  bool masks_;
  std::size_t total_ = 0;
  std::vector<LayerBuffers> layer_;
  float* dgh_ = nullptr;      // GRU: [B][T][3H], the n columns: the gradient of W_hn h + b_hn
                              // (r and z's recurrent gradients are their input ones, in gates)
  float* dy_ = nullptr;       // [B][T][H] gradient flowing into the layer below
  float* carry_h_ = nullptr;  // [B][H] recurrent hidden-state gradient
  float* carry_c_ = nullptr;  // [B][H] LSTM cell-state gradient
  float* gh_ = nullptr;       // GRU: [B][3H] recurrent pre-activations of one step
  float* zeros_ = nullptr;    // [G*H] zeros: the state before step 0
};

}  // namespace klab::fused
