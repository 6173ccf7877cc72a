// klab/plugin.h — the plugin ABI: manifest, version constant and export macros.
//
// A plugin is a shared library that exports, through Boost.DLL aliases, one manifest function
// and one factory. The host reads the manifest first and calls nothing else unless its ABI
// version, kind and Torch version match the host's. Nothing registers itself from static
// constructors: loading a plugin runs no plugin code until the host asks.
#pragma once

#include <cstdint>
#include <string>

#include <boost/dll/alias.hpp>

namespace klab {

// Bumped whenever PluginManifest, Model, DataSource or a factory signature changes layout.
// 2: Model is family-neutral (fit/predict/save/load); torch modules derive from TorchModel;
//    Bar carries the two market caps.
// 3: Bar carries the day's risk-warning flag (st).
inline constexpr std::uint32_t kPluginAbiVersion = 3;

inline constexpr const char* kModelKind = "model";
inline constexpr const char* kDataSourceKind = "data_source";

// Laid out for stability: the ABI version comes first, so a host can read it from a plugin of
// any later layout and refuse it before touching the other fields.
struct PluginManifest {
  std::uint32_t abi_version;
  const char* kind;           // kModelKind or kDataSourceKind
  const char* name;           // unique across all loaded plugins: "lstm", "sqlite", ...
  const char* version;        // the plugin's own version, e.g. "1.0.0"
  const char* description;    // one line
  const char* torch_version;  // the LibTorch the plugin was compiled against, "" if it uses none
};

using ManifestFn = const PluginManifest*();

// Alias names the host looks up. Kept as macros so the export macros below can stringise them.
#define KLAB_MANIFEST_SYMBOL klab_plugin_manifest
#define KLAB_MODEL_FACTORY_SYMBOL klab_create_model
#define KLAB_DATA_SOURCE_FACTORY_SYMBOL klab_create_data_source

inline constexpr const char* kManifestSymbol = "klab_plugin_manifest";
inline constexpr const char* kModelFactorySymbol = "klab_create_model";
inline constexpr const char* kDataSourceFactorySymbol = "klab_create_data_source";

}  // namespace klab

// Exports `manifest_fn` (a function returning const klab::PluginManifest*) as the manifest.
#define KLAB_EXPORT_MANIFEST(manifest_fn) BOOST_DLL_ALIAS(manifest_fn, KLAB_MANIFEST_SYMBOL)
