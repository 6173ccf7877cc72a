// Over 400 lines: the one place a sweep section becomes trials (grid, random search, seeds and
// walk-forward segments), each validated with errors that name the trial, line and key.
#include "sweep/sweep_spec.h"

#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cmath>
#include <csignal>
#include <fstream>
#include <random>
#include <set>
#include <sstream>

#include <yaml-cpp/yaml.h>

#include "klab/data_source.h"
#include "eval/metrics.h"
#include "klab/error.h"
#include "klab/model.h"
#include "plugins/registry.h"
#include "sweep/slurm_executor.h"

namespace klab {

namespace {

std::string at(const std::string& file, const YAML::Node& node) {
  return node.Mark().line >= 0 ? file + ":" + std::to_string(node.Mark().line + 1) : file;
}

// Sets a dotted key ("model.hidden_size") of `root` to `value`, creating mappings on the way.
void set_dotted(YAML::Node root, const std::string& key, const YAML::Node& value) {
  std::vector<std::string> parts;
  std::stringstream ss(key);
  std::string part;
  while (std::getline(ss, part, '.')) parts.push_back(part);
  YAML::Node node = root;
  for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
    if (!node[parts[i]] || !node[parts[i]].IsMap()) node[parts[i]] = YAML::Node(YAML::NodeType::Map);
    node.reset(node[parts[i]]);
  }
  node[parts.back()] = YAML::Clone(value);
}

YAML::Node json_to_yaml(const nlohmann::json& j) {
  if (j.is_string()) {
    YAML::Node n(j.get<std::string>());
    n.SetTag("!");  // keep it a string (a symbol like "000001")
    return n;
  }
  if (j.is_number_integer()) return YAML::Node(j.get<long long>());
  if (j.is_number()) return YAML::Node(j.get<double>());
  if (j.is_boolean()) return YAML::Node(j.get<bool>());
  return YAML::Load(j.dump());
}

bool valid_key(const std::string& key) {
  static const std::set<std::string> sections = {"data", "features", "target", "model", "train", "output_dir", "name"};
  const std::string first = key.substr(0, key.find('.'));
  return !key.empty() && sections.count(first) && key.back() != '.' && key.find("..") == std::string::npos;
}

// Lets the model plugin check a trial's hyperparameters without risking the sweep itself: the
// model is built in a forked child. A ConfigError there is returned; a child that crashes (a
// buggy plugin) is not this check's business — that trial will fail on its own when it runs.
constexpr int kModelCheckSeconds = 60;

std::string check_model_in_child(PluginRegistry& registry, const ExperimentSpec& spec) {
  int fds[2];
  if (pipe(fds) != 0) return "";
  const pid_t pid = fork();
  if (pid < 0) {
    close(fds[0]);
    close(fds[1]);
    return "";
  }
  if (pid == 0) {
    close(fds[0]);
    int code = 0;
    std::string message;
    try {
      registry.create_model(spec.model_type, static_cast<std::int64_t>(spec.features.size()), spec.model_params.dump());
    } catch (const std::exception& e) {
      message = e.what();
      code = 2;
    }
    if (!message.empty() && write(fds[1], message.data(), message.size()) < 0) code = 3;
    _exit(code);
  }
  close(fds[1]);
  // A plugin that hangs in its constructor must not hang the sweep: the check gets a minute.
  std::string message;
  char buf[1024];
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(kModelCheckSeconds);
  bool timed_out = false;
  while (true) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      timed_out = true;
      break;
    }
    pollfd p{fds[0], POLLIN, 0};
    const int ready = poll(&p, 1, static_cast<int>(left.count()));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) {
      timed_out = ready == 0;
      break;
    }
    const ssize_t n = read(fds[0], buf, sizeof buf);
    if (n <= 0) break;
    message.append(buf, static_cast<std::size_t>(n));
  }
  close(fds[0]);
  int status = 0;
  if (timed_out) kill(pid, SIGKILL);
  waitpid(pid, &status, 0);
  if (timed_out) {
    return "model '" + spec.model_type + "': checking its hyperparameters took over " +
           std::to_string(kModelCheckSeconds) + " s (the plugin's constructor hangs?); stopped";
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 2) return message.empty() ? "the model plugin refused its hyperparameters" : message;
  return "";
}

