// fused_rnn.cpp — see fused_rnn.h. The GEMMs go to klab's AVX-512 kernel where the CPU has it,
// to BLAS otherwise (OpenBLAS, single-threaded: the threads here are klab's); the element-wise
// loops are fused_rnn_steps.inc, built per instruction set.
#include "fused_rnn.h"

#include <algorithm>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include <cblas.h>

#include "fused_rnn_steps.h"
#include "klab/error.h"

namespace klab::fused {
namespace {

// B packed for klab's kernel: K rows in each panel, panels panel_stride floats apart.
struct Packed {
  const float* p;
  std::int64_t panel_stride;
};

void blas(std::int64_t m, std::int64_t n, std::int64_t k, MatrixView a, MatrixView b, float beta, float* c,
          std::int64_t ldc) {
  // BLAS wants each operand row-major (cs = 1) or transposed (rs = 1).
  const bool trans_a = a.cs != 1, trans_b = b.cs != 1;
  cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans,
              static_cast<int>(m), static_cast<int>(n), static_cast<int>(k), 1.0f, a.p,
              static_cast<int>(trans_a ? a.cs : a.rs), b.p, static_cast<int>(trans_b ? b.cs : b.rs), beta, c,
              static_cast<int>(ldc));
}

// C[m x n] = A[m x k] * B[k x n] + beta * C (beta 0 or 1), C row-major with ldc. With klab's
// kernels (AVX-512, AVX2), B comes packed (the weights, packed once per pass) or is packed here in
// blocks of k into a per-thread buffer (the activations of the weight gradients); otherwise BLAS.
// With m2 > 0, C has m2 more rows, from a second A (a2, m2 x k): the product of both with a B
// packed here packs B once.
void matmul(std::int64_t m, std::int64_t n, std::int64_t k, MatrixView a, MatrixView b, const Packed* packed,
            float beta, float* c, std::int64_t ldc, std::int64_t m2 = 0, MatrixView a2 = {}) {
  const StepKernels& kernels = step_kernels();
  const bool narrow = n % kGemmPanel != 0 && n < m + m2 && beta == 0.0f;
  if (m2 > 0 && (k == 0 || !kernels.gemm_packed || packed || narrow)) {  // B packed once already, or not at all
    matmul(m, n, k, a, b, packed, beta, c, ldc);
    return matmul(m2, n, k, a2, b, packed, beta, c + m * ldc, ldc);
  }
  if (m + m2 == 0 || n == 0) return;
  if (k == 0) {
    for (std::int64_t r = 0; r < m; ++r) {
      for (std::int64_t col = 0; col < n; ++col) c[r * ldc + col] = beta == 0.0f ? 0.0f : c[r * ldc + col];
    }
    return;
  }
  if (!kernels.gemm_packed) return blas(m, n, k, a, b, beta, c, ldc);
  if (packed) return kernels.gemm_packed(m, n, k, a, 0, a, packed->p, packed->panel_stride, beta, c, ldc);
  if (narrow) {
    // A narrow C (the first layer's weight gradient: 45 features wide) would waste most of its
    // last 32-column panel: compute C^T = B^T A^T, as wide as C is tall, and transpose it.
    thread_local std::vector<float> transposed;
    transposed.resize(static_cast<std::size_t>(n * m));
    matmul(n, m, k, {b.p, b.cs, b.rs}, {a.p, a.cs, a.rs}, nullptr, 0.0f, transposed.data(), m);
    for (std::int64_t r = 0; r < m; ++r) {
      for (std::int64_t col = 0; col < n; ++col) c[r * ldc + col] = transposed[static_cast<std::size_t>(col * m + r)];
    }
    return;
  }
  constexpr std::int64_t kc = 256;  // a block of B stays in L2 while every row of A passes
  thread_local std::unique_ptr<float, void (*)(void*)> buffer(nullptr, std::free);
  thread_local std::int64_t capacity = 0;
  const std::int64_t need = packed_floats(std::min(k, kc), n);
  if (capacity < need) {
    buffer.reset(static_cast<float*>(std::aligned_alloc(64, static_cast<std::size_t>((need * 4 + 63) / 64 * 64))));
    capacity = need;
  }
  for (std::int64_t k0 = 0; k0 < k; k0 += kc) {
    const std::int64_t kb = std::min(kc, k - k0);
    kernels.pack_b(kb, n, {b.p + k0 * b.rs, b.rs, b.cs}, buffer.get(), kb * kGemmPanel);
    kernels.gemm_packed(m, n, kb, {a.p + k0 * a.cs, a.rs, a.cs}, 0, a, buffer.get(), kb * kGemmPanel,
                        k0 == 0 ? beta : 1.0f, c, ldc);
    if (m2 > 0) {
      kernels.gemm_packed(m2, n, kb, {a2.p + k0 * a2.cs, a2.rs, a2.cs}, 0, a2, buffer.get(), kb * kGemmPanel,
                          k0 == 0 ? beta : 1.0f, c + m * ldc, ldc);
    }
  }
}

// The same with A in two parts side by side, [A1 | A2] (k1 + k2 columns), and B packed: one pass
// of klab's kernel, or two BLAS calls.
void matmul2(std::int64_t m, std::int64_t n, std::int64_t k1, MatrixView a1, std::int64_t k2, MatrixView a2,
             MatrixView b, const Packed& packed, float beta, float* c, std::int64_t ldc) {
  if (const StepKernels& kernels = step_kernels(); kernels.gemm_packed) {
    return kernels.gemm_packed(m, n, k1, a1, k2, a2, packed.p, packed.panel_stride, beta, c, ldc);
  }
  blas(m, n, k1, a1, b, beta, c, ldc);
  blas(m, n, k2, a2, {b.p + k1 * b.rs, b.rs, b.cs}, 1.0f, c, ldc);
}

std::int64_t block_begin(std::int64_t total, std::int64_t blocks, std::int64_t k, std::int64_t align = 1) {
  const std::int64_t units = (total + align - 1) / align;
  return std::min(total, units * k / blocks * align);
}

}  // namespace

