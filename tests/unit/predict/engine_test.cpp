// PredictionEngine: reproduces a run's own test predictions exactly, predicts from a data
// source or from bars, and fails clearly on unknown symbols and short histories.
#include "predict/engine.h"

#include <algorithm>

#include <gtest/gtest.h>

#include "klab/data/sqlite_db.h"
#include "klab/error.h"
#include "predict/service.h"
#include "run_fixture.h"
#include "runs/files.h"
#include "workflow/run.h"

class Engine : public klab::test::RunFixture {};

TEST_F(Engine, ReproducesTheRunsOwnPredictionsExactly) {
  for (const char* model : {"type: lstm, hidden_size: 8, num_layers: 2, dropout: 0.2",
                            "type: transformer, d_model: 8, nhead: 2, num_layers: 1, dim_feedforward: 16"}) {
    for (const char* target : {"close", "return"}) {
      auto spec = this->spec(yaml(model));
      spec.target_kind = target;
      auto run = klab::run_experiment(spec, klab::test::registry(), {});
      auto engine = klab::PredictionEngine::from_run(run.run_dir, klab::test::registry());
      auto expected = klab::files::read_json(run.run_dir / "results" / "predictions.json");
      ASSERT_FALSE(expected.empty());
      // The first test window's input ends the trading day before its target date.
      auto all = engine.predict_range("600519", "2019-01-01", "");
      std::map<std::string, klab::Prediction> by_target;
      for (const auto& p : all) by_target[p.date] = p;
      // The same windows as the trainer's test set, so the model sees the same batch: GEMM results
      // may differ in the last bit between batch sizes.
      const std::string first_target = expected[0]["date"], last_target = expected.back()["date"];
      std::string first_as_of, last_as_of;
      for (const auto& p : all) {
        if (p.date == first_target) first_as_of = p.as_of;
        if (p.date == last_target) last_as_of = p.as_of;
      }
      auto range = engine.predict_range("600519", first_as_of, last_as_of);
      ASSERT_EQ(range.size(), expected.size());
      for (const auto& e : expected) {
        bool found = false;
        for (const auto& p : range) {
          if (p.date != e["date"]) continue;
          found = true;
          EXPECT_EQ(p.prediction, e["predicted"].get<double>()) << model << " " << target << " " << p.date;
          EXPECT_EQ(p.last_close, e["last_close"].get<double>());
          // The engine labels what the data already holds, as the run's test set did.
          ASSERT_TRUE(p.has_label()) << p.date;
          EXPECT_NEAR(p.label, e["actual"].get<double>(), 1e-9 * p.label) << p.date;
        }
        EXPECT_TRUE(found) << e["date"];
      }
    }
  }
}

TEST_F(Engine, PredictsFromSourceAndFromBars) {
  auto run = klab::run_experiment(spec(yaml()), klab::test::registry(), {});
  auto engine = klab::PredictionEngine::from_run(run.run_dir, klab::test::registry());
  auto latest = engine.predict("sh600519");
  EXPECT_EQ(latest.symbol, "600519");
  EXPECT_EQ(latest.as_of, "2022-01-14");
  EXPECT_TRUE(latest.date_estimated);
  EXPECT_EQ(latest.date, "2022-01-17");  // the Monday after
  EXPECT_DOUBLE_EQ(latest.market_last_close, 1867.0);  // the quoted close of 2022-01-14
  EXPECT_EQ(latest.prices, "backward-adjusted");       // the default, causal adjustment
  EXPECT_GT(latest.last_close, latest.market_last_close);  // backward-adjusted: dividends added back
  EXPECT_NEAR(latest.predicted_return(), latest.prediction / latest.last_close - 1, 1e-12);
  EXPECT_NEAR(latest.market_predicted_close, 1867.0 * (1 + latest.predicted_return()), 1e-9);

  auto past = engine.predict("600519", "2021-12-30");
  EXPECT_EQ(past.as_of, "2021-12-30");
  EXPECT_EQ(past.date, "2021-12-31");
  EXPECT_FALSE(past.date_estimated);
  EXPECT_FALSE(latest.has_label());  // the future: not known yet
  ASSERT_TRUE(past.has_label());     // the day after a past date: the data has it
  EXPECT_GT(past.label, 0);
  EXPECT_EQ(past.to_json()["actual_close"].get<double>(), past.label);
  EXPECT_FALSE(latest.to_json().contains("actual_close"));

  auto bars = engine.source().load_bars("600519", "2019-06-01", "2021-12-30");
  auto from_bars = engine.predict_bars("600519", bars);
  EXPECT_EQ(from_bars.as_of, "2021-12-30");
  EXPECT_DOUBLE_EQ(from_bars.prediction, past.prediction);

  // The specification's constructor: weights + model type + model config.
  klab::PredictionEngine spec_style(run.run_dir / "model" / "pytorch_model.bin", "lstm",
                                    klab::files::read_json(run.run_dir / "model" / "config.json"),
                                    klab::test::registry());
  EXPECT_DOUBLE_EQ(spec_style.predict("600519").prediction, latest.prediction);
  // The model folder alone, copied elsewhere (cp -r out/RUN/model backup/), still predicts.
  namespace fs = std::filesystem;
  const fs::path copied = out() / "elsewhere" / "model";
  fs::create_directories(copied.parent_path());
  fs::copy(run.run_dir / "model", copied, fs::copy_options::recursive);
  klab::PredictionEngine from_copy(copied / "pytorch_model.bin", "lstm", klab::files::read_json(copied / "config.json"),
                                   klab::test::registry());
  EXPECT_DOUBLE_EQ(from_copy.predict("600519").prediction, latest.prediction);
  EXPECT_EQ(engine.metadata()["model_type"], "lstm");
  EXPECT_EQ(engine.metadata()["features"].size(), 12u);
}

