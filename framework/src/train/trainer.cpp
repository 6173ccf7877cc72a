#include "train/trainer.h"

#include <dlfcn.h>
#include <malloc.h>
#include <sched.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cmath>
#include <cstdlib>
#include <iomanip>
#include <ostream>
#include <random>
#include <sstream>
#include <thread>

#include <ATen/Parallel.h>
#include <torch/nn/functional/loss.h>
#include <torch/nn/utils/clip_grad.h>
#include <torch/optim/adam.h>
#include <torch/optim/adamw.h>
#include <torch/optim/sgd.h>
#include <torch/utils.h>

#include "data/dataset.h"
#include "klab/data_source.h"
#include "klab/error.h"
#include "klab/model.h"
#include "plugins/registry.h"
#include "runs/files.h"
#include "runs/predictions_file.h"
#include "runs/state_dict.h"
#include "runs/training_manager.h"

namespace klab {

namespace fs = std::filesystem;

namespace {
volatile std::sig_atomic_t g_stop_requested = 0;
void stop_handler(int) { g_stop_requested = 1; }
}  // namespace

void request_stop() { g_stop_requested = 1; }

void stop_on_signals() {
  std::signal(SIGINT, stop_handler);
  std::signal(SIGTERM, stop_handler);
}

int cores_given() {
  // A sweep tells each local trial its share of the machine; Slurm tells a job step its CPUs.
  for (const char* name : {"KLAB_TRIAL_CORES", "SLURM_CPUS_PER_TASK"}) {
    if (const char* value = std::getenv(name)) {
      char* end = nullptr;
      const long n = std::strtol(value, &end, 10);
      if (end != value && *end == '\0' && n >= 1) return static_cast<int>(n);
    }
  }
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0) return CPU_COUNT(&set);
  return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

int apply_runtime_policy(int threads) {
  // glibc returns every freed block above 128 KiB to the kernel and page-faults it back on the
  // next batch; training allocates such blocks thousands of times an epoch. Keeping them in the
  // heap made an LSTM epoch ~30 % faster here and lets two trials share the cores without
  // fighting over page faults.
  mallopt(M_MMAP_THRESHOLD, 256 << 20);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
  mallopt(M_TOP_PAD, 64 << 20);
  // torch's threads x BLAS threads never exceed the cores given: torch (and the fused RNN, which
  // splits a batch across torch's threads) gets min(threads, cores); OpenBLAS runs on the
  // calling thread — its own pool on top of torch's made training 3-5x slower here.
  const int used = std::max(1, std::min(threads, cores_given()));
  at::set_num_threads(used);
  using SetThreads = void (*)(int);
  if (auto fn = reinterpret_cast<SetThreads>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"))) fn(1);
  return used;
}

namespace {

const char* optimizer_label(const std::string& kind) {
  return kind == "adam" ? "Adam" : kind == "adamw" ? "AdamW" : "SGD";
}

double learning_rate_at(const TrainSpec& t, std::size_t epoch) {
  if (t.lr_schedule == "step") {
    return t.learning_rate * std::pow(t.lr_gamma, static_cast<double>((epoch - 1) / t.lr_step_size));
  }
  if (t.lr_schedule == "cosine") {
    const double progress = t.epochs > 1 ? static_cast<double>(epoch - 1) / static_cast<double>(t.epochs - 1) : 0.0;
    return t.min_learning_rate + (t.learning_rate - t.min_learning_rate) * 0.5 * (1 + std::cos(M_PI * progress));
  }
  return t.learning_rate;
}

std::unique_ptr<torch::optim::Optimizer> make_optimizer(const TrainSpec& t, Model& model) {
  if (t.optimizer == "adamw") {
    return std::make_unique<torch::optim::AdamW>(
        model.parameters(), torch::optim::AdamWOptions(t.learning_rate).weight_decay(t.weight_decay));
  }
  if (t.optimizer == "sgd") {
    return std::make_unique<torch::optim::SGD>(
        model.parameters(),
        torch::optim::SGDOptions(t.learning_rate).momentum(t.momentum).weight_decay(t.weight_decay));
  }
  return std::make_unique<torch::optim::Adam>(
      model.parameters(), torch::optim::AdamOptions(t.learning_rate).weight_decay(t.weight_decay));
}

void set_learning_rate(torch::optim::Optimizer& optimizer, double lr) {
  for (auto& group : optimizer.param_groups()) group.options().set_lr(lr);
}

// Inputs [B, seq, F] and scaled targets [B, 1] of windows[first, last).
std::pair<torch::Tensor, torch::Tensor> make_batch(const Dataset& ds, const std::vector<WindowRef>& windows,
                                                   const std::vector<std::size_t>& order, std::size_t first,
                                                   std::size_t last) {
  const auto b = static_cast<int64_t>(last - first);
  const auto seq = static_cast<int64_t>(ds.spec().seq_length), f = static_cast<int64_t>(ds.n_features());
  auto inputs = torch::empty({b, seq, f}, torch::kFloat);
  auto targets = torch::empty({b, 1}, torch::kFloat);
  float* in = inputs.data_ptr<float>();
  float* out = targets.data_ptr<float>();
  for (std::size_t i = first; i < last; ++i) {
    const WindowRef& w = windows[order.empty() ? i : order[i]];
    ds.fill_window(w, in + (i - first) * seq * f);
    out[i - first] = static_cast<float>(ds.scaled_target(w));
  }
  return {inputs, targets};
}

torch::Tensor loss_of(const TrainSpec& t, const torch::Tensor& pred, const torch::Tensor& target) {
  if (t.loss == "huber") {
    return torch::nn::functional::huber_loss(pred, target,
                                             torch::nn::functional::HuberLossFuncOptions().delta(t.huber_delta));
  }
  return torch::mse_loss(pred, target);
}

// Scaled model outputs for every window, in eval mode.
std::vector<double> predict_scaled(Model& model, const Dataset& ds, const std::vector<WindowRef>& windows) {
  torch::NoGradGuard no_grad;
  model.eval();
  std::vector<double> out;
  out.reserve(windows.size());
  const std::size_t chunk = 256;
  for (std::size_t first = 0; first < windows.size(); first += chunk) {
    const std::size_t last = std::min(windows.size(), first + chunk);
    auto batch = make_batch(ds, windows, {}, first, last);
    auto pred = model.forward(batch.first).select(1, 0).contiguous();
    const float* p = pred.data_ptr<float>();
    for (int64_t i = 0; i < pred.size(0); ++i) out.push_back(p[i]);
  }
  return out;
}

double mean_loss(Model& model, const Dataset& ds, const std::vector<WindowRef>& windows, const TrainSpec& t) {
  torch::NoGradGuard no_grad;
  model.eval();
  double total = 0;
  const std::size_t chunk = 256;
  for (std::size_t first = 0; first < windows.size(); first += chunk) {
    const std::size_t last = std::min(windows.size(), first + chunk);
    auto batch = make_batch(ds, windows, {}, first, last);
    total += loss_of(t, model.forward(batch.first), batch.second).item<double>() * static_cast<double>(last - first);
  }
  return windows.empty() ? 0.0 : total / static_cast<double>(windows.size());
}

double actual_price(const Dataset& ds, const WindowRef& w) {
  const double y = ds.raw_target(w);
  return ds.spec().target_kind == "close" ? y : ds.last_close(w) * (1.0 + y);
}

struct TrainState {
  double best_val_loss = std::numeric_limits<double>::infinity();
  int best_epoch = 0;
  int bad_epochs = 0;
  int last_epoch = 0;
  bool early_stopped = false;
  nlohmann::json to_json() const {
    return {{"best_val_loss", best_val_loss}, {"best_epoch", best_epoch}, {"bad_epochs", bad_epochs}};
  }
};

std::string format_loss(double v) {
  std::ostringstream s;
  s << std::setprecision(6) << std::fixed << v;
  return s.str();
}

// The whole run after its folder exists: data, training, evaluation, files.
RunResult execute(const ExperimentSpec& spec, TrainingManager& manager,
                  DataSource& source, std::shared_ptr<Model> model, const RunOptions& options,
                  bool resuming) {
  const TrainSpec& t = spec.train;
  std::ostream* out = options.progress;
  RunResult result;
  result.run_name = manager.run_name();
  result.run_dir = manager.run_dir();

  manager.update_status(kStatusPreparing);
  manager.save_training_log("threads: " + std::to_string(at::get_num_threads()) + " (train.threads " +
                            std::to_string(t.threads) + ", " + std::to_string(cores_given()) +
                            " core(s) given to this run; BLAS on 1)");
  if (spec.adjust == "forward") {
    // Asked for explicitly (the default is backward): say what it costs, in the log and on screen.
    const std::string warning =
        "warning: data.adjust: forward divides every price by the last loaded day's factor, so training rows "
        "depend on later ex-rights days (look-ahead); backward, the default, does not";
    manager.save_training_log(warning);
    if (options.progress) *options.progress << warning << "\n";
  }
  manager.save_training_log("开始加载数据");
  std::vector<std::string> symbols = spec.symbols;
  if (symbols == std::vector<std::string>{"all"}) {
    symbols.clear();
    for (const auto& info : source.list_symbols()) symbols.push_back(info.symbol);
    if (symbols.empty()) throw DataError("data.symbols: all: the data source lists no symbols");
    manager.annotate("stock_symbols", symbols);  // what "all" meant for this run
  }
  manager.save_training_log("loading data: " + source.display_name() + ", " + std::to_string(symbols.size()) +
                            " symbol(s)");
  // Dataset::build loads the bars and computes the features in one pass (per symbol); the
  // specification's four lines are written in its order once both are done.
  Dataset ds = Dataset::build(source, spec.dataset_spec(symbols));
  if (!ds.skipped_symbols().empty()) {
    // Named in training.log and metadata.json, counted on the console.
    nlohmann::json skipped = nlohmann::json::array();
    for (const auto& s : ds.skipped_symbols()) {
      skipped.push_back({{"symbol", s.symbol}, {"reason", s.reason}});
      manager.save_training_log("skipped symbol " + s.symbol + ": " + s.reason);
    }
    manager.annotate("skipped_symbols", skipped);
    manager.save_training_log("symbols: " + std::to_string(ds.series().size()) + " used, " +
                              std::to_string(skipped.size()) + " skipped (too little data in the date range)");
    if (out) {
      *out << "skipped " << skipped.size() << " of " << symbols.size()
           << " symbol(s) with too little data in the date range (named in training.log and metadata.json)\n";
    }
  }
  manager.save_training_log("数据加载完成: " + std::to_string(ds.raw_rows()) + " 条记录");
  manager.save_training_log("bars loaded: " + std::to_string(ds.raw_rows()) + "; " +
                            std::to_string(ds.dropped_warmup_rows()) + " warm-up rows dropped, " +
                            std::to_string(ds.skipped_gap_windows()) + " windows skipped at suspensions");
  manager.save_training_log("开始特征工程");
  manager.save_training_log("特征工程完成: (" + std::to_string(ds.train().size() + ds.val().size() + ds.test().size()) +
                            ", " + std::to_string(t.seq_length) + ", " + std::to_string(ds.n_features()) + ")");
  manager.save_training_log("windows: train " + std::to_string(ds.train().size()) + ", val " +
                            std::to_string(ds.val().size()) + ", test " + std::to_string(ds.test().size()) +
                            "; val from " + ds.val_start() + ", test from " + ds.test_start());
  // An open date range is recorded as the dates the data really spans.
  if (spec.start_date.empty() || spec.end_date.empty()) {
    std::string first, last;
    for (const auto& series : ds.series()) {
      if (series.dates.empty()) continue;
      if (first.empty() || series.dates.front() < first) first = series.dates.front();
      if (last.empty() || series.dates.back() > last) last = series.dates.back();
    }
    nlohmann::json config = manager.load_artifact("config.json");
    if (spec.start_date.empty()) config["train_start_date"] = first;
    if (spec.end_date.empty()) config["train_end_date"] = last;
    manager.save_config(config);
  }
  if (ds.val().empty()) throw DataError("data.split: the validation split has no windows");
  manager.save_artifact("scaler.json", ds.scaler().to_json(spec.features));

  auto optimizer = make_optimizer(t, *model);
  TrainState state;
  int start_epoch = 1;
  if (resuming) {
    auto checkpoint = manager.newest_checkpoint();
    if (checkpoint) {
      const fs::path file = *checkpoint / "pytorch_model.bin";
      auto dict = load_pickle(file).toGenericDict();
      load_model_state_dict(*model, load_state_dict_file(file), file.string());
      load_optimizer_state_dict(*optimizer, dict.at("optimizer_state_dict"), t.optimizer, file.string());
      const int epoch = static_cast<int>(dict.at("epoch").toInt());
      if (dict.contains("trainer_state")) {
        auto s = nlohmann::json::parse(dict.at("trainer_state").toStringRef());
        state.best_val_loss = s.value("best_val_loss", state.best_val_loss);
        state.best_epoch = s.value("best_epoch", 0);
        state.bad_epochs = s.value("bad_epochs", 0);
      }
      start_epoch = epoch + 1;
      state.last_epoch = epoch;
      manager.truncate_metrics_after(epoch);
      manager.save_training_log("Resuming from " + checkpoint->filename().string() + " (epoch " +
                                std::to_string(epoch) + ")");
      if (out) *out << "resuming " << manager.run_name() << " from epoch " << epoch << "\n";
    } else {
      manager.truncate_metrics_after(0);
      manager.save_training_log("No complete checkpoint: training again from epoch 1");
    }
  }

  manager.update_status(kStatusTraining);
  manager.save_training_log("创建模型");
  manager.save_training_log("model: " + spec.model_type + ", " + std::to_string(model->parameters().size()) +
                            " parameter tensors");
  manager.save_training_log("开始训练");
  std::vector<std::size_t> order(ds.train().size());
  for (int epoch = start_epoch; epoch <= static_cast<int>(t.epochs); ++epoch) {
    const auto started = std::chrono::steady_clock::now();
    const double lr = learning_rate_at(t, static_cast<std::size_t>(epoch));
    set_learning_rate(*optimizer, lr);
    // Shuffle and dropout depend on (seed, epoch) only: resuming reproduces them exactly.
    torch::manual_seed(t.seed * 1000003ULL + static_cast<std::uint64_t>(epoch));
    std::iota(order.begin(), order.end(), 0);
    std::mt19937_64 rng(t.seed ^ (0x9E3779B97F4A7C15ULL * static_cast<std::uint64_t>(epoch)));
    std::shuffle(order.begin(), order.end(), rng);

    model->train();
    double train_total = 0;
    for (std::size_t first = 0; first < order.size(); first += t.batch_size) {
      if (g_stop_requested) {
        throw TrainError("interrupted during epoch " + std::to_string(epoch) + "; continue with: sweep --resume " +
                         manager.run_name());
      }
      const std::size_t last = std::min(order.size(), first + t.batch_size);
      auto batch = make_batch(ds, ds.train(), order, first, last);
      optimizer->zero_grad();
      auto loss = loss_of(t, model->forward(batch.first), batch.second);
      const double value = loss.item<double>();
      if (!std::isfinite(value)) {
        throw TrainError("epoch " + std::to_string(epoch) + ": the training loss became " +
                         format_loss(value) + "; lower train.learning_rate or set train.grad_clip");
      }
      loss.backward();
      if (t.grad_clip > 0) torch::nn::utils::clip_grad_norm_(model->parameters(), t.grad_clip);
      optimizer->step();
      train_total += value * static_cast<double>(last - first);
    }
    const double train_loss = train_total / static_cast<double>(order.size());
    const double val_loss = mean_loss(*model, ds, ds.val(), t);
    const bool is_best = val_loss < state.best_val_loss;
    if (is_best) {
      state.best_val_loss = val_loss;
      state.best_epoch = epoch;
      state.bad_epochs = 0;
    } else {
      ++state.bad_epochs;
    }
    state.last_epoch = epoch;
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    nlohmann::json metrics = {{"train_loss", train_loss}, {"val_loss", val_loss}, {"learning_rate", lr},
                              {"epoch_seconds", seconds}};
    manager.log_metrics(epoch, metrics);
    manager.save_training_log("Epoch " + std::to_string(epoch) + ": train_loss=" + format_loss(train_loss) +
                              ", val_loss=" + format_loss(val_loss) + (is_best ? " (best)" : ""));
    if (out) {
      *out << "  epoch " << std::setw(3) << epoch << "/" << t.epochs << "  train_loss " << format_loss(train_loss)
           << "  val_loss " << format_loss(val_loss) << "  lr " << lr << "  " << std::setprecision(2)
           << std::fixed << seconds << "s" << std::defaultfloat << (is_best ? "  *best" : "") << "\n"
           << std::flush;
    }
    nlohmann::json checkpoint_metrics = {{"train_loss", train_loss}, {"val_loss", val_loss},
                                         {"learning_rate", lr}, {"is_best", is_best}};
    if (epoch % static_cast<int>(t.checkpoint_interval) == 0) {
      manager.save_checkpoint(*model, *optimizer, epoch, checkpoint_metrics, is_best, state.to_json());
    } else if (is_best) {
      manager.save_best(*model, *optimizer, epoch, checkpoint_metrics);
    }
    if (t.patience > 0 && state.bad_epochs >= static_cast<int>(t.patience)) {
      state.early_stopped = true;
      manager.save_training_log("Early stopping at epoch " + std::to_string(epoch) + ": no val_loss improvement for " +
                                std::to_string(t.patience) + " epochs (best epoch " +
                                std::to_string(state.best_epoch) + ")");
      if (out) *out << "  early stop: no improvement for " << t.patience << " epochs\n";
      break;
    }
  }

  // The model keeps the best validation weights.
  const fs::path best = manager.run_dir() / "checkpoints" / "best" / "pytorch_model.bin";
  load_model_state_dict(*model, load_state_dict_file(best), best.string());

  manager.save_training_log("开始评估");
  manager.save_training_log("evaluating the best epoch " + std::to_string(state.best_epoch) + " on " +
                            std::to_string(ds.test().size()) + " test windows");
  const auto scaled = predict_scaled(*model, ds, ds.test());
  // Predictions by (date, symbol): the one table evaluation and the run files read.
  std::vector<PointPrediction> predictions;
  predictions.reserve(ds.test().size());
  for (std::size_t i = 0; i < ds.test().size(); ++i) {
    const WindowRef& w = ds.test()[i];
    predictions.push_back({ds.target_date(w), ds.series()[w.series].symbol, actual_price(ds, w),
                           ds.scaler().price_from_output(scaled[i], ds.spec().target_kind, ds.last_close(w)),
                           ds.last_close(w)});
  }
  nlohmann::json eval = evaluate_predictions(
      predictions, std::string(adjustment_name(ds.spec().adjustment)) + "-adjusted", spec.multi_symbol);
  eval["test_start"] = ds.test_start();
  write_predictions(manager.run_dir() / "results", predictions, spec.multi_symbol);

  nlohmann::json model_config = nlohmann::json::parse(model->config_json());
  model_config["feature_names"] = spec.features;
  model_config["seq_length"] = t.seq_length;
  model_config["target"] = {{"kind", spec.target_kind}, {"horizon", spec.horizon}};
  model_config["adjust"] = spec.adjust;
  nlohmann::json training_args = {
      {"epochs", t.epochs},
      {"batch_size", t.batch_size},
      {"learning_rate", t.learning_rate},
      {"optimizer", optimizer_label(t.optimizer)},
      {"loss_function", t.loss == "huber" ? "HuberLoss" : "MSELoss"},
      {"train_samples", ds.train().size()},
      {"val_samples", ds.val().size()},
      {"test_samples", ds.test().size()},
      {"best_val_loss", state.best_val_loss},
      {"best_epoch", state.best_epoch},
      {"total_epochs_trained", state.last_epoch},
      {"early_stopped", state.early_stopped},
      {"weight_decay", t.weight_decay},
      {"lr_schedule", t.lr_schedule},
      {"grad_clip", t.grad_clip},
      {"seed", t.seed},
      {"threads", t.threads}};
  manager.save_model(*model, model_config, training_args);
  manager.save_evaluation_results(eval);
  manager.save_training_log("评估完成: mae=" + format_loss(eval["mae"].get<double>()) +
                            ", rmse=" + format_loss(eval["rmse"].get<double>()) + ", direction_accuracy=" +
                            format_loss(eval["direction_accuracy"].is_number() ? eval["direction_accuracy"].get<double>() : 0.0));
  manager.save_training_log("baseline (persistence): mae=" + format_loss(eval["baseline"]["mae"].get<double>()) + " (on " +
                            eval["metrics_on"].get<std::string>() + ")");
  manager.update_status(kStatusCompleted);

  result.status = kStatusCompleted;
  result.eval = manager.load_artifact("results/eval_results.json");
  result.epochs_trained = state.last_epoch;
  result.best_epoch = state.best_epoch;
  result.best_val_loss = state.best_val_loss;
  return result;
}

// Runs `execute`, turning any failure into status failed (with the error) before rethrowing.
RunResult guarded_execute(const ExperimentSpec& spec, TrainingManager& manager,
                          DataSource& source, std::shared_ptr<Model> model, const RunOptions& options,
                          bool resuming) {
  try {
    return execute(spec, manager, source, std::move(model), options, resuming);
  } catch (const std::exception& e) {
    // A new run that failed before training began (no bars, too little data, a file that is
    // not a database) holds nothing worth keeping: its folder goes, and the error is the
    // message. A resumed run, or one that trained, stays, marked failed with the error.
    bool trained = false;
    const auto history = manager.metadata().find("status_history");
    if (history != manager.metadata().end() && history->is_array()) {
      for (const auto& entry : *history) trained = trained || (entry.is_object() && entry.value("status", "") == kStatusTraining);
    }
    if (!resuming && !trained) {
      std::error_code ec;
      fs::remove_all(manager.run_dir(), ec);
      throw;
    }
    try {
      manager.update_status(kStatusFailed, e.what());
    } catch (...) {
    }
    throw;
  }
}

std::shared_ptr<DataSource> open_source(const ExperimentSpec& spec, PluginRegistry& registry) {
  return registry.create_data_source(spec.source, spec.source_options.dump());
}

}  // namespace

RunResult run_experiment(const ExperimentSpec& spec, PluginRegistry& registry, const RunOptions& options) {
  apply_runtime_policy(spec.train.threads);
  // Everything that can be checked without data is checked before the run folder exists.
  auto source = open_source(spec, registry);
  torch::manual_seed(spec.train.seed);
  auto model = registry.create_model(spec.model_type, static_cast<std::int64_t>(spec.features.size()),
                                     spec.model_params.dump());
  const std::string output_dir = options.output_dir_override.empty() ? spec.output_dir : options.output_dir_override;
  const std::string symbol = spec.multi_symbol ? "" : spec.symbols.at(0);
  TrainingManager manager(symbol, spec.model_type, output_dir, source->display_name());
  if (spec.multi_symbol) {
    // A multi-symbol run is named {model}_{timestamp}; stock_symbol lists its symbols.
    std::string joined;
    for (const auto& s : spec.symbols) joined += (joined.empty() ? "" : ",") + s;
    manager.annotate("stock_symbol", joined);
  }
  manager.annotate("stock_symbols", spec.symbols);
  if (options.on_created) options.on_created(manager.run_name(), manager.run_dir());
  nlohmann::json config = {{"seq_length", spec.train.seq_length},
                           {"epochs", spec.train.epochs},
                           {"batch_size", spec.train.batch_size},
                           {"learning_rate", spec.train.learning_rate},
                           {"patience", spec.train.patience},
                           {"train_start_date", spec.start_date},
                           {"train_end_date", spec.end_date},
                           {"stock_symbols", spec.symbols},
                           {"experiment_name", spec.name},
                           {"experiment_file", spec.file}};
  const nlohmann::json model_config = nlohmann::json::parse(model->config_json());
  for (const auto& [key, value] : model_config.items()) {
    if (key != "model_type") config[key] = value;
  }
  config["features"] = spec.features;
  config["experiment"] = spec.to_json();
  manager.save_config(config);
  manager.save_artifact("experiment.json", spec.to_json());
  return guarded_execute(spec, manager, *source, model, options, false);
}

RunResult resume_experiment(const std::string& run, const fs::path& output_dir, PluginRegistry& registry,
                            const RunOptions& options) {
  TrainingManager manager = TrainingManager::open_for_writing(run, output_dir);
  const std::string status = files::text_or(manager.metadata(), "status");
  if (status == kStatusCompleted) {
    throw ConfigError("--resume " + manager.run_name() + ": the run is already completed");
  }
  const fs::path experiment_file = manager.run_dir() / "experiment.json";
  ExperimentSpec spec = ExperimentSpec::from_json(files::read_json(experiment_file), experiment_file.string());
  apply_runtime_policy(spec.train.threads);
  auto source = open_source(spec, registry);
  torch::manual_seed(spec.train.seed);
  auto model = registry.create_model(spec.model_type, static_cast<std::int64_t>(spec.features.size()),
                                     spec.model_params.dump());
  manager.save_training_log("Resume requested (status was " + status + ")");
  if (options.on_created) options.on_created(manager.run_name(), manager.run_dir());
  return guarded_execute(spec, manager, *source, model, options, true);
}

}  // namespace klab