const StepKernels& step_kernels() {
  static const StepKernels& chosen = [&]() -> const StepKernels& {
    const char* forced = std::getenv("KLAB_FUSED_ISA");
    const std::string isa = forced ? forced : "";
    if (!isa.empty() && isa != "generic" && isa != "avx2" && isa != "avx512") {
      throw klab::ConfigError("KLAB_FUSED_ISA=" + isa + ": unknown instruction set (avx512, avx2, generic)");
    }
    bool has_avx512 = false, has_avx2 = false;
#if defined(__x86_64__) && defined(__GNUC__)
    __builtin_cpu_init();
    has_avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
                 __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq");
    has_avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#endif
    // A forced instruction set the CPU lacks is an error, never a silent fallback: a test or
    // benchmark that asked for it would otherwise measure something else.
    if ((isa == "avx512" && !has_avx512) || (isa == "avx2" && !has_avx2)) {
      throw klab::ConfigError("KLAB_FUSED_ISA=" + isa + ": this CPU does not have " + isa);
    }
#if defined(__x86_64__) && defined(__GNUC__)
    if (isa == "generic") return generic::kernels;
    if (isa == "avx2" && has_avx2) return avx2::kernels;
    if (has_avx512 && isa != "avx2") return avx512::kernels;
    if (has_avx2) return avx2::kernels;
#endif
    return generic::kernels;
  }();
  return chosen;
}

const char* step_kernels_name() {
  const StepKernels& k = step_kernels();
  return &k == &avx512::kernels ? "avx512" : &k == &avx2::kernels ? "avx2" : "generic";
}

StackedRnn::StackedRnn(Cell cell, std::int64_t batch, std::int64_t steps, std::int64_t input, std::int64_t hidden,
                       std::int64_t layers, bool dropout_masks)
    : cell_(cell), batch_(batch), steps_(steps), input_(input), hidden_(hidden), layers_(layers),
      gates_(gate_count(cell) * hidden), masks_(dropout_masks && layers > 1), layer_(layers) {
  total_ = layout(nullptr);
}

void StackedRnn::bind(float* workspace) { layout(workspace); }

// Lays every buffer out from base (or only counts, when base is null); returns the floats used.
// Packed weights start on 64-byte boundaries, as the AVX-512 kernel loads them aligned.
std::size_t StackedRnn::layout(float* base) {
  std::size_t offset = 0;
  auto take = [&](std::int64_t floats, bool aligned = false) {
    if (aligned) offset = (offset + 15) / 16 * 16;
    float* p = base ? base + offset : nullptr;
    offset += static_cast<std::size_t>(floats);
    return p;
  };
  const std::int64_t bt = batch_ * steps_, H = hidden_, GH = gates_;
  for (std::int64_t l = 0; l < layers_; ++l) {
    LayerBuffers& b = layer_[l];
    b.gates = take(bt * GH);
    b.h = take(bt * H);
    b.aux = take(bt * H);
    b.aux2 = cell_ == Cell::lstm ? take(bt * H) : nullptr;
    b.bias = take(GH);
    b.input = masks_ && l > 0 ? take(bt * H) : nullptr;
    b.mask = masks_ && l < layers_ - 1 ? take(bt * H) : nullptr;
    b.packed_w_t = take(packed_floats(in_size(l) + H, GH), true);
    b.packed_w_ih = take(packed_floats(GH, in_size(l)), true);
    b.packed_w_hh = take(packed_floats(GH, H), true);
  }
  dy_ = take(bt * H);
  carry_h_ = take(batch_ * H);
  carry_c_ = take(batch_ * H);
  zeros_ = take(GH);
  dgh_ = cell_ == Cell::gru ? take(bt * GH) : nullptr;
  gh_ = cell_ == Cell::gru ? take(batch_ * GH) : nullptr;
  return offset;
}

