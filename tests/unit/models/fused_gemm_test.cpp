// klab's GEMM kernels (plugins/models/common/fused_gemm_*.cpp) against a double-precision
// reference, for the instruction set this process runs (KLAB_FUSED_ISA or the widest the CPU
// has; tests/CMakeLists.txt runs it forced to each one the CPU has): every row remainder of the
// micro-kernels, panels cut at every width, A row-major and transposed, A in two parts along k,
// beta 0 and 1. A set without a kernel (generic: BLAS) is skipped and says so.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <random>
#include <vector>

#include "fused_rnn_steps.h"

namespace {

using klab::fused::MatrixView;

struct AlignedFloats {
  explicit AlignedFloats(std::int64_t n)
      : p(static_cast<float*>(std::aligned_alloc(64, static_cast<std::size_t>((n * 4 + 63) / 64 * 64)))) {}
  ~AlignedFloats() { std::free(p); }
  float* p;
};

std::vector<float> random_matrix(std::int64_t n, std::mt19937& rng) {
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::vector<float> v(static_cast<std::size_t>(n));
  for (auto& x : v) x = u(rng);
  return v;
}

TEST(FusedGemm, AgreesWithADoubleReferenceOnEveryEdge) {
  const auto& kernels = klab::fused::step_kernels();
  if (!kernels.gemm_packed) {
    GTEST_SKIP() << "instruction set " << klab::fused::step_kernels_name() << " has no klab GEMM kernel (BLAS does its GEMMs)";
  }
  std::cout << "[ fused GEMM ] klab's " << klab::fused::step_kernels_name() << " kernel" << std::endl;
  std::mt19937 rng(20261130);
  int cases = 0;
  for (std::int64_t M : {1, 2, 3, 5, 6, 7, 8, 9, 13, 17}) {
    for (std::int64_t N : {1, 7, 8, 9, 16, 17, 31, 32, 33, 70}) {
      for (std::int64_t k2 : {0, 5}) {
        for (bool transposed : {false, true}) {
          for (float beta : {0.0f, 1.0f}) {
            const std::int64_t k1 = 11, K = k1 + k2;
            // A1 [M x k1] and A2 [M x k2], row-major or stored transposed.
            const auto a1 = random_matrix(M * k1, rng), a2 = random_matrix(M * std::max<std::int64_t>(k2, 1), rng);
            const MatrixView v1 = transposed ? MatrixView{a1.data(), 1, M} : MatrixView{a1.data(), k1, 1};
            const MatrixView v2 = transposed ? MatrixView{a2.data(), 1, M} : MatrixView{a2.data(), k2, 1};
            const auto b = random_matrix(K * N, rng);  // row-major K x N
            const std::int64_t ldc = N + 3;             // C wider than N: columns past N must stay untouched
            auto c = random_matrix(M * ldc, rng);
            const auto c0 = c;
            AlignedFloats packed(klab::fused::packed_floats(K, N));
            const std::int64_t stride = K * klab::fused::kGemmPanel;
            kernels.pack_b(K, N, {b.data(), N, 1}, packed.p, stride);
            kernels.gemm_packed(M, N, k1, v1, k2, v2, packed.p, stride, beta, c.data(), ldc);
            for (std::int64_t i = 0; i < M; ++i) {
              for (std::int64_t j = 0; j < ldc; ++j) {
                const float got = c[static_cast<std::size_t>(i * ldc + j)];
                if (j >= N) {
                  ASSERT_EQ(got, c0[static_cast<std::size_t>(i * ldc + j)]) << "wrote past N at " << i << "," << j;
                  continue;
                }
                double want = beta * c0[static_cast<std::size_t>(i * ldc + j)];
                for (std::int64_t k = 0; k < K; ++k) {
                  const double a = k < k1 ? v1.p[i * v1.rs + k * v1.cs] : v2.p[i * v2.rs + (k - k1) * v2.cs];
                  want += a * b[static_cast<std::size_t>(k * N + j)];
                }
                ASSERT_NEAR(got, want, 1e-5 * (1.0 + std::abs(want)))
                    << "M=" << M << " N=" << N << " k2=" << k2 << " transposed=" << transposed << " beta=" << beta
                    << " at " << i << "," << j;
              }
            }
            ++cases;
          }
        }
      }
    }
  }
  EXPECT_EQ(cases, 10 * 10 * 2 * 2 * 2);
}

// B given as W^T (the forward pass multiplies by transposed weights): packed from W's rows.
TEST(FusedGemm, PacksATransposedBAsTheSameMatrix) {
  const auto& kernels = klab::fused::step_kernels();
  if (!kernels.gemm_packed) GTEST_SKIP() << "no klab GEMM kernel in " << klab::fused::step_kernels_name();
  std::mt19937 rng(7);
  const std::int64_t K = 19, N = 45;
  const auto w = random_matrix(N * K, rng);  // W [N x K]; B = W^T [K x N]
  std::vector<float> bt(static_cast<std::size_t>(K * N));
  for (std::int64_t k = 0; k < K; ++k) {
    for (std::int64_t j = 0; j < N; ++j) bt[static_cast<std::size_t>(k * N + j)] = w[static_cast<std::size_t>(j * K + k)];
  }
  AlignedFloats from_w(klab::fused::packed_floats(K, N)), from_bt(klab::fused::packed_floats(K, N));
  kernels.pack_b(K, N, {w.data(), 1, K}, from_w.p, K * klab::fused::kGemmPanel);
  kernels.pack_b(K, N, {bt.data(), N, 1}, from_bt.p, K * klab::fused::kGemmPanel);
  for (std::int64_t i = 0; i < klab::fused::packed_floats(K, N); ++i) ASSERT_EQ(from_w.p[i], from_bt.p[i]) << i;
}

}  // namespace
