// The fused LSTM and GRU against LibTorch's autograd modules: outputs, loss and every
// parameter's gradient agree to 1e-5 relative, over several shapes, with dropout in train mode
// under the same seed; two threads (batch split) compute what one does (bit for bit on klab's
// own GEMM); configuration limits.
// tests/CMakeLists.txt runs the agreement suite again with each instruction set's element-wise
// loops (KLAB_FUSED_ISA=avx2, generic).
#include <cstdlib>
#include <iostream>

#include <ATen/Parallel.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "klab/error.h"
#include "klab/torch_model.h"
#include "test_support.h"

namespace {

struct Shape {
  int layers, hidden, seq, batch;
  double dropout;
};

struct Case {
  std::string type;
  Shape shape;
};

std::string name_of(const ::testing::TestParamInfo<Case>& info) {
  const Shape& s = info.param.shape;
  return info.param.type + "_l" + std::to_string(s.layers) + "_h" + std::to_string(s.hidden) + "_t" +
         std::to_string(s.seq) + "_b" + std::to_string(s.batch) + (s.dropout > 0 ? "_dropout" : "");
}

// The instruction set this process runs, as fused_rnn.cpp picks it (KLAB_FUSED_ISA or the widest
// the CPU has), said once in the test output so a log shows what was tested.
std::string isa_in_use() {
  const char* forced = std::getenv("KLAB_FUSED_ISA");
  if (forced && *forced) return forced;
#if defined(__x86_64__) && defined(__GNUC__)
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512dq")) {
    return "avx512";
  }
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return "avx2";
#endif
  return "generic";
}

// Whether the fused path runs on one of klab's GEMM kernels here (AVX-512 or AVX2), not BLAS.
bool klabs_own_gemm() { return isa_in_use() != "generic"; }

void say_isa_once() {
  static const bool said = [] {
    std::cout << "[ fused ISA ] element-wise loops: " << isa_in_use() << "; GEMM: "
              << (klabs_own_gemm() ? "klab's " + isa_in_use() + " kernel" : std::string("BLAS (cblas_sgemm)")) << std::endl;
    return true;
  }();
  (void)said;
}

// max |a - b| / max |b|; `floor` bounds the denominator from below for a quantity whose exact
// value may sit near zero by chance (a batch-of-one prediction), where a relative error says
// nothing about the computation.
double relative_error(const torch::Tensor& a, const torch::Tensor& b, double floor = 1e-12) {
  return ((a - b).abs().max() / std::max(b.abs().max().item<double>(), floor)).item<double>();
}

std::shared_ptr<klab::TorchModel> make(const std::string& type, int64_t features, const Shape& s, const std::string& impl) {
  nlohmann::json config = {{"hidden_size", s.hidden}, {"num_layers", s.layers}, {"dropout", s.dropout},
                           {"impl", impl}};
  return klab::test::registry().create_torch_model(type, features, config.dump());
}

void copy_parameters(klab::TorchModel& from, klab::TorchModel& to) {
  torch::NoGradGuard no_grad;
  auto src = from.named_parameters();
  for (auto& item : to.named_parameters()) item.value().copy_(src[item.key()]);
}

// Output and parameter gradients of one forward/backward under a fixed seed.
struct Pass {
  torch::Tensor output, loss, next_draws;  // next_draws: the generator's state after the pass
  std::map<std::string, torch::Tensor> grads;
};

Pass run(klab::TorchModel& model, const torch::Tensor& x, const torch::Tensor& y) {
  for (auto& p : model.parameters()) p.mutable_grad() = torch::Tensor();
  torch::manual_seed(123);  // the same dropout masks on both sides
  Pass pass;
  pass.output = model.forward(x);
  pass.loss = torch::mse_loss(pass.output, y);
  pass.loss.backward();
  pass.next_draws = torch::rand({8});
  for (auto& item : model.named_parameters()) pass.grads[item.key()] = item.value().grad().clone();
  return pass;
}

}  // namespace

class FusedRnn : public ::testing::TestWithParam<Case> {};

