// fused_gemm_avx512.cpp — a small single-threaded AVX-512 SGEMM for the fused RNN's shapes,
// compiled with -march=skylake-avx512 (used only where the CPU has AVX-512; see
// fused_rnn_steps.h).
//
// Why not only BLAS: the recurrent GEMMs are small (rows of one batch block x 4*hidden x hidden)
// and run once per time step; BLAS re-packs the whole weight matrix on every call. Here a
// layer's weights are packed once per batch and every step streams them from cache. The
// distribution's OpenBLAS is also often pinned to its AVX2 kernels (OPENBLAS_CORETYPE=Haswell),
// which use half of a 512-bit machine's FMA width.
//
// Layout: B packed in panels of 32 columns (fused_gemm_pack.h): two 16-float vectors per k. The
// micro-kernel keeps an 8 x 32 tile of C in 16 registers and, per k, broadcasts 8 values of A
// (any strides: row-major or transposed) against the two vectors. A may come in two parts along k ([x_t | h_t-1] for the LSTM step),
// so one pass computes both projections.
#include "fused_gemm_pack.h"
#include "fused_rnn_steps.h"

#if defined(__AVX512F__)

#include <immintrin.h>

#include <algorithm>

namespace klab::fused::avx512 {
namespace {

constexpr int kMr = 8;

// acc += A[MR x K] * Bp[K x 32].
template <int MR>
inline void accumulate(std::int64_t K, const float* a, std::int64_t rs, std::int64_t cs, const float* bp,
                       __m512 (&acc0)[MR], __m512 (&acc1)[MR]) {
  if (cs == 1) {
    const float* rows[MR];
    for (int r = 0; r < MR; ++r) rows[r] = a + r * rs;
    for (std::int64_t k = 0; k < K; ++k) {
      const __m512 b0 = _mm512_load_ps(bp + 32 * k);
      const __m512 b1 = _mm512_load_ps(bp + 32 * k + 16);
      for (int r = 0; r < MR; ++r) {
        const __m512 av = _mm512_set1_ps(rows[r][k]);
        acc0[r] = _mm512_fmadd_ps(av, b0, acc0[r]);
        acc1[r] = _mm512_fmadd_ps(av, b1, acc1[r]);
      }
    }
  } else {
    for (std::int64_t k = 0; k < K; ++k) {
      const __m512 b0 = _mm512_load_ps(bp + 32 * k);
      const __m512 b1 = _mm512_load_ps(bp + 32 * k + 16);
      const float* ak = a + k * cs;
      for (int r = 0; r < MR; ++r) {
        const __m512 av = _mm512_set1_ps(ak[r * rs]);
        acc0[r] = _mm512_fmadd_ps(av, b0, acc0[r]);
        acc1[r] = _mm512_fmadd_ps(av, b1, acc1[r]);
      }
    }
  }
}

// C[MR x 32] (columns < n valid) = [A1 | A2][MR x (K1 + K2)] * Bp[(K1 + K2) x 32] + beta * C.
template <int MR>
inline void tile(std::int64_t k1, const float* a1, std::int64_t rs1, std::int64_t cs1, std::int64_t k2, const float* a2,
                 std::int64_t rs2, std::int64_t cs2, const float* bp, float beta, float* c, std::int64_t ldc,
                 std::int64_t n) {
  __m512 acc0[MR], acc1[MR];
  for (int r = 0; r < MR; ++r) acc0[r] = acc1[r] = _mm512_setzero_ps();
  accumulate<MR>(k1, a1, rs1, cs1, bp, acc0, acc1);
  if (k2 > 0) accumulate<MR>(k2, a2, rs2, cs2, bp + 32 * k1, acc0, acc1);
  const __mmask16 m0 = n >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << n) - 1);
  const __mmask16 m1 = n >= 32 ? __mmask16(0xFFFF) : n <= 16 ? __mmask16(0) : __mmask16((1u << (n - 16)) - 1);
  for (int r = 0; r < MR; ++r) {
    float* cr = c + r * ldc;
    if (beta != 0.0f) {
      acc0[r] = _mm512_add_ps(acc0[r], _mm512_maskz_loadu_ps(m0, cr));
      acc1[r] = _mm512_add_ps(acc1[r], _mm512_maskz_loadu_ps(m1, cr + 16));
    }
    _mm512_mask_storeu_ps(cr, m0, acc0[r]);
    _mm512_mask_storeu_ps(cr + 16, m1, acc1[r]);
  }
}

template <int MR>
void row_block(std::int64_t N, std::int64_t k1, MatrixView a1, std::int64_t k2, MatrixView a2, const float* packed,
               std::int64_t panel_stride, float beta, float* c, std::int64_t ldc) {
  for (std::int64_t j = 0; j < N; j += 32) {
    tile<MR>(k1, a1.p, a1.rs, a1.cs, k2, a2.p, a2.rs, a2.cs, packed + (j / 32) * panel_stride, beta, c + j, ldc,
             std::min<std::int64_t>(32, N - j));
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

}  // namespace klab::fused::avx512

#endif  // __AVX512F__
