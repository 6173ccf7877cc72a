// fused_rnn_function.cpp — see fused_rnn_function.h.
#include "fused_rnn_function.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <mutex>
#include <string>

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <ATen/core/DistributionsHelper.h>
#include <ATen/core/MT19937RNGEngine.h>
#include <ATen/Parallel.h>
#include <torch/csrc/autograd/custom_function.h>

#include "fused_rnn_steps.h"

namespace klab::plugins {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// at::parallel_for runs on LibTorch's intra-op pool (OpenMP in this build: this file is compiled
// with -fopenmp, without which the header falls back to running serially).
fused::ParallelFor parallel_for() {
  return [](std::int64_t n, const std::function<void(std::int64_t)>& task) {
    if (n == 1) {
      task(0);
      return;
    }
    at::parallel_for(0, n, 1, [&](std::int64_t begin, std::int64_t end) {
      for (std::int64_t k = begin; k < end; ++k) task(k);
    });
  };
}

std::int64_t thread_count() { return at::in_parallel_region() ? 1 : at::get_num_threads(); }

// The mask ATen's LSTM/GRU applies to a layer's output, [seq, batch, hidden] time-major, is
//   at::empty_like(output).bernoulli_(1 - p).div_(1 - p)
// and bernoulli_(q) on the CPU takes, element by element in memory order, the default
// generator's random64() (two MT19937 outputs, the first the high half), keeps its low 53 bits
// as u / 2^53 and yields u < q; p = 1 gives zeros without drawing. Drawing the same numbers here,
// from a copy of the generator's engine advanced in bulk, straight into the batch-major
// workspace skips ATen's per-element calls, a temporary, its division and a transposing copy.
// The agreement tests (same outputs, same generator state afterwards) fail if LibTorch ever
// changes how it draws.
class Mt19937Stream {
 public:
  explicit Mt19937Stream(const at::mt19937_data_pod& pod) : pod_(pod) {}
  const at::mt19937_data_pod& pod() {
    pod_.next_ = static_cast<std::uint32_t>(next_);
    pod_.left_ = static_cast<int>(available_ + 1);
    return pod_;
  }
  // out[0..n) = the next n outputs, as at::mt19937's operator() would return them.
  void fill(std::uint32_t* out, std::int64_t n) {
    const fused::StepKernels& kernels = fused::step_kernels();
    while (n > 0) {
      if (available_ == 0) {
        kernels.mt19937_twist(pod_.state_.data());
        next_ = 0;
        available_ = static_cast<std::int64_t>(pod_.state_.size());
      }
      const std::int64_t take = std::min(n, available_);
      kernels.mt19937_temper(take, pod_.state_.data() + next_, out);
      out += take, n -= take, next_ += take, available_ -= take;
    }
  }

 private:
  at::mt19937_data_pod pod_;
  std::int64_t next_ = pod_.next_;
  std::int64_t available_ = pod_.left_ - 1;  // outputs left before the engine regenerates
};

void draw_dropout_mask(float* mask, std::int64_t batch, std::int64_t steps, std::int64_t hidden, double p) {
  if (p >= 1.0) {
    std::fill(mask, mask + batch * steps * hidden, 0.0f);
    return;
  }
  const double keep = 1.0 - p;
  const float scale = 1.0f / static_cast<float>(keep);
  // u / 2^53 < keep  <=>  u < ceil(keep * 2^53) for an integer u (keep * 2^53 is exact).
  const auto threshold = static_cast<std::uint64_t>(std::ceil(std::ldexp(keep, 53)));
  auto* gen = at::get_generator_or_default<at::CPUGeneratorImpl>(c10::nullopt, at::detail::getDefaultCPUGenerator());
  std::lock_guard<std::mutex> lock(gen->mutex_);
  at::mt19937 engine = gen->engine();
  Mt19937Stream stream(engine.data());
  const fused::StepKernels& kernels = fused::step_kernels();
  std::vector<std::uint32_t> words(static_cast<std::size_t>(2 * batch * hidden));
  std::vector<float> values(static_cast<std::size_t>(batch * hidden));
  for (std::int64_t t = 0; t < steps; ++t) {  // ATen's order: [seq, batch, hidden]
    stream.fill(words.data(), 2 * batch * hidden);
    kernels.bernoulli_mask(batch * hidden, words.data(), threshold, scale, values.data());
    for (std::int64_t b = 0; b < batch; ++b) {
      std::copy_n(values.data() + b * hidden, hidden, mask + (b * steps + t) * hidden);
    }
  }
  engine.set_data(stream.pod());
  gen->set_engine(engine);
}

struct Dims {
  fused::Cell cell;
  std::int64_t batch, steps, input, hidden, layers;
  bool masks;