float* StackedRnn::dropout_mask(std::int64_t l) const { return layer_[l].mask; }

const float* StackedRnn::layer_input(std::int64_t l, const float* x) const {
  if (l == 0) return x;
  return masks_ ? layer_[l].input : layer_[l - 1].h;
}

void StackedRnn::forward(const float* x, const std::vector<LayerParams>& params, std::int64_t threads,
                         const ParallelFor& parallel) {
  threads = std::max<std::int64_t>(1, std::min(threads, batch_));
  for (std::int64_t l = 0; l < layers_; ++l) {
    // Biases folded into the step's pre-activations: all of them for the LSTM; for the GRU all
    // but b_hn, which sits inside r * (W_hn h + b_hn).
    const LayerParams& p = params[l];
    float* bias = layer_[l].bias;
    const std::int64_t folded = cell_ == Cell::lstm ? gates_ : 2 * hidden_;
    for (std::int64_t k = 0; k < gates_; ++k) bias[k] = p.b_ih[k] + (k < folded ? p.b_hh[k] : 0.0f);
    // The forward GEMMs multiply by W^T: [x_t | h_t-1] [W_ih^T; W_hh^T], packed as one matrix.
    if (const StepKernels& kernels = step_kernels(); kernels.pack_b) {
      const std::int64_t in = in_size(l), stride = (in + hidden_) * kGemmPanel;
      kernels.pack_b(in, gates_, {p.w_ih, 1, in}, layer_[l].packed_w_t, stride);
      kernels.pack_b(hidden_, gates_, {p.w_hh, 1, hidden_}, layer_[l].packed_w_t + in * kGemmPanel, stride);
    }
  }
  std::fill(zeros_, zeros_ + gates_, 0.0f);
  // Rows are independent through all layers: each thread runs its block through the stack.
  parallel(threads, [&](std::int64_t k) {
    const std::int64_t r0 = block_begin(batch_, threads, k), r1 = block_begin(batch_, threads, k + 1);
    for (std::int64_t l = 0; l < layers_; ++l) forward_rows(l, x, params[l], r0, r1);
  });
}

