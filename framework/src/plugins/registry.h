// plugins/registry.h — the host side of the plugin boundary: discovery, checks, ownership.
//
// The registry loads shared libraries (RTLD_NOW, so a missing symbol fails at load), reads each
// manifest before anything else, refuses a wrong ABI, kind or Torch version and duplicate names
// (naming both files), and creates model and data-source objects whose shared_ptr deleter keeps
// the plugin's library loaded for as long as the object lives. Libraries are never unloaded
// while the registry exists. Torch stays out of this header: Model is only forward-declared.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace boost::dll {
class shared_library;
}

namespace klab {

class Model;
class TorchModel;
class DataSource;

struct PluginInfo {
  std::string name;
  std::string kind;  // "model" | "data_source"
  std::string version;
  std::string description;
  std::string torch_version;
  std::uint32_t abi_version = 0;
  std::filesystem::path path;
};

class PluginRegistry {
 public:
  PluginRegistry();
  ~PluginRegistry();
  PluginRegistry(const PluginRegistry&) = delete;
  PluginRegistry& operator=(const PluginRegistry&) = delete;

  // The folder the build (or install) puts klab's own plugins in: <dir of libklab>/klab/plugins.
  static std::filesystem::path builtin_plugin_dir();

  // Search order: the built-in folder, then each entry of KLAB_PLUGIN_PATH (colon separated),
  // then `extra_dirs` (the tools' --plugin-dir). Missing folders are skipped.
  static std::vector<std::filesystem::path> search_path(
      const std::vector<std::filesystem::path>& extra_dirs = {});

  // Loads every plugin on search_path(extra_dirs). A file that fails is not registered; its
  // one-line reason is kept in failures() so that one broken file does not hide the others.
  void discover(const std::vector<std::filesystem::path>& extra_dirs = {});

  // Loads every *.so directly inside `dir`, in name order; failures go to failures().
  void load_directory(const std::filesystem::path& dir);

  // Loads one plugin file. Throws PluginError (naming the file) when it is not a shared library,
  // has no klab entry point, a wrong ABI/kind/Torch version, an unresolved symbol, or a name
  // already taken by another file. Loading the same file twice is a no-op.
  const PluginInfo& load_file(const std::filesystem::path& file);

  const std::vector<std::string>& failures() const { return failures_; }
  std::vector<PluginInfo> plugins() const;  // sorted by kind, then name
  const PluginInfo* find(const std::string& kind, const std::string& name) const;

  // Throws PluginError listing the available models when `name` is unknown, ConfigError (with
  // the plugin's file) for bad hyperparameters, PluginError when the factory fails otherwise.
  std::shared_ptr<Model> create_model(const std::string& name, std::int64_t input_size,
                                      const std::string& hyperparameters_json) const;
  // create_model for code that drives a torch module itself (its own loop, tests); ConfigError
  // when the plugin's model is of another family.
  std::shared_ptr<TorchModel> create_torch_model(const std::string& name, std::int64_t input_size,
                                                 const std::string& hyperparameters_json) const;

  std::shared_ptr<DataSource> create_data_source(const std::string& name,
                                                 const std::string& options_json) const;

 private:
  struct Entry;
  const Entry& require(const std::string& kind, const std::string& name) const;

  std::vector<std::unique_ptr<Entry>> entries_;
  std::vector<std::string> failures_;
};

}  // namespace klab

namespace klab {

// What `list_plugins --check` reports: a model built with default hyperparameters that predicts
// once on random windows (a model of the fit family is first fitted on random labels), proving
// the plugin works end to end.
struct ModelCheck {
  std::vector<std::int64_t> output_shape;
  std::int64_t parameter_count = 0;  // torch modules; 0 for other families
  std::string family;                // "torch" | "fit"
  std::string config_json;
};

ModelCheck check_model(const PluginRegistry& registry, const std::string& name,
                       std::int64_t batch, std::int64_t seq_len, std::int64_t input_size);

}  // namespace klab
