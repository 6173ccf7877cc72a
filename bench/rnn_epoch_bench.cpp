// rnn_epoch_bench — one training epoch of the reference recurrent model (seq 60, 45 features,
// hidden 128, 2 layers, dropout 0.2, batch 32, 4,992 windows = 156 batches, Adam, MSE) through
// klab's lstm or gru plugin, the same step the trainer runs; and a single-thread SGEMM of the
// same machine to set the achieved rate against. bench/run_rnn_bench.sh runs every
// configuration beside Python PyTorch.
//
//   rnn_epoch_bench [--model lstm|gru] [--impl fused|autograd] [--threads 1] [--epochs 1]
//   rnn_epoch_bench --sgemm [--size 1024]
//   rnn_epoch_bench --sgemm --shape 32x512x173        (a training shape; klab's B packed once)
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <vector>

#include <cblas.h>
#include <boost/program_options.hpp>
#include <torch/torch.h>

#include "klab/torch_model.h"
#include "plugins/models/common/fused_rnn_steps.h"
#include "plugins/registry.h"
#include "train/process_policy.h"

namespace po = boost::program_options;
using Clock = std::chrono::steady_clock;

namespace {

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// Best rate of `call` (`flop` each) over a few timed rounds of at least 0.5 s.
template <typename F>
double best_gflops(double flop, F call) {
  call();  // warm-up
  double best = 0;
  for (int round = 0; round < 3; ++round) {
    int reps = 0;
    const auto t0 = Clock::now();
    do {
      call();
      ++reps;
    } while (seconds_since(t0) < 0.5);
    best = std::max(best, flop * reps / seconds_since(t0) / 1e9);
  }
  return best;
}

// Single-thread C[m x n] = A[m x k] B[k x n]: BLAS as loaded, and klab's kernel. Square (the
// reference rate, B packed inside each call as BLAS does) or a training shape such as the LSTM
// step's 32 x 512 x 173 (--shape), where klab packs B once and reuses it, as the fused path does
// for the recurrent weights.
int sgemm(int m, int n, int k, bool packed_once) {
  klab::apply_runtime_policy(1);  // BLAS on one thread, as in training
  std::vector<float> a(static_cast<std::size_t>(m) * k), b(static_cast<std::size_t>(k) * n), c(static_cast<std::size_t>(m) * n);
  for (std::size_t i = 0; i < a.size(); ++i) a[i] = static_cast<float>(i % 97) / 97.0f - 0.5f;
  for (std::size_t i = 0; i < b.size(); ++i) b[i] = static_cast<float>(i % 89) / 89.0f - 0.5f;
  const double flop = 2.0 * m * n * k;
  const std::string shape = m == n && n == k ? "n=" + std::to_string(n)
                                             : "shape=" + std::to_string(m) + "x" + std::to_string(n) + "x" + std::to_string(k);
  const double blas = best_gflops(flop, [&] {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1.0f, a.data(), k, b.data(), n, 0.0f, c.data(), n);
  });
  const char* coretype = std::getenv("OPENBLAS_CORETYPE");
  std::cout << "sgemm impl=openblas coretype=" << (coretype ? coretype : "auto") << " threads=1 " << shape << " gflops=" << blas
            << "\n";
  const klab::fused::StepKernels& kernels = klab::fused::step_kernels();
  if (kernels.gemm_packed) {
    float* packed = static_cast<float*>(std::aligned_alloc(64, klab::fused::packed_floats(k, n) * sizeof(float)));
    const std::int64_t stride = static_cast<std::int64_t>(k) * klab::fused::kGemmPanel;
    kernels.pack_b(k, n, {b.data(), n, 1}, packed, stride);
    const double own = best_gflops(flop, [&] {
      if (!packed_once) kernels.pack_b(k, n, {b.data(), n, 1}, packed, stride);
      kernels.gemm_packed(m, n, k, {a.data(), k, 1}, 0, {a.data(), k, 1}, packed, stride, 0.0f, c.data(), n);
    });
    std::free(packed);
    std::cout << "sgemm impl=klab-" << klab::fused::step_kernels_name() << " threads=1 " << shape
              << (packed_once ? " b=packed-once" : "") << " gflops=" << own << "\n";
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  po::options_description options("rnn_epoch_bench [options]");
  options.add_options()("help,h", "show this help")
      ("model", po::value<std::string>()->default_value("lstm"), "model plugin (lstm, gru, or any torch model with --config)")
      ("config", po::value<std::string>(), "the model's hyperparameters as JSON (default: the reference LSTM/GRU's)")
      ("impl", po::value<std::string>()->default_value("fused"), "fused or autograd")
      ("threads", po::value<int>()->default_value(1), "torch intra-op threads (BLAS stays at 1)")
      ("epochs", po::value<int>()->default_value(1), "epochs timed (the best is reported)")
      ("windows", po::value<int>()->default_value(4992), "training windows per epoch")
      ("sgemm", "measure single-thread SGEMM instead (BLAS as loaded, and klab's kernel)")
      ("size", po::value<int>()->default_value(1024), "SGEMM matrix size")
      ("shape", po::value<std::string>(), "with --sgemm: MxNxK instead of a square (klab's B packed once)");
  po::variables_map vm;
  po::store(po::parse_command_line(argc, argv, options), vm);
  if (vm.count("help")) {
    std::cout << options << "\n";
    return 0;
  }
  if (vm.count("sgemm") && vm.count("shape")) {
    int m = 0, n = 0, k = 0;
    if (std::sscanf(vm["shape"].as<std::string>().c_str(), "%dx%dx%d", &m, &n, &k) != 3 || m < 1 || n < 1 || k < 1) {
      std::cerr << "rnn_epoch_bench: --shape " << vm["shape"].as<std::string>() << ": expected MxNxK, e.g. 32x512x173\n";
      return 2;
    }
    return sgemm(m, n, k, true);
  }
  if (vm.count("sgemm")) return sgemm(vm["size"].as<int>(), vm["size"].as<int>(), vm["size"].as<int>(), false);

  const int64_t seq = 60, features = 45, batch = 32, n = vm["windows"].as<int>();
  const std::string model_name = vm["model"].as<std::string>(), impl = vm["impl"].as<std::string>();
  klab::apply_runtime_policy(vm["threads"].as<int>());
  klab::PluginRegistry registry;
  registry.discover();
  torch::manual_seed(0);
  const std::string config = vm.count("config") ? vm["config"].as<std::string>()
                                                : R"({"hidden_size": 128, "num_layers": 2, "dropout": 0.2, "impl": ")" + impl + "\"}";
  auto model = registry.create_torch_model(model_name, features, config);
  torch::optim::Adam optimizer(model->parameters(), torch::optim::AdamOptions(1e-3));
  auto x = torch::randn({n, seq, features});
  auto y = torch::randn({n, 1});
  double best = 1e30, forward = 0, backward = 0, step = 0;
  for (int epoch = 0; epoch < vm["epochs"].as<int>(); ++epoch) {
    model->train();
    auto order = torch::randperm(n);
    double f = 0, b = 0, s = 0;
    const auto t0 = Clock::now();
    for (int64_t first = 0; first < n; first += batch) {
      auto idx = order.slice(0, first, std::min(first + batch, n));
      auto ta = Clock::now();
      optimizer.zero_grad();
      auto loss = torch::mse_loss(model->forward(x.index_select(0, idx)), y.index_select(0, idx));
      auto tb = Clock::now();
      loss.backward();
      auto tc = Clock::now();
      optimizer.step();
      f += std::chrono::duration<double>(tb - ta).count();
      b += std::chrono::duration<double>(tc - tb).count();
      s += seconds_since(tc);
    }
    const double total = seconds_since(t0);
    if (total < best) best = total, forward = f, backward = b, step = s;
  }
  const char* coretype = std::getenv("OPENBLAS_CORETYPE");
  std::cout << "epoch klab model=" << model_name << " impl=" << impl << " threads=" << vm["threads"].as<int>()
            << " windows=" << n << " seconds=" << best << " forward=" << forward << " backward=" << backward
            << " step=" << step << " samples_per_second=" << n / best
            << " fused_isa=" << klab::fused::step_kernels_name()
            << " openblas_coretype=" << (coretype ? coretype : "auto") << " config=" << model->config_json() << "\n";
  return 0;
}
