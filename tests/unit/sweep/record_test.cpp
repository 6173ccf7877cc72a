// sweep/: the record a sweep leaves (statuses, leaderboard over seeds, the runs of a record), the
// Slurm script, the local executor's share of the machine, and planning `data.symbol: all` from
// the validated base experiment. The trials themselves run in tests/integration/sweep_*.sh.
#include "sweep/record.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "klab/error.h"
#include "runs/files.h"
#include "sweep/local_executor.h"
#include "sweep/slurm_executor.h"
#include "sweep/sweep_spec.h"
#include "test_support.h"

namespace fs = std::filesystem;

namespace {

const char* kGrid = R"(name: tiny
data: {source: sqlite, options: {path: data/x.db}, symbol: "600519"}
model: {type: lstm, hidden_size: 4}
train: {epochs: 1}
sweep:
  grid:
    model.hidden_size: [4, 8]
  seeds: [1, 2]
  metric: mae
)";

struct TempDir {
  fs::path path = fs::temp_directory_path() / ("klab_record_test_" + std::to_string(::getpid()) + "_" +
                                               std::to_string(std::rand()));
  TempDir() { fs::create_directories(path); }
  ~TempDir() { fs::remove_all(path); }
};

std::string read_text(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

TEST(SweepRecord, RecordHoldsThePlanAndRanksPointsOverSeeds) {
  TempDir tmp;
  const auto plan = klab::plan_sweep_text(kGrid, "exp.yaml", klab::test::registry());
  ASSERT_EQ(plan.trials.size(), 4u);  // 2 points x 2 seeds
  const fs::path record = klab::create_sweep_record(plan, tmp.path / "out", "");
  EXPECT_EQ(record.parent_path(), tmp.path / "out" / klab::kSweepRecordsFolder);
  const auto sweep = klab::files::read_json(record / "sweep.json");
  EXPECT_EQ(sweep["trials"].size(), 4u);
  EXPECT_EQ(sweep["metric"], "mae");
  // Trials run from anywhere: the data path is absolute in every trial's experiment.
  const auto trial = klab::files::read_json(klab::trial_experiment_file(record, 3));
  EXPECT_TRUE(fs::path(trial["data"]["options"]["path"].get<std::string>()).is_absolute());
  for (std::size_t i = 0; i < 4; ++i) EXPECT_EQ(klab::read_trial_status(record, i)["status"], "pending");

  // hidden 4: seeds give mae 2 and 4 (mean 3, std sqrt(2)); hidden 8: mae 1, and one failure.
  auto done = [&](std::size_t i, double mae, const std::string& run) {
    klab::write_trial_status(record, i, {{"index", i}, {"status", "completed"}, {"eval", {{"mae", mae}}},
                                         {"run_name", run}, {"run_dir", (tmp.path / "out" / run).string()}});
  };
  done(0, 2.0, "run_a");
  done(1, 4.0, "run_b");
  done(2, 1.0, "run_c");
  klab::write_trial_status(record, 3, {{"index", 3}, {"status", "running"}, {"run_name", "run_d"}});
  klab::end_trial(record, 3, "failed", "boom");  // no run folder to mark: the record alone changes
  EXPECT_EQ(klab::read_trial_status(record, 3)["status"], "failed");
  EXPECT_EQ(klab::read_trial_status(record, 3)["error"], "boom");

  const auto outcome = klab::collect_sweep(record);
  EXPECT_EQ(outcome.completed, 3u);
  EXPECT_EQ(outcome.failed, 1u);
  ASSERT_EQ(outcome.leaderboard.size(), 2u);
  EXPECT_EQ(outcome.leaderboard[0].params["model.hidden_size"], 8);
  EXPECT_DOUBLE_EQ(outcome.leaderboard[0].mean, 1.0);
  EXPECT_EQ(outcome.leaderboard[0].failed, 1u);
  EXPECT_EQ(outcome.leaderboard[1].params["model.hidden_size"], 4);
  EXPECT_DOUBLE_EQ(outcome.leaderboard[1].mean, 3.0);
  EXPECT_NEAR(outcome.leaderboard[1].std, std::sqrt(2.0), 1e-12);
  EXPECT_EQ(outcome.leaderboard[1].best_run, "run_a");
  const std::string csv = read_text(record / "leaderboard.csv");
  EXPECT_NE(csv.find("rank,model.hidden_size,mae_mean,mae_std,completed,failed,best_run,trials\n"), std::string::npos) << csv;
  EXPECT_NE(csv.find("1,8,1,0,1,1,run_c,2 3\n"), std::string::npos) << csv;

  // list_runs --sweep reads the record through this module.
  const auto runs = klab::sweep_trial_runs(record);
  ASSERT_EQ(runs.size(), 4u);
  EXPECT_EQ(runs.at("run_b")["trial"], 1);
  EXPECT_EQ(runs.at("run_d")["trial_status"], "failed");

  // Re-queued, a trial keeps the run it had begun (the trial process continues it).
  klab::queue_trial(record, 0);
  EXPECT_EQ(klab::read_trial_status(record, 0)["status"], "pending");
  EXPECT_EQ(klab::read_trial_status(record, 0)["run_name"], "run_a");

  // Found by name under .sweeps/, by path, and not at all elsewhere.
  EXPECT_EQ(klab::find_sweep_record(record.filename().string(), tmp.path / "out"), record);
  EXPECT_EQ(klab::find_sweep_record(record.string(), tmp.path), record);
  EXPECT_FALSE(klab::locate_sweep_record("nope", tmp.path / "out"));
  EXPECT_THROW(klab::find_sweep_record("nope", tmp.path / "out"), klab::IoError);
}

TEST(SweepRecord, AMissingOrBrokenStatusReadsAsPending) {
  TempDir tmp;
  fs::create_directories(tmp.path / "trials");
  EXPECT_EQ(klab::read_trial_status(tmp.path, 7)["status"], "pending");
  std::ofstream(klab::trial_status_file(tmp.path, 7)) << "{ not json";
  EXPECT_EQ(klab::read_trial_status(tmp.path, 7)["status"], "pending");
  EXPECT_EQ(klab::trial_name(7), "trial-0007");
}

TEST(SlurmExecutor, ScriptRunsTheChosenTrialsWithTheSweepsSettings) {
  const nlohmann::json sweep = {{"name", "grid"},
                                {"trials", {{{"threads", 2}}, {{"threads", 1}}, {{"threads", 1}}}},
                                {"slurm",
                                 {{"partition", "debug"}, {"time_limit", "00:10:00"}, {"cpus_per_task", 0},
                                  {"max_concurrent", 2}, {"mem", "2G"}, {"extra_args", {"--qos=low"}}}}};
  klab::SweepOptions options;
  options.self_exe = "/opt/klab/bin/sweep";
  options.plugin_dirs = {"/plugins/it's here"};
  const std::string script = klab::slurm_array_script("/rec", sweep, {0, 2}, options);
  for (const char* line : {"#SBATCH --array=0,2%2\n", "#SBATCH --cpus-per-task=2\n", "#SBATCH --time=00:10:00\n",
                           "#SBATCH --partition=debug\n", "#SBATCH --mem=2G\n", "#SBATCH --qos=low\n",
                           "#SBATCH --output=/rec/slurm/trial-%a.out\n"}) {
    EXPECT_NE(script.find(line), std::string::npos) << line << "\n" << script;
  }
  // The task runs its own trial; a path with a quote survives the shell.
  EXPECT_NE(script.find("exec '/opt/klab/bin/sweep' --run-trial \"$SLURM_ARRAY_TASK_ID\" --sweep-dir '/rec' "
                        "--plugin-dir '/plugins/it'\\''s here'\n"),
            std::string::npos)
      << script;
}

TEST(SlurmExecutor, ALineBreakNeverReachesAnSbatchLine) {
  // From the experiment file: refused at planning, naming the line and the key.
  const std::string yaml = "data: {source: sqlite, options: {path: x.db}, symbol: \"600519\"}\n"
                           "model: {type: lstm, hidden_size: 4}\ntrain: {epochs: 1}\n"
                           "sweep:\n  executor: slurm\n  slurm:\n    partition: \"debug\\nrm -rf ~\"\n";
  try {
    klab::plan_sweep_text(yaml, "exp.yaml", klab::test::registry());
    FAIL() << "a newline in sweep.slurm.partition was accepted";
  } catch (const klab::ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("exp.yaml:7: sweep.slurm.partition: control characters"), std::string::npos)
        << e.what();
  }
  // From a hand-edited sweep.json: the script is not written.
  nlohmann::json sweep = {{"name", "grid"}, {"trials", {{{"threads", 1}}}}, {"slurm", {{"mem", "2G\n#SBATCH --x"}}}};
  klab::SweepOptions options;
  options.self_exe = "/opt/klab/bin/sweep";
  EXPECT_THROW(klab::slurm_array_script("/rec", sweep, {0}, options), klab::ConfigError);
  sweep["slurm"] = {{"extra_args", {"--qos=low\nexit 1"}}};
  EXPECT_THROW(klab::slurm_array_script("/rec", sweep, {0}, options), klab::ConfigError);
}

