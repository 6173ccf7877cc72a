// Shared helpers for klab's tests: temporary folders, the real data set, the plugin registry,
// the throwaway MariaDB server started by the CTest fixture.
#pragma once

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "plugins/registry.h"

namespace klab::test {

namespace fs = std::filesystem;

// A fresh folder under the system temp dir, removed with everything in it at scope exit.
class TempDir {
 public:
  TempDir() {
    std::random_device rd;
    path_ = fs::temp_directory_path() /
            ("klab-test-" + std::to_string(::getpid()) + "-" + std::to_string(rd()));
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }
  fs::path operator/(const std::string& name) const { return path_ / name; }

 private:
  fs::path path_;
};

inline void write_file(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << text;
}

// ../shared/data/ashare-daily: the 20 real symbols (see docs/DATA.md).
inline fs::path shared_data_dir() { return KLAB_SHARED_DATA_DIR; }
inline fs::path sample_data_dir() { return KLAB_SAMPLE_DATA_DIR; }

// The .csv files of ../shared/data/ashare-daily, sorted.
inline std::vector<fs::path> shared_data_files() {
  std::vector<fs::path> files;
  for (const auto& item : fs::directory_iterator(shared_data_dir())) {
    if (item.path().extension() == ".csv") files.push_back(item.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

inline PluginRegistry& registry() {
  static PluginRegistry* r = [] {
    auto* reg = new PluginRegistry();
    reg->discover();
    return reg;
  }();
  return *r;
}

// The MariaDB server of the CTest fixture (scripts/mariadb_test_server.sh).
struct MariaDb {
  bool available = false;
  int port = 0;
  std::string password;
};

inline MariaDb mariadb() {
  MariaDb db;
  const char* dir = std::getenv("KLAB_TEST_MARIADB_DIR");
  if (dir == nullptr) return db;
  std::ifstream port_file(fs::path(dir) / "port"), password_file(fs::path(dir) / "password");
  if (!(port_file >> db.port) || !(password_file >> db.password)) return db;
  db.available = true;
  return db;
}

}  // namespace klab::test
