#include "runs/files.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <cstdlib>
#include <chrono>
#include <cstring>
#include <ctime>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <vector>

#include "klab/error.h"

namespace klab::files {

namespace fs = std::filesystem;

void fsync_dir(const fs::path& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

void write_atomic(const fs::path& path, const std::string& content) {
  const fs::path tmp = path.parent_path() / ("." + path.filename().string() + ".tmp." + std::to_string(::getpid()));
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw IoError(path.string() + ": cannot write: " + std::strerror(errno));
  const char* data = content.data();
  std::size_t left = content.size();
  while (left > 0) {
    ssize_t n = ::write(fd, data, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      throw IoError(path.string() + ": write failed: " + std::strerror(err));
    }
    data += n;
    left -= static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    ::unlink(tmp.c_str());
    throw IoError(path.string() + ": cannot flush to disk");
  }
  crash_point("file-written");
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    throw IoError(path.string() + ": cannot rename into place: " + std::strerror(err));
  }
  crash_point("file-renamed");
  fsync_dir(path.parent_path().empty() ? fs::path(".") : path.parent_path());
}

void write_json(const fs::path& path, const nlohmann::json& value) {
  write_atomic(path, value.dump(2) + "\n");
}

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError(path.string() + ": cannot read");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

nlohmann::json read_json(const fs::path& path) {
  const std::string text = read_text(path);
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {  // parse errors, and numbers out of range (1e400)
    throw IoError(path.string() + ": not valid JSON: " + e.what());
  }
}

std::uint32_t crc32_of_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError(path.string() + ": cannot read");
  uLong crc = ::crc32(0L, Z_NULL, 0);
  std::vector<char> buffer(1 << 16);
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    const auto n = in.gcount();
    if (n > 0) crc = ::crc32(crc, reinterpret_cast<const Bytef*>(buffer.data()), static_cast<uInt>(n));
  }
  return static_cast<std::uint32_t>(crc);
}

void crash_point(const char* point) {
  const char* armed = std::getenv("KLAB_CRASH_AT");
  const char* trace = std::getenv("KLAB_CRASH_TRACE");
  if (armed == nullptr && trace == nullptr) return;
  static std::mutex mutex;
  static std::map<std::string, long> reached;
  std::lock_guard<std::mutex> lock(mutex);
  const long n = ++reached[point];
  if (trace != nullptr) {
    std::ofstream(trace, std::ios::app) << point << " " << n << "\n";
  }
  if (armed == nullptr) return;
  const std::string target = armed;
  const std::size_t colon = target.find(':');
  const std::string name = target.substr(0, colon);
  const long at = colon == std::string::npos ? 1 : std::atol(target.c_str() + colon + 1);
  if (name == point && n == at) ::kill(::getpid(), SIGKILL);
}

std::string text_or(const nlohmann::json& j, const char* key, const std::string& fallback) {
  if (!j.is_object()) return fallback;
  const auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : fallback;
}

namespace {
std::string format_now(const char* pattern) {
  std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  localtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, pattern, &tm);
  return buf;
}
}  // namespace

std::string iso_now() { return format_now("%Y-%m-%dT%H:%M:%S"); }
std::string log_now() { return format_now("%Y-%m-%d %H:%M:%S"); }
std::string compact_now() { return format_now("%Y%m%d_%H%M%S"); }

std::string log_number(double v) {
  char buf[400];  // room for the widest double in fixed notation
  std::snprintf(buf, sizeof buf, "%.6f", v);
  return buf;
}

}  // namespace klab::files
