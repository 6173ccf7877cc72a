// The plugin boundary: discovery, manifest checks, failures with the file named, lifetime.
#include "plugins/registry.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "klab/error.h"
#include "klab/torch_model.h"

namespace fs = std::filesystem;

namespace {

const fs::path kBad = KLAB_TEST_PLUGIN_DIR;

// Loads `file`, expecting a PluginError whose message names the file and contains `reason`.
void expect_load_error(const fs::path& file, const std::string& reason) {
  klab::PluginRegistry registry;
  try {
    registry.load_file(file);
    FAIL() << "loading " << file << " should have failed";
  } catch (const klab::PluginError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find(file.string()), std::string::npos) << message;
    EXPECT_NE(message.find(reason), std::string::npos) << message;
    EXPECT_EQ(message.find('\n'), std::string::npos) << "one line: " << message;
  }
  EXPECT_TRUE(registry.plugins().empty());
}

}  // namespace

TEST(Registry, DiscoversBuiltinModels) {
  klab::PluginRegistry registry;
  registry.discover();
  EXPECT_TRUE(registry.failures().empty()) << registry.failures().front();
  for (const char* name : {"lstm", "gru", "transformer"}) {
    const klab::PluginInfo* info = registry.find("model", name);
    ASSERT_NE(info, nullptr) << name;
    EXPECT_EQ(info->abi_version, klab::kPluginAbiVersion);
    EXPECT_EQ(info->torch_version, TORCH_VERSION);
    EXPECT_FALSE(info->description.empty());
    EXPECT_EQ(info->path.filename(), std::string(name) + ".so");
  }
}

TEST(Registry, SearchPathOrderIsBuiltinThenEnvThenFlags) {
  setenv("KLAB_PLUGIN_PATH", "/tmp/klab-a:/tmp/klab-b", 1);
  auto dirs = klab::PluginRegistry::search_path({"/tmp/klab-c"});
  unsetenv("KLAB_PLUGIN_PATH");
  ASSERT_EQ(dirs.size(), 4u);
  EXPECT_EQ(dirs[0], klab::PluginRegistry::builtin_plugin_dir());
  EXPECT_EQ(dirs[1], fs::path("/tmp/klab-a"));
  EXPECT_EQ(dirs[2], fs::path("/tmp/klab-b"));
  EXPECT_EQ(dirs[3], fs::path("/tmp/klab-c"));
}

TEST(Registry, NotASharedLibrary) {
  expect_load_error(kBad / "not_a_library" / "notes.so", "not a shared library");
}

TEST(Registry, MissingFile) {
  expect_load_error(kBad / "nowhere" / "missing.so", "no such plugin file");
}

TEST(Registry, NoEntryPoint) {
  expect_load_error(kBad / "no_entry" / "no_entry.so", "no entry point 'klab_plugin_manifest'");
}

TEST(Registry, WrongAbiVersion) {
  expect_load_error(kBad / "wrong_abi" / "wrong_abi.so",
                    "plugin ABI version " + std::to_string(klab::kPluginAbiVersion + 98) +
                        ", but this klab expects " + std::to_string(klab::kPluginAbiVersion));
}

TEST(Registry, PluginOfTheOldTorchOnlyAbiIsRefused) {
  // A plugin built before Model became family-neutral (ABI 1) is refused before anything of it
  // runs (and one of ABI 2, whose Bar lacked the risk-warning flag, alike).
  ASSERT_EQ(klab::kPluginAbiVersion, 3u);
  expect_load_error(kBad / "old_abi" / "old_abi.so",
                    "plugin ABI version 1, but this klab expects 3");
}

TEST(Registry, WrongTorchVersion) {
  expect_load_error(kBad / "wrong_torch" / "wrong_torch.so", "built against LibTorch 0.0.1");
}

TEST(Registry, UnresolvedSymbolFailsAtLoad) {
  expect_load_error(kBad / "unresolved" / "unresolved.so",
                    "undefined symbol: klab_test_symbol_that_does_not_exist");
}

TEST(Registry, DuplicateNameNamesBothFiles) {
  klab::PluginRegistry registry;
  registry.load_directory(kBad / "duplicate");
  ASSERT_EQ(registry.plugins().size(), 1u);
  ASSERT_EQ(registry.failures().size(), 1u);
  const std::string& message = registry.failures().front();
  EXPECT_NE(message.find("duplicate model plugin name 'same_name'"), std::string::npos) << message;
  EXPECT_NE(message.find((kBad / "duplicate" / "dup_one.so").string()), std::string::npos) << message;
  EXPECT_NE(message.find((kBad / "duplicate" / "dup_two.so").string()), std::string::npos) << message;
}

TEST(Registry, SameFileTwiceIsNotADuplicate) {
  klab::PluginRegistry once;
  once.discover();
  klab::PluginRegistry twice;
  twice.discover({klab::PluginRegistry::builtin_plugin_dir()});
  EXPECT_TRUE(twice.failures().empty());
  EXPECT_EQ(twice.plugins().size(), once.plugins().size());
}

TEST(Registry, ThrowingFactoryIsAPluginError) {
  klab::PluginRegistry registry;
  registry.load_file(kBad / "throws" / "throws.so");
  try {
    registry.create_model("throwing_model", 45, "{}");
    FAIL() << "factory should have thrown";
  } catch (const klab::PluginError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("throws.so"), std::string::npos) << message;
    EXPECT_NE(message.find("factory exploded on purpose (input_size 45)"), std::string::npos)
        << message;
  }
}

