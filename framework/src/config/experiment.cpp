// Over 400 lines: every key of the experiment file is validated here, in one place, so each
// error names the file, line and key the same way (a section reader, then one block per section).
#include "config/experiment.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <regex>
#include <sstream>
#include <set>

#include <yaml-cpp/yaml.h>

#include "klab/data/adjust.h"
#include "data/features.h"
#include "klab/data/kline_csv.h"
#include "klab/error.h"
#include "klab/symbols.h"

namespace klab {

namespace {

std::string where(const std::string& file, const YAML::Node& node) {
  const auto mark = node.Mark();
  if (mark.line < 0) return file;
  return file + ":" + std::to_string(mark.line + 1);
}

// One mapping of the YAML file: typed accessors that remember which keys were read, and
// finish() that rejects the rest. Messages carry "file:line: path.key: ...".
class Section {
 public:
  Section(const YAML::Node& node, std::string path, std::string file)
      : node_(node), path_(std::move(path)), file_(std::move(file)) {
    if (node_ && !node_.IsMap() && !node_.IsNull()) fail(node_, "", "expected a mapping of keys");
    // yaml-cpp keeps the first of two equal keys silently; a user meant one of them.
    std::set<std::string> keys;
    if (node_ && node_.IsMap()) {
      for (const auto& item : node_) {
        if (!keys.insert(item.first.Scalar()).second) fail(item.first, item.first.Scalar(), "duplicate key");
      }
    }
  }

  [[noreturn]] void fail(const YAML::Node& at, const std::string& key, const std::string& what) const {
    throw ConfigError(where(file_, at) + ": " + dotted(key) + (key.empty() && path_.empty() ? "" : ": ") + what);
  }
  std::string dotted(const std::string& key) const {
    return path_.empty() ? key : (key.empty() ? path_ : path_ + "." + key);
  }

  YAML::Node get(const std::string& key) {
    known_.insert(key);
    if (!node_ || !node_.IsMap()) return YAML::Node();
    return node_[key];
  }
  bool has(const std::string& key) const { return node_ && node_.IsMap() && node_[key]; }

  std::string text(const std::string& key, const std::string& fallback) {
    YAML::Node v = get(key);
    if (!v || v.IsNull()) return fallback;
    if (!v.IsScalar()) fail(v, key, "expected a string");
    return v.Scalar();
  }
  std::string choice(const std::string& key, const std::string& fallback, const std::vector<std::string>& choices) {
    YAML::Node v = get(key);
    std::string s = text(key, fallback);
    for (const auto& c : choices) {
      if (c == s) return s;
    }
    std::string list;
    for (const auto& c : choices) list += (list.empty() ? "" : ", ") + c;
    fail(v, key, "expected one of " + list + ", got \"" + s + "\"");
  }
  double number(const std::string& key, double fallback, double low, double high, bool open_high = false) {
    YAML::Node v = get(key);
    if (!v || v.IsNull()) return fallback;
    double d = 0;
    if (!v.IsScalar() || !YAML::convert<double>::decode(v, d) || v.Tag() == "!") {
      fail(v, key, "expected a number, got " + describe(v));
    }
    if (d < low || d > high || (open_high && d == high)) {
      fail(v, key, "must be in [" + fmt(low) + ", " + fmt(high) + (open_high ? ")" : "]") + ", got " + v.Scalar());
    }
    return d;
  }
  std::int64_t integer(const std::string& key, std::int64_t fallback, std::int64_t low) {
    YAML::Node v = get(key);
    if (!v || v.IsNull()) return fallback;
    long long i = 0;
    if (!v.IsScalar() || !YAML::convert<long long>::decode(v, i) || v.Tag() == "!") {
      fail(v, key, "expected an integer, got " + describe(v));
    }
    if (i < low) fail(v, key, "must be >= " + std::to_string(low) + ", got " + v.Scalar());
    return i;
  }
  bool boolean(const std::string& key, bool fallback) {
    YAML::Node v = get(key);
    if (!v || v.IsNull()) return fallback;
    bool b = false;
    if (!v.IsScalar() || !YAML::convert<bool>::decode(v, b) || v.Tag() == "!") {
      fail(v, key, "expected true or false, got " + describe(v));
    }
    return b;
  }
  std::string date(const std::string& key) {
    YAML::Node v = get(key);
    if (!v || v.IsNull()) return "";
    std::string iso = v.IsScalar() ? normalize_date(v.Scalar()) : "";
    if (iso.empty()) fail(v, key, "expected a date YYYY-MM-DD, got " + describe(v));
    return iso;
  }
  Section child(const std::string& key) { return Section(get(key), dotted(key), file_); }

