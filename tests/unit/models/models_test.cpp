// The built-in model plugins: shapes, gradients, config round trip, PyTorch parameter names,
// and hyperparameter validation.
#include <set>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "klab/error.h"
#include "klab/torch_model.h"
#include "plugins/registry.h"

namespace {

klab::PluginRegistry& registry() {
  static klab::PluginRegistry* r = [] {
    auto* reg = new klab::PluginRegistry();
    reg->discover();
    return reg;
  }();
  return *r;
}

class EveryModel : public ::testing::TestWithParam<std::string> {};

std::set<std::string> parameter_names(klab::TorchModel& model) {
  std::set<std::string> names;
  for (const auto& item : model.named_parameters()) names.insert(item.key());
  return names;
}

}  // namespace

TEST_P(EveryModel, ForwardMapsWindowToOnePrediction) {
  torch::manual_seed(1);
  auto model = registry().create_torch_model(GetParam(), 45, "{}");
  auto out = model->forward(torch::randn({4, 60, 45}));
  EXPECT_EQ(out.sizes(), (std::vector<std::int64_t>{4, 1}));
  EXPECT_TRUE(torch::isfinite(out).all().item<bool>());
}

TEST_P(EveryModel, BackwardGivesFiniteNonZeroGradientsEverywhere) {
  torch::manual_seed(2);
  auto model = registry().create_torch_model(GetParam(), 45, "{}");
  model->train();
  auto out = model->forward(torch::randn({4, 60, 45}));
  torch::mse_loss(out, torch::randn({4, 1})).backward();
  for (const auto& item : model->named_parameters()) {
    const auto& grad = item.value().grad();
    ASSERT_TRUE(grad.defined()) << item.key();
    EXPECT_TRUE(torch::isfinite(grad).all().item<bool>()) << item.key();
    EXPECT_GT(grad.abs().sum().item<double>(), 0.0) << item.key();
  }
}

TEST_P(EveryModel, ConfigRoundTripsThroughJson) {
  auto model = registry().create_torch_model(GetParam(), 45, R"({"num_layers": 3, "dropout": 0.25})");
  auto config = nlohmann::json::parse(model->config_json());
  EXPECT_EQ(config["model_type"], GetParam());
  EXPECT_EQ(config["input_size"], 45);
  EXPECT_EQ(config["num_layers"], 3);
  EXPECT_DOUBLE_EQ(config["dropout"].get<double>(), 0.25);
  EXPECT_EQ(config["output_size"], 1);

  auto rebuilt = registry().create_torch_model(GetParam(), 45, config.dump());
  EXPECT_EQ(nlohmann::json::parse(rebuilt->config_json()), config);
  EXPECT_EQ(parameter_names(*rebuilt), parameter_names(*model));
  for (const auto& item : model->named_parameters()) {
    EXPECT_EQ(rebuilt->named_parameters()[item.key()].sizes(), item.value().sizes()) << item.key();
  }
}

TEST_P(EveryModel, UnknownHyperparameterIsRejectedByName) {
  try {
    registry().create_torch_model(GetParam(), 45, R"({"hiden_size": 64})");
    FAIL() << "a misspelt key must not train the default";
  } catch (const klab::ConfigError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("unknown hyperparameter 'hiden_size'"), std::string::npos) << message;
    EXPECT_NE(message.find(GetParam() + ".so"), std::string::npos) << message;
  }
}

TEST_P(EveryModel, MistypedHyperparameterIsRejectedByName) {
  try {
    registry().create_torch_model(GetParam(), 45, R"({"num_layers": "two"})");
    FAIL();
  } catch (const klab::ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("'num_layers' must be an integer, got \"two\""),
              std::string::npos)
        << e.what();
  }
  EXPECT_THROW(registry().create_torch_model(GetParam(), 45, R"({"dropout": 1.5})"), klab::ConfigError);
  EXPECT_THROW(registry().create_torch_model(GetParam(), 45, R"({"output_size": 0})"), klab::ConfigError);
  EXPECT_THROW(registry().create_torch_model(GetParam(), 45, "[1, 2]"), klab::ConfigError);
  EXPECT_THROW(registry().create_torch_model(GetParam(), 45, "{not json"), klab::ConfigError);
  EXPECT_THROW(registry().create_torch_model(GetParam(), 45, R"({"input_size": 7})"), klab::ConfigError);
}

