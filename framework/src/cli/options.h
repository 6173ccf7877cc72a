// cli/options.h — the command-line handling every klab tool shares (Boost.Program_options).
#pragma once

#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include <boost/program_options.hpp>

#include "cli/main_guard.h"

namespace klab::cli {

// Parses argv into `vm`. A bad flag becomes a UsageError; --help prints the options and returns
// false (the tool then exits 0).
inline bool parse_command_line(int argc, char** argv, const boost::program_options::options_description& options,
                               boost::program_options::variables_map& vm,
                               const boost::program_options::positional_options_description* positional = nullptr) {
  namespace po = boost::program_options;
  try {
    po::command_line_parser parser(argc, argv);
    parser.options(options);
    if (positional != nullptr) parser.positional(*positional);
    po::store(parser.run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    throw UsageError(e.what());
  }
  if (vm.count("help")) {
    std::cout << options << "\n";
    return false;
  }
  return true;
}

// The folders given with --plugin-dir (repeatable), in order.
inline std::vector<std::filesystem::path> plugin_dirs(const boost::program_options::variables_map& vm) {
  std::vector<std::filesystem::path> dirs;
  if (vm.count("plugin-dir")) {
    for (const auto& d : vm["plugin-dir"].as<std::vector<std::string>>()) dirs.emplace_back(d);
  }
  return dirs;
}

}  // namespace klab::cli
