// The fused LSTM/GRU kernels (plugins/models/common/fused_rnn.h) on threads of their own: forward
// and backward through StackedRnn with a std::thread ParallelFor, against the same pass on one
// thread. No LibTorch here, so ThreadSanitizer sees every access and every synchronisation of
// the threaded paths (row blocks of the recurrences, output-row blocks of the weight gradients,
// the per-thread GEMM buffers): scripts/sanitize.sh thread runs this binary for every
// instruction set. The numbers themselves are checked against autograd in fused_rnn_test.cpp.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "fused_rnn.h"
#include "fused_rnn_steps.h"

namespace {

using klab::fused::Cell;
using klab::fused::LayerParams;
using klab::fused::StackedRnn;

// Runs the tasks on one std::thread each (the caller's thread takes task 0), then joins.
void on_threads(std::int64_t n, const std::function<void(std::int64_t)>& task) {
  std::vector<std::thread> threads;
  for (std::int64_t k = 1; k < n; ++k) threads.emplace_back(task, k);
  task(0);
  for (auto& t : threads) t.join();
}

struct Shape {
  Cell cell;
  std::int64_t layers, hidden, steps, batch, input;
  bool masks;
};

std::string name(const Shape& s) {
  return std::string(s.cell == Cell::lstm ? "lstm" : "gru") + " l" + std::to_string(s.layers) + " h" +
         std::to_string(s.hidden) + " t" + std::to_string(s.steps) + " b" + std::to_string(s.batch) +
         (s.masks ? " masks" : "");
}

struct Pass {
  std::vector<float> output, dx;
  std::vector<std::vector<float>> grads;  // per layer: w_ih, w_hh, b_ih, b_hh
};

struct Model {
  Shape s;
  std::vector<std::vector<float>> weights;  // per layer: w_ih, w_hh, b_ih, b_hh
  std::vector<float> x, dy;
  std::vector<std::vector<float>> masks;
};

Model make_model(const Shape& s, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-0.5f, 0.5f);
  auto fill = [&](std::size_t n) {
    std::vector<float> v(n);
    for (auto& x : v) x = u(rng);
    return v;
  };
  Model m{s, {}, {}, {}, {}};
  const std::int64_t g = klab::fused::gate_count(s.cell) * s.hidden;
  for (std::int64_t l = 0; l < s.layers; ++l) {
    const std::int64_t in = l == 0 ? s.input : s.hidden;
    m.weights.push_back(fill(static_cast<std::size_t>(g * in)));
    m.weights.push_back(fill(static_cast<std::size_t>(g * s.hidden)));
    m.weights.push_back(fill(static_cast<std::size_t>(g)));
    m.weights.push_back(fill(static_cast<std::size_t>(g)));
  }
  m.x = fill(static_cast<std::size_t>(s.batch * s.steps * s.input));
  m.dy = fill(static_cast<std::size_t>(s.batch * s.steps * s.hidden));
  std::bernoulli_distribution keep(0.7);
  for (std::int64_t l = 0; l + 1 < s.layers; ++l) {
    std::vector<float> mask(static_cast<std::size_t>(s.batch * s.steps * s.hidden));
    for (auto& v : mask) v = keep(rng) ? 1.0f / 0.7f : 0.0f;
    m.masks.push_back(mask);
  }
  return m;
}

Pass run(const Model& m, std::int64_t threads) {
  const Shape& s = m.s;
  StackedRnn rnn(s.cell, s.batch, s.steps, s.input, s.hidden, s.layers, s.masks);
  const std::size_t floats = rnn.workspace_floats();
  float* ws = static_cast<float*>(std::aligned_alloc(64, (floats * sizeof(float) + 63) / 64 * 64));
  rnn.bind(ws);
  if (s.masks) {
    for (std::int64_t l = 0; l + 1 < s.layers; ++l) std::copy(m.masks[l].begin(), m.masks[l].end(), rnn.dropout_mask(l));
  }
  Pass pass;
  pass.grads.resize(m.weights.size());
  std::vector<LayerParams> params(static_cast<std::size_t>(s.layers));
  for (std::int64_t l = 0; l < s.layers; ++l) {
    auto& p = params[static_cast<std::size_t>(l)];
    const std::size_t i = static_cast<std::size_t>(4 * l);
    for (std::size_t k = 0; k < 4; ++k) pass.grads[i + k].assign(m.weights[i + k].size(), std::nanf(""));
    p.w_ih = m.weights[i].data();
    p.w_hh = m.weights[i + 1].data();
    p.b_ih = m.weights[i + 2].data();
    p.b_hh = m.weights[i + 3].data();
    p.grad_w_ih = pass.grads[i].data();
    p.grad_w_hh = pass.grads[i + 1].data();
    p.grad_b_ih = pass.grads[i + 2].data();
    p.grad_b_hh = pass.grads[i + 3].data();
  }
  rnn.forward(m.x.data(), params, threads, on_threads);
  pass.output.assign(rnn.output(), rnn.output() + s.batch * s.steps * s.hidden);
  pass.dx.assign(m.x.size(), std::nanf(""));
  rnn.backward(m.x.data(), m.dy.data(), pass.dx.data(), params, threads, on_threads);
  std::free(ws);
  return pass;
}

