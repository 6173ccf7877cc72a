// train_with_manager — your own training loop, written in the out/ standard by TrainingManager.
//
// The specification's usage section, in C++: a hand-written loop (here a small LSTM from the
// lstm plugin, Adam, MSE) that calls save_config, save_training_log, log_metrics,
// save_checkpoint, save_model, save_evaluation_results and update_status, and so produces a run
// that list_runs, predict and Python's torch.load all understand.
//
//   build/bin/train_with_manager [data/sample/kline.db] [out]
#include <iostream>

#include <torch/torch.h>

#include "config/experiment.h"
#include "data/dataset.h"
#include "data/features.h"
#include "klab/data_source.h"
#include "klab/torch_model.h"
#include "plugins/registry.h"
#include "runs/training_manager.h"
#include "eval/metrics.h"

int main(int argc, char** argv) {
  const std::string db = argc > 1 ? argv[1] : "data/sample/kline.db";
  const std::string output_dir = argc > 2 ? argv[2] : "out";
  try {
    klab::PluginRegistry registry;
    registry.discover();
    auto source = registry.create_data_source("sqlite", "{\"path\": \"" + db + "\"}");

    // 初始化管理器 — one run folder: out/000001_lstm_{timestamp}/
    klab::TrainingManager manager("000001", "lstm", output_dir, source->display_name());
    const int epochs = 5, batch_size = 64;
    const double learning_rate = 0.002;

    // 保存配置
    manager.save_config({{"seq_length", 20}, {"hidden_size", 16}, {"num_layers", 1}, {"dropout", 0.0},
                         {"epochs", epochs}, {"batch_size", batch_size}, {"learning_rate", learning_rate},
                         {"patience", 0}, {"train_start_date", "2018-01-01"}, {"train_end_date", ""}});
    manager.update_status(klab::kStatusPreparing);
    manager.save_training_log("开始加载数据");

    // The pipeline, written as an experiment: the same description the sweep tool reads. Saved
    // as experiment.json beside scaler.json, it is what lets predict and PredictionEngine use
    // this run (they rebuild exactly these features, windows and target).
    const klab::ExperimentSpec experiment = klab::parse_experiment(
        "data: {source: sqlite, options: {path: \"" + db + "\"}, symbol: \"000001\", start_date: 2018-01-01}\n"
        "features: basic\n"
        "target: {kind: return}\n"
        "model: {type: lstm, hidden_size: 16, num_layers: 1, dropout: 0.0}\n"
        "train: {seq_length: 20, epochs: 5, batch_size: 64, learning_rate: 0.002, patience: 0}\n",
        "train_with_manager");
    const klab::DatasetSpec spec = experiment.dataset_spec(experiment.symbols);
    const klab::Dataset ds = klab::Dataset::build(*source, spec);
    manager.save_artifact("experiment.json", experiment.to_json());
    manager.save_artifact("scaler.json", ds.scaler().to_json(spec.features));
    manager.save_training_log("数据加载完成: " + std::to_string(ds.raw_rows()) + " 条记录");

    torch::manual_seed(1);
    auto model = registry.create_torch_model("lstm", static_cast<int64_t>(spec.features.size()),
                                       R"({"hidden_size": 16, "num_layers": 1, "dropout": 0.0})");
    torch::optim::Adam optimizer(model->parameters(), torch::optim::AdamOptions(learning_rate));

    // Whole splits as tensors: fine for a small example (the trainer cuts batches on the fly).
    auto tensors = [&](const std::vector<klab::WindowRef>& windows) {
      auto x = torch::empty({static_cast<int64_t>(windows.size()), 20, static_cast<int64_t>(ds.n_features())});
      auto y = torch::empty({static_cast<int64_t>(windows.size()), 1});
      for (std::size_t i = 0; i < windows.size(); ++i) {
        ds.fill_window(windows[i], x[static_cast<int64_t>(i)].data_ptr<float>());
        y[static_cast<int64_t>(i)][0] = ds.scaled_target(windows[i]);
      }
      return std::make_pair(x, y);
    };
    auto [train_x, train_y] = tensors(ds.train());
    auto [val_x, val_y] = tensors(ds.val());

    manager.update_status(klab::kStatusTraining);
    manager.save_training_log("开始训练");
    double best_val = std::numeric_limits<double>::infinity();
    for (int epoch = 1; epoch <= epochs; ++epoch) {
      model->train();
      double train_loss = 0;
      auto order = torch::randperm(train_x.size(0));
      for (int64_t first = 0; first < train_x.size(0); first += batch_size) {
        auto idx = order.slice(0, first, std::min<int64_t>(first + batch_size, train_x.size(0)));
        optimizer.zero_grad();
        auto loss = torch::mse_loss(model->forward(train_x.index_select(0, idx)), train_y.index_select(0, idx));
        loss.backward();
        optimizer.step();
        train_loss += loss.item<double>() * static_cast<double>(idx.size(0));
      }
      train_loss /= static_cast<double>(train_x.size(0));
      model->eval();
      const double val_loss = torch::mse_loss(model->forward(val_x), val_y).item<double>();
      best_val = std::min(best_val, val_loss);

      manager.log_metrics(epoch, {{"train_loss", train_loss}, {"val_loss", val_loss}});
      manager.save_training_log("Epoch " + std::to_string(epoch) + ": train_loss=" + std::to_string(train_loss) +
                                ", val_loss=" + std::to_string(val_loss));
      // As the specification calls it: checkpoints/best/ follows the lowest val_loss by itself.
      manager.save_checkpoint(*model, optimizer, epoch, {{"train_loss", train_loss}, {"val_loss", val_loss}});
      std::cout << "epoch " << epoch << ": train_loss " << train_loss << "  val_loss " << val_loss << "\n";
    }

    // 训练完成: evaluate on the test split, in prices.
    model->eval();
    std::vector<double> actual, predicted, last;
    for (const auto& w : ds.test()) {
      std::vector<float> window(20 * ds.n_features());
      ds.fill_window(w, window.data());
      auto x = torch::from_blob(window.data(), {1, 20, static_cast<int64_t>(ds.n_features())});
      const double r = ds.scaler().unscale_target(model->forward(x).item<double>());
      last.push_back(ds.last_close(w));
      predicted.push_back(last.back() * (1 + r));
      actual.push_back(last.back() * (1 + ds.raw_target(w)));
    }
    const auto metrics = klab::compute_metrics(actual, predicted, last);
    nlohmann::json model_config = nlohmann::json::parse(model->config_json());
    model_config["feature_names"] = spec.features;
    model_config["seq_length"] = spec.seq_length;
    manager.save_model(*model, model_config,
                       {{"epochs", epochs}, {"batch_size", batch_size}, {"learning_rate", learning_rate},
                        {"optimizer", "Adam"}, {"loss_function", "MSELoss"}, {"train_samples", ds.train().size()},
                        {"val_samples", ds.val().size()}, {"best_val_loss", best_val},
                        {"total_epochs_trained", epochs}});
    manager.save_evaluation_results(metrics.to_json());
    manager.update_status(klab::kStatusCompleted);
    std::cout << "run " << manager.run_dir().string() << ": mae " << metrics.mae << ", direction "
              << metrics.direction_accuracy << "%\n";
  } catch (const std::exception& e) {
    std::cerr << "train_with_manager: error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
