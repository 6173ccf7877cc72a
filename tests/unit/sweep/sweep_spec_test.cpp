// sweep/sweep_spec: expansion errors name the file, line and key; a plain experiment is not
// reported as a sweep trial; empty ranges are refused.
#include "sweep/sweep_spec.h"

#include <gtest/gtest.h>

#include "klab/error.h"
#include "test_support.h"

namespace {

std::string error_of(const std::string& yaml) {
  try {
    klab::plan_sweep_text(yaml, "exp.yaml", klab::test::registry());
  } catch (const klab::ConfigError& e) {
    return e.what();
  }
  return "";
}

const char* kBase = R"(data: {source: sqlite, options: {path: x.db}, symbol: "600519"}
model: {type: lstm, hidden_size: 4}
train:
  epochs: 1
)";

}  // namespace

TEST(SweepSpec, APlainExperimentsErrorsKeepTheirLineAndNoTrialPrefix) {
  const std::string e = error_of(std::string(kBase) + "  learning_rte: 0.1\n");
  EXPECT_EQ(e.rfind("exp.yaml:5: train.learning_rte: unknown key", 0), 0u) << e;
  EXPECT_EQ(e.find("sweep trial"), std::string::npos) << e;
  const std::string misspelt = error_of("data: {source: sqlite, symbol: \"600519\"}\nmodle: {type: lstm}\n");
  EXPECT_EQ(misspelt.rfind("exp.yaml:2: modle: unknown key", 0), 0u) << misspelt;
}

TEST(SweepSpec, ATrialsErrorsNameTheTrialAndKeepTheBaseFilesLines) {
  const std::string e = error_of(std::string(kBase) + "  learning_rte: 0.1\nsweep:\n  grid:\n    train.seed: [1, 2]\n");
  EXPECT_NE(e.find("sweep trial 0 (train.seed=1): exp.yaml:5: train.learning_rte: unknown key"), std::string::npos) << e;
}

TEST(SweepSpec, RandomRangesMustHoldAValue) {
  const std::string sweep = "sweep:\n  random:\n    n_trials: 2\n    params:\n      model.hidden_size: ";
  EXPECT_NE(error_of(std::string(kBase) + sweep + "{int: [1.5, 1.7]}\n").find("contains no integer"), std::string::npos);
  EXPECT_NE(error_of(std::string(kBase) + sweep + "{int: [9, 2]}\n").find("expected {choice"), std::string::npos);
  EXPECT_NE(error_of(std::string(kBase) + sweep + "{loguniform: [0, 1]}\n").find("lo > 0"), std::string::npos);
  const auto plan = klab::plan_sweep_text(std::string(kBase) + sweep + "{int: [1.5, 2.5]}\n", "exp.yaml", klab::test::registry());
  ASSERT_EQ(plan.trials.size(), 2u);
  for (const auto& t : plan.trials) EXPECT_EQ(t.spec.model_params["hidden_size"], 2);
}
