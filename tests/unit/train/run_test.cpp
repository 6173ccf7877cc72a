// A finished run, walked file by file against the output standard; determinism; resume;
// broken experiments; the TrainingManager API.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <regex>
#include <sstream>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "klab/error.h"
#include "run_fixture.h"
#include "runs/files.h"
#include "runs/state_dict.h"
#include "runs/training_manager.h"
#include "workflow/run.h"

namespace fs = std::filesystem;
using klab::files::read_json;

namespace {

void expect_type(const nlohmann::json& j, const std::string& key, nlohmann::json::value_t type,
                 const std::string& file) {
  ASSERT_TRUE(j.contains(key)) << file << " lacks '" << key << "'";
  if (type == nlohmann::json::value_t::number_float) {
    EXPECT_TRUE(j[key].is_number()) << file << ": '" << key << "' is " << j[key].type_name();
  } else if (type == nlohmann::json::value_t::number_integer) {
    EXPECT_TRUE(j[key].is_number_integer()) << file << ": '" << key << "' is " << j[key].type_name();
  } else {
    EXPECT_EQ(j[key].type(), type) << file << ": '" << key << "' is " << j[key].type_name();
  }
}

const auto kStr = nlohmann::json::value_t::string;
const auto kInt = nlohmann::json::value_t::number_integer;
const auto kNum = nlohmann::json::value_t::number_float;
const auto kBool = nlohmann::json::value_t::boolean;
const auto kObj = nlohmann::json::value_t::object;
const auto kArr = nlohmann::json::value_t::array;

const std::regex kIso(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)");

void expect_checkpoint(const fs::path& dir, int epoch) {
  ASSERT_TRUE(fs::is_directory(dir)) << dir;
  auto metrics = read_json(dir / "metrics.json");
  EXPECT_EQ(metrics["epoch"], epoch);
  for (const char* k : {"train_loss", "val_loss"}) expect_type(metrics, k, kNum, dir.string());
  auto value = klab::load_pickle(dir / "pytorch_model.bin");
  ASSERT_TRUE(value.isGenericDict());
  auto d = value.toGenericDict();
  for (const char* k : {"epoch", "model_state_dict", "optimizer_state_dict", "metrics", "timestamp"}) {
    EXPECT_TRUE(d.contains(k)) << dir << " lacks " << k;
  }
  EXPECT_EQ(d.at("epoch").toInt(), epoch);
  EXPECT_TRUE(std::regex_match(d.at("timestamp").toStringRef(), kIso));
  auto opt = d.at("optimizer_state_dict").toGenericDict();
  EXPECT_TRUE(opt.contains("state"));
  EXPECT_TRUE(opt.contains("param_groups"));
}

}  // namespace

class Run : public klab::test::RunFixture {};