TEST_P(FusedRnn, AgreesWithAutograd) {
  say_isa_once();
  RecordProperty("isa", isa_in_use());
  // The reference is the autograd module in float64, so the comparison measures the fused
  // path's own error, not the sum of two float32 roundings; the float32 autograd module's error
  // against the same reference is printed beside it.
  const Case c = GetParam();
  // LibTorch seeds its generator at random per process: a fixed seed per case keeps CI
  // reproducible. KLAB_TEST_SEED=N tries others; KLAB_TEST_ERRORS=1 prints every error.
  const char* seed = std::getenv("KLAB_TEST_SEED");
  torch::manual_seed(seed ? std::atoll(seed) : 20261129 + c.shape.layers * 1000 + c.shape.hidden + c.shape.batch);
  const int64_t features = 7;
  auto reference = make(c.type, features, c.shape, "autograd");
  auto autograd32 = make(c.type, features, c.shape, "autograd");
  auto fused = make(c.type, features, c.shape, "fused");
  copy_parameters(*reference, *fused);
  copy_parameters(*reference, *autograd32);
  reference->to(torch::kDouble);
  for (bool train : {false, true}) {
    for (auto* m : {reference.get(), autograd32.get(), fused.get()}) m->train(train);
    auto x = torch::randn({c.shape.batch, c.shape.seq, features});
    auto y = torch::randn({c.shape.batch, 1});
    const Pass ref = run(*reference, x.to(torch::kDouble), y.to(torch::kDouble));
    const Pass got = run(*fused, x, y);
    const Pass plain = run(*autograd32, x, y);
    auto check = [&](const std::string& what, const torch::Tensor& g, const torch::Tensor& g_plain,
                     const torch::Tensor& g_ref) {
      // Within 1e-5 relative of the exact value. Where float32 itself cannot get there (a sum of
      // cancelling terms: a bias gradient, a batch-of-one output near zero), within 4x LibTorch's
      // own float32 error. Measured with KLAB_TEST_SEED over 41 seeds x every shape (AVX-512
      // kernels) and 16 seeds x every shape with each of the AVX2 and generic loops: no failure.
      // Predictions of standardised targets are O(0.1-1): an output is judged on at least 0.1.
      const double floor = what == "output" ? 0.1 : 1e-12;
      const double err = relative_error(g.to(torch::kDouble), g_ref, floor);
      const double plain_err = relative_error(g_plain.to(torch::kDouble), g_ref, floor);
      if (std::getenv("KLAB_TEST_ERRORS")) std::cerr << "ERR " << what << " " << train << " " << err << " " << plain_err << "\n";
      // ... and never beyond 1e-3, however badly float32 autograd itself does on a case.
      EXPECT_LT(err, std::min(1e-3, std::max(1e-5, 4 * plain_err)))
          << what << " train=" << train << " (float32 autograd: " << plain_err << ", ISA " << isa_in_use() << ")";
    };
    // Dropout drew the same numbers as ATen: the generator is left in the same state.
    EXPECT_TRUE(torch::equal(got.next_draws, plain.next_draws)) << "generator state, train=" << train;
    check("output", got.output, plain.output, ref.output);
    check("loss", got.loss, plain.loss, ref.loss);
    ASSERT_EQ(got.grads.size(), ref.grads.size());
    for (const auto& [name, g_ref] : ref.grads) {
      ASSERT_TRUE(got.grads.at(name).defined()) << name;
      check(name, got.grads.at(name), plain.grads.at(name), g_ref);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Shapes, FusedRnn,
                         ::testing::Values(Case{"lstm", {1, 16, 1, 1, 0.0}}, Case{"lstm", {1, 16, 60, 32, 0.0}},
                                           Case{"lstm", {3, 16, 60, 32, 0.3}}, Case{"lstm", {3, 128, 1, 1, 0.3}},
                                           Case{"lstm", {1, 128, 60, 1, 0.0}}, Case{"lstm", {2, 128, 60, 32, 0.2}},
                                           Case{"lstm", {3, 128, 60, 32, 0.3}}, Case{"gru", {1, 16, 1, 1, 0.0}},
                                           Case{"gru", {1, 16, 60, 32, 0.0}}, Case{"gru", {3, 16, 60, 32, 0.3}},
                                           Case{"gru", {3, 128, 1, 1, 0.3}}, Case{"gru", {1, 128, 60, 1, 0.0}},
                                           Case{"gru", {2, 128, 60, 32, 0.2}}, Case{"gru", {3, 128, 60, 32, 0.3}},
                                           // Odd sizes: partial register tiles and panels everywhere.
                                           Case{"lstm", {2, 37, 7, 5, 0.1}}, Case{"gru", {2, 37, 7, 5, 0.1}}),
                         name_of);

TEST(FusedRnnThreads, TwoThreadsComputeWhatOneDoes) {
  say_isa_once();
  const int saved = at::get_num_threads();
  torch::manual_seed(20261129);
  for (const std::string type : {"lstm", "gru"}) {
    const Shape s{2, 32, 20, 13, 0.2};  // 13 rows: uneven blocks
    auto model = make(type, 5, s, "fused");
    model->train(true);
    auto x = torch::randn({s.batch, s.seq, 5});
    auto y = torch::randn({s.batch, 1});
    at::set_num_threads(1);
    const Pass one = run(*model, x, y);
    at::set_num_threads(2);
    const Pass two = run(*model, x, y);
    if (klabs_own_gemm()) {
      RecordProperty("gemm", "klab-" + isa_in_use());
      // klab's kernel sums every element in the same order whatever the row blocks: identical.
      EXPECT_TRUE(torch::equal(two.output, one.output)) << type;
      for (const auto& [name, g] : one.grads) EXPECT_TRUE(torch::equal(two.grads.at(name), g)) << type << " " << name;
    } else {
      // BLAS may round a block of 6 rows differently from one of 13: equal to float rounding.
      EXPECT_LT(relative_error(two.output, one.output), 1e-5) << type;
      for (const auto& [name, g] : one.grads) EXPECT_LT(relative_error(two.grads.at(name), g), 1e-5) << type << " " << name;
    }
  }
  at::set_num_threads(saved);
}

// Bit-identical results across thread counts hold for klab's GEMM kernels only: where none runs,
// this says so as a skip instead of passing for the BLAS case above.
TEST(FusedRnnThreads, KlabsGemmIsBitIdenticalAcrossThreads) {
  say_isa_once();
  if (!klabs_own_gemm()) GTEST_SKIP() << "klab's GEMM kernels do not run here (KLAB_FUSED_ISA=" << isa_in_use()
                                      << "); BLAS is checked to rounding in TwoThreadsComputeWhatOneDoes";
  const int saved = at::get_num_threads();
  torch::manual_seed(7);
  auto model = make("lstm", 5, Shape{1, 16, 9, 11, 0.0}, "fused");
  model->train(true);
  auto x = torch::randn({11, 9, 5});
  auto y = torch::randn({11, 1});
  at::set_num_threads(1);
  const Pass one = run(*model, x, y);
  at::set_num_threads(2);
  const Pass two = run(*model, x, y);
  EXPECT_TRUE(torch::equal(two.output, one.output));
  at::set_num_threads(saved);
}

TEST(FusedRnnConfig, DefaultWhereItAppliesAndRefusedWhereItDoesNot) {
  for (const std::string type : {"lstm", "gru"}) {
    auto plain = klab::test::registry().create_torch_model(type, 5, "{}");
    EXPECT_EQ(nlohmann::json::parse(plain->config_json())["impl"], "fused") << type;
    auto bidirectional = klab::test::registry().create_torch_model(type, 5, R"({"bidirectional": true})");
    EXPECT_EQ(nlohmann::json::parse(bidirectional->config_json())["impl"], "autograd") << type;
    EXPECT_THROW(klab::test::registry().create_torch_model(type, 5, R"({"impl": "fused", "bidirectional": true})"),
                 klab::ConfigError);
    EXPECT_THROW(klab::test::registry().create_torch_model(type, 5, R"({"impl": "magic"})"), klab::ConfigError);
  }
}

TEST(FusedRnnConfig, BackwardTwiceIsRefusedWithAMessage) {
  auto model = klab::test::registry().create_torch_model("lstm", 3, R"({"hidden_size": 4, "num_layers": 1})");
  auto loss = model->forward(torch::randn({2, 5, 3})).sum();
  loss.backward({}, /*retain_graph=*/true);
  try {
    loss.backward();
    FAIL() << "second backward accepted";
  } catch (const c10::Error& e) {
    EXPECT_NE(std::string(e.what()).find("impl: autograd"), std::string::npos) << e.what();
  }
}
