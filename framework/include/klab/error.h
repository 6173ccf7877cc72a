// klab/error.h — the one error hierarchy of klab.
//
// Every failure a user can act on is a klab::Error subclass whose what() is a single line that
// names the file, key, line or symbol at fault. Tools catch klab::Error at main(), print that
// line and exit non-zero. Plugins throw these too; the host catches them while the plugin's
// library is still loaded and adds the plugin's file to the message.
#pragma once

#include <stdexcept>
#include <string>

namespace klab {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

// A bad experiment file, YAML key, command-line flag or hyperparameter.
class ConfigError : public Error {
 public:
  using Error::Error;
};

// Missing, malformed or inconsistent market data; a data source that cannot be reached.
class DataError : public Error {
 public:
  using Error::Error;
};

// Data that is there but cannot be reached now: the database server went away and did not come
// back within the source's reconnection attempts. Trying again later may succeed (serve: 503).
class UnavailableError : public DataError {
 public:
  using DataError::DataError;
};

// A plugin that cannot be loaded, has the wrong ABI, or whose factory failed.
class PluginError : public Error {
 public:
  using Error::Error;
};

// Failure while training, checkpointing or evaluating a run.
class TrainError : public Error {
 public:
  using Error::Error;
};

// Reading or writing run files (out/) failed.
class IoError : public Error {
 public:
  using Error::Error;
};

}  // namespace klab