  void finish() const {
    if (!node_ || !node_.IsMap()) return;
    for (const auto& item : node_) {
      const std::string key = item.first.Scalar();
      if (known_.count(key)) continue;
      std::string list;
      for (const auto& k : known_) list += (list.empty() ? "" : ", ") + k;
      fail(item.first, key, "unknown key (known here: " + list + ")");
    }
  }
  const YAML::Node& node() const { return node_; }
  const std::string& file() const { return file_; }

  static std::string describe(const YAML::Node& v) {
    if (v.IsScalar()) return "\"" + v.Scalar() + "\"";
    if (v.IsSequence()) return "a list";
    if (v.IsMap()) return "a mapping";
    return "nothing";
  }

 private:
  static std::string fmt(double d) {
    nlohmann::json j = d;
    return j.dump();
  }
  YAML::Node node_;
  std::string path_, file_;
  std::set<std::string> known_;
};

std::string checked_symbol(const Section& section, const YAML::Node& v, const std::string& key) {
  if (!v.IsScalar()) section.fail(v, key, "expected a symbol such as \"600519\"");
  if (v.Scalar() == "all") return "all";
  auto code = normalize_symbol(v.Scalar());
  if (!code) {
    section.fail(v, key, "\"" + v.Scalar() + "\" is not an A-share symbol (600519, sh600519, 600519.SH)");
  }
  return *code;
}

}  // namespace

nlohmann::json yaml_to_json(const YAML::Node& node) {
  if (!node || node.IsNull()) return nullptr;
  if (node.IsSequence()) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& item : node) out.push_back(yaml_to_json(item));
    return out;
  }
  if (node.IsMap()) {
    nlohmann::json out = nlohmann::json::object();
    for (const auto& item : node) out[item.first.Scalar()] = yaml_to_json(item.second);
    return out;
  }
  const std::string& s = node.Scalar();
  if (node.Tag() == "!") return s;  // quoted: always a string
  static const std::regex integer(R"([-+]?(0|[1-9][0-9]*))");
  static const std::regex real(R"([-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?)");
  // Numbers beyond what int64 and double hold stay text, so that the key's check names the key and
  // the value ("expected a number") instead of a std::out_of_range escaping (found by fuzzing).
  if (std::regex_match(s, integer)) {
    errno = 0;
    const long long v = std::strtoll(s.c_str(), nullptr, 10);
    if (errno != ERANGE) return v;
  }
  if (std::regex_match(s, real)) {
    const double v = std::strtod(s.c_str(), nullptr);
    return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(s);
  }
  if (s == "true" || s == "True" || s == "yes") return true;
  if (s == "false" || s == "False" || s == "no") return false;
  if (s == "null" || s == "~") return nullptr;
  return s;
}

