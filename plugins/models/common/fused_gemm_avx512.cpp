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
// Layout: B packed in panels of 32 columns, [panel][k][32] (two 16-float vectors per k, zero
// padded at the right edge). The micro-kernel keeps a 8 x 32 tile of C in 16 registers and, per
// k, broadcasts 8 values of A (any strides: row-major or transposed) against the two vectors.
#include "fused_rnn_steps.h"

#if defined(__AVX512F__)

#include <immintrin.h>

#include <algorithm>

namespace klab::fused::avx512 {
namespace {

constexpr std::int64_t kMr = 8;

// C[MR x 32] (columns < n valid) = A[MR x K] * Bp[K x 32] + beta * C.
template <int MR>
inline void tile(std::int64_t K, const float* a, std::int64_t rs, std::int64_t cs, const float* bp, float beta,
                 float* c, std::int64_t ldc, std::int64_t n) {
  __m512 acc0[MR], acc1[MR];
  for (int r = 0; r < MR; ++r) acc0[r] = acc1[r] = _mm512_setzero_ps();
  const float* rows[MR];
  for (int r = 0; r < MR; ++r) rows[r] = a + r * rs;
  if (cs == 1) {
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
void row_block(std::int64_t N, std::int64_t K, const float* a, std::int64_t rs, std::int64_t cs, const float* packed,
               float beta, float* c, std::int64_t ldc) {
  for (std::int64_t j = 0; j < N; j += 32) {
    tile<MR>(K, a, rs, cs, packed + j * K, beta, c + j, ldc, std::min<std::int64_t>(32, N - j));
  }
}

}  // namespace

void pack_b(std::int64_t K, std::int64_t N, MatrixView b, float* packed) {
  for (std::int64_t j0 = 0; j0 < N; j0 += 32) {
    float* panel = packed + j0 * K;
    const std::int64_t width = std::min<std::int64_t>(32, N - j0);
    for (std::int64_t k = 0; k < K; ++k) {
      float* dst = panel + 32 * k;
      const float* src = b.p + k * b.rs + j0 * b.cs;
      std::int64_t j = 0;
      if (b.cs == 1) {
        for (; j < width; ++j) dst[j] = src[j];
      } else {
        for (; j < width; ++j) dst[j] = src[j * b.cs];
      }
      for (; j < 32; ++j) dst[j] = 0.0f;
    }
  }
}

void gemm_packed(std::int64_t M, std::int64_t N, std::int64_t K, MatrixView a, const float* packed_b, float beta,
                 float* c, std::int64_t ldc) {
  std::int64_t i = 0;
  for (; i + kMr <= M; i += kMr) row_block<kMr>(N, K, a.p + i * a.rs, a.rs, a.cs, packed_b, beta, c + i * ldc, ldc);
  const float* ar = a.p + i * a.rs;
  float* cr = c + i * ldc;
  switch (M - i) {
    case 7: row_block<7>(N, K, ar, a.rs, a.cs, packed_b, beta, cr, ldc); break;
    case 6: row_block<6>(N, K, ar, a.rs, a.cs, packed_b, beta, cr, ldc); break;
    case 5: row_block<5>(N, K, ar, a.rs, a.cs, packed_b, beta, cr, ldc); break;
    case 4: row_block<4>(N, K, ar, a.rs, a.cs, packed_b, beta, cr, ldc); break;
    case 3: row_block<3>(N, K, ar, a.rs, a.cs, packed_b, beta, cr, ldc); break;
    case 2: row_block<2>(N, K, ar, a.rs, a.cs, packed_b, beta, cr, ldc); break;
    case 1: row_block<1>(N, K, ar, a.rs, a.cs, packed_b, beta, cr, ldc); break;
    default: break;
  }
}

}  // namespace klab::fused::avx512

#endif  // __AVX512F__
