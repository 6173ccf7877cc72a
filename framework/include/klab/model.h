// klab/model.h — the interface every model plugin implements, whatever its family.
//
// A Model maps feature windows [rows, seq_length, n_features] to predictions [rows,
// output_size]. It is built from the number of input features and a JSON object of
// hyperparameters, validates its own keys, and reports its full configuration (defaults filled
// in) for the run's model/config.json. Two families (docs/PLUGINS.md):
//   - torch modules (klab/torch_model.h) are trained by the host's loop: batches, optimiser,
//     schedule, checkpoints, weights saved as model/pytorch_model.bin;
//   - models that learn in one call (trees, linear, ...) implement fit(), save() and load()
//     here, and link no torch at all (klab::sdk).
// Every family ends in the same predictions table and the same out/ files.
#pragma once

#include <cstdint>
#include <string>

#include "klab/error.h"
#include "klab/params.h"
#include "klab/plugin.h"

namespace klab {

class TorchModel;

// Feature windows as the host hands them over: row-major floats [rows, seq_length, n_features],
// scaled as training saw them, and one scaled label per row (nullptr when predicting). The
// memory belongs to the host and lives for the duration of the call.
struct WindowView {
  const float* inputs = nullptr;
  const float* labels = nullptr;
  std::int64_t rows = 0;
  std::int64_t seq_length = 0;
  std::int64_t n_features = 0;
};

// How a model that reads rows, not sequences (trees, linear, an MLP), sees a window: the features
// of its last row (`last_row`: the day's features) or all its rows flattened, oldest first
// (`flatten`: seq_length x n_features columns). Both are contiguous in the host's memory.
enum class RowInput { last_row, flatten };
inline RowInput row_input(const std::string& name) { return name == "flatten" ? RowInput::flatten : RowInput::last_row; }
inline std::int64_t row_width(const WindowView& v, RowInput input) {
  return input == RowInput::flatten ? v.seq_length * v.n_features : v.n_features;
}
inline const float* row_of(const WindowView& v, std::int64_t row, RowInput input) {
  const float* window = v.inputs + row * v.seq_length * v.n_features;
  return input == RowInput::flatten ? window : window + (v.seq_length - 1) * v.n_features;
}

class Model {
 public:
  virtual ~Model() = default;

  // The plugin name this model came from ("lstm", ...).
  virtual std::string model_type() const = 0;

  // Complete configuration as a JSON object text: model_type, input_size, output_size and every
  // hyperparameter with its effective value. Feeding this back to the factory rebuilds the model.
  virtual std::string config_json() const = 0;

  virtual std::int64_t input_size() const = 0;
  virtual std::int64_t output_size() const = 0;

  // A torch module (klab/torch_model.h) returns itself: the host trains it with its own loop and
  // saves its state_dict. Every other family returns nullptr and implements fit/save/load.
  virtual TorchModel* as_torch() { return nullptr; }

  // Learns from the training windows, with the validation windows to tune on (early stopping,
  // model selection). Returns a JSON object text reporting how it went; "train_loss" and
  // "val_loss" (mean squared error on the scaled labels) are recorded as the run's one epoch,
  // other keys are kept in training_metrics.json beside them.
  virtual std::string fit(const WindowView& train, const WindowView& validation) = 0;

  // Predictions for every row of `view`: out[row * output_size() + k].
  virtual void predict(const WindowView& view, float* out) = 0;

  // Writes what the fitted model needs into `folder` (model/ of the run, which exists) and
  // returns the name of its main file there (metadata.model_path points at it). load() reads
  // the same files back into a model built from the same config. Not called for torch modules.
  virtual std::string save(const std::string& folder) const = 0;
  virtual void load(const std::string& folder) = 0;
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

// The LibTorch version a model plugin records in its manifest: "" (none) unless
// klab/torch_model.h is included, which makes it TORCH_VERSION.
#ifndef KLAB_MODEL_TORCH_VERSION
#define KLAB_MODEL_TORCH_VERSION ""
#endif

// Declares a model plugin: its manifest and its factory, which constructs `ModelClass` from
// (input_size, const std::string& hyperparameters_json). Use once per plugin, at namespace scope.
#define KLAB_MODEL_PLUGIN(plugin_name, plugin_version, plugin_description, ModelClass)   \
  namespace klab_plugin_entry {                                                           \
  const ::klab::PluginManifest* manifest() {                                              \
    static const ::klab::PluginManifest m{::klab::kPluginAbiVersion, ::klab::kModelKind,  \
                                          plugin_name, plugin_version,                    \
                                          plugin_description, KLAB_MODEL_TORCH_VERSION};  \
    return &m;                                                                            \
  }                                                                                       \
  ::klab::Model* create_model(std::int64_t input_size, const char* hyperparameters_json) { \
    return new ModelClass(input_size, std::string(hyperparameters_json));                 \
  }                                                                                       \
  }                                                                                       \
  BOOST_DLL_ALIAS(klab_plugin_entry::manifest, KLAB_MANIFEST_SYMBOL)                      \
  BOOST_DLL_ALIAS(klab_plugin_entry::create_model, KLAB_MODEL_FACTORY_SYMBOL)
