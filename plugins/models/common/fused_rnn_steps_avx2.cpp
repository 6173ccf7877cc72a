// The element-wise loops for avx2, and klab's AVX2 GEMM (fused_gemm_avx2.cpp); see
// fused_rnn_steps.inc.
#define KLAB_STEPS_ISA avx2
#if defined(__AVX2__) && defined(__FMA__)
#define KLAB_STEPS_GEMM
#endif
#include "fused_rnn_steps.inc"