INSTANTIATE_TEST_SUITE_P(Plugins, EveryModel, ::testing::Values("lstm", "gru", "transformer", "alstm", "tcn", "mlp"),
                         [](const auto& info) { return info.param; });

TEST(LstmModel, ParameterNamesMatchPyTorch) {
  auto model = registry().create_torch_model("lstm", 45, R"({"num_layers": 2, "hidden_size": 16})");
  std::set<std::string> expected = {
      "lstm.weight_ih_l0", "lstm.weight_hh_l0", "lstm.bias_ih_l0", "lstm.bias_hh_l0",
      "lstm.weight_ih_l1", "lstm.weight_hh_l1", "lstm.bias_ih_l1", "lstm.bias_hh_l1",
      "fc.weight",         "fc.bias"};
  EXPECT_EQ(parameter_names(*model), expected);
  EXPECT_EQ(model->named_parameters()["lstm.weight_ih_l0"].sizes(),
            (std::vector<std::int64_t>{64, 45}));
}

TEST(GruModel, BidirectionalDoublesTheHead) {
  auto model = registry().create_torch_model("gru", 10, R"({"num_layers": 1, "hidden_size": 8,
                                                      "bidirectional": true, "output_size": 3})");
  auto names = parameter_names(*model);
  EXPECT_TRUE(names.count("gru.weight_ih_l0_reverse"));
  EXPECT_EQ(model->named_parameters()["fc.weight"].sizes(), (std::vector<std::int64_t>{3, 16}));
  EXPECT_EQ(model->forward(torch::randn({2, 7, 10})).sizes(), (std::vector<std::int64_t>{2, 3}));
}

TEST(TransformerModel, ParameterNamesMatchPyTorch) {
  auto model = registry().create_torch_model("transformer", 45,
                                       R"({"num_layers": 1, "positional_encoding": "learned"})");
  auto names = parameter_names(*model);
  for (const char* name :
       {"input_proj.weight", "positional_encoding", "encoder.layers.0.self_attn.in_proj_weight",
        "encoder.layers.0.self_attn.out_proj.weight", "encoder.layers.0.linear1.weight",
        "encoder.layers.0.linear2.bias", "encoder.layers.0.norm1.weight",
        "encoder.layers.0.norm2.bias", "fc.weight", "fc.bias"}) {
    EXPECT_TRUE(names.count(name)) << name;
  }
}

TEST(TransformerModel, RejectsHeadsThatDoNotDivideWidth) {
  EXPECT_THROW(registry().create_torch_model("transformer", 45, R"({"d_model": 30, "nhead": 4})"),
               klab::ConfigError);
  EXPECT_THROW(registry().create_torch_model("transformer", 45, R"({"pooling": "max"})"),
               klab::ConfigError);
}

TEST(TransformerModel, MeanPoolingAndNoPositionalEncodingWork) {
  auto model = registry().create_torch_model(
      "transformer", 6, R"({"pooling": "mean", "positional_encoding": "none", "d_model": 8,
                            "nhead": 2, "dim_feedforward": 16, "activation": "gelu"})");
  EXPECT_EQ(model->forward(torch::randn({3, 5, 6})).sizes(), (std::vector<std::int64_t>{3, 1}));
}

TEST(TransformerModel, ConfigCarriesHiddenSizeAndTakesItBack) {
  auto model = registry().create_torch_model("transformer", 6, R"({"d_model": 8, "nhead": 2})");
  const auto config = nlohmann::json::parse(model->config_json());
  EXPECT_EQ(config["hidden_size"], 8);
  EXPECT_EQ(config["hidden_size"], config["d_model"]);
  auto hyper = config;
  hyper.erase("model_type");
  hyper.erase("input_size");
  EXPECT_NO_THROW(registry().create_torch_model("transformer", 6, hyper.dump()));
  EXPECT_THROW(registry().create_torch_model("transformer", 6, R"({"d_model": 8, "nhead": 2, "hidden_size": 16})"),
               klab::ConfigError);
}

TEST(TransformerModel, WindowLongerThanMaxLenIsAClearError) {
  auto model = registry().create_torch_model("transformer", 6, R"({"max_len": 4, "d_model": 8, "nhead": 2})");
  try {
    model->forward(torch::randn({1, 5, 6}));
    FAIL();
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("exceeds max_len 4"), std::string::npos) << e.what();
  }
}