void StackedRnn::forward_rows(std::int64_t l, const float* x, const LayerParams& p, std::int64_t r0,
                              std::int64_t r1) {
  const std::int64_t T = steps_, H = hidden_, GH = gates_, in = in_size(l), rows = r1 - r0;
  if (rows <= 0) return;
  LayerBuffers& L = layer_[l];
  const float* input = layer_input(l, x) + r0 * T * in;
  float* gates = L.gates + r0 * T * GH;
  float* h = L.h + r0 * T * H;
  float* aux = L.aux + r0 * T * H;
  const StepKernels& K = step_kernels();
  const std::int64_t stride = (in + H) * kGemmPanel;
  const Packed w_ih_t{L.packed_w_t, stride}, w_hh_t{L.packed_w_t + in * kGemmPanel, stride};
  // With klab's kernel a step's GEMMs read [x_t | h_t-1] and write the step's pre-activations,
  // which are then still in cache for the element-wise loop. The LSTM does it in one pass. The
  // GRU needs W_in x and W_hn h apart: one pass gives r and z (their columns of the packed
  // [W_ih^T; W_hh^T]), then the n columns are multiplied by x_t (into the gates) and by h_t-1
  // (into gh, whose r and z columns stay zero) with the two halves of the same panels. Without
  // klab's kernel (BLAS cannot take A in two parts), or when the n columns do not start on a
  // panel, the input projection of every step runs at once first, then the recurrent one per step.
  const bool gru_split = cell_ == Cell::gru && K.gemm_packed && (2 * H) % kGemmPanel == 0;
  const bool per_step = (cell_ == Cell::lstm && K.gemm_packed) || gru_split;
  if (!per_step) matmul(rows * T, GH, in, {input, in, 1}, {p.w_ih, 1, in}, &w_ih_t, 0.0f, gates, GH);
  float* gh = gh_ + r0 * GH;
  if (gru_split) {
    for (std::int64_t b = 0; b < rows; ++b) std::fill(gh + b * GH, gh + b * GH + 2 * H, 0.0f);
  }
  const float* n_panels = L.packed_w_t + (2 * H / kGemmPanel) * stride;
  for (std::int64_t t = 0; t < T; ++t) {
    float* g = gates + t * GH;
    // At step 0 the previous state is zero: the zero vector with a row stride of 0.
    const bool first = t == 0;
    const float* h_prev = first ? zeros_ : h + (t - 1) * H;
    const std::int64_t ps = first ? 0 : T * H;
    const MatrixView x_t{input + t * in, T * in, 1}, h_t{h_prev, T * H, 1};
    if (cell_ == Cell::lstm) {
      if (per_step) {
        K.gemm_packed(rows, GH, in, x_t, first ? 0 : H, h_t, L.packed_w_t, stride, 0.0f, g, T * GH);
      } else if (!first) {
        matmul(rows, GH, H, h_t, {p.w_hh, 1, H}, &w_hh_t, 1.0f, g, T * GH);
      }
      K.lstm_forward(rows, H, T * GH, T * H, g, L.bias, first ? zeros_ : aux + (t - 1) * H, ps, aux + t * H,
                     L.aux2 + r0 * T * H + t * H, h + t * H);
    } else {
      if (gru_split) {
        K.gemm_packed(rows, 2 * H, in, x_t, first ? 0 : H, h_t, L.packed_w_t, stride, 0.0f, g, T * GH);
        K.gemm_packed(rows, H, in, x_t, 0, x_t, n_panels, stride, 0.0f, g + 2 * H, T * GH);
        if (!first) K.gemm_packed(rows, H, H, h_t, 0, h_t, n_panels + in * kGemmPanel, stride, 0.0f, gh + 2 * H, GH);
      } else if (!first) {
        matmul(rows, GH, H, h_t, {p.w_hh, 1, H}, &w_hh_t, 0.0f, gh, GH);
      }
      K.gru_forward(rows, H, T * GH, T * H, g, first ? zeros_ : gh, first ? 0 : GH, L.bias, p.b_hh + 2 * H, h_prev, ps,
                    aux + t * H, h + t * H);
    }
  }
  if (L.mask) step_kernels().multiply(rows * T * H, h, L.mask + r0 * T * H, layer_[l + 1].input + r0 * T * H);
}

void StackedRnn::backward(const float* x, const float* dy, float* dx, const std::vector<LayerParams>& params,
                          std::int64_t threads, const ParallelFor& parallel) {
  threads = std::max<std::int64_t>(1, std::min(threads, batch_));
  const float* dy_layer = dy;
  for (std::int64_t l = layers_ - 1; l >= 0; --l) {
    const LayerParams& p = params[l];
    // The backward GEMMs multiply by W itself: dG W_hh per step, dG W_ih for the input.
    if (const StepKernels& kernels = step_kernels(); kernels.pack_b) {
      kernels.pack_b(gates_, hidden_, {p.w_hh, hidden_, 1}, layer_[l].packed_w_hh, gates_ * kGemmPanel);
      kernels.pack_b(gates_, in_size(l), {p.w_ih, in_size(l), 1}, layer_[l].packed_w_ih, gates_ * kGemmPanel);
    }
    parallel(threads, [&](std::int64_t k) {
      backward_rows(l, dy_layer, p, block_begin(batch_, threads, k), block_begin(batch_, threads, k + 1));
    });
    // Weight gradients: split by gate units (multiples of 16 floats), each a GEMM over every row.
    parallel(threads, [&](std::int64_t k) {
      weight_grads(l, x, p, block_begin(gates_, threads, k, 16), block_begin(gates_, threads, k + 1, 16));
    });
    float* target = l > 0 ? dy_ : dx;
    if (target) {
      parallel(threads, [&](std::int64_t k) {
        input_grad_rows(l, target, p, block_begin(batch_, threads, k), block_begin(batch_, threads, k + 1));
      });
    }
    dy_layer = dy_;
  }
}

