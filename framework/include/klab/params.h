// klab/params.h — reading a plugin's JSON options with defaults, types and unknown-key checks.
//
// Plugins receive their configuration as JSON text. Params parses it once, hands out typed
// values with documented defaults, and `finish()` rejects every key nobody asked for, naming it
// and listing the known keys, so a typo like `hiden_size` never silently trains the default.
#pragma once

#include <cmath>
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "klab/error.h"

namespace klab {

class Params {
 public:
  // `owner` names the plugin in messages: "model 'lstm'", "data source 'sqlite'".
  Params(const std::string& json_text, std::string owner) : owner_(std::move(owner)) {
    try {
      values_ = json_text.empty() ? nlohmann::json::object() : nlohmann::json::parse(json_text);
    } catch (const nlohmann::json::exception& e) {  // a syntax error, or a number out of range (1e999)
      throw ConfigError(owner_ + ": options are not valid JSON: " + e.what());
    }
    if (values_.is_null()) values_ = nlohmann::json::object();
    if (!values_.is_object()) throw ConfigError(owner_ + ": options must be a JSON object");
  }

  std::int64_t integer(const std::string& key, std::int64_t fallback) {
    const nlohmann::json* v = find(key);
    if (v == nullptr) return fallback;
    if (v->is_number_integer()) return v->get<std::int64_t>();
    if (v->is_number_float()) {
      double d = v->get<double>();
      if (std::floor(d) == d) return static_cast<std::int64_t>(d);
    }
    throw bad_type(key, "an integer", *v);
  }

  // An integer >= minimum.
  std::int64_t integer_at_least(const std::string& key, std::int64_t fallback, std::int64_t minimum) {
    std::int64_t v = integer(key, fallback);
    if (v < minimum) {
      throw ConfigError(owner_ + ": '" + key + "' must be >= " + std::to_string(minimum) +
                        ", got " + std::to_string(v));
    }
    return v;
  }

  double number(const std::string& key, double fallback) {
    const nlohmann::json* v = find(key);
    if (v == nullptr) return fallback;
    if (v->is_number()) return v->get<double>();
    throw bad_type(key, "a number", *v);
  }

  // A number in [low, high).
  double number_in(const std::string& key, double fallback, double low, double high) {
    double v = number(key, fallback);
    if (!(v >= low && v < high)) {
      throw ConfigError(owner_ + ": '" + key + "' must be in [" + format(low) + ", " +
                        format(high) + "), got " + format(v));
    }
    return v;
  }

  bool boolean(const std::string& key, bool fallback) {
    const nlohmann::json* v = find(key);
    if (v == nullptr) return fallback;
    if (v->is_boolean()) return v->get<bool>();
    throw bad_type(key, "true or false", *v);
  }

  std::string text(const std::string& key, const std::string& fallback) {
    const nlohmann::json* v = find(key);
    if (v == nullptr) return fallback;
    if (v->is_string()) return v->get<std::string>();
    throw bad_type(key, "a string", *v);
  }

  // A string from a fixed set of choices.
  std::string choice(const std::string& key, const std::string& fallback,
                     const std::vector<std::string>& choices) {
    std::string v = text(key, fallback);
    for (const auto& c : choices) {
      if (c == v) return v;
    }
    std::string list;
    for (const auto& c : choices) list += (list.empty() ? "" : ", ") + c;
    throw ConfigError(owner_ + ": '" + key + "' must be one of " + list + ", got \"" + v + "\"");
  }

  // Marks a key as known without reading it (for keys the host consumes, e.g. "type").
  void ignore(const std::string& key) { known_.insert(key); }

  bool has(const std::string& key) const { return values_.contains(key); }

  // Throws ConfigError naming the first key that no accessor asked for.
  void finish() const {
    for (auto it = values_.begin(); it != values_.end(); ++it) {
      if (known_.count(it.key()) == 0) {
        std::string list;
        for (const auto& k : known_) list += (list.empty() ? "" : ", ") + k;
        throw ConfigError(owner_ + ": unknown hyperparameter '" + it.key() + "' (known: " + list +
                          ")");
      }
    }
  }

  const std::string& owner() const { return owner_; }

 private:
  const nlohmann::json* find(const std::string& key) {
    known_.insert(key);
    auto it = values_.find(key);
    if (it == values_.end() || it->is_null()) return nullptr;
    return &*it;
  }

  ConfigError bad_type(const std::string& key, const char* expected, const nlohmann::json& v) const {
    return ConfigError(owner_ + ": '" + key + "' must be " + expected + ", got " + v.dump());
  }

  static std::string format(double v) {
    nlohmann::json j = v;
    return j.dump();
  }

  std::string owner_;
  nlohmann::json values_;
  std::set<std::string> known_;
};

}  // namespace klab
