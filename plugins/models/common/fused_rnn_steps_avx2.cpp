// The element-wise loops for avx2; see fused_rnn_steps.inc.
#define KLAB_STEPS_ISA avx2
#include "fused_rnn_steps.inc"
