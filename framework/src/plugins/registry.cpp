#include "plugins/registry.h"

#include <algorithm>
#include <cmath>
#include <cctype>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>
#include <tuple>

#include <boost/dll/runtime_symbol_info.hpp>
#include <boost/dll/shared_library.hpp>

#include "klab/data_source.h"
#include "klab/error.h"
#include "klab/model.h"
#include "klab/torch_model.h"
#include "klab/plugin.h"

namespace klab {

namespace fs = std::filesystem;
using Library = boost::dll::shared_library;

struct PluginRegistry::Entry {
  PluginInfo info;
  fs::path canonical;
  std::shared_ptr<Library> library;
};

namespace {

std::string quoted(const fs::path& p) { return p.string(); }

// An ELF shared object starts with 0x7f 'E' 'L' 'F'; checking first turns dlopen's terse
// "invalid ELF header" / "file too short" into a message that says what the file is not.
void require_elf(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw PluginError(quoted(file) + ": cannot open plugin file");
  char magic[4] = {0, 0, 0, 0};
  in.read(magic, 4);
  if (in.gcount() != 4 || std::memcmp(magic, "\x7f" "ELF", 4) != 0) {
    throw PluginError(quoted(file) + ": not a shared library (no ELF header)");
  }
}

bool valid_name(const char* name) {
  if (name == nullptr || *name == '\0') return false;
  for (const char* c = name; *c != '\0'; ++c) {
    if (!(std::isalnum(static_cast<unsigned char>(*c)) || *c == '_' || *c == '-')) return false;
  }
  return true;
}

std::string text_or_empty(const char* s) { return s == nullptr ? std::string() : std::string(s); }

}  // namespace

PluginRegistry::PluginRegistry() = default;
PluginRegistry::~PluginRegistry() = default;

fs::path PluginRegistry::builtin_plugin_dir() {
  // This function lives in libklab; plugins sit in klab/plugins beside it, in the build tree
  // and in an installed tree alike.
  std::error_code ec;
  fs::path self = fs::weakly_canonical(boost::dll::this_line_location(), ec);
  return self.parent_path() / "klab" / "plugins";
}

std::vector<fs::path> PluginRegistry::search_path(const std::vector<fs::path>& extra_dirs) {
  std::vector<fs::path> dirs{builtin_plugin_dir()};
  if (const char* env = std::getenv("KLAB_PLUGIN_PATH")) {
    std::stringstream ss(env);
    std::string item;
    while (std::getline(ss, item, ':')) {
      if (!item.empty()) dirs.emplace_back(item);
    }
  }
  dirs.insert(dirs.end(), extra_dirs.begin(), extra_dirs.end());
  return dirs;
}

void PluginRegistry::discover(const std::vector<fs::path>& extra_dirs) {
  for (const auto& dir : search_path(extra_dirs)) load_directory(dir);
}

void PluginRegistry::load_directory(const fs::path& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return;
  std::vector<fs::path> files;
  for (const auto& item : fs::directory_iterator(dir, ec)) {
    if (item.path().extension() == ".so" && !fs::is_directory(item.path(), ec)) {
      files.push_back(item.path());
    }
  }
  std::sort(files.begin(), files.end());
  for (const auto& file : files) {
    try {
      load_file(file);
    } catch (const Error& e) {
      failures_.push_back(e.what());
    }
  }
}

const PluginInfo& PluginRegistry::load_file(const fs::path& file) {
  std::error_code ec;
  fs::path absolute = fs::absolute(file, ec);
  if (!fs::is_regular_file(absolute, ec)) throw PluginError(quoted(file) + ": no such plugin file");
  fs::path canonical = fs::canonical(absolute, ec);
  for (const auto& entry : entries_) {
    if (entry->canonical == canonical) return entry->info;
  }
  require_elf(absolute);

  auto library = std::make_shared<Library>();
  try {
    library->load(absolute, boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local);
  } catch (const std::exception& e) {
    throw PluginError(quoted(absolute) + ": cannot load: " + e.what());
  }
  if (!library->has(kManifestSymbol)) {
    throw PluginError(quoted(absolute) + ": not a klab plugin (no entry point '" +
                      kManifestSymbol + "'; export one with KLAB_MODEL_PLUGIN or " +
                      "KLAB_DATA_SOURCE_PLUGIN)");
  }
  const PluginManifest* manifest = nullptr;
  try {
    manifest = library->get_alias<ManifestFn>(kManifestSymbol)();
  } catch (const std::exception& e) {
    throw PluginError(quoted(absolute) + ": manifest function failed: " + e.what());
  }
  if (manifest == nullptr) throw PluginError(quoted(absolute) + ": manifest function returned null");
  if (manifest->abi_version != kPluginAbiVersion) {
    throw PluginError(quoted(absolute) + ": plugin ABI version " +
                      std::to_string(manifest->abi_version) + ", but this klab expects " +
                      std::to_string(kPluginAbiVersion) + "; rebuild the plugin against this klab");
  }

  PluginInfo info;
  info.abi_version = manifest->abi_version;
  info.kind = text_or_empty(manifest->kind);
  info.name = text_or_empty(manifest->name);
  info.version = text_or_empty(manifest->version);
  info.description = text_or_empty(manifest->description);
  info.torch_version = text_or_empty(manifest->torch_version);
  info.path = absolute;

  const char* factory = nullptr;
  if (info.kind == kModelKind) {
    factory = kModelFactorySymbol;
  } else if (info.kind == kDataSourceKind) {
    factory = kDataSourceFactorySymbol;
  } else {
    throw PluginError(quoted(absolute) + ": unknown plugin kind \"" + info.kind +
                      "\" (expected \"model\" or \"data_source\")");
  }
  if (!valid_name(manifest->name)) {
    throw PluginError(quoted(absolute) + ": invalid plugin name \"" + info.name +
                      "\" (letters, digits, '_' and '-' only)");
  }
  // A model plugin without torch records "" and is of another family (klab/model.h).
  if (info.kind == kModelKind && !info.torch_version.empty() && info.torch_version != TORCH_VERSION) {
    throw PluginError(quoted(absolute) + ": built against LibTorch " +
                      (info.torch_version.empty() ? std::string("(unknown)") : info.torch_version) +
                      ", but this klab uses " + TORCH_VERSION + "; rebuild the plugin");
  }
  if (!library->has(factory)) {
    throw PluginError(quoted(absolute) + ": " + info.kind + " plugin '" + info.name +
                      "' has no factory '" + factory + "'");
  }
  for (const auto& entry : entries_) {
    if (entry->info.kind == info.kind && entry->info.name == info.name) {
      throw PluginError(quoted(absolute) + ": duplicate " + info.kind + " plugin name '" +
                        info.name + "', already loaded from " + quoted(entry->info.path));
    }
  }

  auto entry = std::make_unique<Entry>();
  entry->info = std::move(info);
  entry->canonical = canonical;
  entry->library = std::move(library);
  entries_.push_back(std::move(entry));
  return entries_.back()->info;
}

std::vector<PluginInfo> PluginRegistry::plugins() const {
  std::vector<PluginInfo> out;
  for (const auto& entry : entries_) out.push_back(entry->info);
  std::sort(out.begin(), out.end(), [](const PluginInfo& a, const PluginInfo& b) {
    return std::tie(a.kind, a.name) < std::tie(b.kind, b.name);
  });
  return out;
}

const PluginInfo* PluginRegistry::find(const std::string& kind, const std::string& name) const {
  for (const auto& entry : entries_) {
    if (entry->info.kind == kind && entry->info.name == name) return &entry->info;
  }
  return nullptr;
}

const PluginRegistry::Entry& PluginRegistry::require(const std::string& kind,
                                                     const std::string& name) const {
  std::string available;
  for (const auto& entry : entries_) {
    if (entry->info.kind != kind) continue;
    if (entry->info.name == name) return *entry;
    available += (available.empty() ? "" : ", ") + entry->info.name;
  }
  std::string message = "unknown " + std::string(kind == kModelKind ? "model" : "data source") +
                        " plugin '" + name + "' (available: " +
                        (available.empty() ? "none" : available) + ")";
  if (!failures_.empty()) message += "; " + std::to_string(failures_.size()) +
                                     " plugin file(s) failed to load, first: " + failures_.front();
  throw PluginError(message + "; add its folder to KLAB_PLUGIN_PATH or --plugin-dir");
}

namespace {

// Runs a plugin factory, turning whatever it throws into a klab error that names the file.
template <typename Fn>
auto call_factory(const PluginInfo& info, Fn&& fn) {
  const std::string where = info.kind + " plugin '" + info.name + "' (" + quoted(info.path) + ")";
  try {
    auto* object = fn();
    if (object == nullptr) throw PluginError(where + ": factory returned null");
    return object;
  } catch (const ConfigError& e) {
    throw ConfigError(std::string(e.what()) + " [" + quoted(info.path) + "]");
  } catch (const DataError& e) {
    throw DataError(std::string(e.what()) + " [" + quoted(info.path) + "]");
  } catch (const PluginError&) {
    throw;
  } catch (const std::exception& e) {
    throw PluginError(where + ": factory failed: " + e.what());
  } catch (...) {
    throw PluginError(where + ": factory failed with a non-standard exception");
  }
}

}  // namespace

std::shared_ptr<Model> PluginRegistry::create_model(const std::string& name,
                                                    std::int64_t input_size,
                                                    const std::string& hyperparameters_json) const {
  const Entry& entry = require(kModelKind, name);
  auto& factory = entry.library->get_alias<ModelFactoryFn>(kModelFactorySymbol);
  Model* model = call_factory(entry.info, [&] {
    return factory(input_size, hyperparameters_json.c_str());
  });
  // The deleter holds the library: the model's code stays mapped until the model is gone.
  std::shared_ptr<Library> keep = entry.library;
  if (TorchModel* torch_model = model->as_torch()) {
    if (entry.info.torch_version.empty()) {
      delete model;
      throw PluginError("model plugin '" + name + "' (" + quoted(entry.info.path) +
                        "): a torch model in a plugin whose manifest names no LibTorch; rebuild it with klab/torch_model.h");
    }
    // Owned as the torch::nn::Module it is, so the module's shared_from_this works; handed out
    // as the Model it also is.
    std::shared_ptr<TorchModel> owner(torch_model, [keep](TorchModel* m) { delete m; });
    return std::shared_ptr<Model>(owner, model);
  }
  return std::shared_ptr<Model>(model, [keep](Model* m) { delete m; });
}

std::shared_ptr<TorchModel> PluginRegistry::create_torch_model(const std::string& name, std::int64_t input_size,
                                                               const std::string& hyperparameters_json) const {
  auto model = create_model(name, input_size, hyperparameters_json);
  TorchModel* torch_model = model->as_torch();
  if (torch_model == nullptr) {
    throw ConfigError("model plugin '" + name + "' is not a torch model (it learns with fit())");
  }
  return std::shared_ptr<TorchModel>(model, torch_model);
}

std::shared_ptr<DataSource> PluginRegistry::create_data_source(
    const std::string& name, const std::string& options_json) const {
  const Entry& entry = require(kDataSourceKind, name);
  auto& factory = entry.library->get_alias<DataSourceFactoryFn>(kDataSourceFactorySymbol);
  DataSource* source = call_factory(entry.info, [&] { return factory(options_json.c_str()); });
  std::shared_ptr<Library> keep = entry.library;
  return std::shared_ptr<DataSource>(source, [keep](DataSource* s) { delete s; });
}

}  // namespace klab

