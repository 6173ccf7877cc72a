// Experiment files: defaults, and errors that name the file, the line and the key.
#include "config/experiment.h"

#include <filesystem>
#include <fstream>
#include <iterator>

#include <gtest/gtest.h>

#include "klab/error.h"
#include "test_support.h"

namespace {

const char* kMinimal = R"(name: t
data:
  source: sqlite
  options: {path: x.db}
  symbol: "600519"
model: {type: lstm, hidden_size: 8}
)";

std::string error_of(const std::string& yaml) {
  try {
    klab::parse_experiment(yaml, "exp.yaml");
  } catch (const klab::ConfigError& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST(Experiment, DefaultsAreTheDocumentedOnes) {
  auto spec = klab::parse_experiment(kMinimal, "exp.yaml");
  EXPECT_EQ(spec.name, "t");
  EXPECT_EQ(spec.symbols, std::vector<std::string>{"600519"});
  EXPECT_FALSE(spec.multi_symbol);
  // A relative data path is resolved once, against the current folder, and kept as written.
  EXPECT_EQ(spec.source_options["path"], (std::filesystem::current_path() / "x.db").string());
  EXPECT_EQ(spec.path_as_given, "x.db");
  EXPECT_EQ(klab::ExperimentSpec::from_json(spec.to_json(), "experiment.json").path_as_given, "x.db");
  EXPECT_EQ(spec.features.size(), 45u);
  EXPECT_EQ(spec.target_kind, "close");
  EXPECT_EQ(spec.horizon, 1u);
  EXPECT_EQ(spec.model_type, "lstm");
  EXPECT_EQ(spec.model_params, (nlohmann::json{{"hidden_size", 8}}));
  EXPECT_EQ(spec.train.seq_length, 60u);
  EXPECT_EQ(spec.train.epochs, 50u);
  EXPECT_EQ(spec.train.batch_size, 32u);
  EXPECT_DOUBLE_EQ(spec.train.learning_rate, 0.001);
  EXPECT_EQ(spec.train.optimizer, "adam");
  EXPECT_EQ(spec.train.loss, "mse");
  EXPECT_EQ(spec.train.patience, 10u);
  EXPECT_EQ(spec.train.checkpoint_interval, 10u);
  EXPECT_EQ(spec.train.seed, 42u);
  EXPECT_EQ(spec.train.threads, 1);
  EXPECT_EQ(spec.adjust, "backward");
  EXPECT_DOUBLE_EQ(spec.split.train, 0.7);
  EXPECT_EQ(spec.output_dir, "out");
}

TEST(Experiment, SymbolsAreNormalisedAndLeadingZerosKept) {
  auto spec = klab::parse_experiment(std::string(kMinimal) + "", "exp.yaml");
  auto multi = klab::parse_experiment(R"(data: {symbols: [000001, sh600519, 601318.SH]}
model: {type: gru})", "m.yaml");
  EXPECT_TRUE(multi.multi_symbol);
  EXPECT_EQ(multi.symbols, (std::vector<std::string>{"000001", "600519", "601318"}));
  EXPECT_EQ(multi.name, "m");
}

TEST(Experiment, ErrorsNameFileLineAndKey) {
  EXPECT_EQ(error_of(std::string(kMinimal) + "modle: {type: gru}\n"),
            "exp.yaml:7: modle: unknown key (known here: data, evaluation, features, model, name, output_dir, "
            "sweep, target, train)");
  EXPECT_EQ(error_of(std::string(kMinimal) + "train:\n  learning_rate: fast\n"),
            "exp.yaml:8: train.learning_rate: expected a number, got \"fast\"");
  EXPECT_EQ(error_of(std::string(kMinimal) + "train:\n  epochs: 0\n"),
            "exp.yaml:8: train.epochs: must be >= 1, got 0");
  EXPECT_EQ(error_of(std::string(kMinimal) + "train:\n  optimizer: rmsprop\n"),
            "exp.yaml:8: train.optimizer: expected one of adam, adamw, sgd, got \"rmsprop\"");
  EXPECT_NE(error_of(std::string(kMinimal) + "train:\n  batchsize: 3\n").find("exp.yaml:8: train.batchsize: unknown key"),
            std::string::npos);
  EXPECT_EQ(error_of("data: {symbol: \"60051\"}\nmodel: {type: lstm}\n"),
            "exp.yaml:1: data.symbol: \"60051\" is not an A-share symbol (600519, sh600519, 600519.SH)");
  EXPECT_EQ(error_of("model: {type: lstm}\n"), "exp.yaml: missing section 'data'");
  EXPECT_EQ(error_of("data: {symbol: \"600519\"}\n"), "exp.yaml: missing section 'model'");
  EXPECT_NE(error_of(std::string(kMinimal) + "features: [close, closee]\n").find("exp.yaml:7: features: unknown feature 'closee'"),
            std::string::npos);
  EXPECT_NE(error_of("data:\n  symbol: \"600519\"\n  split: {train: 0.8, val: 0.15, test: 0.15}\nmodel: {type: lstm}\n")
                .find("exp.yaml:3: data.split: train, val and test must be positive and sum to 1"),
            std::string::npos);
  EXPECT_NE(error_of("data:\n  symbol: \"600519\"\n  start_date: 2020-02-30\nmodel: {type: lstm}\n")
                .find("exp.yaml:3: data.start_date: expected a date YYYY-MM-DD"),
            std::string::npos);
  EXPECT_EQ(error_of(std::string(kMinimal) + "train: {epochs: 3, epochs: 4}\n"),
            "exp.yaml:7: train.epochs: duplicate key");
  EXPECT_NE(error_of("data: [1, 2\n").find("exp.yaml:"), std::string::npos);
  EXPECT_NE(error_of("data: [1, 2\n").find("invalid YAML"), std::string::npos);
}

// Found by fuzzing (tests/fuzz): bytes that are not UTF-8 passed validation, and the run failed
// later writing experiment.json with a JSON library error.
TEST(Experiment, TextThatIsNotUtf8IsRefusedNamingTheLine) {
  EXPECT_EQ(error_of(std::string(kMinimal) + "name: \xFF" "bad\n"), "exp.yaml:7: not valid UTF-8 (byte 0xFF): save the experiment file as UTF-8");
  EXPECT_EQ(error_of("name: ok\ndata: {symbol: \"\xE8\xB4\"}\n"), "exp.yaml:2: not valid UTF-8 (byte 0xE8): save the experiment file as UTF-8");
  EXPECT_EQ(error_of("name: \xC0\xAF\n"), "exp.yaml:1: not valid UTF-8 (byte 0xC0): save the experiment file as UTF-8");  // overlong
  // A file that is UTF-8 but holds control characters from which the YAML reader made a value
  // that is not (the fuzzer's input, kept in its corpus): refused as a ConfigError.
  std::ifstream in(std::string(KLAB_SAMPLE_DATA_DIR) + "/../../tests/fuzz/corpus/experiment/control_chars.yaml", std::ios::binary);
  ASSERT_TRUE(in.good());
  const std::string control((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(error_of(control).find("not valid UTF-8"), std::string::npos) << error_of(control);
  // Real UTF-8 (Chinese, 4-byte) is fine.
  EXPECT_EQ(error_of(std::string(kMinimal) + "# 贵州茅台 \xF0\x9F\x93\x88\n"), "(no error)");
}

// Found by fuzzing: a number beyond int64 made std::stoll throw std::out_of_range out of the loader.
TEST(Experiment, NumbersOutOfRangeAreRefusedNamingTheKey) {
  EXPECT_EQ(error_of(std::string(kMinimal) + "train:\n  epochs: 88888888888888888888888888\n"),
            "exp.yaml:8: train.epochs: expected an integer, got \"88888888888888888888888888\"");
  EXPECT_NE(error_of(std::string(kMinimal) + "train:\n  learning_rate: 1e999\n").find("exp.yaml:8: train.learning_rate: expected a number"),
            std::string::npos);
  // An integer beyond int64 is still a number where a real is expected (here out of its range).
  EXPECT_EQ(error_of(std::string(kMinimal) + "train:\n  weight_decay: 9223372036854775808\n"),
            "exp.yaml:8: train.weight_decay: must be in [0.0, 1.0], got 9223372036854775808");
}

TEST(Experiment, RoundTripsThroughJson) {
  auto spec = klab::parse_experiment(std::string(kMinimal) +
                                         "features: basic\ntarget: {kind: return, horizon: 2}\n"
                                         "train: {seq_length: 10, lr_schedule: cosine, grad_clip: 1.5}\n",
                                     "exp.yaml");
  auto again = klab::ExperimentSpec::from_json(spec.to_json(), "experiment.json");
  EXPECT_EQ(again.to_json(), spec.to_json());
  EXPECT_EQ(again.features, spec.features);
  EXPECT_EQ(again.train.lr_schedule, "cosine");
  EXPECT_EQ(again.horizon, 2u);
}

TEST(Experiment, UniverseRulesListsAndFiles) {
  const std::string kModelLine = "model: {type: lstm}\n";
  auto spec = klab::parse_experiment(kModelLine + "data:\n  universe: {top: 300, by: amount_20d, rebalance: weekly}\n", "exp.yaml");
  EXPECT_TRUE(spec.multi_symbol);
  EXPECT_EQ(spec.symbols, std::vector<std::string>{"all"});
  EXPECT_EQ(spec.universe.top, 300u);
  EXPECT_EQ(spec.universe.by, "amount_20d");
  EXPECT_EQ(spec.universe.rebalance, "weekly");
  EXPECT_EQ(spec.dataset_spec({"600519"}).universe.top, 300u);
  // experiment.json keeps the rule.
  const auto back = klab::ExperimentSpec::from_json(spec.to_json(), "experiment.json");
  EXPECT_EQ(back.universe.top, 300u);
  EXPECT_EQ(back.universe.rebalance, "weekly");
  EXPECT_EQ(klab::parse_experiment(kModelLine + "data:\n  universe: all\n", "exp.yaml").symbols, std::vector<std::string>{"all"});

  EXPECT_EQ(error_of(kModelLine + "data:\n  symbol: \"600519\"\n  universe: {top: 10}\n"),
            "exp.yaml:4: data.universe: a universe is a run over many stocks; drop data.symbol");
  EXPECT_NE(error_of(kModelLine + "data:\n  universe: {top: 10, by: volume}\n").find("exp.yaml:3: data.universe.by: "), std::string::npos)
      << error_of(kModelLine + "data:\n  universe: {top: 10, by: volume}\n");
  EXPECT_NE(error_of(kModelLine + "data:\n  universe: {top: 0}\n").find("data.universe.top: must be >= 1"), std::string::npos);
  EXPECT_NE(error_of(kModelLine + "data:\n  universe: {}\n").find("expected top: N"), std::string::npos) << error_of(kModelLine + "data:\n  universe: {}\n");
  EXPECT_NE(error_of(kModelLine + "data:\n  universe: {top: 5, rebalanse: monthly}\n").find("rebalanse: unknown key"), std::string::npos);

  klab::test::TempDir dir;
  klab::test::write_file(dir / "members.txt", "# CSI-like list\nsh600519\n000001  # 平安银行\n\n600519\n");
  auto listed = klab::parse_experiment(kModelLine + "data:\n  universe: {file: " + (dir / "members.txt").string() + ", top: 1}\n", "exp.yaml");
  EXPECT_EQ(listed.symbols, (std::vector<std::string>{"600519", "000001"}));
  EXPECT_EQ(listed.universe.top, 1u);
  klab::test::write_file(dir / "bad.txt", "600519\nmoutai\n");
  EXPECT_EQ(error_of(kModelLine + "data:\n  universe: {file: " + (dir / "bad.txt").string() + "}\n"),
            (dir / "bad.txt").string() + ":2: \"moutai\" is not an A-share symbol");
}

TEST(Experiment, SymbolsAllRoundTripsThroughExperimentJson) {
  // experiment.json of a `symbols: all` run must read back (resume, PredictionEngine).
  auto spec = klab::parse_experiment("data: {symbols: all}\nmodel: {type: lstm}\n", "exp.yaml");
  EXPECT_EQ(spec.to_json()["data"]["symbols"], "all");
  const auto back = klab::ExperimentSpec::from_json(spec.to_json(), "experiment.json");
  EXPECT_EQ(back.symbols, std::vector<std::string>{"all"});
  EXPECT_TRUE(back.multi_symbol);
}

// Every experiment shipped in experiments/ parses, and the Alpha158 benchmark ones say what
// docs/DATA.md promises (Qlib's split, label, normalisation and feature selection).
TEST(Experiment, ShippedExperimentsParse) {
  const auto dir = klab::test::sample_data_dir().parent_path().parent_path() / "experiments";
  std::size_t n = 0;
  for (const auto& item : std::filesystem::directory_iterator(dir)) {
    if (item.path().extension() != ".yaml") continue;
    ++n;
    klab::ExperimentSpec spec;
    ASSERT_NO_THROW(spec = klab::load_experiment(item.path())) << item.path();
    const std::string name = item.path().filename().string();
    if (name.find("_alpha158") == std::string::npos && name.find("_alpha360") == std::string::npos) continue;
    // Qlib's configs: LSTM, GRU (and ALSTM) on the 20 selected Alpha158 features, the others on all
    // 158; Alpha360 is 6 window-relative columns over 60 days (flattened for the row models).
    const bool selected20 = name.find("lstm") != std::string::npos || name.find("gru") != std::string::npos;
    if (name.find("_alpha360") != std::string::npos) {
      EXPECT_EQ(spec.features.size(), 6u) << name;
      EXPECT_EQ(spec.train.seq_length, 60u) << name;
    } else {
      EXPECT_EQ(spec.features.size(), selected20 ? 20u : 158u) << name;
    }
    EXPECT_EQ(spec.rolling.enabled(), name.find("_rolling") != std::string::npos) << name;
    EXPECT_EQ(spec.target_kind, "next_return") << name;
    EXPECT_EQ(spec.target_normalize, "cs_rank") << name;
    EXPECT_TRUE(spec.fill_nan) << name;
    EXPECT_EQ(spec.universe.top, 300u) << name;
    EXPECT_EQ(spec.split.val_start, "2015-01-01") << name;
    EXPECT_EQ(spec.split.test_start, "2017-01-01") << name;
    EXPECT_EQ(spec.end_date, "2021-12-31") << name;
  }
  EXPECT_GE(n, 14u);
}
