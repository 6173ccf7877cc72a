// The element-wise loops for avx512, and klab's AVX-512 GEMM (fused_gemm_avx512.cpp); see
// fused_rnn_steps.inc.
#define KLAB_STEPS_ISA avx512
#if defined(__AVX512F__)
#define KLAB_STEPS_GEMM
#endif
#include "fused_rnn_steps.inc"