ExperimentSpec experiment_from_yaml(const YAML::Node& root, const std::string& file, bool sweep_allowed) {
  if (!root || !root.IsMap()) throw ConfigError(file + ": an experiment file must be a mapping of sections");
  Section top(root, "", file);
  ExperimentSpec spec;
  spec.file = file;
  spec.name = top.text("name", std::filesystem::path(file).stem().string());
  if (!std::regex_match(spec.name, std::regex("[A-Za-z0-9_.-]+"))) {
    top.fail(top.get("name"), "name", "use letters, digits, '_', '-' and '.' only");
  }
  spec.output_dir = top.text("output_dir", spec.output_dir);
  if (sweep_allowed) top.get("sweep");  // validated by the sweep expander
  // A misspelt section (modle:) is named as such, before any "missing section" message.
  for (const char* key : {"data", "features", "target", "model", "train", "evaluation"}) top.get(key);
  top.finish();

  // --- data -------------------------------------------------------------------------------
  if (!top.has("data")) throw ConfigError(file + ": missing section 'data'");
  Section data = top.child("data");
  spec.source = data.text("source", spec.source);
  YAML::Node options = data.get("options");
  if (options && !options.IsNull()) {
    if (!options.IsMap()) data.fail(options, "options", "expected a mapping of the source's options");
    spec.source_options = yaml_to_json(options);
  }
  // A relative data path is resolved once, against the folder the experiment is started from,
  // and kept as written beside it: a run predicts from any folder, and a moved checkout finds
  // its data again through the path as written (PredictionEngine tries both).
  spec.path_as_given = data.text("path_as_given", "");
  auto path = spec.source_options.find("path");
  if (path != spec.source_options.end() && path->is_string() && !path->get<std::string>().empty() &&
      std::filesystem::path(path->get<std::string>()).is_relative()) {
    spec.path_as_given = path->get<std::string>();
    *path = std::filesystem::absolute(spec.path_as_given).lexically_normal().string();
  }
  YAML::Node one = data.get("symbol"), many = data.get("symbols");
  if (one && many) data.fail(many, "symbols", "give either symbol or symbols, not both");
  if (one) {
    spec.symbols = {checked_symbol(data, one, "symbol")};
    if (spec.symbols[0] == "all") data.fail(one, "symbol", "use symbols: all for every symbol");
  } else if (many) {
    spec.multi_symbol = true;
    if (many.IsScalar()) {
      if (many.Scalar() != "all") data.fail(many, "symbols", "expected a list of symbols or \"all\"");
      spec.symbols = {"all"};
    } else if (many.IsSequence() && many.size() > 0) {
      std::set<std::string> seen;
      for (std::size_t i = 0; i < many.size(); ++i) {
        auto s = checked_symbol(data, many[i], "symbols[" + std::to_string(i) + "]");
        if (s == "all") data.fail(many[i], "symbols", "\"all\" cannot be mixed with symbols");
        if (!seen.insert(s).second) data.fail(many[i], "symbols", "symbol " + s + " listed twice");
        spec.symbols.push_back(s);
      }
    } else {
      data.fail(many, "symbols", "expected a non-empty list of symbols or \"all\"");
    }
  }
  // data.universe: which of the symbols a run over many trains on, day by day (data/universe.h).
  YAML::Node universe = data.get("universe");
  if (universe) {
    if (one) data.fail(universe, "universe", "a universe is a run over many stocks; drop data.symbol");
    auto every_symbol = [&] {
      if (!many) {
        spec.multi_symbol = true;
        spec.symbols = {"all"};
      }
    };
    if (universe.IsScalar() && universe.Scalar() == "all") {
      every_symbol();
    } else if (universe.IsMap()) {
      Section u = data.child("universe");
      const std::string list_file = u.text("file", "");
      if (!list_file.empty()) {
        // A list of symbols, one per line ('#' starts a comment), as candidates.
        if (many) u.fail(u.get("file"), "file", "give the symbols either in data.symbols or in a file, not both");
        std::ifstream in(list_file);
        if (!in) u.fail(u.get("file"), "file", "cannot read " + list_file);
        std::set<std::string> seen;
        std::size_t line_no = 0;
        for (std::string line; std::getline(in, line);) {
          ++line_no;
          line = line.substr(0, line.find('#'));
          line.erase(std::remove_if(line.begin(), line.end(), [](unsigned char c) { return std::isspace(c); }), line.end());
          if (line.empty()) continue;
          auto code = normalize_symbol(line);
          if (!code) throw ConfigError(list_file + ":" + std::to_string(line_no) + ": \"" + line + "\" is not an A-share symbol");
          if (seen.insert(*code).second) spec.symbols.push_back(*code);
        }
        if (spec.symbols.empty()) u.fail(u.get("file"), "file", list_file + " lists no symbols");
        spec.multi_symbol = true;
      }
      spec.universe.top = static_cast<std::size_t>(u.integer("top", 0, 1));
      spec.universe.by = u.choice("by", "total_market_cap", {"total_market_cap", "float_market_cap", "amount_20d"});
      spec.universe.rebalance = u.choice("rebalance", "monthly", {"monthly", "weekly"});
      if (list_file.empty() && spec.universe.top == 0) {
        u.fail(universe, "", "expected top: N (with by and rebalance), file: PATH, or both");
      }
      u.finish();
      if (list_file.empty()) every_symbol();
    } else {
      data.fail(universe, "universe", "expected all, or a mapping {top: N, by: total_market_cap, rebalance: monthly} "
                                      "or {file: PATH}");
    }
  }
  if (spec.symbols.empty()) {
    throw ConfigError(where(file, data.node()) + ": data: missing 'symbol' (or 'symbols', or 'universe')");
  }
  spec.start_date = data.date("start_date");
  spec.end_date = data.date("end_date");
  if (!spec.start_date.empty() && !spec.end_date.empty() && spec.start_date > spec.end_date) {
    data.fail(data.get("end_date"), "end_date", "is before start_date " + spec.start_date);
  }
  if (data.has("split")) {
    Section split = data.child("split");
    const bool by_date = split.has("val_start") || split.has("test_start");
    if (by_date) {
      spec.split.val_start = split.date("val_start");
      spec.split.test_start = split.date("test_start");
      if (spec.split.val_start.empty() || spec.split.test_start.empty() ||
          spec.split.val_start >= spec.split.test_start) {
        split.fail(split.node(), "", "by date needs both val_start and test_start, val_start first");
      }
    } else {
      spec.split.train = split.number("train", 0.7, 0.0, 1.0);
      spec.split.val = split.number("val", 0.15, 0.0, 1.0);
      spec.split.test = split.number("test", 0.15, 0.0, 1.0);
      if (spec.split.train <= 0 || spec.split.val <= 0 || spec.split.test <= 0 ||
          std::abs(spec.split.train + spec.split.val + spec.split.test - 1.0) > 1e-6) {
        split.fail(split.node(), "", "train, val and test must be positive and sum to 1");
      }
    }
    split.finish();
  }
  spec.adjust = data.choice("adjust", spec.adjust, {"forward", "backward", "none"});
  spec.scaler = data.choice("scaler", spec.scaler, {"zscore", "robust", "none"});
  spec.max_gap_days = static_cast<int>(data.integer("max_gap_days", spec.max_gap_days, 1));
  spec.fill_nan = data.boolean("fill_nan", spec.fill_nan);
  data.finish();

  // --- features / target ------------------------------------------------------------------
  YAML::Node features = top.get("features");
  if (!features || features.IsNull()) {
    spec.features = feature_set("default");
  } else if (features.IsScalar()) {
    spec.features_name = features.Scalar();
    try {
      spec.features = feature_set(spec.features_name);
    } catch (const ConfigError& e) {
      throw ConfigError(where(file, features) + ": " + e.what());
    }
  } else if (features.IsSequence()) {
    spec.features_name = "custom";
    for (const auto& f : features) spec.features.push_back(f.IsScalar() ? f.Scalar() : "?");
    try {
      validate_feature_names(spec.features, "features");
    } catch (const ConfigError& e) {
      throw ConfigError(where(file, features) + ": " + e.what());
    }
  } else {
    top.fail(features, "features", "expected a set name (" + feature_set_list() + ") or a list of names");
  }
  if (top.has("target")) {
    Section target = top.child("target");
    spec.target_kind = target.choice("kind", spec.target_kind, {"close", "return", "next_return"});
    spec.horizon = static_cast<std::size_t>(target.integer("horizon", 1, 1));
    spec.target_normalize = target.choice("normalize", spec.target_normalize, {"none", "cs_rank", "cs_zscore"});
    if (!spec.multi_symbol && (spec.target_kind == "next_return" || spec.target_normalize != "none")) {
      const std::string key = spec.target_kind == "next_return" ? "kind" : "normalize";
      target.fail(target.get(key), key,
                  "next_return and a cross-sectional normalize are for runs over several symbols "
                  "(data.symbols or data.universe); one stock has no cross-section and its predictions are closes");
    }
    target.finish();
  } else {
    top.get("target");
  }

  // --- evaluation ---------------------------------------------------------------------------
  if (top.has("evaluation")) {
    Section evaluation = top.child("evaluation");
    YAML::Node backtest = evaluation.get("backtest");
    if (backtest && backtest.IsScalar() && (backtest.Scalar() == "false" || backtest.Scalar() == "true")) {
      spec.backtest = backtest.Scalar() == "true";
    } else if (backtest && !backtest.IsNull()) {
      if (!backtest.IsMap()) evaluation.fail(backtest, "backtest", "expected false, true or a mapping of options");
      try {
        spec.backtest_options = BacktestOptions::from_json(yaml_to_json(backtest));
      } catch (const ConfigError& e) {
        throw ConfigError(where(file, backtest) + ": " + e.what());
      }
    }
    if (evaluation.has("rolling")) {
      Section rolling = evaluation.child("rolling");
      for (const char* key : {"train_years", "valid_years", "test_months"}) {
        // An empty value (test_months:) is missing too: read as 0 it made an endless walk-forward
        // (found by fuzzing).
        if (!rolling.has(key) || rolling.node()[key].IsNull()) {
          rolling.fail(rolling.node(), "", std::string("missing ") + key);
        }
      }
      spec.rolling.train_years = static_cast<int>(rolling.integer("train_years", 0, 1));
      spec.rolling.valid_years = static_cast<int>(rolling.integer("valid_years", 0, 1));
      spec.rolling.test_months = static_cast<int>(rolling.integer("test_months", 0, 1));
      spec.rolling.warmup_months = static_cast<int>(rolling.integer("warmup_months", 0, 0));
      rolling.finish();
      // Segments are cut from the first test date to the last date, over the stocks of a panel.
      if (!spec.multi_symbol) {
        rolling.fail(rolling.node(), "", "needs several symbols (data.symbols: a list or all, judged by IC and backtest)");
      }
      if (spec.split.test_start.empty() || spec.end_date.empty()) {
        rolling.fail(rolling.node(), "", "needs data.split.test_start (the first test segment) and data.end_date");
      }
      rolling_segments(spec.rolling, spec.split.test_start, spec.end_date);  // at least one
    }
    evaluation.finish();
  }

  // --- model --------------------------------------------------------------------------------
  if (!top.has("model")) throw ConfigError(file + ": missing section 'model'");
  YAML::Node model = top.get("model");
  if (!model.IsMap()) top.fail(model, "model", "expected a mapping with 'type' and hyperparameters");
  if (!model["type"]) top.fail(model, "model", "missing 'type' (a model plugin name: lstm, gru, ...)");
  spec.model_type = model["type"].Scalar();
  spec.model_params = nlohmann::json::object();
  for (const auto& item : model) {
    const std::string key = item.first.Scalar();
    if (key != "type") spec.model_params[key] = yaml_to_json(item.second);
  }

  // --- train --------------------------------------------------------------------------------
  Section train = top.child("train");
  TrainSpec& t = spec.train;
  t.seq_length = static_cast<std::size_t>(train.integer("seq_length", t.seq_length, 1));
  t.epochs = static_cast<std::size_t>(train.integer("epochs", t.epochs, 1));
  t.batch_size = static_cast<std::size_t>(train.integer("batch_size", t.batch_size, 1));
  t.batch_by_date = train.boolean("batch_by_date", t.batch_by_date);
  t.learning_rate = train.number("learning_rate", t.learning_rate, 1e-12, 10.0);
  t.optimizer = train.choice("optimizer", t.optimizer, {"adam", "adamw", "sgd"});
  t.weight_decay = train.number("weight_decay", t.weight_decay, 0.0, 1.0);
  t.momentum = train.number("momentum", t.momentum, 0.0, 1.0, true);
  t.loss = train.choice("loss", t.loss, {"mse", "huber"});
  t.huber_delta = train.number("huber_delta", t.huber_delta, 1e-12, 1e12);
  t.lr_schedule = train.choice("lr_schedule", t.lr_schedule, {"none", "step", "cosine"});
  t.lr_step_size = static_cast<std::size_t>(train.integer("lr_step_size", t.lr_step_size, 1));
  t.lr_gamma = train.number("lr_gamma", t.lr_gamma, 1e-12, 1.0);
  t.min_learning_rate = train.number("min_learning_rate", t.min_learning_rate, 0.0, 10.0);
  t.grad_clip = train.number("grad_clip", t.grad_clip, 0.0, 1e12);
  t.patience = static_cast<std::size_t>(train.integer("patience", t.patience, 0));
  t.checkpoint_interval = static_cast<std::size_t>(train.integer("checkpoint_interval", t.checkpoint_interval, 1));
  t.seed = static_cast<std::uint64_t>(train.integer("seed", static_cast<std::int64_t>(t.seed), 0));
  t.threads = static_cast<int>(train.integer("threads", t.threads, 1));
  train.finish();

  top.finish();
  return spec;
}

