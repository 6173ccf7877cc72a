// The fused LSTM against LibTorch's autograd LSTM: outputs, loss and every parameter's gradient
// agree to 1e-5 relative, over several shapes, with dropout in train mode under the same seed.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "klab/error.h"
#include "klab/model.h"
#include "test_support.h"

namespace {

struct Shape {
  int layers, hidden, seq, batch;
  double dropout;
};

double relative_error(const torch::Tensor& a, const torch::Tensor& b) {
  return ((a - b).abs().max() / (b.abs().max() + 1e-12)).item<double>();
}

}  // namespace

class FusedLstm : public ::testing::TestWithParam<Shape> {};

TEST_P(FusedLstm, AgreesWithAutograd) {
  const Shape s = GetParam();
  const int64_t features = 7;
  nlohmann::json config = {{"hidden_size", s.hidden}, {"num_layers", s.layers}, {"dropout", s.dropout}};
  auto reference = klab::test::registry().create_model("lstm", features, config.dump());
  config["impl"] = "fused";
  auto fused = klab::test::registry().create_model("lstm", features, config.dump());
  {
    torch::NoGradGuard no_grad;
    auto src = reference->named_parameters();
    for (auto& item : fused->named_parameters()) item.value().copy_(src[item.key()]);
  }
  for (bool train : {false, true}) {
    reference->train(train);
    fused->train(train);
    auto x = torch::randn({s.batch, s.seq, features});
    auto y = torch::randn({s.batch, 1});
    torch::manual_seed(123);
    auto out_ref = reference->forward(x);
    auto loss_ref = torch::mse_loss(out_ref, y);
    torch::manual_seed(123);  // the same dropout masks
    auto out_fused = fused->forward(x);
    auto loss_fused = torch::mse_loss(out_fused, y);
    EXPECT_LT(relative_error(out_fused, out_ref), 1e-5) << "output, train=" << train;
    EXPECT_NEAR(loss_fused.item<double>(), loss_ref.item<double>(), 1e-5 * std::abs(loss_ref.item<double>()));
    for (auto& p : reference->parameters()) p.mutable_grad() = torch::Tensor();
    for (auto& p : fused->parameters()) p.mutable_grad() = torch::Tensor();
    loss_ref.backward();
    loss_fused.backward();
    auto ref_params = reference->named_parameters();
    for (auto& item : fused->named_parameters()) {
      const auto& g_ref = ref_params[item.key()].grad();
      const auto& g_fused = item.value().grad();
      ASSERT_TRUE(g_fused.defined()) << item.key();
      EXPECT_LT(relative_error(g_fused, g_ref), 1e-5) << item.key() << " train=" << train;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Shapes, FusedLstm,
                         ::testing::Values(Shape{1, 16, 1, 1, 0.0}, Shape{1, 16, 60, 32, 0.0},
                                           Shape{3, 16, 60, 32, 0.3}, Shape{3, 128, 1, 1, 0.3},
                                           Shape{1, 128, 60, 1, 0.0}, Shape{2, 128, 60, 32, 0.2}));

TEST(FusedLstmConfig, OnlyWhereItApplies) {
  EXPECT_THROW(klab::test::registry().create_model("lstm", 5, R"({"impl": "fused", "bidirectional": true})"),
               klab::ConfigError);
  EXPECT_THROW(klab::test::registry().create_model("gru", 5, R"({"impl": "fused"})"), klab::ConfigError);
  EXPECT_THROW(klab::test::registry().create_model("lstm", 5, R"({"impl": "magic"})"), klab::ConfigError);
}
