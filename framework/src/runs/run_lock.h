// runs/run_lock.h — who owns a run folder while it is being written.
//
// A process that writes a run (training, resuming, deleting) holds `{run}/.lock`: an
// open-file-description lock (fcntl F_OFD_SETLK) on a file that also records pid, host and
// start time for people to read. The kernel drops the lock when its holder exits, however it
// exits (kill -9 included), so a lock file left behind by a dead process is recognised as stale
// and simply taken over; a second writer while the first is alive is refused with a message
// naming it. The lock file is removed on a clean release.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "klab/error.h"

namespace klab {

// Another live process holds the run.
class RunBusyError : public IoError {
 public:
  using IoError::IoError;
};

struct RunOwner {
  long pid = 0;
  std::string host;
  std::string since;  // ISO time the lock was taken
  std::string describe() const;  // "pid 1234 on host node1 since 2025-01-19T14:30:25"
};

class RunLock {
 public:
  // Takes the run folder for this process. Throws RunBusyError naming the holder when another
  // live process (or another lock in this one) has it, IoError when the file cannot be made.
  static std::unique_ptr<RunLock> acquire(const std::filesystem::path& run_dir);
  // The live holder of the run's lock, or nullopt when nobody writes the run now.
  static std::optional<RunOwner> holder(const std::filesystem::path& run_dir);

  RunLock(const RunLock&) = delete;
  RunLock& operator=(const RunLock&) = delete;
  ~RunLock();

 private:
  RunLock(std::filesystem::path path, int fd) : path_(std::move(path)), fd_(fd) {}
  std::filesystem::path path_;
  int fd_;
};

inline constexpr const char* kRunLockFile = ".lock";

}  // namespace klab