// A prediction as of D uses nothing dated after D: as of 2021-06-01 it is the same whether the
// data ends that day (predict) or runs on past 600519's ex-dividend day of 2021-06-25
// (predict_range over all the data), and --date D equals --from D --to D.
TEST_F(Engine, AsOfADateNothingLaterCounts) {
  auto run = klab::run_experiment(spec(yaml()), klab::test::registry(), {});
  auto engine = klab::PredictionEngine::from_run(run.run_dir, klab::test::registry());
  const auto later = engine.source().load_bars("600519", "2021-06-02", "2021-12-31");
  bool ex_rights_later = false;
  for (std::size_t i = 1; i < later.size(); ++i) ex_rights_later |= later[i].pre_close != later[i - 1].close;
  ASSERT_TRUE(ex_rights_later) << "the test needs an ex-rights day after the date";
  const auto as_of = engine.predict("600519", "2021-06-01");
  const auto range = engine.predict_range("600519", "2021-06-01", "2021-06-01");
  ASSERT_EQ(range.size(), 1u);
  EXPECT_EQ(range[0].as_of, as_of.as_of);
  EXPECT_EQ(range[0].predicted_return(), as_of.predicted_return());
  EXPECT_EQ(range[0].prediction, as_of.prediction);
  EXPECT_EQ(range[0].market_predicted_close, as_of.market_predicted_close);
}

