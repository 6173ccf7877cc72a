// fused_gemm_pack.h — what klab's GEMM kernels (fused_gemm_avx512.cpp, fused_gemm_avx2.cpp)
// share: the packed layout of B and its packer, and the walk over A's rows in blocks of the
// micro-kernel's height; compiled into each kernel's file with its instruction set.
//
// Layout: B in panels of kGemmPanel (32) columns, [panel][k][32], zero padded at the right edge,
// panel_stride floats apart. A kernel streams a panel row by row (32 floats per k).
#pragma once

#include <algorithm>
#include <cstdint>
#include <type_traits>

#include "fused_rnn_steps.h"

namespace klab::fused {

inline void pack_b_panels(std::int64_t K, std::int64_t N, MatrixView b, float* packed, std::int64_t panel_stride) {
  constexpr std::int64_t P = kGemmPanel;
  for (std::int64_t j0 = 0; j0 < N; j0 += P) {
    float* panel = packed + (j0 / P) * panel_stride;
    const std::int64_t width = std::min<std::int64_t>(P, N - j0);
    if (b.cs == 1) {  // rows of B are contiguous: copy them
      for (std::int64_t k = 0; k < K; ++k) {
        float* dst = panel + P * k;
        const float* src = b.p + k * b.rs + j0;
        std::int64_t j = 0;
        for (; j < width; ++j) dst[j] = src[j];
        for (; j < P; ++j) dst[j] = 0.0f;
      }
    } else {  // B = W^T: read W's rows contiguously, scatter into the (cache-resident) panel
      for (std::int64_t j = 0; j < P; ++j) {
        float* dst = panel + j;
        if (j < width) {
          const float* src = b.p + (j0 + j) * b.cs;
          for (std::int64_t k = 0; k < K; ++k) dst[P * k] = src[k * b.rs];
        } else {
          for (std::int64_t k = 0; k < K; ++k) dst[P * k] = 0.0f;
        }
      }
    }
  }
}

// Rows i.. of a view.
inline MatrixView rows_from(MatrixView a, std::int64_t i) { return MatrixView{a.p + i * a.rs, a.rs, a.cs}; }

template <int R, typename Block>
inline void remainder_rows(std::int64_t left, std::int64_t i, Block& block) {
  if constexpr (R > 0) {
    if (left == R) return block(std::integral_constant<int, R>{}, i);
    remainder_rows<R - 1>(left, i, block);
  }
}

// Calls block(std::integral_constant<int, rows>{}, first_row) over M rows: blocks of MR, then the
// 1 to MR - 1 rows left, so each block runs a micro-kernel compiled for its height.
template <int MR, typename Block>
inline void for_row_blocks(std::int64_t M, Block&& block) {
  std::int64_t i = 0;
  for (; i + MR <= M; i += MR) block(std::integral_constant<int, MR>{}, i);
  remainder_rows<MR - 1>(M - i, i, block);
}

}  // namespace klab::fused
