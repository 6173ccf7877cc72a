#include "runs/run_lock.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <nlohmann/json.hpp>

#include "runs/files.h"

namespace klab {

namespace fs = std::filesystem;

namespace {

std::string host_name() {
  char buf[256] = {0};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "unknown";
  return buf;
}

struct flock whole_file(short type) {
  struct flock lock {};
  lock.l_type = type;
  lock.l_whence = SEEK_SET;
  lock.l_start = 0;
  lock.l_len = 0;
  lock.l_pid = 0;  // required 0 for open-file-description locks
  return lock;
}

RunOwner read_owner(int fd) {
  RunOwner owner;
  std::string text(4096, '\0');
  const ssize_t n = ::pread(fd, text.data(), text.size(), 0);
  if (n <= 0) return owner;
  text.resize(static_cast<std::size_t>(n));
  try {
    const auto j = nlohmann::json::parse(text);
    if (j.contains("pid") && j["pid"].is_number_integer()) owner.pid = j["pid"].get<long>();
    if (j.contains("host") && j["host"].is_string()) owner.host = j["host"].get<std::string>();
    if (j.contains("since") && j["since"].is_string()) owner.since = j["since"].get<std::string>();
  } catch (const nlohmann::json::exception&) {
    // Being written right now: the lock itself is what counts.
  }
  return owner;
}

}  // namespace

std::string RunOwner::describe() const {
  std::string s = pid > 0 ? "pid " + std::to_string(pid) : "another process";
  if (!host.empty()) s += " on host " + host;
  if (!since.empty()) s += " since " + since;
  return s;
}

std::unique_ptr<RunLock> RunLock::acquire(const fs::path& run_dir) {
  const fs::path path = run_dir / kRunLockFile;
  for (int attempt = 0; attempt < 5; ++attempt) {
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) throw IoError(path.string() + ": cannot create the run's lock file: " + std::strerror(errno));
    struct flock lock = whole_file(F_WRLCK);
    if (::fcntl(fd, F_OFD_SETLK, &lock) != 0) {
      const int err = errno;
      if (err == EAGAIN || err == EACCES) {
        const RunOwner owner = read_owner(fd);
        ::close(fd);
        throw RunBusyError("run " + run_dir.filename().string() + " is being written by " + owner.describe() +
                           "; wait for it to finish or stop that process (" + path.string() + ")");
      }
      ::close(fd);
      throw IoError(path.string() + ": cannot lock: " + std::strerror(err));
    }
    // The previous holder may have removed the file between our open and our lock: then we
    // locked an unlinked inode and must start again on the file that is there now.
    struct stat opened {}, named {};
    if (::fstat(fd, &opened) != 0 || ::stat(path.c_str(), &named) != 0 || opened.st_ino != named.st_ino ||
        opened.st_dev != named.st_dev) {
      ::close(fd);
      continue;
    }
    const std::string text =
        nlohmann::json{{"pid", static_cast<long>(::getpid())}, {"host", host_name()}, {"since", files::iso_now()}}.dump() +
        "\n";
    if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, text.data(), text.size(), 0) != static_cast<ssize_t>(text.size())) {
      ::close(fd);
      throw IoError(path.string() + ": cannot write the run's lock file");
    }
    ::fsync(fd);
    return std::unique_ptr<RunLock>(new RunLock(path, fd));
  }
  throw IoError(path.string() + ": the lock file keeps changing; is another process starting on this run?");
}

std::optional<RunOwner> RunLock::holder(const fs::path& run_dir) {
  const fs::path path = run_dir / kRunLockFile;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;  // no lock file: nobody has written this run since klab locks runs
  struct flock lock = whole_file(F_WRLCK);
  std::optional<RunOwner> owner;
  if (::fcntl(fd, F_OFD_GETLK, &lock) == 0 && lock.l_type != F_UNLCK) owner = read_owner(fd);
  ::close(fd);
  return owner;
}

RunLock::~RunLock() {
  // Unlink while still holding the lock, so nobody can take the old file after we let go.
  ::unlink(path_.c_str());
  ::close(fd_);
}

}  // namespace klab