// The history cache of predict() gives the uncached predictions bit for bit, and sees data that
// changes under it at once: a new day, a corrected last bar, a symbol that is gone.
TEST_F(Engine, HistoryCacheSeesNewAndChangedBars) {
  // The bars change under the engines: on a copy of the suite's database, so the tests after
  // this one in the same process see the data they expect.
  const auto private_db = out() / "kline.db";
  std::filesystem::copy_file(db_path(), private_db);
  std::string text = yaml();
  text.replace(text.find(db_path()), db_path().size(), private_db.string());
  auto run = klab::run_experiment(spec(text), klab::test::registry(), {});
  auto plain = klab::PredictionEngine::from_run(run.run_dir, klab::test::registry());
  auto cached = klab::PredictionEngine::from_run(run.run_dir, klab::test::registry());
  cached.set_cache_limit(64u << 20);
  auto same = [&](const std::string& date, const char* when) {
    const auto a = plain.predict("600519", date), b = cached.predict("600519", date);
    EXPECT_EQ(a.to_json(), b.to_json()) << when;
    EXPECT_EQ(a.prediction, b.prediction) << when;
    return b;
  };
  klab::sqlite::Database db(private_db.string(), false);
  // The data ends on 2022-01-12 at first: the last two days are set aside.
  db.exec("CREATE TABLE later AS SELECT * FROM stock_kline_data WHERE symbol = '600519' AND trade_date > '2022-01-12'");
  db.exec("DELETE FROM stock_kline_data WHERE symbol = '600519' AND trade_date > '2022-01-12'");
  EXPECT_EQ(same("", "first").as_of, "2022-01-12");
  EXPECT_EQ(cached.cache_stats().misses, 1u);
  same("", "again");
  EXPECT_EQ(cached.cache_stats().hits, 1u);
  // As of an earlier date: that day's history, and the cache keeps the latest one.
  EXPECT_EQ(same("2021-12-30", "earlier").as_of, "2021-12-30");
  same("", "latest after an earlier date");
  EXPECT_EQ(cached.cache_stats().hits, 2u);
  EXPECT_EQ(cached.cache_stats().entries, 1u);
  // Two new days arrive.
  db.exec("INSERT INTO stock_kline_data SELECT * FROM later");
  const auto extended = same("", "new days");
  EXPECT_EQ(extended.as_of, "2022-01-14");
  EXPECT_EQ(cached.cache_stats().extended, 1u);
  // The last bar is corrected.
  db.exec("UPDATE stock_kline_data SET close = close * 1.01, high = high * 1.01 WHERE symbol = '600519' AND "
          "trade_date = '2022-01-14'");
  const auto corrected = same("", "corrected last bar");
  EXPECT_NE(corrected.last_close, extended.last_close);
  EXPECT_EQ(cached.cache_stats().reloaded, 1u);
  // A date on or after the cached last bar is served from the cache too.
  same("2022-01-20", "a date after the last bar");
  EXPECT_EQ(cached.cache_stats().hits, 3u);
  // The symbol's bars are deleted: no stale answer.
  db.exec("DELETE FROM stock_kline_data WHERE symbol = '600519'");
  EXPECT_THROW(cached.predict("600519"), klab::UnknownSymbolError);
  // Bounded: a history larger than the whole cache is not kept, and beyond the limit the least
  // recently used symbol goes first.
  auto small = klab::PredictionEngine::from_run(run.run_dir, klab::test::registry());
  small.set_cache_limit(1);
  EXPECT_NO_THROW(small.predict("000001"));
  EXPECT_EQ(small.cache_stats().entries, 0u);
  auto lru = klab::PredictionEngine::from_run(run.run_dir, klab::test::registry());
  lru.set_cache_limit(64u << 20);
  lru.predict("000001");
  const std::size_t b1 = lru.cache_stats().bytes;
  lru.predict("600036");
  const std::size_t b2 = lru.cache_stats().bytes - b1;
  ASSERT_GT(b1, 0u);
  ASSERT_GT(b2, 0u);
  lru.set_cache_limit(std::max(b1, b2) + std::min(b1, b2) / 2);  // room for one of them (a fresh cache)
  lru.predict("000001");
  lru.predict("600036");
  EXPECT_EQ(lru.cache_stats().entries, 1u);
  EXPECT_EQ(lru.cache_stats().evicted, 1u);
  lru.predict("600036");
  EXPECT_EQ(lru.cache_stats().hits, 1u);
}

TEST_F(Engine, ClearErrors) {
  auto run = klab::run_experiment(spec(yaml()), klab::test::registry(), {});
  auto engine = klab::PredictionEngine::from_run(run.run_dir, klab::test::registry());
  EXPECT_THROW(engine.predict("688981"), klab::UnknownSymbolError);
  EXPECT_THROW(engine.predict("not-a-symbol"), klab::UnknownSymbolError);
  try {
    engine.predict("600519", "2019-06-20");
    FAIL();
  } catch (const klab::InsufficientHistoryError& e) {
    EXPECT_NE(std::string(e.what()).find("but the model needs 229 (219 warm-up + 10 seq_length)"), std::string::npos) << e.what();
  }
  auto bars = engine.source().load_bars("600519", "2021-01-01", "2021-02-01");
  EXPECT_THROW(engine.predict_bars("600519", bars), klab::InsufficientHistoryError);
  // A run whose plugin is missing.
  auto config = klab::files::read_json(run.run_dir / "model" / "config.json");
  config["model_type"] = "tiny_mlp";
  klab::files::write_json(run.run_dir / "model" / "config.json", config);
  try {
    klab::PredictionEngine::from_run(run.run_dir, klab::test::registry());
    FAIL();
  } catch (const klab::PluginError& e) {
    EXPECT_NE(std::string(e.what()).find("needs model plugin 'tiny_mlp'"), std::string::npos) << e.what();
  }
  EXPECT_THROW(klab::PredictionEngine::from_run(out() / "nope", klab::test::registry()), klab::IoError);
}