namespace {

// Where text stops being UTF-8 (std::string::npos if it is UTF-8 throughout): the experiment's
// strings end up in JSON files (experiment.json, config.json), which hold UTF-8 only; before this
// check (found by fuzzing) such a file passed validation and its run failed on writing them.
std::size_t first_invalid_utf8(const std::string& text) {
  std::size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
    std::size_t extra = 0;
    unsigned min = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      extra = 1, min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
      extra = 2, min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
      extra = 3, min = 0x10000;
    } else {
      return i;
    }
    if (i + extra >= text.size()) return i;  // cut off at the end
    unsigned code = c & (0x3F >> extra);
    for (std::size_t k = 1; k <= extra; ++k) {
      const auto next = static_cast<unsigned char>(text[i + k]);
      if ((next & 0xC0) != 0x80) return i;
      code = (code << 6) | (next & 0x3F);
    }
    if (code < min || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) return i;
    i += extra + 1;
  }
  return std::string::npos;
}

// The same for every string the YAML reader made: an escape such as "\xA0" in a quoted string, or
// a control character, can yield bytes that are not UTF-8 from a file that is (found by fuzzing).
void require_utf8_scalars(const YAML::Node& node, const std::string& file_name) {
  if (node.IsScalar()) {
    if (first_invalid_utf8(node.Scalar()) != std::string::npos) {
      throw ConfigError(file_name + ":" + std::to_string(node.Mark().line + 1) +
                        ": a value that is not valid UTF-8 (an escape such as \\xA0?): write the character itself");
    }
  } else if (node.IsSequence()) {
    for (const auto& item : node) require_utf8_scalars(item, file_name);
  } else if (node.IsMap()) {
    for (const auto& item : node) {
      require_utf8_scalars(item.first, file_name);
      require_utf8_scalars(item.second, file_name);
    }
  }
}

}  // namespace