TEST_F(Run, WritesEveryFileAndKeyOfTheStandard) {
  auto result = klab::run_experiment(spec(yaml()), klab::test::registry(), {});
  ASSERT_EQ(result.status, "completed");
  const fs::path run = result.run_dir;
  EXPECT_TRUE(std::regex_match(result.run_name, std::regex(R"(600519_lstm_\d{8}_\d{6}(_\d+)?)"))) << result.run_name;
  EXPECT_EQ(run.parent_path(), out());

  auto config = read_json(run / "config.json");
  for (const char* k : {"run_name", "stock_symbol", "model_type", "data_source", "created_at",
                        "train_start_date", "train_end_date"}) {
    expect_type(config, k, kStr, "config.json");
  }
  for (const char* k : {"seq_length", "hidden_size", "num_layers", "epochs", "batch_size", "patience"}) {
    expect_type(config, k, kInt, "config.json");
  }
  for (const char* k : {"dropout", "learning_rate"}) expect_type(config, k, kNum, "config.json");
  EXPECT_EQ(config["run_name"], result.run_name);
  EXPECT_EQ(config["stock_symbol"], "600519");
  EXPECT_EQ(config["model_type"], "lstm");
  EXPECT_EQ(config["data_source"], "SQLite");
  EXPECT_EQ(config["hidden_size"], 8);
  EXPECT_TRUE(std::regex_match(config["created_at"].get<std::string>(), kIso));

  auto meta = read_json(run / "metadata.json");
  for (const char* k : {"run_name", "stock_symbol", "model_type", "data_source", "created_at", "updated_at",
                        "status", "model_path"}) {
    expect_type(meta, k, kStr, "metadata.json");
  }
  for (const char* k : {"model_saved", "evaluation_completed"}) expect_type(meta, k, kBool, "metadata.json");
  expect_type(meta, "eval_metrics", kObj, "metadata.json");
  for (const char* k : {"mae", "rmse", "mape", "r2", "direction_accuracy"}) {
    expect_type(meta["eval_metrics"], k, kNum, "metadata.json eval_metrics");
  }
  EXPECT_EQ(meta["status"], "completed");
  EXPECT_TRUE(meta["model_saved"].get<bool>());
  EXPECT_TRUE(meta["evaluation_completed"].get<bool>());
  // Relative as in the specification (out/RUN/model/pytorch_model.bin), even for an absolute output_dir.
  EXPECT_EQ(meta["model_path"], (out().filename() / result.run_name / "model" / "pytorch_model.bin").string());
  std::vector<std::string> history;
  for (const auto& h : meta["status_history"]) history.push_back(h["status"]);
  EXPECT_EQ(history, (std::vector<std::string>{"initialized", "preparing", "training", "completed"}));

  auto model_config = read_json(run / "model" / "config.json");
  EXPECT_EQ(model_config["model_type"], "lstm");
  EXPECT_EQ(model_config["input_size"], 12);
  EXPECT_EQ(model_config["output_size"], 1);
  expect_type(model_config, "hidden_size", kInt, "model/config.json");
  expect_type(model_config, "num_layers", kInt, "model/config.json");
  expect_type(model_config, "dropout", kNum, "model/config.json");
  ASSERT_EQ(model_config["feature_names"].size(), 12u);
  EXPECT_EQ(model_config["feature_names"][0], "close");

  auto args = read_json(run / "model" / "training_args.json");
  for (const char* k : {"epochs", "batch_size", "train_samples", "val_samples", "total_epochs_trained"}) {
    expect_type(args, k, kInt, "training_args.json");
  }
  for (const char* k : {"learning_rate", "best_val_loss"}) expect_type(args, k, kNum, "training_args.json");
  EXPECT_EQ(args["optimizer"], "Adam");
  EXPECT_EQ(args["loss_function"], "MSELoss");
  EXPECT_EQ(args["total_epochs_trained"], 4);

  auto weights = klab::load_state_dict_file(run / "model" / "pytorch_model.bin");
  EXPECT_TRUE(weights.contains("lstm.weight_ih_l0"));
  EXPECT_TRUE(weights.contains("fc.weight"));

  expect_checkpoint(run / "checkpoints" / "checkpoint-2", 2);
  expect_checkpoint(run / "checkpoints" / "checkpoint-4", 4);
  EXPECT_FALSE(fs::exists(run / "checkpoints" / "checkpoint-1"));
  const int best_epoch = read_json(run / "checkpoints" / "best" / "metrics.json")["epoch"];
  expect_checkpoint(run / "checkpoints" / "best", best_epoch);
  EXPECT_EQ(args["best_epoch"], best_epoch);

  const std::string log = klab::files::read_text(run / "logs" / "training.log");
  std::istringstream lines(log);
  std::string line;
  int epochs_logged = 0;
  while (std::getline(lines, line)) {
    EXPECT_TRUE(std::regex_search(line, std::regex(R"(^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\] )"))) << line;
    if (std::regex_search(line, std::regex(R"(Epoch \d+: train_loss=[0-9.]+, val_loss=[0-9.]+)"))) ++epochs_logged;
  }
  EXPECT_EQ(epochs_logged, 4);
  // Every line of the specification's example log, in its order; each line in one language.
  std::size_t at = 0;
  for (const std::string spec_line : {"] 开始加载数据\n", "] 数据加载完成: ", "] 开始特征工程\n", "] 特征工程完成: (",
                                      "] 创建模型\n", "] 开始训练\n", "] 开始评估\n", "] 评估完成: "}) {
    const auto found = log.find(spec_line, at);
    ASSERT_NE(found, std::string::npos) << "training.log lacks \"" << spec_line << "\" after offset " << at << ":\n" << log;
    at = found + spec_line.size();
  }
  std::istringstream again(log);
  while (std::getline(again, line)) {
    const bool chinese = std::any_of(line.begin(), line.end(), [](char c) { return static_cast<unsigned char>(c) >= 0xE4; });
    const bool english_word = std::regex_search(line.substr(22), std::regex("[a-z]{4,}"));
    EXPECT_FALSE(chinese && english_word && line.find("评估完成") == std::string::npos &&
                 line.find("特征工程完成") == std::string::npos)
        << "two languages on one line: " << line;
  }
  auto logged = read_json(run / "logs" / "metrics.json");
  ASSERT_EQ(logged.size(), 4u);
  for (std::size_t i = 0; i < logged.size(); ++i) {
    EXPECT_EQ(logged[i]["epoch"], static_cast<int>(i + 1));
    EXPECT_EQ(logged[i]["phase"], "train");
    expect_type(logged[i], "timestamp", kStr, "logs/metrics.json");
    expect_type(logged[i], "train_loss", kNum, "logs/metrics.json");
    expect_type(logged[i], "val_loss", kNum, "logs/metrics.json");
  }

  auto eval = read_json(run / "results" / "eval_results.json");
  for (const char* k : {"evaluated_at", "stock_symbol", "model_type"}) expect_type(eval, k, kStr, "eval_results.json");
  for (const char* k : {"mae", "rmse", "mape", "r2", "direction_accuracy"}) {
    expect_type(eval, k, kNum, "eval_results.json");
    EXPECT_EQ(eval[k], meta["eval_metrics"][k]) << k;
  }
  expect_type(eval, "test_samples", kInt, "eval_results.json");
  expect_type(eval, "baseline", kObj, "eval_results.json");
  for (const char* k : {"mae", "rmse", "mape", "r2"}) expect_type(eval["baseline"], k, kNum, "baseline");

  auto predictions = read_json(run / "results" / "predictions.json");
  ASSERT_EQ(predictions.size(), eval["test_samples"].get<std::size_t>());
  for (const auto& p : predictions) {
    expect_type(p, "date", kStr, "predictions.json");
    EXPECT_EQ(p["symbol"], "600519");
    expect_type(p, "actual", kNum, "predictions.json");
    expect_type(p, "predicted", kNum, "predictions.json");
  }
  auto scaler = read_json(run / "scaler.json");
  EXPECT_EQ(scaler["feature_names"].size(), 12u);
  EXPECT_EQ(scaler["center"].size(), 12u);
  expect_type(read_json(run / "experiment.json"), "train", kObj, "experiment.json");
}

