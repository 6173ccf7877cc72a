// sweep/sweep_spec: expansion errors name the file, line and key; a plain experiment is not
// reported as a sweep trial; empty ranges are refused.
#include "sweep/sweep_spec.h"

#include <gtest/gtest.h>

#include "config/rolling.h"
#include "klab/data/dates.h"
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
  // Bounds no 64-bit integer or double range can hold (a fuzzing find: {int: [16, 6.8e54]} was
  // converted to long long, undefined behaviour) are refused with the key named.
  const std::string huge = error_of(std::string(kBase) + sweep + "{int: [16, 6777777777777777777777777777777777]}\n");
  EXPECT_NE(huge.find("sweep.random.params.model.hidden_size: {int: [16, 6777777777777777777777777777777777]}: bounds "
                      "beyond +-2^53"), std::string::npos) << huge;
  EXPECT_NE(error_of(std::string(kBase) + sweep + "{uniform: [-1e308, 1e308]}\n").find("(finite, lo <= hi)"),
            std::string::npos);
  EXPECT_NE(error_of(std::string(kBase) + sweep + "{uniform: [0, .inf]}\n").find("(finite, lo <= hi)"), std::string::npos);
  const auto plan = klab::plan_sweep_text(std::string(kBase) + sweep + "{int: [1.5, 2.5]}\n", "exp.yaml", klab::test::registry());
  ASSERT_EQ(plan.trials.size(), 2u);
  for (const auto& t : plan.trials) EXPECT_EQ(t.spec.model_params["hidden_size"], 2);
}

// A typo that asks for billions of trials is one clear error at once, not hours of expansion.
TEST(SweepSpec, TooManyTrialsIsOneClearErrorBeforeExpanding) {
  const std::string random = error_of(std::string(kBase) +
                                      "sweep:\n  random:\n    n_trials: 1000000000000\n    params:\n"
                                      "      train.learning_rate: {loguniform: [0.0001, 0.01]}\n");
  EXPECT_NE(random.find("exp.yaml:6: sweep: 1000000000000 random draws = more than 10000 trials, the most one sweep runs"),
            std::string::npos) << random;
  std::string values;
  for (int i = 1; i <= 30; ++i) values += (i > 1 ? ", " : "") + std::to_string(i);
  const std::string grid = error_of(std::string(kBase) + "sweep:\n  grid:\n    model.hidden_size: [" + values +
                                    "]\n    train.epochs: [" + values + "]\n    train.batch_size: [" + values +
                                    "]\n  seeds: [1, 2]\n");
  EXPECT_NE(grid.find("sweep: 30 (model.hidden_size) x 30 (train.epochs) x 30 (train.batch_size) x 2 seeds = more than "
                      "10000 trials"), std::string::npos) << grid;
}

namespace {

const char* kRolling = R"(name: wf
data:
  source: sqlite
  options: {path: x.db}
  symbols: ["600519", "000001", "601318"]
  start_date: 2012-03-01
  end_date: 2020-02-15
  split: {val_start: 2016-01-01, test_start: 2018-01-31}
model: {type: lstm, hidden_size: 4}
train: {epochs: 1}
evaluation:
  rolling: {train_years: 4, valid_years: 2, test_months: 12, warmup_months: 3}
)";

}  // namespace

