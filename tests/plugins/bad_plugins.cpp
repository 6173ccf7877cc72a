// Deliberately broken plugins, one per failure the host must survive. Each is compiled into its
// own .so with one BAD_PLUGIN_* macro defined (see tests/CMakeLists.txt). None includes Torch:
// the factories only need Model forward-declared.
#include <cstdint>
#include <stdexcept>

#include <torch/version.h>

#include "klab/plugin.h"

namespace klab {
class Model;
}

namespace {

#if defined(BAD_PLUGIN_WRONG_ABI)
constexpr std::uint32_t kAbi = klab::kPluginAbiVersion + 98;
#elif defined(BAD_PLUGIN_OLD_ABI)
constexpr std::uint32_t kAbi = 1;  // built for the torch-only Model of ABI 1
#else
constexpr std::uint32_t kAbi = klab::kPluginAbiVersion;
#endif

#if defined(BAD_PLUGIN_WRONG_TORCH)
constexpr const char* kTorch = "0.0.1";
#else
constexpr const char* kTorch = TORCH_VERSION;
#endif

#ifndef BAD_PLUGIN_NAME
#define BAD_PLUGIN_NAME "bad"
#endif

}  // namespace

#if defined(BAD_PLUGIN_UNRESOLVED)
// Declared, never defined anywhere: loading with RTLD_NOW must fail with "undefined symbol".
extern "C" int klab_test_symbol_that_does_not_exist(int);
#endif

namespace bad_plugin {

const klab::PluginManifest* manifest() {
  static const klab::PluginManifest m{kAbi, klab::kModelKind, BAD_PLUGIN_NAME, "0.0.1",
                                      "a deliberately broken test plugin", kTorch};
  return &m;
}

klab::Model* create_model(std::int64_t input_size, const char* /*json*/) {
#if defined(BAD_PLUGIN_UNRESOLVED)
  klab_test_symbol_that_does_not_exist(static_cast<int>(input_size));
#endif
#if defined(BAD_PLUGIN_THROWS)
  throw std::runtime_error("factory exploded on purpose (input_size " +
                           std::to_string(input_size) + ")");
#endif
#if defined(BAD_PLUGIN_CRASHES)
  volatile int* null_pointer = nullptr;
  *null_pointer = static_cast<int>(input_size);  // a segfault, as a buggy plugin would
#endif
  (void)input_size;
  return nullptr;
}

}  // namespace bad_plugin

#if !defined(BAD_PLUGIN_NO_ENTRY)
BOOST_DLL_ALIAS(bad_plugin::manifest, KLAB_MANIFEST_SYMBOL)
BOOST_DLL_ALIAS(bad_plugin::create_model, KLAB_MODEL_FACTORY_SYMBOL)
#endif