YAML::Node load_experiment_yaml(const std::string& yaml_text, const std::string& file_name) {
  if (const std::size_t bad = first_invalid_utf8(yaml_text); bad != std::string::npos) {
    const std::size_t line = 1 + static_cast<std::size_t>(std::count(yaml_text.begin(), yaml_text.begin() + static_cast<std::ptrdiff_t>(bad), '\n'));
    char byte[8];
    std::snprintf(byte, sizeof byte, "0x%02X", static_cast<unsigned char>(yaml_text[bad]));
    throw ConfigError(file_name + ":" + std::to_string(line) + ": not valid UTF-8 (byte " + byte +
                      "): save the experiment file as UTF-8");
  }
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::Exception& e) {
    throw ConfigError(file_name + ":" + std::to_string(e.mark.line + 1) + ": invalid YAML: " + e.msg);
  }
  require_utf8_scalars(root, file_name);
  return root;
}

ExperimentSpec parse_experiment(const std::string& yaml_text, const std::string& file_name) {
  return experiment_from_yaml(load_experiment_yaml(yaml_text, file_name), file_name);
}

ExperimentSpec load_experiment(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) throw ConfigError(file.string() + ": cannot read the experiment file");
  std::stringstream text;
  text << in.rdbuf();
  return parse_experiment(text.str(), file.string());
}