  fused::StackedRnn rnn() const { return fused::StackedRnn(cell, batch, steps, input, hidden, layers, masks); }
};

std::vector<fused::LayerParams> layer_params(const std::vector<at::Tensor>& weights, std::vector<at::Tensor>* grads) {
  std::vector<fused::LayerParams> params(weights.size() / 4);
  for (std::size_t l = 0; l < params.size(); ++l) {
    fused::LayerParams& p = params[l];
    p.w_ih = weights[4 * l].data_ptr<float>();
    p.w_hh = weights[4 * l + 1].data_ptr<float>();
    p.b_ih = weights[4 * l + 2].data_ptr<float>();
    p.b_hh = weights[4 * l + 3].data_ptr<float>();
    if (grads) {
      p.grad_w_ih = (*grads)[4 * l].data_ptr<float>();
      p.grad_w_hh = (*grads)[4 * l + 1].data_ptr<float>();
      p.grad_b_ih = (*grads)[4 * l + 2].data_ptr<float>();
      p.grad_b_hh = (*grads)[4 * l + 3].data_ptr<float>();
    }
  }
  return params;
}

struct FusedRnnFunction : public torch::autograd::Function<FusedRnnFunction> {
  static variable_list forward(AutogradContext* ctx, const at::Tensor& input, at::TensorList weight_list,
                               fused::Cell cell, std::int64_t num_layers, double dropout, bool training,
                               FusedRnnWorkspace* workspace) {
    const at::Tensor x = input.contiguous();
    std::vector<at::Tensor> weights;
    for (const at::Tensor& w : weight_list) weights.push_back(w.contiguous());
    const std::int64_t hidden = weights[1].size(1);
    const bool masks = training && dropout > 0 && num_layers > 1;
    const Dims d{cell, x.size(0), x.size(1), x.size(2), hidden, num_layers, masks};
    fused::StackedRnn rnn = d.rnn();
    at::Tensor ws = workspace->acquire(static_cast<std::int64_t>(rnn.workspace_floats()));
    rnn.bind(ws.data_ptr<float>());
    if (masks) {
      for (std::int64_t l = 0; l + 1 < num_layers; ++l) {
        draw_dropout_mask(rnn.dropout_mask(l), d.batch, d.steps, hidden, dropout);
      }
    }
    const std::vector<fused::LayerParams> params = layer_params(weights, nullptr);
    rnn.forward(x.data_ptr<float>(), params, thread_count(), parallel_for());
    at::Tensor output = at::empty({d.batch, d.steps, hidden}, x.options());
    std::memcpy(output.data_ptr<float>(), rnn.output(), sizeof(float) * output.numel());

    ctx->saved_data["x"] = x;
    ctx->saved_data["weights"] = c10::List<at::Tensor>(weights);
    ctx->saved_data["workspace"] = ws;
    ctx->saved_data["cell"] = static_cast<std::int64_t>(cell);
    ctx->saved_data["masks"] = masks;
    return {output};
  }

