// klab/model.h — the interface every model plugin implements.
//
// A Model is a torch::nn::Module that maps a batch of feature windows [batch, seq_len,
// n_features] to predictions [batch, n_outputs]. It is built from the number of input features
// and a JSON object of hyperparameters, validates its own keys, and reports its full
// configuration (defaults filled in) for the run's model/config.json. Parameters are registered
// under the names PyTorch's Python modules use, so a state_dict saved by klab loads in Python.
#pragma once

#include <cstdint>
#include <string>

#include <torch/nn/module.h>
#include <torch/types.h>
#include <torch/version.h>

#include "klab/error.h"
#include "klab/params.h"
#include "klab/plugin.h"

namespace klab {

class Model : public torch::nn::Module {
 public:
  ~Model() override = default;

  // [batch, seq_len, input_size] -> [batch, output_size].
  virtual torch::Tensor forward(const torch::Tensor& input) = 0;

  // The plugin name this model came from ("lstm", ...).
  virtual std::string model_type() const = 0;

  // Complete configuration as a JSON object text: model_type, input_size, output_size and every
  // hyperparameter with its effective value. Feeding this back to the factory rebuilds the model.
  virtual std::string config_json() const = 0;

  virtual std::int64_t input_size() const = 0;
  virtual std::int64_t output_size() const = 0;
};

// Accepts the identity keys that config_json() writes ("model_type", "input_size"), so a saved
// model/config.json can be fed back to the factory, and rejects ones that contradict the call.
inline void accept_model_identity(Params& params, const std::string& model_type,
                                  std::int64_t input_size) {
  std::string type = params.text("model_type", model_type);
  if (type != model_type) {
    throw ConfigError(params.owner() + ": 'model_type' is \"" + type + "\" but this plugin is \"" +
                      model_type + "\"");
  }
  std::int64_t size = params.integer("input_size", input_size);
  if (size != input_size) {
    throw ConfigError(params.owner() + ": 'input_size' is " + std::to_string(size) +
                      " but the data has " + std::to_string(input_size) + " features");
  }
  if (input_size < 1) {
    throw ConfigError(params.owner() + ": input_size must be >= 1, got " +
                      std::to_string(input_size));
  }
}

// Factory exported by a model plugin. Returns a new model owned by the caller; throws
// klab::ConfigError for bad hyperparameters. `hyperparameters_json` is a JSON object text.
using ModelFactoryFn = Model*(std::int64_t input_size, const char* hyperparameters_json);

}  // namespace klab

// Declares a model plugin: its manifest and its factory, which constructs `ModelClass` from
// (input_size, const std::string& hyperparameters_json). Use once per plugin, at namespace scope.
#define KLAB_MODEL_PLUGIN(plugin_name, plugin_version, plugin_description, ModelClass)   \
  namespace klab_plugin_entry {                                                           \
  const ::klab::PluginManifest* manifest() {                                              \
    static const ::klab::PluginManifest m{::klab::kPluginAbiVersion, ::klab::kModelKind,  \
                                          plugin_name, plugin_version,                    \
                                          plugin_description, TORCH_VERSION};             \
    return &m;                                                                            \
  }                                                                                       \
  ::klab::Model* create_model(std::int64_t input_size, const char* hyperparameters_json) { \
    return new ModelClass(input_size, std::string(hyperparameters_json));                 \
  }                                                                                       \
  }                                                                                       \
  BOOST_DLL_ALIAS(klab_plugin_entry::manifest, KLAB_MANIFEST_SYMBOL)                      \
  BOOST_DLL_ALIAS(klab_plugin_entry::create_model, KLAB_MODEL_FACTORY_SYMBOL)
