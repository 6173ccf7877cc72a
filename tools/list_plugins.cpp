// list_plugins — shows every plugin klab can load: name, kind, version, ABI, Torch, path.
//
// Search order: the build's plugin folder, KLAB_PLUGIN_PATH, then each --plugin-dir. Files
// that fail to load are listed with their reason, and the exit status is then 1.
#include <cstdlib>
#include <iomanip>
#include <iostream>
#include <sstream>

#include <boost/program_options.hpp>
#include <nlohmann/json.hpp>

#include "cli/options.h"
#include "plugins/registry.h"

namespace po = boost::program_options;
namespace fs = std::filesystem;

namespace {

std::string shape_text(const std::vector<std::int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

int run(int argc, char** argv) {
  po::options_description options("list_plugins [options]");
  options.add_options()
      ("help,h", "show this help")
      ("plugin-dir", po::value<std::vector<std::string>>()->composing(),
       "also search this folder (repeatable; after KLAB_PLUGIN_PATH)")
      ("json", "print JSON instead of a table")
      ("check", "build every model with default hyperparameters and run one forward pass "
                "on a [4, 60, 45] input");
  po::variables_map vm;
  if (!klab::cli::parse_command_line(argc, argv, options, vm)) return klab::cli::kExitOk;
  std::vector<fs::path> extra;
  if (vm.count("plugin-dir")) {
    for (const auto& d : vm["plugin-dir"].as<std::vector<std::string>>()) {
      if (!fs::is_directory(d)) throw klab::cli::UsageError("--plugin-dir " + d + ": no such folder");
      extra.emplace_back(d);
    }
  }

  // A folder in KLAB_PLUGIN_PATH that does not exist is a typo worth telling about.
  if (const char* env = std::getenv("KLAB_PLUGIN_PATH")) {
    std::stringstream dirs(env);
    for (std::string d; std::getline(dirs, d, ':');) {
      if (!d.empty() && !fs::is_directory(d)) std::cerr << "list_plugins: warning: KLAB_PLUGIN_PATH: " << d << ": no such folder\n";
    }
  }
  klab::PluginRegistry registry;
  registry.discover(extra);
  const auto plugins = registry.plugins();
  const bool check = vm.count("check") > 0;
  std::vector<std::string> checks(plugins.size());
  int failed_checks = 0;
  for (size_t i = 0; check && i < plugins.size(); ++i) {
    if (plugins[i].kind != "model") continue;
    try {
      auto result = klab::check_model(registry, plugins[i].name, 4, 60, 45);
      checks[i] = "ok: output " + shape_text(result.output_shape) + ", " +
                  (result.family == "torch" ? std::to_string(result.parameter_count) + " parameters"
                                            : std::string("fitted on random windows (no torch)"));
    } catch (const std::exception& e) {
      checks[i] = std::string("FAILED: ") + e.what();
      ++failed_checks;
    }
  }

  if (vm.count("json")) {
    nlohmann::json out = nlohmann::json::object();
    out["plugins"] = nlohmann::json::array();
    for (size_t i = 0; i < plugins.size(); ++i) {
      const auto& p = plugins[i];
      nlohmann::json item = {{"name", p.name},        {"kind", p.kind},
                             {"version", p.version},  {"abi_version", p.abi_version},
                             {"torch_version", p.torch_version},
                             {"path", p.path.string()}, {"description", p.description}};
      if (!checks[i].empty()) item["check"] = checks[i];
      out["plugins"].push_back(item);
    }
    out["failures"] = registry.failures();
    out["search_path"] = nlohmann::json::array();
    for (const auto& d : klab::PluginRegistry::search_path(extra)) out["search_path"].push_back(d.string());
    std::cout << out.dump(2) << "\n";
  } else {
    std::cout << std::left << std::setw(14) << "NAME" << std::setw(13) << "KIND" << std::setw(9)
              << "VERSION" << std::setw(5) << "ABI" << std::setw(8) << "TORCH" << "PATH\n";
    for (size_t i = 0; i < plugins.size(); ++i) {
      const auto& p = plugins[i];
      std::cout << std::left << std::setw(14) << p.name << std::setw(13) << p.kind << std::setw(9)
                << p.version << std::setw(5) << p.abi_version << std::setw(8)
                << (p.torch_version.empty() ? "-" : p.torch_version) << p.path.string() << "\n"
                << "    " << p.description << "\n";
      if (!checks[i].empty()) std::cout << "    check " << checks[i] << "\n";
    }
    if (plugins.empty()) std::cout << "(no plugins found)\n";
    for (const auto& failure : registry.failures()) std::cerr << "list_plugins: failed: " << failure << "\n";
  }
  return registry.failures().empty() && failed_checks == 0 ? klab::cli::kExitOk : klab::cli::kExitError;
}

}  // namespace

int main(int argc, char** argv) {
  return klab::cli::guarded_main("list_plugins", [&] { return run(argc, argv); });
}