constexpr std::size_t kMaxTrials = 10000;

struct Axis {
  std::string key;
  std::vector<nlohmann::json> values;  // grid
};

}  // namespace

SymbolLister symbols_of_source(PluginRegistry& registry) {
  return [&registry](const ExperimentSpec& spec) {
    std::vector<std::string> symbols;
    for (const auto& info : registry.create_data_source(spec.source, spec.source_options.dump())->list_symbols()) {
      symbols.push_back(info.symbol);
    }
    return symbols;
  };
}

SweepPlan plan_sweep(const std::filesystem::path& file, PluginRegistry& registry, const SymbolLister& list_symbols) {
  std::ifstream in(file);
  if (!in) throw ConfigError(file.string() + ": cannot read the experiment file");
  std::stringstream text;
  text << in.rdbuf();
  return plan_sweep_text(text.str(), file.string(), registry, list_symbols);
}

SweepPlan plan_sweep_text(const std::string& yaml_text, const std::string& file, PluginRegistry& registry,
                          const SymbolLister& list_symbols) {
  YAML::Node root = load_experiment_yaml(yaml_text, file);
  if (!root || !root.IsMap()) throw ConfigError(file + ": an experiment file must be a mapping of sections");
  SweepPlan plan;
  plan.name = root["name"] && root["name"].IsScalar() ? root["name"].Scalar() : std::filesystem::path(file).stem().string();
  plan.file = file;
  YAML::Node sweep = root["sweep"];

  std::vector<Axis> grid;
  std::vector<std::pair<std::string, YAML::Node>> random_params;
  std::size_t n_random = 0;
  std::uint64_t random_seed = 0;
  std::vector<std::uint64_t> seeds;
  if (sweep) {
    plan.has_sweep_section = true;
    if (!sweep.IsMap()) throw ConfigError(at(file, sweep) + ": sweep: expected a mapping");
    static const std::set<std::string> known = {"grid", "random", "seeds", "metric", "workers", "executor", "slurm"};
    for (const auto& item : sweep) {
      if (!known.count(item.first.Scalar())) {
        throw ConfigError(at(file, item.first) + ": sweep." + item.first.Scalar() +
                          ": unknown key (known here: executor, grid, metric, random, seeds, slurm, workers)");
      }
    }
    if (YAML::Node g = sweep["grid"]) {
      if (!g.IsMap() || g.size() == 0) throw ConfigError(at(file, g) + ": sweep.grid: expected a mapping of dotted keys to lists");
      for (const auto& item : g) {
        const std::string key = item.first.Scalar();
        if (!valid_key(key)) {
          throw ConfigError(at(file, item.first) + ": sweep.grid." + key +
                            ": not a key of the experiment (data.*, features, target.*, model.*, train.*)");
        }
        if (key == "data.symbols") {
          throw ConfigError(at(file, item.first) + ": sweep.grid.data.symbols: sweep over data.symbol instead");
        }
        Axis axis{key, {}};
        const YAML::Node& values = item.second;
        if (values.IsScalar() && key == "data.symbol" && values.Scalar() == "all") {
          // What "all" means comes from the data source of the validated base experiment (its
          // source and options as every trial will see them, relative paths resolved); the
          // symbol stands in for the axis being expanded.
          YAML::Node base_tree = YAML::Load(yaml_text);
          base_tree.remove("sweep");
          set_dotted(base_tree, "data.symbol", YAML::Node("000001"));
          const ExperimentSpec base = experiment_from_yaml(base_tree, file, false);
          if (!list_symbols) throw ConfigError(at(file, values) + ": sweep.grid.data.symbol: all: no way to list the data source's symbols here");
          for (const auto& symbol : list_symbols(base)) axis.values.push_back(symbol);
          if (axis.values.empty()) throw ConfigError(at(file, values) + ": sweep.grid.data.symbol: all: the data source lists no symbols");
        } else if (values.IsSequence() && values.size() > 0) {
          for (const auto& v : values) {
            nlohmann::json j = yaml_to_json(v);
            if (v.IsScalar() && (key == "data.symbol")) j = v.Scalar();  // keep leading zeros
            axis.values.push_back(j);
          }
        } else {
          throw ConfigError(at(file, values) + ": sweep.grid." + key + ": expected a non-empty list of values" +
                            (key == "data.symbol" ? " or all" : ""));
        }
        grid.push_back(std::move(axis));
      }
    }
    if (YAML::Node r = sweep["random"]) {
      if (!r.IsMap()) throw ConfigError(at(file, r) + ": sweep.random: expected a mapping");
      for (const auto& item : r) {
        const std::string k = item.first.Scalar();
        if (k != "n_trials" && k != "seed" && k != "params") {
          throw ConfigError(at(file, item.first) + ": sweep.random." + k + ": unknown key (known here: n_trials, params, seed)");
        }
      }
      if (!r["n_trials"] || !r["params"]) throw ConfigError(at(file, r) + ": sweep.random: needs n_trials and params");
      long long n = 0;
      if (!YAML::convert<long long>::decode(r["n_trials"], n) || n < 1) {
        throw ConfigError(at(file, r["n_trials"]) + ": sweep.random.n_trials: expected an integer >= 1");
      }
      n_random = static_cast<std::size_t>(n);
      long long s = 0;
      if (r["seed"] && (!YAML::convert<long long>::decode(r["seed"], s) || s < 0)) {
        throw ConfigError(at(file, r["seed"]) + ": sweep.random.seed: expected an integer >= 0");
      }
      random_seed = static_cast<std::uint64_t>(s);
      if (!r["params"].IsMap() || r["params"].size() == 0) {
        throw ConfigError(at(file, r["params"]) + ": sweep.random.params: expected a mapping of dotted keys to distributions");
      }
      for (const auto& item : r["params"]) {
        const std::string key = item.first.Scalar();
        const YAML::Node& d = item.second;
        if (!valid_key(key)) throw ConfigError(at(file, item.first) + ": sweep.random.params." + key + ": not a key of the experiment");
        bool ok = d.IsMap() && d.size() == 1;
        std::string kind = ok ? d.begin()->first.Scalar() : "";
        const YAML::Node args = ok ? d.begin()->second : YAML::Node();
        if (kind == "choice") {
          ok = args.IsSequence() && args.size() > 0;
        } else if (kind == "uniform" || kind == "loguniform" || kind == "int") {
          double lo = 0, hi = 0;
          ok = args.IsSequence() && args.size() == 2 && YAML::convert<double>::decode(args[0], lo) &&
               YAML::convert<double>::decode(args[1], hi) && lo <= hi && std::isfinite(hi - lo) &&
               (kind != "loguniform" || lo > 0);
          // An integer range is drawn in 64-bit integers from bounds read as doubles: beyond 2^53
          // neither is exact (and past 2^63 the conversion is undefined), so it is refused.
          constexpr double kExactIntegers = 9007199254740992.0;  // 2^53
          if (ok && kind == "int" && (std::fabs(lo) > kExactIntegers || std::fabs(hi) > kExactIntegers)) {
            throw ConfigError(at(file, d) + ": sweep.random.params." + key + ": {int: [" + args[0].Scalar() + ", " +
                              args[1].Scalar() + "]}: bounds beyond +-2^53 (9007199254740992)");
          }
          // {int: [1.5, 1.7]} holds no integer: refused rather than drawing from an empty range.
          if (ok && kind == "int" && std::ceil(lo) > std::floor(hi)) {
            throw ConfigError(at(file, d) + ": sweep.random.params." + key + ": {int: [" + args[0].Scalar() + ", " +
                              args[1].Scalar() + "]} contains no integer");
          }
        } else {
          ok = false;
        }
        if (!ok) {
          throw ConfigError(at(file, d) + ": sweep.random.params." + key +
                            ": expected {choice: [a, b, ...]}, {uniform: [lo, hi]}, {loguniform: [lo, hi]} with lo > 0, or {int: [lo, hi]} "
                            "(finite, lo <= hi)");
        }
        random_params.emplace_back(key, d);
      }
    }
    if (YAML::Node s = sweep["seeds"]) {
      if (!s.IsSequence() || s.size() == 0) throw ConfigError(at(file, s) + ": sweep.seeds: expected a non-empty list of integers");
      for (const auto& v : s) {
        long long seed = 0;
        if (!YAML::convert<long long>::decode(v, seed) || seed < 0) {
          throw ConfigError(at(file, v) + ": sweep.seeds: expected integers >= 0, got \"" + v.Scalar() + "\"");
        }
        seeds.push_back(static_cast<std::uint64_t>(seed));
      }
    }
    if (YAML::Node m = sweep["metric"]) {
      // A name (its own direction), or {name: rank_ic, mode: max}.
      // (yaml-cpp's Node assignment writes through to the node: pick the name node once.)
      const YAML::Node name = m.IsMap() ? m["name"] : m;
      if (m.IsMap()) {
        for (const auto& item : m) {
          const std::string k = item.first.Scalar();
          if (k != "name" && k != "mode") throw ConfigError(at(file, item.first) + ": sweep.metric." + k + ": unknown key (name, mode)");
        }
        if (!name) throw ConfigError(at(file, m) + ": sweep.metric: missing name");
        if (YAML::Node mode = m["mode"]) {
          plan.metric_mode = mode.IsScalar() ? mode.Scalar() : "";
          if (plan.metric_mode != "max" && plan.metric_mode != "min") {
            throw ConfigError(at(file, mode) + ": sweep.metric.mode: expected max or min");
          }
        }
      }
      plan.metric = name.IsScalar() ? name.Scalar() : "";
      if (!is_ranking_metric(plan.metric)) {
        std::string known;
        for (const auto& k : ranking_metrics()) known += (known.empty() ? "" : ", ") + k;
        throw ConfigError(at(file, name) + ": sweep.metric: expected one of " + known + ", got \"" + plan.metric + "\"");
      }
    }
    if (YAML::Node w = sweep["workers"]) {
      long long workers = 0;
      if (!YAML::convert<long long>::decode(w, workers) || workers < 1) {
        throw ConfigError(at(file, w) + ": sweep.workers: expected an integer >= 1");
      }
      plan.workers = static_cast<int>(workers);
    }
    if (YAML::Node e = sweep["executor"]) {
      plan.executor = e.Scalar();
      if (plan.executor != "local" && plan.executor != "slurm") {
        throw ConfigError(at(file, e) + ": sweep.executor: expected local or slurm, got \"" + plan.executor + "\"");
      }
    }
    if (YAML::Node s = sweep["slurm"]) {
      if (!s.IsMap()) throw ConfigError(at(file, s) + ": sweep.slurm: expected a mapping");
      // Values go into #SBATCH lines (sweep/slurm_executor.h).
      for (const auto& item : s) {
        const std::string k = item.first.Scalar();
        const YAML::Node& v = item.second;
        if (v.IsScalar()) require_sbatch_value(at(file, v) + ": ", k, v.Scalar());
        if (v.IsSequence()) {
          for (const auto& e : v) require_sbatch_value(at(file, e) + ": ", k, e.IsScalar() ? e.Scalar() : "");
        }
        long long n = 0;
        if (k == "partition") {
          plan.slurm.partition = v.Scalar();
        } else if (k == "time_limit") {
          plan.slurm.time_limit = v.Scalar();
        } else if (k == "mem") {
          plan.slurm.mem = v.Scalar();
        } else if (k == "cpus_per_task" && YAML::convert<long long>::decode(v, n) && n >= 1) {
          plan.slurm.cpus_per_task = static_cast<int>(n);
        } else if (k == "max_concurrent" && YAML::convert<long long>::decode(v, n) && n >= 0) {
          plan.slurm.max_concurrent = static_cast<int>(n);
        } else if (k == "extra_args" && v.IsSequence()) {
          for (const auto& a : v) plan.slurm.extra_args.push_back(a.Scalar());
        } else {
          throw ConfigError(at(file, item.first) + ": sweep.slurm." + k +
                            ": unknown key or bad value (partition, time_limit, cpus_per_task >= 1, max_concurrent >= 0, mem, extra_args)");
        }
      }
    }
  }

  // How many trials before making any: a typo (n_trials: 1000000000, a grid of long lists) is
  // one clear error, not hours of expansion. Walk-forward segments multiply this later.
  {
    std::size_t total = 1;
    std::string how;
    auto times = [&](std::size_t n, const std::string& what) {
      total = n != 0 && total > kMaxTrials / n ? kMaxTrials + 1 : total * n;
      how += (how.empty() ? "" : " x ") + std::to_string(n) + " " + what;
    };
    for (const auto& axis : grid) times(axis.values.size(), "(" + axis.key + ")");
    if (n_random > 0) times(n_random, "random draws");
    if (!seeds.empty()) times(seeds.size(), "seeds");
    if (total > kMaxTrials) {
      throw ConfigError(at(file, sweep) + ": sweep: " + how + " = more than " + std::to_string(kMaxTrials) +
                        " trials, the most one sweep runs; split it into several sweeps");
    }
  }

  // Points: the grid's cartesian product, times the random draws.
  std::vector<nlohmann::json> points{nlohmann::json::object()};
  for (const auto& axis : grid) {
    std::vector<nlohmann::json> next;
    for (const auto& p : points) {
      for (const auto& v : axis.values) {
        nlohmann::json q = p;
        q[axis.key] = v;
        next.push_back(q);
      }
    }
    points = std::move(next);
  }
  if (n_random > 0) {
    std::mt19937_64 rng(random_seed);
    std::vector<nlohmann::json> next;
    for (const auto& p : points) {
      for (std::size_t i = 0; i < n_random; ++i) {
        nlohmann::json q = p;
        for (const auto& [key, d] : random_params) {
          const std::string kind = d.begin()->first.Scalar();
          const YAML::Node args = d.begin()->second;
          if (kind == "choice") {
            std::uniform_int_distribution<std::size_t> pick(0, args.size() - 1);
            q[key] = yaml_to_json(args[pick(rng)]);
          } else {
            const double lo = args[0].as<double>(), hi = args[1].as<double>();
            if (kind == "uniform") {
              q[key] = std::uniform_real_distribution<double>(lo, hi)(rng);
            } else if (kind == "loguniform") {
              q[key] = std::exp(std::uniform_real_distribution<double>(std::log(lo), std::log(hi))(rng));
            } else {
              q[key] = std::uniform_int_distribution<long long>(static_cast<long long>(std::ceil(lo)),
                                                                static_cast<long long>(std::floor(hi)))(rng);
            }
          }
        }
        next.push_back(q);
      }
    }
    points = std::move(next);
  }
  // Without `seeds`, each trial keeps the seed its experiment gives (a grid may vary train.seed).
  const bool override_seed = !seeds.empty();
  if (!override_seed) seeds.push_back(0);

  // Every trial becomes a full experiment, validated now; its model is built once to let the
  // plugin check the hyperparameters.
  std::set<std::string> checked_models;
  std::size_t groups = 0;
  for (const auto& point : points) {
    for (std::uint64_t seed : seeds) {
      std::string label = sweep ? "sweep trial " + std::to_string(plan.trials.size()) : "";
      if (!point.empty()) {
        std::string desc;
        for (auto it = point.begin(); it != point.end(); ++it) {
          desc += (desc.empty() ? "" : ", ") + it.key() + "=" + (it->is_string() ? it->get<std::string>() : it->dump());
        }
        label += (label.empty() ? "" : " ") + ("(" + desc + ")");
      }
      // The experiment of this point and seed, and of segment `segment` of its walk-forward.
      auto make_trial = [&](const Segment* segment) {
        Trial trial;
        trial.index = plan.trials.size();
        trial.params = point;
        trial.seed = seed;
        trial.point_key = point.dump();
        trial.group = groups;
        // Parsed afresh for every trial: a clone would lose the line numbers of the user's keys.
        YAML::Node tree = YAML::Load(yaml_text);
        tree.remove("sweep");
        for (auto it = point.begin(); it != point.end(); ++it) set_dotted(tree, it.key(), json_to_yaml(it.value()));
        if (override_seed) set_dotted(tree, "train.seed", YAML::Node(static_cast<unsigned long long>(seed)));
        if (segment) {
          // A segment is a plain experiment over its own dates, named after its place.
          set_dotted(tree, "data.start_date", YAML::Node(segment->data_start));
          set_dotted(tree, "data.end_date", YAML::Node(segment->test_end));
          set_dotted(tree, "data.split", YAML::Node(YAML::NodeType::Map));
          set_dotted(tree, "data.split.val_start", YAML::Node(segment->val_start));
          set_dotted(tree, "data.split.test_start", YAML::Node(segment->test_start));
          tree["evaluation"].remove("rolling");
          set_dotted(tree, "name", YAML::Node(plan.name + "_seg" + std::to_string(segment->index)));
          trial.segment = segment->to_json();
        }
        trial.spec = experiment_from_yaml(tree, file, false);
        trial.seed = trial.spec.train.seed;
        return trial;
      };
      try {
        Trial trial = make_trial(nullptr);
        const std::string model_key = trial.spec.model_type + trial.spec.model_params.dump() +
                                      std::to_string(trial.spec.features.size());
        if (!registry.find("model", trial.spec.model_type)) {
          registry.create_model(trial.spec.model_type, 1, "{}");  // throws the "unknown plugin" error
        }
        if (checked_models.insert(model_key).second) {
          const std::string error = check_model_in_child(registry, trial.spec);
          if (!error.empty()) throw ConfigError(error);
        }
        if (!registry.find("data_source", trial.spec.source)) {
          registry.create_data_source(trial.spec.source, "{}");  // throws the "unknown plugin" error
        }
        if (!trial.spec.rolling.enabled()) {
          trial.experiment = trial.spec.to_json();
          plan.trials.push_back(std::move(trial));
        } else {
          plan.walk_forward = true;
          plan.rolling = trial.spec.rolling.to_json();
          for (const Segment& segment :
               rolling_segments(trial.spec.rolling, trial.spec.split.test_start, trial.spec.end_date)) {
            Trial part = make_trial(&segment);
            part.experiment = part.spec.to_json();
            plan.trials.push_back(std::move(part));
          }
        }
      } catch (const Error& e) {
        throw ConfigError(label.empty() ? std::string(e.what()) : label + ": " + e.what());
      }
      ++groups;
    }
  }
  // A walk-forward is judged by how its combined predictions rank the stocks, unless told.
  if (plan.walk_forward && !(sweep && sweep["metric"])) {
    plan.metric = "rank_ic";
    plan.metric_mode = "max";
  }
  return plan;
}

}  // namespace klab
