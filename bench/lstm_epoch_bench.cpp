// lstm_epoch_bench — one training epoch of the reference LSTM (seq 60, 45 features, hidden 128,
// 2 layers, batch 32, 4,992 windows = 156 batches, Adam, MSE) through klab's lstm plugin, the
// same step the trainer runs. bench/run_lstm_bench.sh runs it beside Python PyTorch.
//
//   lstm_epoch_bench [--epochs 2] [--threads 1] [--model lstm]
#include <chrono>
#include <iostream>

#include <boost/program_options.hpp>
#include <torch/torch.h>

#include "klab/model.h"
#include "plugins/registry.h"
#include "train/trainer.h"

namespace po = boost::program_options;

int main(int argc, char** argv) {
  po::options_description options("lstm_epoch_bench [options]");
  options.add_options()("help,h", "show this help")
      ("epochs", po::value<int>()->default_value(2), "epochs timed (the best is reported)")
      ("threads", po::value<int>()->default_value(1), "torch intra-op threads (BLAS stays at 1)")
      ("model", po::value<std::string>()->default_value("lstm"), "model plugin")
      ("impl", po::value<std::string>()->default_value("autograd"), "lstm: autograd or fused")
      ("windows", po::value<int>()->default_value(4992), "training windows per epoch");
  po::variables_map vm;
  po::store(po::parse_command_line(argc, argv, options), vm);
  if (vm.count("help")) {
    std::cout << options << "\n";
    return 0;
  }
  const int64_t seq = 60, features = 45, batch = 32, n = vm["windows"].as<int>();
  klab::apply_runtime_policy(vm["threads"].as<int>());
  klab::PluginRegistry registry;
  registry.discover();
  torch::manual_seed(0);
  std::string config = R"({"hidden_size": 128, "num_layers": 2, "dropout": 0.2)";
  config += R"(, "impl": ")" + vm["impl"].as<std::string>() + "\"";
  auto model = registry.create_model(vm["model"].as<std::string>(), features, config + "}");
  torch::optim::Adam optimizer(model->parameters(), torch::optim::AdamOptions(1e-3));
  auto x = torch::randn({n, seq, features});
  auto y = torch::randn({n, 1});
  double best = 1e30, t_fwd = 0, t_bwd = 0, t_opt = 0;
  for (int epoch = 0; epoch < vm["epochs"].as<int>(); ++epoch) {
    model->train();
    auto order = torch::randperm(n);
    const auto t0 = std::chrono::steady_clock::now();
    for (int64_t first = 0; first < n; first += batch) {
      auto idx = order.slice(0, first, std::min(first + batch, n));
      const auto a = std::chrono::steady_clock::now();
      optimizer.zero_grad();
      auto loss = torch::mse_loss(model->forward(x.index_select(0, idx)), y.index_select(0, idx));
      const auto b = std::chrono::steady_clock::now();
      loss.backward();
      const auto c = std::chrono::steady_clock::now();
      optimizer.step();
      const auto d = std::chrono::steady_clock::now();
      t_fwd += std::chrono::duration<double>(b - a).count();
      t_bwd += std::chrono::duration<double>(c - b).count();
      t_opt += std::chrono::duration<double>(d - c).count();
    }
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  std::cout << "epoch klab-" << vm["model"].as<std::string>() << "-" << vm["impl"].as<std::string>() << " threads=" << vm["threads"].as<int>()
            << " fwd=" << t_fwd << " bwd=" << t_bwd << " opt=" << t_opt << " windows=" << n << " seconds=" << best << " samples_per_second=" << n / best << "\n";
  return 0;
}