TEST_F(Run, SameSeedSameMachineIsBitIdentical) {
  auto a = klab::run_experiment(spec(yaml("type: gru, hidden_size: 8, num_layers: 2, dropout: 0.3")),
                                klab::test::registry(), {});
  auto b = klab::run_experiment(spec(yaml("type: gru, hidden_size: 8, num_layers: 2, dropout: 0.3")),
                                klab::test::registry(), {});
  ASSERT_NE(a.run_dir, b.run_dir);  // same second, two folders
  auto wa = klab::load_state_dict_file(a.run_dir / "model" / "pytorch_model.bin");
  auto wb = klab::load_state_dict_file(b.run_dir / "model" / "pytorch_model.bin");
  ASSERT_EQ(wa.size(), wb.size());
  for (const auto& item : wa) EXPECT_TRUE(torch::equal(item.value(), wb.at(item.key()))) << item.key();
  EXPECT_EQ(read_json(a.run_dir / "logs" / "metrics.json").size(), 4u);
  auto la = read_json(a.run_dir / "logs" / "metrics.json"), lb = read_json(b.run_dir / "logs" / "metrics.json");
  for (std::size_t i = 0; i < la.size(); ++i) {
    EXPECT_EQ(la[i]["train_loss"], lb[i]["train_loss"]);
    EXPECT_EQ(la[i]["val_loss"], lb[i]["val_loss"]);
  }
  EXPECT_EQ(read_json(a.run_dir / "results" / "predictions.json"), read_json(b.run_dir / "results" / "predictions.json"));
  // A different seed trains a different model.
  auto other_seed = spec(yaml("type: gru, hidden_size: 8, num_layers: 2, dropout: 0.3"));
  other_seed.train.seed = 8;
  auto c = klab::run_experiment(other_seed, klab::test::registry(), {});
  auto wc = klab::load_state_dict_file(c.run_dir / "model" / "pytorch_model.bin");
  EXPECT_FALSE(torch::equal(wa.at("fc.weight"), wc.at("fc.weight")));
}