TEST(LocalExecutor, WorkersTimesThreadsFitTheCoresGiven) {
  setenv("KLAB_TRIAL_CORES", "8", 1);
  const nlohmann::json sweep = {{"trials", {{{"threads", 1}}, {{"threads", 2}}}}};
  EXPECT_EQ(klab::max_trial_threads(sweep), 2);
  EXPECT_EQ(klab::default_workers(sweep), 4);
  EXPECT_EQ(klab::trial_cores(3), 2);
  EXPECT_EQ(klab::trial_cores(16), 1);
  unsetenv("KLAB_TRIAL_CORES");
}

TEST(SweepSpec, AllSymbolsComeFromTheValidatedBaseExperiment) {
  const std::string yaml = R"(name: every
data: {source: sqlite, options: {path: data/x.db}}
model: {type: lstm, hidden_size: 4}
sweep:
  grid:
    data.symbol: all
)";
  std::string seen_source, seen_path;
  const auto plan = klab::plan_sweep_text(yaml, "exp.yaml", klab::test::registry(), [&](const klab::ExperimentSpec& base) {
    seen_source = base.source;
    seen_path = base.source_options.value("path", "");
    return std::vector<std::string>{"600519", "000001"};
  });
  ASSERT_EQ(plan.trials.size(), 2u);
  EXPECT_EQ(plan.trials[0].spec.symbols, std::vector<std::string>{"600519"});
  EXPECT_EQ(plan.trials[1].spec.symbols, std::vector<std::string>{"000001"});
  EXPECT_EQ(seen_source, "sqlite");
  EXPECT_EQ(seen_path, plan.trials[0].spec.source_options.value("path", ""));  // as every trial sees it
  // Without a way to list symbols, planning says so instead of opening a data source itself.
  try {
    klab::plan_sweep_text(yaml, "exp.yaml", klab::test::registry());
    FAIL() << "data.symbol: all was expanded without a lister";
  } catch (const klab::ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("exp.yaml:6: sweep.grid.data.symbol: all"), std::string::npos) << e.what();
  }
}

