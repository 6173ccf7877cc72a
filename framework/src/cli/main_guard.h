// cli/main_guard.h — how every klab tool ends: one clear line on stderr and a non-zero exit.
#pragma once

#include <exception>
#include <functional>
#include <iostream>
#include <string>

#include "klab/error.h"

namespace klab::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitError = 1;  // a klab::Error: bad config, data, plugin, run files
inline constexpr int kExitUsage = 2;  // bad command line

// A bad command line: unknown flag, missing value, conflicting options.
class UsageError : public ConfigError {
 public:
  using ConfigError::ConfigError;
};

// Runs a tool's body; any exception becomes the single line "<tool>: error: <what>".
inline int guarded_main(const std::string& tool, const std::function<int()>& body) {
  try {
    return body();
  } catch (const UsageError& e) {
    std::cerr << tool << ": error: " << e.what() << " (see --help)\n";
    return kExitUsage;
  } catch (const std::exception& e) {
    std::cerr << tool << ": error: " << e.what() << "\n";
    return kExitError;
  }
}

}  // namespace klab::cli