nlohmann::json ExperimentSpec::to_json() const {
  const TrainSpec& t = train;
  nlohmann::json split_json = split.val_start.empty()
                                  ? nlohmann::json{{"train", split.train}, {"val", split.val}, {"test", split.test}}
                                  : nlohmann::json{{"val_start", split.val_start}, {"test_start", split.test_start}};
  nlohmann::json data = {{"source", source},       {"options", source_options},
                         {"start_date", start_date}, {"end_date", end_date},
                         {"split", split_json},     {"adjust", adjust},
                         {"scaler", scaler},        {"max_gap_days", max_gap_days}};
  if (!path_as_given.empty()) data["path_as_given"] = path_as_given;
  if (fill_nan) data["fill_nan"] = true;
  if (universe.active()) data["universe"] = universe.to_json();
  if (multi_symbol) {
    // symbols: all stays the word (a list holding "all" is refused when read back).
    data["symbols"] = symbols == std::vector<std::string>{"all"} ? nlohmann::json("all") : nlohmann::json(symbols);
  } else {
    data["symbol"] = symbols.empty() ? "" : symbols[0];
  }
  nlohmann::json model = model_params;
  model["type"] = model_type;
  nlohmann::json evaluation = {{"backtest", backtest ? backtest_options.to_json() : nlohmann::json(false)}};
  if (rolling.enabled()) evaluation["rolling"] = rolling.to_json();
  return {{"name", name},
          {"data", data},
          {"features", features_name == "custom" ? nlohmann::json(features) : nlohmann::json(features_name)},
          {"target", target_normalize == "none"
                         ? nlohmann::json{{"kind", target_kind}, {"horizon", horizon}}
                         : nlohmann::json{{"kind", target_kind}, {"horizon", horizon}, {"normalize", target_normalize}}},
          {"model", model},
          {"train",
           {{"seq_length", t.seq_length}, {"epochs", t.epochs}, {"batch_size", t.batch_size},
            {"batch_by_date", t.batch_by_date},
            {"learning_rate", t.learning_rate}, {"optimizer", t.optimizer},
            {"weight_decay", t.weight_decay}, {"momentum", t.momentum}, {"loss", t.loss},
            {"huber_delta", t.huber_delta}, {"lr_schedule", t.lr_schedule},
            {"lr_step_size", t.lr_step_size}, {"lr_gamma", t.lr_gamma},
            {"min_learning_rate", t.min_learning_rate}, {"grad_clip", t.grad_clip},
            {"patience", t.patience}, {"checkpoint_interval", t.checkpoint_interval},
            {"seed", t.seed}, {"threads", t.threads}}},
          {"output_dir", output_dir},
          {"evaluation", evaluation}};
}