TEST_F(Run, FusedAndAutogradTrainAlikeEpochByEpoch) {
  // Same data, seed, dropout draws and optimizer: the two implementations follow the same
  // trajectory; only float rounding (GEMM order, exp/tanh) separates them.
  for (const std::string type : {"lstm", "gru"}) {
    const std::string model = "type: " + type + ", hidden_size: 16, num_layers: 2, dropout: 0.2, impl: ";
    auto fused = klab::run_experiment(spec(yaml(model + "fused")), klab::test::registry(), {});
    auto autograd = klab::run_experiment(spec(yaml(model + "autograd")), klab::test::registry(), {});
    EXPECT_EQ(read_json(fused.run_dir / "model" / "config.json")["impl"], "fused");
    EXPECT_EQ(read_json(autograd.run_dir / "model" / "config.json")["impl"], "autograd");
    auto lf = read_json(fused.run_dir / "logs" / "metrics.json");
    auto la = read_json(autograd.run_dir / "logs" / "metrics.json");
    ASSERT_EQ(lf.size(), 4u) << type;
    ASSERT_EQ(la.size(), lf.size()) << type;
    for (std::size_t i = 0; i < lf.size(); ++i) {
      for (const char* key : {"train_loss", "val_loss"}) {
        const double f = lf[i][key], a = la[i][key];
        EXPECT_NEAR(f, a, 1e-4 * std::abs(a)) << type << " epoch " << i + 1 << " " << key;
      }
    }
    auto ef = read_json(fused.run_dir / "results" / "eval_results.json");
    auto ea = read_json(autograd.run_dir / "results" / "eval_results.json");
    EXPECT_NEAR(ef["rmse"].get<double>(), ea["rmse"].get<double>(), 1e-4 * ea["rmse"].get<double>()) << type;
  }
}

TEST_F(Run, ResumeFromACheckpointEndsLikeAnUninterruptedRun) {
  const std::string text = yaml("type: lstm, hidden_size: 8, num_layers: 2, dropout: 0.2", "optimizer: adamw");
  auto full = klab::run_experiment(spec(text), klab::test::registry(), {});
  auto cut = klab::run_experiment(spec(text), klab::test::registry(), {});
  // Make `cut` look like a run killed during epoch 3: only checkpoint-2 is complete, a
  // half-written checkpoint folder lies about, nothing after epoch 2 was finished.
  fs::remove_all(cut.run_dir / "checkpoints" / "checkpoint-4");
  fs::rename(cut.run_dir / "checkpoints" / "checkpoint-2", cut.run_dir / "checkpoints" / "keep");
  fs::create_directories(cut.run_dir / "checkpoints" / ".tmp-checkpoint-4");
  fs::rename(cut.run_dir / "checkpoints" / "keep", cut.run_dir / "checkpoints" / "checkpoint-2");
  fs::remove_all(cut.run_dir / "model");
  fs::remove_all(cut.run_dir / "results");
  fs::create_directories(cut.run_dir / "model");
  fs::create_directories(cut.run_dir / "results");
  auto manager = klab::TrainingManager::load_run(cut.run_dir.string());
  manager.update_status("training");
  ASSERT_EQ(manager.newest_checkpoint()->filename(), "checkpoint-2");

  auto resumed = klab::resume_experiment(cut.run_dir.string(), out(), klab::test::registry(), {});
  EXPECT_EQ(resumed.status, "completed");
  auto ef = read_json(full.run_dir / "results" / "eval_results.json");
  auto er = read_json(resumed.run_dir / "results" / "eval_results.json");
  for (const char* k : {"mae", "rmse", "mape", "r2", "direction_accuracy"}) EXPECT_EQ(ef[k], er[k]) << k;
  EXPECT_EQ(read_json(resumed.run_dir / "logs" / "metrics.json").size(), 4u);
  EXPECT_THROW(klab::resume_experiment(cut.run_dir.string(), out(), klab::test::registry(), {}), klab::ConfigError);
}

