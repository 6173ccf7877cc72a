// fused_rnn_steps.h — the element-wise loops of the fused RNN (fused_rnn_steps.inc), built once
// per instruction set; step_kernels() returns the best set this CPU runs.
#pragma once

#include <cstdint>

namespace klab::fused {

// Element (i, j) of a matrix at p[i * rs + j * cs]: row-major (cs = 1) or transposed (rs = 1).
struct MatrixView {
  const float* p;
  std::int64_t rs, cs;
};

struct StepKernels {
  void (*lstm_forward)(std::int64_t rows, std::int64_t H, std::int64_t gs, std::int64_t hs, float* g,
                       const float* bias, const float* c_prev, std::int64_t ps, float* c, float* tc, float* h);
  void (*lstm_backward)(std::int64_t rows, std::int64_t H, std::int64_t gs, std::int64_t hs, float* g,
                        const float* dy, const float* carry_h, float* carry_c, const float* c_prev, std::int64_t ps,
                        const float* tc);
  void (*gru_forward)(std::int64_t rows, std::int64_t H, std::int64_t gs, std::int64_t hs, float* g,
                      const float* gh, std::int64_t ghs, const float* bias, const float* b_hn, const float* h_prev,
                      std::int64_t ps, float* hn, float* h);
  void (*gru_backward)(std::int64_t rows, std::int64_t H, std::int64_t gs, std::int64_t hs, float* g, float* dgh,
                       const float* dy, float* carry_h, const float* h_prev, std::int64_t ps, const float* hn);
  void (*multiply)(std::int64_t n, const float* a, const float* b, float* out);
  void (*multiply_in_place)(std::int64_t n, float* a, const float* b);
  void (*column_sums)(std::int64_t rows, std::int64_t cols, std::int64_t ld, const float* m, float* out);
  // Dropout masks drawn as ATen draws them (fused_rnn_function.cpp): MT19937's regeneration of
  // its 624 state words, its tempering, and 53-bit uniforms compared with a threshold.
  void (*mt19937_twist)(std::uint32_t* state);
  void (*mt19937_temper)(std::int64_t n, const std::uint32_t* in, std::uint32_t* out);
  void (*bernoulli_mask)(std::int64_t n, const std::uint32_t* words, std::uint64_t threshold, float scale, float* out);
  // klab's own GEMM (AVX-512, or AVX2 with FMA; nullptr in the generic set, where BLAS does all
  // GEMMs). B is packed
  // once (panels of kGemmPanel columns, zero-padded, panel_stride floats apart), then reused: the
  // recurrent weights of a layer serve every time step without being copied again, which BLAS
  // cannot do. pack_b writes K rows into each panel from `packed` on.
  // C[M x N] = [A1 | A2][M x (K1 + K2)] * B[(K1 + K2) x N] + beta * C (beta 0 or 1; K2 may be 0).
  void (*pack_b)(std::int64_t K, std::int64_t N, MatrixView b, float* packed, std::int64_t panel_stride);
  void (*gemm_packed)(std::int64_t M, std::int64_t N, std::int64_t k1, MatrixView a1, std::int64_t k2, MatrixView a2,
                      const float* packed_b, std::int64_t panel_stride, float beta, float* c, std::int64_t ldc);
};

constexpr std::int64_t kGemmPanel = 32;
// Floats a packed K x N matrix takes.
inline std::int64_t packed_floats(std::int64_t K, std::int64_t N) {
  return K * ((N + kGemmPanel - 1) / kGemmPanel) * kGemmPanel;
}

namespace avx512 { extern const StepKernels kernels; }
namespace avx2 { extern const StepKernels kernels; }
namespace generic { extern const StepKernels kernels; }

// The widest set the CPU supports (AVX-512, AVX2 with FMA, or plain x86-64 / other).
// KLAB_FUSED_ISA=generic|avx2|avx512 forces one (benchmarks, tests).
const StepKernels& step_kernels();
// Its name: "avx512", "avx2" or "generic".
const char* step_kernels_name();

}  // namespace klab::fused