// Largest |a - b| / (1 + |b|); any NaN (an element never written) is infinite.
double worst(const std::vector<float>& a, const std::vector<float>& b) {
  double w = 0.0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const double d = std::fabs(static_cast<double>(a[i]) - b[i]) / (1.0 + std::fabs(static_cast<double>(b[i])));
    if (!(d <= w)) w = std::isnan(d) ? INFINITY : d;
  }
  return w;
}

TEST(FusedKernelThreads, EveryThreadCountComputesWhatOneThreadDoes) {
  const bool own_gemm = klab::fused::step_kernels().gemm_packed != nullptr;
  std::cout << "[ fused kernels ] " << klab::fused::step_kernels_name() << (own_gemm ? ", klab's GEMM" : ", BLAS GEMM")
            << std::endl;
  const std::vector<Shape> shapes{
      {Cell::lstm, 1, 16, 9, 13, 5, false}, {Cell::lstm, 3, 37, 7, 11, 6, true},
      {Cell::gru, 1, 16, 9, 13, 5, false},  {Cell::gru, 3, 37, 7, 11, 6, true},
      {Cell::lstm, 2, 64, 20, 5, 20, true},  // fewer rows than some thread counts below
  };
  unsigned seed = 20261130;
  for (const Shape& s : shapes) {
    const Model m = make_model(s, seed++);
    const Pass one = run(m, 1);
    for (std::int64_t threads : {2, 3, 4, 8}) {
      const Pass many = run(m, threads);
      SCOPED_TRACE(name(s) + ", " + std::to_string(threads) + " threads");
      // klab's kernels sum in the same order whatever the blocks: identical. BLAS may round a
      // block of rows differently: equal to float rounding.
      const double tolerance = own_gemm ? 0.0 : 1e-5;
      EXPECT_LE(worst(many.output, one.output), tolerance);
      EXPECT_LE(worst(many.dx, one.dx), tolerance);
      for (std::size_t k = 0; k < one.grads.size(); ++k) EXPECT_LE(worst(many.grads[k], one.grads[k]), tolerance) << k;
      // Every gradient element was written (none left NaN) and is finite.
      for (const auto& g : many.grads) {
        for (float v : g) ASSERT_TRUE(std::isfinite(v));
      }
    }
  }
}

// Several models trained at once, each on its own threads (a sweep's trials in one process, or
// the service's engines): the kernels' per-thread buffers and the packed weights of one model
// never meet another's.
TEST(FusedKernelThreads, ModelsOnSeparateThreadsDoNotShareState) {
  const Shape s{Cell::lstm, 2, 32, 8, 9, 4, true};
  const Model a = make_model(s, 1), b = make_model(s, 2);
  const Pass a1 = run(a, 1), b1 = run(b, 1);
  Pass a2, b2;
  std::thread ta([&] { a2 = run(a, 2); });
  std::thread tb([&] { b2 = run(b, 3); });
  ta.join();
  tb.join();
  const double tolerance = klab::fused::step_kernels().gemm_packed ? 0.0 : 1e-5;
  EXPECT_LE(worst(a2.output, a1.output), tolerance);
  EXPECT_LE(worst(b2.output, b1.output), tolerance);
  EXPECT_LE(worst(a2.dx, a1.dx), tolerance);
  EXPECT_LE(worst(b2.dx, b1.dx), tolerance);
}

}  // namespace