// The service's endpoints (predict/service.h) without HTTP: answers, statuses and one-line errors
// for bad requests, the token on /reload, and no run from outside the output folder.
TEST_F(Engine, ServiceAnswersAndRefuses) {
  auto run = klab::run_experiment(spec(yaml("type: linear")), klab::test::registry(), {});
  const std::string name = run.run_dir.filename().string();
  klab::ServiceOptions options;
  options.output_dir = out();
  options.run = name;
  options.engines = 2;
  options.cache_bytes = 1 << 20;
  options.token = "s3cret";
  klab::PredictionService service(options, klab::test::registry());
  EXPECT_EQ(service.health().body["run"], name);
  EXPECT_EQ(service.health().body["engines"], 2);

  auto one = service.predict(R"({"symbol": "600519"})");
  ASSERT_EQ(one.status, 200) << one.body;
  EXPECT_EQ(one.body["predictions"][0]["symbol"], "600519");
  auto batch = service.predict(R"({"symbols": ["600519", "688981"], "date": "2021-06-30"})");
  ASSERT_EQ(batch.status, 200) << batch.body;
  EXPECT_EQ(batch.body["predictions"][0]["as_of"], "2021-06-30");
  EXPECT_EQ(batch.body["errors"][0]["symbol"], "688981");

  const std::vector<std::pair<std::string, int>> bad{
      {R"({"symbol": "688981"})", 404},
      {R"({"symbol": "600519", "date": "2019-06-03"})", 422},
      {R"({"symbol": "600519", "date": "2021-02-30"})", 400},
      {R"({"symbol": "600519", "date": "2021-06-30\nX"})", 400},
      {R"({"symbol": 600519})", 400},
      {R"({"symbol": "600519", "extra": 1})", 400},
      {R"({"symbols": []})", 400},
      {R"({"symbol": 1e999})", 400},  // a number no double holds: malformed, not a crash
      {"[1, 2]", 400},
      {"{", 400},
      {std::string(klab::PredictionService::kMaxBodyBytes + 1, ' '), 413},
  };
  for (const auto& [body, status] : bad) {
    const auto r = service.predict(body);
    EXPECT_EQ(r.status, status) << body.substr(0, 80) << ": " << r.body;
    const std::string error = r.body.value("error", "");
    EXPECT_FALSE(error.empty()) << body.substr(0, 80);
    EXPECT_EQ(error.find('\n'), std::string::npos) << error;
  }
  std::string many = R"({"symbols": [)";
  for (int i = 0; i <= static_cast<int>(klab::PredictionService::kMaxBatch); ++i) many += (i ? ",\"" : "\"") + std::to_string(i) + "\"";
  EXPECT_EQ(service.predict(many + "]}").status, 400);

  // /reload: the token, names only, and only runs that are folders of the output folder.
  EXPECT_EQ(service.reload("", "{}").status, 401);
  EXPECT_EQ(service.reload("Bearer wrong!", "{}").status, 401);
  EXPECT_EQ(service.reload("Bearer s3cret", "{}").status, 200);
  const auto elsewhere = out().parent_path() / (out().filename().string() + "_elsewhere");
  std::filesystem::copy(run.run_dir, elsewhere, std::filesystem::copy_options::recursive);
  std::filesystem::create_directory_symlink(elsewhere, out() / "linked_run");
  for (const std::string& requested : std::vector<std::string>{"linked_run", "../" + elsewhere.filename().string(), elsewhere.string(), "nope", ""}) {
    const auto r = service.reload("Bearer s3cret", nlohmann::json{{"run", requested}}.dump());
    EXPECT_EQ(r.status, requested.empty() ? 200 : 409) << requested << ": " << r.body;
    EXPECT_EQ(service.health().body["run"], name);
  }
  std::filesystem::remove_all(elsewhere);
  const auto r = service.reload("Bearer s3cret", nlohmann::json{{"run", name}}.dump());
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body["previous"], name);
}