TEST(Registry, UnknownModelListsAvailable) {
  klab::PluginRegistry registry;
  registry.discover();
  try {
    registry.create_model("lstmm", 45, "{}");
    FAIL();
  } catch (const klab::PluginError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("unknown model plugin 'lstmm'"), std::string::npos) << message;
    // Every built-in model, sorted.
    EXPECT_NE(message.find("(available: alstm, gru, linear, lstm, mlp, tcn, transformer, xgboost)"), std::string::npos)
        << message;
  }
}

TEST(Registry, BrokenFileInFolderDoesNotHideOthers) {
  klab::PluginRegistry registry;
  registry.load_directory(kBad / "wrong_abi");
  registry.load_directory(klab::PluginRegistry::builtin_plugin_dir());
  EXPECT_EQ(registry.failures().size(), 1u);
  EXPECT_NE(registry.find("model", "lstm"), nullptr);
}

namespace {
bool library_mapped(const std::filesystem::path& file) {
  std::ifstream maps("/proc/self/maps");
  const std::string name = std::filesystem::canonical(file).string();
  for (std::string line; std::getline(maps, line);) {
    if (line.size() >= name.size() && line.compare(line.size() - name.size(), name.size(), name) == 0) return true;
  }
  return false;
}
}  // namespace

// The keep-alive proved on a plugin that can unload (transformer.so; lstm.so and gru.so are
// linked -z nodelete): mapped while one of its objects lives, after its registry is gone, and
// unmapped once the last object is freed.
TEST(Registry, ALibraryStaysLoadedExactlyAsLongAsItsObjects) {
  const std::filesystem::path file = std::filesystem::path(KLAB_PLUGIN_BUILD_DIR) / "transformer.so";
  ASSERT_TRUE(std::filesystem::exists(file)) << file;
  if (library_mapped(file)) GTEST_SKIP() << file << " was loaded before this test (run it alone: ctest does)";
  std::shared_ptr<klab::TorchModel> model;
  {
    klab::PluginRegistry registry;
    registry.discover();
    ASSERT_EQ(std::filesystem::canonical(registry.find("model", "transformer")->path), std::filesystem::canonical(file));
    model = registry.create_torch_model("transformer", 4, R"({"d_model": 8, "nhead": 2, "num_layers": 1})");
  }
  ASSERT_TRUE(library_mapped(file)) << "the registry is gone but the model's deleter must keep " << file;
  torch::NoGradGuard no_grad;
  EXPECT_EQ(model->forward(torch::randn({2, 3, 4})).sizes(), (std::vector<std::int64_t>{2, 1}));
  model.reset();
  EXPECT_FALSE(library_mapped(file)) << "the last object is gone: " << file << " should be unloaded";
}

TEST(Registry, ModelOutlivesRegistry) {
  std::shared_ptr<klab::TorchModel> model;
  {
    klab::PluginRegistry registry;
    registry.discover();
    model = registry.create_torch_model("gru", 5, R"({"hidden_size": 8, "num_layers": 1})");
  }
  // The registry is gone; the model's deleter still holds gru.so, so its code is mapped.
  auto out = model->forward(torch::randn({2, 3, 5}));
  EXPECT_EQ(out.sizes(), (std::vector<std::int64_t>{2, 1}));
  EXPECT_EQ(model->model_type(), "gru");
  model.reset();
  // The output's autograd graph (the fused GRU's own node type) outlives the model and the
  // registry: backward still runs and freeing the graph does not call into an unmapped library.
  out.sum().backward();
}

// A model of the fit family (tests/plugins/mean_model.cpp, built with klab::sdk alone): loaded
// with no LibTorch in its manifest, fitted and predicting through klab/model.h only.
TEST(Registry, ModelWithoutTorchLoadsFitsAndPredicts) {
  klab::PluginRegistry registry;
  const auto info = registry.load_file(fs::path(KLAB_TEST_PLUGIN_DIR) / "mean_model" / "mean_model.so");
  EXPECT_EQ(info.torch_version, "");
  EXPECT_EQ(info.abi_version, klab::kPluginAbiVersion);
  auto model = registry.create_model("mean_model", 3, "{}");
  EXPECT_EQ(model->as_torch(), nullptr);
  const float inputs[2 * 2 * 3] = {};
  const float labels[2] = {1.0f, 3.0f};
  klab::WindowView view{inputs, labels, 2, 2, 3};
  const auto report = nlohmann::json::parse(model->fit(view, view));
  EXPECT_DOUBLE_EQ(report["mean"].get<double>(), 2.0);
  EXPECT_DOUBLE_EQ(report["train_loss"].get<double>(), 1.0);
  float out[2] = {0, 0};
  model->predict(view, out);
  EXPECT_EQ(out[0], 2.0f);
  EXPECT_EQ(out[1], 2.0f);
  // Code that drives a torch module itself is told this one is not.
  EXPECT_THROW(registry.create_torch_model("mean_model", 3, "{}"), klab::ConfigError);
  const auto check = klab::check_model(registry, "mean_model", 4, 5, 3);
  EXPECT_EQ(check.family, "fit");
  EXPECT_EQ(check.output_shape, (std::vector<std::int64_t>{4, 1}));
}