void StackedRnn::backward_rows(std::int64_t l, const float* dy, const LayerParams& p, std::int64_t r0,
                               std::int64_t r1) {
  const std::int64_t T = steps_, H = hidden_, GH = gates_, rows = r1 - r0;
  if (rows <= 0) return;
  LayerBuffers& L = layer_[l];
  float* gates = L.gates + r0 * T * GH;
  float* h = L.h + r0 * T * H;
  const float* aux = L.aux + r0 * T * H;
  const float* dyr = dy + r0 * T * H;
  float* carry_h = carry_h_ + r0 * H;
  float* carry_c = carry_c_ + r0 * H;
  const StepKernels& K = step_kernels();
  const Packed w_hh{L.packed_w_hh, GH * kGemmPanel};
  std::fill(carry_h, carry_h + rows * H, 0.0f);
  std::fill(carry_c, carry_c + rows * H, 0.0f);
  for (std::int64_t t = T - 1; t >= 0; --t) {
    float* g = gates + t * GH;
    const bool first = t == 0;
    const std::int64_t ps = first ? 0 : T * H;
    if (cell_ == Cell::lstm) {
      K.lstm_backward(rows, H, T * GH, T * H, g, dyr + t * H, carry_h, carry_c, first ? zeros_ : aux + (t - 1) * H,
                         ps, L.aux2 + r0 * T * H + t * H);
      if (t > 0) matmul(rows, H, GH, {g, T * GH, 1}, {p.w_hh, H, 1}, &w_hh, 0.0f, carry_h, H);
    } else {
      float* dgh = dgh_ + r0 * T * GH + t * GH;
      K.gru_backward(rows, H, T * GH, T * H, g, dgh, dyr + t * H, carry_h, first ? zeros_ : h + (t - 1) * H, ps,
                        aux + t * H);
      // dL/dh(t-1) += [dr | dz | dn] W_hh, dr and dz read where the step left them, in g.
      if (t > 0) matmul2(rows, H, 2 * H, {g, T * GH, 1}, H, {dgh + 2 * H, T * GH, 1}, {p.w_hh, H, 1}, w_hh, 1.0f, carry_h, H);
    }
  }
  // The recurrent weight gradient pairs step t's gate gradients with h(t-1). weight_grads() does
  // it as one GEMM over all rows shifted by one, which also pairs (b, 0) with (b-1, T-1): zeroing
  // each row's last output (no longer needed) makes those terms vanish, as h(-1) = 0 does.
  for (std::int64_t b = 0; b < rows; ++b) std::fill(h + (b * T + T - 1) * H, h + (b * T + T) * H, 0.0f);
}

void StackedRnn::weight_grads(std::int64_t l, const float* x, const LayerParams& p, std::int64_t c0,
                              std::int64_t c1) {
  const std::int64_t bt = batch_ * steps_, H = hidden_, GH = gates_, in = in_size(l), units = c1 - c0;
  if (units <= 0) return;
  const LayerBuffers& L = layer_[l];
  const float* input = layer_input(l, x);
  matmul(units, in, bt, {L.gates + c0, 1, GH}, {input, in, 1}, nullptr, 0.0f, p.grad_w_ih + c0 * in, in);
  const StepKernels& K = step_kernels();
  K.column_sums(bt, units, GH, L.gates + c0, p.grad_b_ih + c0);
  // Where W_ih x and W_hh h enter the same pre-activation (every gate of the LSTM, the GRU's r and
  // z: the units before `split`), the gradients of W_hh h's pre-activations are the gates', and
  // b_hh's gradient is b_ih's. The GRU's n units have their own, in dgh (inside r * (W_hn h + b_hn)).
  // One product for both blocks of rows, so L.h is packed once.
  const std::int64_t split = cell_ == Cell::lstm ? c1 : std::clamp(2 * H, c0, c1);
  matmul(split - c0, H, bt - 1, {L.gates + GH + c0, 1, GH}, {L.h, H, 1}, nullptr, 0.0f, p.grad_w_hh + c0 * H, H,
         c1 - split, {dgh_ ? dgh_ + GH + split : nullptr, 1, GH});
  std::copy(p.grad_b_ih + c0, p.grad_b_ih + split, p.grad_b_hh + c0);
  if (split < c1) K.column_sums(bt, c1 - split, GH, dgh_ + split, p.grad_b_hh + split);
}

void StackedRnn::input_grad_rows(std::int64_t l, float* dx, const LayerParams& p, std::int64_t r0, std::int64_t r1) {
  const std::int64_t T = steps_, GH = gates_, in = in_size(l), rows = r1 - r0;
  if (rows <= 0) return;
  float* out = dx + r0 * T * in;
  const Packed w_ih{layer_[l].packed_w_ih, GH * kGemmPanel};
  matmul(rows * T, in, GH, {layer_[l].gates + r0 * T * GH, GH, 1}, {p.w_ih, in, 1}, &w_ih, 0.0f, out, in);
  // Below the top, this is the gradient w.r.t. the masked output of layer l-1.
  if (l > 0 && masks_) step_kernels().multiply_in_place(rows * T * in, out, layer_[l - 1].mask + r0 * T * in);
}

}  // namespace klab::fused