TEST(SweepRecord, RankedByACrossSectionMetricWithItsMode) {
  TempDir tmp;
  const std::string yaml = std::string(kGrid).replace(std::string(kGrid).find("  metric: mae"), 13,
                                                        "  metric: {name: rank_ic, mode: max}");
  const auto plan = klab::plan_sweep_text(yaml, "exp.yaml", klab::test::registry());
  EXPECT_EQ(plan.metric, "rank_ic");
  EXPECT_EQ(plan.metric_mode, "max");
  const fs::path record = klab::create_sweep_record(plan, tmp.path / "out", "");
  auto done = [&](std::size_t i, const nlohmann::json& eval) {
    klab::write_trial_status(record, i, {{"index", i}, {"status", "completed"}, {"eval", eval}, {"run_name", "r" + std::to_string(i)}});
  };
  done(0, {{"mae", 1.0}, {"cross_section", {{"rank_ic_mean", 0.02}}}});
  done(1, {{"mae", 1.0}, {"cross_section", {{"rank_ic_mean", 0.04}}}});
  done(2, {{"mae", 0.5}, {"cross_section", {{"rank_ic_mean", 0.05}}}});
  done(3, {{"mae", 0.5}});  // completed, but without a cross-section: not averaged in
  const auto outcome = klab::collect_sweep(record);
  EXPECT_TRUE(outcome.higher_is_better);
  ASSERT_EQ(outcome.leaderboard.size(), 2u);
  EXPECT_EQ(outcome.leaderboard[0].params["model.hidden_size"], 8);
  EXPECT_DOUBLE_EQ(outcome.leaderboard[0].mean, 0.05);
  EXPECT_EQ(outcome.leaderboard[0].valued, 1u);
  EXPECT_EQ(outcome.leaderboard[0].completed, 2u);
  EXPECT_NEAR(outcome.leaderboard[1].mean, 0.03, 1e-12);
  // A metric's own direction unless the mode says otherwise; unknown names and modes are refused.
  const auto by_mae = klab::plan_sweep_text(kGrid, "exp.yaml", klab::test::registry());
  EXPECT_EQ(by_mae.metric_mode, "");
  for (const char* bad : {"  metric: {name: sharpe}", "  metric: {name: ic, mode: up}", "  metric: {mode: max}"}) {
    const std::string text = std::string(kGrid).replace(std::string(kGrid).find("  metric: mae"), 13, bad);
    EXPECT_THROW(klab::plan_sweep_text(text, "exp.yaml", klab::test::registry()), klab::ConfigError) << bad;
  }
}
