// A sample SQLite database and tiny experiments for trainer tests: a few epochs of a small
// model on two years of one real symbol, seconds per run.
#pragma once

#include <string>

#include <gtest/gtest.h>

#include "config/experiment.h"
#include "data/importer.h"
#include "test_support.h"

namespace klab::test {

class RunFixture : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    auto store = open_kline_store("sqlite:" + db_path(), "");
    std::vector<fs::path> files;
    for (const auto& item : fs::directory_iterator(sample_data_dir())) {
      if (item.path().extension() == ".csv") files.push_back(item.path());
    }
    ASSERT_EQ(import_kline_files(*store, files).failed_files, 0u);
  }
  static void TearDownTestSuite() { delete dir_; }
  void SetUp() override { out_ = std::make_unique<TempDir>(); }

  static std::string db_path() { return (*dir_ / "kline.db").string(); }
  fs::path out() const { return out_->path(); }

  // A tiny experiment; `model` and `train_extra` are YAML flow-mapping bodies.
  std::string yaml(const std::string& model = "type: lstm, hidden_size: 8, num_layers: 1",
                   const std::string& train_extra = "", const std::string& symbol = "\"600519\"") const {
    return "name: tiny\n"
           "data:\n"
           "  source: sqlite\n"
           "  options: {path: " + db_path() + "}\n"
           "  symbol: " + symbol + "\n"
           "  start_date: 2019-06-01\n"
           "features: basic\n"
           "model: {" + model + "}\n"
           "train: {seq_length: 10, epochs: 4, batch_size: 64, checkpoint_interval: 2, patience: 0, seed: 7" +
           (train_extra.empty() ? "" : ", " + train_extra) + "}\n"
           "output_dir: " + out().string() + "\n";
  }
  ExperimentSpec spec(const std::string& text) const { return parse_experiment(text, "tiny.yaml"); }

  static TempDir* dir_;
  std::unique_ptr<TempDir> out_;
};
inline TempDir* RunFixture::dir_ = nullptr;

}  // namespace klab::test
