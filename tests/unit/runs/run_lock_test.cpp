// runs/run_lock: one writer per run folder; a dead writer's lock is stale, never a blocker.
#include "runs/run_lock.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>

#include <gtest/gtest.h>

#include "runs/files.h"
#include "runs/run_index.h"
#include "runs/training_manager.h"

namespace fs = std::filesystem;

namespace {

fs::path fresh_dir(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() / ("klab_lock_" + std::to_string(::getpid()) + "_" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

}  // namespace

TEST(RunLock, OneWriterAtATimeAndReleasedOnDestruction) {
  const fs::path dir = fresh_dir("one");
  EXPECT_FALSE(klab::RunLock::holder(dir));
  {
    auto lock = klab::RunLock::acquire(dir);
    const auto owner = klab::RunLock::holder(dir);
    ASSERT_TRUE(owner);
    EXPECT_EQ(owner->pid, ::getpid());
    EXPECT_FALSE(owner->host.empty());
    try {
      klab::RunLock::acquire(dir);
      FAIL() << "a second lock on the same run must be refused";
    } catch (const klab::RunBusyError& e) {
      EXPECT_NE(std::string(e.what()).find("is being written by pid " + std::to_string(::getpid())), std::string::npos)
          << e.what();
    }
  }
  EXPECT_FALSE(klab::RunLock::holder(dir));
  EXPECT_FALSE(fs::exists(dir / klab::kRunLockFile)) << "a clean release removes the lock file";
  fs::remove_all(dir);
}

TEST(RunLock, AKilledHoldersLockIsStaleAndTakenOver) {
  const fs::path dir = fresh_dir("killed");
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto lock = klab::RunLock::acquire(dir);
    char c = 1;
    (void)!::write(ready[1], &c, 1);
    ::pause();  // killed with SIGKILL below: no destructor runs
    ::_exit(0);
  }
  char c = 0;
  ASSERT_EQ(::read(ready[0], &c, 1), 1);
  const auto owner = klab::RunLock::holder(dir);
  ASSERT_TRUE(owner);
  EXPECT_EQ(owner->pid, child);
  EXPECT_THROW(klab::RunLock::acquire(dir), klab::RunBusyError);
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
  EXPECT_TRUE(fs::exists(dir / klab::kRunLockFile)) << "kill -9 leaves the file behind";
  EXPECT_FALSE(klab::RunLock::holder(dir)) << "but not the lock";
  auto lock = klab::RunLock::acquire(dir);
  EXPECT_EQ(klab::RunLock::holder(dir)->pid, ::getpid());
  ::close(ready[0]);
  ::close(ready[1]);
  fs::remove_all(dir);
}

TEST(RunIndex, WrongTypesAndNonFiniteMetricsAreProblemsNotCrashes) {
  const fs::path out = fresh_dir("index");
  fs::create_directories(out / "notes");
  klab::files::write_atomic(out / "notes" / "todo.txt", "not a run\n");
  auto write_run = [&](const std::string& name, const std::string& metadata, const std::string& eval) {
    fs::create_directories(out / name / "results");
    klab::files::write_atomic(out / name / "metadata.json", metadata);
    if (!eval.empty()) klab::files::write_atomic(out / name / "results" / "eval_results.json", eval);
  };
  write_run("a_status5", R"({"status": 5, "created_at": "2025-01-01T00:00:00"})", "");
  write_run("b_created7", R"({"status": "completed", "created_at": 7, "stock_symbol": "600519"})",
            R"({"mae": 2.0, "test_samples": 100, "baseline": {"mae": 4.0}})");
  write_run("c_null", R"({"status": null})", "");
  write_run("d_mae_string", R"({"status": "completed", "stock_symbol": "600519"})", R"({"mae": "1.0", "test_samples": 5})");
  write_run("e_training_nobody", R"({"status": "training"})", "");
  const auto runs = klab::load_run_index(out);
  ASSERT_EQ(runs.size(), 5u) << "notes/ is not a run";
  std::map<std::string, klab::RunRecord> by_name;
  for (const auto& r : runs) by_name[r.name] = r;
  EXPECT_EQ(by_name["a_status5"].fields["status"], "unreadable");
  ASSERT_FALSE(by_name["a_status5"].problems.empty());
  EXPECT_NE(by_name["a_status5"].problems[0].find("status is 5, not a string"), std::string::npos);
  EXPECT_EQ(by_name["b_created7"].fields["status"], "completed");
  EXPECT_EQ(by_name["b_created7"].fields["mae_vs_baseline"], 0.5);
  EXPECT_TRUE(by_name["b_created7"].covers("600519"));
  EXPECT_FALSE(by_name["b_created7"].covers("000001"));
  EXPECT_EQ(by_name["c_null"].fields["status"], "unreadable");
  EXPECT_FALSE(by_name["d_mae_string"].fields.contains("mae"));
  EXPECT_TRUE(by_name["d_mae_string"].fields.value("small_test_set", false));
  EXPECT_EQ(by_name["e_training_nobody"].fields["status"], klab::kStatusInterrupted);
  EXPECT_EQ(klab::TrainingManager::other_folders(out), std::vector<std::string>{"notes"});
  fs::remove_all(out);
}