  static variable_list backward(AutogradContext* ctx, variable_list grad_outputs) {
    TORCH_CHECK(ctx->saved_data.count("workspace"),
                "fused RNN: backward through the same forward twice (retain_graph) is not supported; "
                "use model.impl: autograd");
    const at::Tensor x = ctx->saved_data["x"].toTensor();
    const at::Tensor ws = ctx->saved_data["workspace"].toTensor();
    const auto weight_list = ctx->saved_data["weights"].toTensorList();
    const std::vector<at::Tensor> weights(weight_list.begin(), weight_list.end());
    const auto cell = static_cast<fused::Cell>(ctx->saved_data["cell"].toInt());
    const std::int64_t num_layers = static_cast<std::int64_t>(weights.size() / 4), hidden = weights[1].size(1);
    const Dims d{cell, x.size(0), x.size(1), x.size(2), hidden, num_layers, ctx->saved_data["masks"].toBool()};
    fused::StackedRnn rnn = d.rnn();
    rnn.bind(ws.data_ptr<float>());

    at::Tensor dy = grad_outputs[0].defined() ? grad_outputs[0].contiguous()
                                              : at::zeros({d.batch, d.steps, hidden}, x.options());
    std::vector<at::Tensor> grads;
    for (const at::Tensor& w : weights) grads.push_back(at::empty(w.sizes(), w.options()));
    at::Tensor dx = ctx->needs_input_grad(0) ? at::empty(x.sizes(), x.options()) : at::Tensor();
    std::vector<fused::LayerParams> params = layer_params(weights, &grads);
    rnn.backward(x.data_ptr<float>(), dy.data_ptr<float>(), dx.defined() ? dx.data_ptr<float>() : nullptr, params,
                 thread_count(), parallel_for());
    ctx->saved_data.erase("workspace");  // the activations are gone; the workspace is free again

    variable_list result = {dx};
    result.insert(result.end(), grads.begin(), grads.end());
    result.resize(result.size() + 5);  // cell, num_layers, dropout, training, workspace: no gradient
    return result;
  }
};

}  // namespace

at::Tensor FusedRnnWorkspace::acquire(std::int64_t floats) {
  std::lock_guard<std::mutex> lock(mutex_);
  // use_count() == 1: only this cache holds it, so no graph still needs its activations.
  if (cached_.defined() && cached_.use_count() == 1 && cached_.numel() >= floats) return cached_;
  at::Tensor fresh = at::empty({floats}, at::TensorOptions().dtype(at::kFloat));
  if (!cached_.defined() || cached_.use_count() == 1) cached_ = fresh;
  return fresh;
}

at::Tensor fused_rnn(const at::Tensor& x, const std::vector<at::Tensor>& weights, fused::Cell cell,
                     std::int64_t num_layers, double dropout, bool training, FusedRnnWorkspace& workspace) {
  TORCH_CHECK(x.dim() == 3, "fused RNN: expected input [batch, seq_len, features], got ", x.sizes());
  TORCH_CHECK(x.device().is_cpu() && x.scalar_type() == at::kFloat,
              "fused RNN: runs on float32 CPU tensors (got ", x.scalar_type(), " on ", x.device(),
              "); use model.impl: autograd");
  TORCH_CHECK(static_cast<std::int64_t>(weights.size()) == 4 * num_layers, "fused RNN: expected ", 4 * num_layers,
              " weight tensors, got ", weights.size());
  for (const at::Tensor& w : weights) {
    TORCH_CHECK(w.device().is_cpu() && w.scalar_type() == at::kFloat,
                "fused RNN: parameters must be float32 on the CPU; use model.impl: autograd");
  }
  if (x.size(0) == 0 || x.size(1) == 0) {
    return at::zeros({x.size(0), x.size(1), weights[1].size(1)}, x.options());
  }
  return FusedRnnFunction::apply(x, at::TensorList(weights), cell, num_layers, dropout, training, &workspace)[0];
}

}  // namespace klab::plugins