ExperimentSpec ExperimentSpec::from_json(const nlohmann::json& j, const std::string& file) {
  // JSON is YAML: re-validate through the same path so a hand-edited experiment.json is checked.
  YAML::Node root = YAML::Load(j.dump());
  // Empty dates were written as "", which the YAML reader would reject: drop them.
  if (root["data"]["start_date"] && root["data"]["start_date"].Scalar().empty()) root["data"].remove("start_date");
  if (root["data"]["end_date"] && root["data"]["end_date"].Scalar().empty()) root["data"].remove("end_date");
  return experiment_from_yaml(root, file, false);
}

DatasetSpec ExperimentSpec::dataset_spec(const std::vector<std::string>& resolved_symbols) const {
  DatasetSpec d;
  d.symbols = resolved_symbols;
  d.start_date = start_date;
  d.end_date = end_date;
  d.adjustment = parse_adjustment(adjust);
  d.features = features;
  d.seq_length = train.seq_length;
  d.target_kind = target_kind;
  d.horizon = horizon;
  d.target_normalize = target_normalize;
  d.fill_nan = fill_nan;
  d.split = split;
  d.scaler = scaler;
  d.max_gap_days = max_gap_days;
  d.skip_short_symbols = multi_symbol;
  d.universe = universe;
  return d;
}

}  // namespace klab