namespace klab {

ModelCheck check_model(const PluginRegistry& registry, const std::string& name,
                       std::int64_t batch, std::int64_t seq_len, std::int64_t input_size) {
  auto model = registry.create_model(name, input_size, "{}");
  const auto inputs = torch::randn({batch, seq_len, input_size}).contiguous();
  const auto labels = torch::randn({batch}).contiguous();
  WindowView view;
  view.inputs = inputs.data_ptr<float>();
  view.rows = batch;
  view.seq_length = seq_len;
  view.n_features = input_size;
  ModelCheck check;
  if (TorchModel* torch_model = model->as_torch()) {
    check.family = "torch";
    for (const auto& p : torch_model->parameters()) check.parameter_count += p.numel();
  } else {
    check.family = "fit";
    WindowView labelled = view;
    labelled.labels = labels.data_ptr<float>();
    model->fit(labelled, labelled);
  }
  std::vector<float> out(static_cast<std::size_t>(batch * model->output_size()));
  model->predict(view, out.data());
  check.output_shape = {batch, model->output_size()};
  for (float v : out) {
    if (!std::isfinite(v)) throw PluginError("model plugin '" + name + "': predict() gave a non-finite value");
  }
  check.config_json = model->config_json();
  return check;
}

}  // namespace klab