TEST(Rolling, SegmentsTileTheTestPeriodAndEachTrainsOnlyOnTheYearsBeforeIt) {
  EXPECT_EQ(klab::add_months("2020-01-31", 1), "2020-02-29");
  EXPECT_EQ(klab::add_months("2019-01-31", 1), "2019-02-28");
  EXPECT_EQ(klab::add_months("2018-03-15", -15), "2016-12-15");
  EXPECT_EQ(klab::add_months("2018-11-30", 14), "2020-01-30");

  const auto plan = klab::plan_sweep_text(std::string(kRolling) + "sweep:\n  seeds: [1, 2]\n", "exp.yaml",
                                          klab::test::registry());
  ASSERT_TRUE(plan.walk_forward);
  EXPECT_EQ(plan.metric, "rank_ic");  // a walk-forward is judged by its ranking unless told
  ASSERT_EQ(plan.trials.size(), 6u);  // 2 seeds x segments from 2018-01-31, 2019-01-31, 2020-01-31
  const char* tests[][2] = {{"2018-01-31", "2019-01-30"}, {"2019-01-31", "2020-01-30"}, {"2020-01-31", "2020-02-15"}};
  for (std::size_t i = 0; i < plan.trials.size(); ++i) {
    const auto& t = plan.trials[i];
    const std::size_t k = i % 3;
    EXPECT_EQ(t.group, i / 3);
    EXPECT_EQ(t.spec.train.seed, i < 3 ? 1u : 2u);
    EXPECT_EQ(t.segment["index"], k);
    EXPECT_EQ(t.spec.split.test_start, tests[k][0]);
    EXPECT_EQ(t.spec.end_date, tests[k][1]);
    // Validation: the valid_years before the test start; training: the train_years before that;
    // the data from warmup_months earlier. Nothing on or after the test start is trained on.
    EXPECT_EQ(t.spec.split.val_start, klab::add_months(tests[k][0], -24));
    EXPECT_EQ(t.segment["train_start"], klab::add_months(tests[k][0], -72));
    EXPECT_EQ(t.spec.start_date, klab::add_months(tests[k][0], -75));
    EXPECT_LT(t.spec.split.val_start, t.spec.split.test_start);
    // A segment is a plain experiment, named after its place, and runs as one.
    EXPECT_FALSE(t.spec.rolling.enabled());
    EXPECT_EQ(t.spec.name, "wf_seg" + std::to_string(k));
    EXPECT_FALSE(t.experiment["evaluation"].contains("rolling"));
  }
  // Consecutive segments leave no day out and test no day twice.
  for (std::size_t k = 0; k + 1 < 3; ++k) {
    EXPECT_EQ(klab::add_months(plan.trials[k].spec.end_date, 0),
              klab::iso_from_days(klab::days_from_iso(plan.trials[k + 1].spec.split.test_start) - 1));
  }
}

TEST(Rolling, BadSettingsAreOneClearError) {
  const std::string base(kRolling);
  auto with = [&](const std::string& from, const std::string& to) {
    std::string y = base;
    y.replace(y.find(from), from.size(), to);
    return error_of(y);
  };
  EXPECT_NE(with("test_months: 12", "test_months: 0").find("exp.yaml:12: evaluation.rolling.test_months: must be >= 1"),
            std::string::npos);
  EXPECT_NE(with("train_years: 4, ", "").find("evaluation.rolling: missing train_years"), std::string::npos);
  // Empty is missing (read as 0 it once made an endless walk-forward: found by fuzzing).
  EXPECT_NE(with("test_months: 12", "test_months:").find("evaluation.rolling: missing test_months"), std::string::npos)
      << with("test_months: 12", "test_months:");
  EXPECT_NE(with("warmup_months: 3", "warmup: 3").find("evaluation.rolling.warmup: unknown key"), std::string::npos);
  EXPECT_NE(with("symbols: [\"600519\", \"000001\", \"601318\"]", "symbol: \"600519\"").find("needs several symbols"),
            std::string::npos);
  EXPECT_NE(with("end_date: 2020-02-15", "end_date: 2017-12-31").find("no test segment"), std::string::npos);
  EXPECT_NE(with("  split: {val_start: 2016-01-01, test_start: 2018-01-31}\n", "").find("needs data.split.test_start"),
            std::string::npos);
  // The rolling settings survive experiment.json.
  const auto spec = klab::parse_experiment(base, "exp.yaml");
  const auto back = klab::ExperimentSpec::from_json(spec.to_json(), "experiment.json");
  EXPECT_EQ(back.rolling.train_years, 4);
  EXPECT_EQ(back.rolling.warmup_months, 3);
}
