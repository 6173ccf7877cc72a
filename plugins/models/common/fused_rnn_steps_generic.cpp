// The element-wise loops for generic; see fused_rnn_steps.inc.
#define KLAB_STEPS_ISA generic
#include "fused_rnn_steps.inc"