TEST_F(Run, BrokenExperimentsLeaveNothingOrAFailedRun) {
  // Unknown model plugin, bad hyperparameter, unreachable data: refused before any folder.
  EXPECT_THROW(klab::run_experiment(spec(yaml("type: lstmm")), klab::test::registry(), {}), klab::PluginError);
  EXPECT_THROW(klab::run_experiment(spec(yaml("type: lstm, hiden_size: 4")), klab::test::registry(), {}),
               klab::ConfigError);
  auto no_db = spec(yaml());
  no_db.source_options["path"] = (out() / "missing.db").string();
  EXPECT_THROW(klab::run_experiment(no_db, klab::test::registry(), {}), klab::DataError);
  EXPECT_TRUE(klab::TrainingManager::list_runs(out()).empty());

  // A symbol the database does not have: found while preparing, before any training, so the
  // half-made run folder goes and the error names the symbol.
  try {
    klab::run_experiment(spec(yaml("type: lstm, hidden_size: 4", "", "\"688981\"")), klab::test::registry(), {});
    FAIL();
  } catch (const klab::DataError& e) {
    EXPECT_NE(std::string(e.what()).find("symbol 688981: no bars"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(klab::TrainingManager::list_runs(out()).empty());
  EXPECT_TRUE(klab::TrainingManager::other_folders(out()).empty());
}

// symbols: all over a database holding a stock without bars in the date range: the run goes on
// without it, and says so.
TEST_F(Run, SymbolsAllSkipsWhatHasNoDataAndNamesIt) {
  std::string text = yaml("type: gru, hidden_size: 4, num_layers: 1");
  text.replace(text.find("  symbol: \"600519\"\n"), std::string("  symbol: \"600519\"\n").size(),
               "  symbols: [\"600519\", \"688981\", \"000001\"]\n");
  std::ostringstream console;
  klab::RunOptions options;
  options.progress = &console;
  auto result = klab::run_experiment(spec(text), klab::test::registry(), options);
  EXPECT_EQ(result.status, "completed");
  const auto meta = klab::files::read_json(result.run_dir / "metadata.json");
  ASSERT_EQ(meta["skipped_symbols"].size(), 1u);
  EXPECT_EQ(meta["skipped_symbols"][0]["symbol"], "688981");
  EXPECT_NE(meta["skipped_symbols"][0]["reason"].get<std::string>().find("no bars"), std::string::npos);
  EXPECT_NE(console.str().find("skipped 1 of 3 symbol(s)"), std::string::npos) << console.str();
  const std::string log = klab::files::read_text(result.run_dir / "logs" / "training.log");
  EXPECT_NE(log.find("skipped symbol 688981: no bars"), std::string::npos);
  EXPECT_NE(log.find("loading data: SQLite, 3 symbol(s)"), std::string::npos);
}

TEST_F(Run, ManagerFollowsTheSpecificationsCalls) {
  klab::TrainingManager manager("000001", "lstm", out());
  // save_config's data_source is the run's: metadata.json and config.json agree.
  manager.save_config({{"data_source", "MySQL"}, {"epochs", 3}});
  EXPECT_EQ(klab::files::read_json(manager.run_dir() / "config.json")["data_source"], "MySQL");
  EXPECT_EQ(klab::files::read_json(manager.run_dir() / "metadata.json")["data_source"], "MySQL");
  EXPECT_THROW(manager.save_config({{"model_type", "gru"}}), klab::ConfigError);
  // save_checkpoint(model, optimizer, epoch, metrics): best/ follows the lowest val_loss.
  torch::nn::Linear net(3, 1);
  torch::optim::Adam optimizer(net->parameters(), torch::optim::AdamOptions(0.01));
  const std::vector<double> losses = {0.5, 0.3, 0.4, 0.2, 0.25};
  for (std::size_t i = 0; i < losses.size(); ++i) {
    manager.save_checkpoint(*net, optimizer, static_cast<int>(i + 1), {{"train_loss", 1.0}, {"val_loss", losses[i]}});
    const auto best = klab::files::read_json(manager.run_dir() / "checkpoints" / "best" / "metrics.json");
    const auto lowest = std::min_element(losses.begin(), losses.begin() + static_cast<long>(i) + 1);
    EXPECT_EQ(best["epoch"], (lowest - losses.begin()) + 1) << "after epoch " << i + 1;
  }
  // A manager opened again continues the comparison from best/metrics.json.
  auto again = klab::TrainingManager::load_run(manager.run_name(), out());
  again.save_checkpoint(*net, optimizer, 6, {{"val_loss", 0.21}});
  EXPECT_EQ(klab::files::read_json(manager.run_dir() / "checkpoints" / "best" / "metrics.json")["epoch"], 4);
}

// A checkpoint replaced while the process dies at any point: best/ is always one complete
// checkpoint, the old or the new, never missing (renameat2 RENAME_EXCHANGE).
TEST_F(Run, ReplacingACheckpointNeverLeavesItMissing) {
  for (const char* point : {"checkpoint-written", "checkpoint-exchanged"}) {
    klab::TrainingManager manager("000001", "lstm", out());
    torch::nn::Linear net(3, 1);
    torch::optim::Adam optimizer(net->parameters(), torch::optim::AdamOptions(0.01));
    manager.save_best(*net, optimizer, 1, {{"val_loss", 0.5}});
    const fs::path best = manager.run_dir() / "checkpoints" / "best";
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      ::setenv("KLAB_CRASH_AT", point, 1);
      manager.save_best(*net, optimizer, 2, {{"val_loss", 0.4}});
      ::_exit(3);  // not reached: the crash point kills the process
    }
    int status = 0;
    ::waitpid(child, &status, 0);
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << point << ": status " << status;
    ASSERT_TRUE(fs::is_regular_file(best / "pytorch_model.bin")) << point;
    const int epoch = klab::files::read_json(best / "metrics.json")["epoch"];
    EXPECT_EQ(epoch, std::string(point) == "checkpoint-written" ? 1 : 2) << point;
    EXPECT_EQ(klab::load_pickle(best / "pytorch_model.bin").toGenericDict().at("epoch").toInt(), epoch) << point;
    // The next save clears what the crash left under the temporary name.
    manager.save_best(*net, optimizer, 3, {{"val_loss", 0.3}});
    EXPECT_EQ(klab::files::read_json(best / "metrics.json")["epoch"], 3);
    EXPECT_FALSE(fs::exists(best.parent_path() / ".tmp-best")) << point;
  }
}

TEST_F(Run, ManagerServesAUsersOwnLoopAndListsRuns) {
  klab::TrainingManager manager("000001", "mlp", out(), "CSV");
  manager.save_config({{"epochs", 2}});
  torch::nn::Linear net(3, 1);
  torch::optim::SGD optimizer(net->parameters(), torch::optim::SGDOptions(0.1).momentum(0.9));
  auto loss = net->forward(torch::ones({2, 3})).sum();
  loss.backward();
  optimizer.step();
  manager.update_status("training");
  manager.log_metrics(1, {{"train_loss", 0.5}, {"val_loss", 0.6}});
  manager.save_checkpoint(*net, optimizer, 1, {{"train_loss", 0.5}, {"val_loss", 0.6}}, true);
  manager.save_model(*net, {{"model_type", "mlp"}, {"input_size", 3}}, {{"epochs", 1}});
  manager.save_evaluation_results({{"mae", 1.0}, {"rmse", 2.0}, {"mape", 3.0}, {"r2", 0.5},
                                   {"direction_accuracy", 55.0}, {"test_samples", 10}});
  manager.update_status("completed");

  auto loaded = klab::TrainingManager::load_run(manager.run_name(), out());
  EXPECT_EQ(loaded.get_model_path(), manager.run_dir() / "model" / "pytorch_model.bin");
  EXPECT_EQ(loaded.load_model_config()["input_size"], 3);
  auto summary = loaded.get_summary();
  EXPECT_EQ(summary["status"], "completed");
  EXPECT_EQ(summary["eval_results"]["mae"], 1.0);
  auto opt = klab::load_pickle(manager.run_dir() / "checkpoints" / "checkpoint-1" / "pytorch_model.bin")
                 .toGenericDict().at("optimizer_state_dict").toGenericDict();
  EXPECT_TRUE(opt.at("state").toGenericDict().at(0).toGenericDict().contains("momentum_buffer"));

  // Incomplete or corrupt checkpoints are never picked; corrupt runs are still listed.
  fs::create_directories(manager.run_dir() / "checkpoints" / ".tmp-checkpoint-9");
  fs::create_directories(manager.run_dir() / "checkpoints" / "checkpoint-8");
  klab::test::write_file(manager.run_dir() / "checkpoints" / "checkpoint-8" / "metrics.json", "{\"epo");
  EXPECT_EQ(manager.newest_checkpoint()->filename(), "checkpoint-1");
  fs::create_directories(out() / "broken_run");
  klab::test::write_file(out() / "broken_run" / "metadata.json", "{not json");
  auto runs = klab::TrainingManager::list_runs(out());
  ASSERT_EQ(runs.size(), 2u);
  bool saw_broken = false;
  for (const auto& r : runs) {
    if (r.name == "broken_run") {
      saw_broken = true;
      EXPECT_NE(r.problem.find("not valid JSON"), std::string::npos);
    }
  }
  EXPECT_TRUE(saw_broken);
  EXPECT_THROW(manager.update_status("done"), klab::ConfigError);
  EXPECT_THROW(klab::TrainingManager::load_run("nope", out()), klab::IoError);
}
