// fused_gemm_avx2.cpp — klab's GEMM for CPUs with AVX2 and FMA but without AVX-512 (compiled with
// -march=haswell; chosen at load by fused_rnn_steps.h's step_kernels()). Same contract and packed
// layout as the AVX-512 kernel (fused_gemm_avx512.cpp, fused_gemm_pack.h): a layer's weights are
// packed once per batch and every time step streams them from cache, where BLAS would re-pack
// the whole weight matrix on each of its small per-step calls.
//
// AVX2 has 16 256-bit registers: the micro-kernel keeps a 6 x 16 tile of C in 12 of them (two
// 8-float vectors per row), loads the two vectors of B for each k and broadcasts 6 values of A
// against them — 12 FMAs per 8 loads, enough to keep both FMA ports busy. A 32-column panel is
// done as two such halves.
#include "fused_gemm_pack.h"
#include "fused_rnn_steps.h"

#if defined(__AVX2__) && defined(__FMA__)

#include <immintrin.h>

#include <algorithm>

namespace klab::fused::avx2 {
namespace {

constexpr int kMr = 6;
constexpr std::int64_t kHalf = 16;  // columns of one micro-tile: half a packed panel

// acc += A[MR x K] * Bp[K x 16], Bp rows kGemmPanel floats apart.
template <int MR>
inline void accumulate(std::int64_t K, const float* a, std::int64_t rs, std::int64_t cs, const float* bp,
                       __m256 (&acc0)[MR], __m256 (&acc1)[MR]) {
  if (cs == 1) {
    const float* rows[MR];
    for (int r = 0; r < MR; ++r) rows[r] = a + r * rs;
    for (std::int64_t k = 0; k < K; ++k) {
      const __m256 b0 = _mm256_load_ps(bp + kGemmPanel * k);
      const __m256 b1 = _mm256_load_ps(bp + kGemmPanel * k + 8);
      for (int r = 0; r < MR; ++r) {
        const __m256 av = _mm256_broadcast_ss(rows[r] + k);
        acc0[r] = _mm256_fmadd_ps(av, b0, acc0[r]);
        acc1[r] = _mm256_fmadd_ps(av, b1, acc1[r]);
      }
    }
  } else {
    for (std::int64_t k = 0; k < K; ++k) {
      const __m256 b0 = _mm256_load_ps(bp + kGemmPanel * k);
      const __m256 b1 = _mm256_load_ps(bp + kGemmPanel * k + 8);
      const float* ak = a + k * cs;
      for (int r = 0; r < MR; ++r) {
        const __m256 av = _mm256_broadcast_ss(ak + r * rs);
        acc0[r] = _mm256_fmadd_ps(av, b0, acc0[r]);
        acc1[r] = _mm256_fmadd_ps(av, b1, acc1[r]);
      }
    }
  }
}

// Lanes [0, n) of a vector of 8 (n clamped to 0..8), as maskload/maskstore take them.
inline __m256i lanes(std::int64_t n) {
  const __m256i index = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  const int count = static_cast<int>(std::clamp<std::int64_t>(n, 0, 8));
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(count), index);
}

// C[MR x 16] (columns < n valid, 1 <= n <= 16) = [A1 | A2] * Bp + beta * C.
template <int MR>
inline void tile(std::int64_t k1, const float* a1, std::int64_t rs1, std::int64_t cs1, std::int64_t k2, const float* a2,
                 std::int64_t rs2, std::int64_t cs2, const float* bp, float beta, float* c, std::int64_t ldc,
                 std::int64_t n) {
  __m256 acc0[MR], acc1[MR];
  for (int r = 0; r < MR; ++r) acc0[r] = acc1[r] = _mm256_setzero_ps();
  accumulate<MR>(k1, a1, rs1, cs1, bp, acc0, acc1);
  if (k2 > 0) accumulate<MR>(k2, a2, rs2, cs2, bp + kGemmPanel * k1, acc0, acc1);
  if (n == kHalf) {
    for (int r = 0; r < MR; ++r) {
      float* cr = c + r * ldc;
      if (beta != 0.0f) {
        acc0[r] = _mm256_add_ps(acc0[r], _mm256_loadu_ps(cr));
        acc1[r] = _mm256_add_ps(acc1[r], _mm256_loadu_ps(cr + 8));
      }
      _mm256_storeu_ps(cr, acc0[r]);
      _mm256_storeu_ps(cr + 8, acc1[r]);
    }
    return;
  }
  const __m256i m0 = lanes(n), m1 = lanes(n - 8);
  for (int r = 0; r < MR; ++r) {
    float* cr = c + r * ldc;
    if (beta != 0.0f) {
      acc0[r] = _mm256_add_ps(acc0[r], _mm256_maskload_ps(cr, m0));
      acc1[r] = _mm256_add_ps(acc1[r], _mm256_maskload_ps(cr + 8, m1));
    }
    _mm256_maskstore_ps(cr, m0, acc0[r]);
    _mm256_maskstore_ps(cr + 8, m1, acc1[r]);
  }
}

template <int MR>
void row_block(std::int64_t N, std::int64_t k1, MatrixView a1, std::int64_t k2, MatrixView a2, const float* packed,
               std::int64_t panel_stride, float beta, float* c, std::int64_t ldc) {
  for (std::int64_t j = 0; j < N; j += kHalf) {
    const float* bp = packed + (j / kGemmPanel) * panel_stride + (j % kGemmPanel);
    tile<MR>(k1, a1.p, a1.rs, a1.cs, k2, a2.p, a2.rs, a2.cs, bp, beta, c + j, ldc, std::min<std::int64_t>(kHalf, N - j));
  }
}

}  // namespace

void pack_b(std::int64_t K, std::int64_t N, MatrixView b, float* packed, std::int64_t panel_stride) {
  pack_b_panels(K, N, b, packed, panel_stride);
}

void gemm_packed(std::int64_t M, std::int64_t N, std::int64_t k1, MatrixView a1, std::int64_t k2, MatrixView a2,
                 const float* packed_b, std::int64_t panel_stride, float beta, float* c, std::int64_t ldc) {
  for_row_blocks<kMr>(M, [&](auto rows, std::int64_t i) {
    row_block<decltype(rows)::value>(N, k1, rows_from(a1, i), k2, rows_from(a2, i), packed_b, panel_stride, beta,
                                     c + i * ldc, ldc);
  });
}

}  // namespace klab::fused::avx2

#endif  // __AVX2__ && __FMA__
