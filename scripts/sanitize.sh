#!/usr/bin/env bash
# The sanitizer lanes: klab built again with the sanitizers in every klab target (CMake option
# KLAB_SANITIZE; LibTorch, BLAS and the other system libraries stay as Debian ships them), then a
# subset of the test suite run in that build. Every report a sanitizer writes (ASan, UBSan, LSan,
# TSan; in test binaries and in every tool a test runs) goes to a log file of its own; the lane
# fails if any exists, whether or not the test that ran the process noticed.
#
#   bash scripts/sanitize.sh address [build dir]   AddressSanitizer + UndefinedBehaviorSanitizer
#        (leaks included): the unit tests and the integration tests listed below
#   bash scripts/sanitize.sh thread [build dir]    ThreadSanitizer: the fused kernels' threaded
#        paths on std::threads (every instruction set the CPU has), the prediction service
#        under concurrent clients and /reload (several engines), and imports into MariaDB by two
#        writers beside the parsing threads
# Default build dirs: build-asan/ and build-tsan/ beside build/. scripts/test.sh runs both lanes
# after the main suite. Suppressions, and why each is there: tests/sanitizers/.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
lane=${1:-address}
case "$lane" in
  address) sanitize=address,undefined ;;
  thread) sanitize=thread ;;
  *) echo "sanitize: unknown lane '$lane' (expected address or thread)" >&2; exit 2 ;;
esac
build=$(realpath -m "${2:-$root/build-${lane:0:1}san}")
export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$root}
mkdir -p "$build"
log=$build/sanitize  # its .configure.log, .build.log and .tests.log
if [ ! -f "$build/CMakeCache.txt" ]; then
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DKLAB_SANITIZE=$sanitize > "$log.configure.log" 2>&1 \
    || { cat "$log.configure.log"; exit 1; }
fi

# What each lane builds and runs. The address lane: every test but those below, i.e. every unit
# test and the integration tests that drive the tools through training, evaluation, prediction,
# the service, sweeps, the importers, the database and the fault paths. Left out: what repeats
# code the others run at a larger scale or longer (the kill campaign, the grid, the universe
# quickstart, the pages, the examples), what builds or checks source rather than running klab
# (the installed API, the out-of-tree plugins, the architecture), slurm, the pinned results
# (bit-for-bit figures of the -O3 build), and the fuzzers (sanitized builds of their own).
# The GoogleTest binaries run whole, one process each (a process under ASan takes ~3 s of CPU to
# start with LibTorch: one per test, as CTest runs them, cost 10 minutes); CTest runs the rest.
if [ "$lane" = address ]; then
  targets=(all)
  gtests=(klab_unit_tests klab_train_tests klab_fused_kernel_tests)
  tests='^(Integration\.|Fixture\.|MariaDbTest\.|FusedRnn\.InstructionSet\.|FusedKernels\.InstructionSet\.)'
  exclude='^(Integration|Fuzz)\.(KillAnywhere|SweepSlurm|PinnedResults|InstalledApi|OutOfTreePlugin|Architecture|Regression|GridExample|QuickstartUniverse|ReportPages|TrainWithManagerExample|UniversePointInTime|ResearchTableArchivesSeeds)$'
else
  targets=(klab_fused_kernel_tests klab_mysql_tests serve sweep predict import_kline lstm gru sqlite mysql)
  gtests=()
  tests='^(FusedKernels\.InstructionSet\..*|Integration\.PredictAndServe|MariaDbTest\.(TwoWritersStoreExactlyWhatOneWriterStores|AWriteRefusedUnderOneWriterLosesOnlyThatWritersGroup|AllTwentyFilesImportAndReadBackIdenticallyToSqlite))$'
  exclude='^$'
fi
echo "sanitize: $lane lane in $build (-fsanitize=$sanitize): building ${targets[*]}"
cmake --build "$build" -j "$(nproc)" --target "${targets[@]}" > "$log.build.log" 2>&1 \
  || { tail -n 40 "$log.build.log"; exit 1; }

reports=$build/sanitizer-reports
rm -rf "$reports"
mkdir -p "$reports"
supp=$root/tests/sanitizers
# ASan, LSan and TSan reports go to <reports>/<tool>.<pid>. GCC's UBSan runtime is a library of
# its own beside ASan's and ignores log_path: its reports go to the process's stderr, which the
# tests keep in their output (all of it in <build>/sanitize.tests.log: ctest -V) or in the
# logs they print when they fail. Every process stops at its first report (halt_on_error), so
# the test that ran it fails too.
export ASAN_OPTIONS="log_path=$reports/asan:detect_leaks=1:halt_on_error=1:detect_stack_use_after_return=0:strict_string_checks=1:check_initialization_order=1"
export LSAN_OPTIONS="suppressions=$supp/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:suppressions=$supp/ubsan.supp"
export TSAN_OPTIONS="log_path=$reports/tsan:halt_on_error=1:second_deadlock_stack=1:suppressions=$supp/tsan.supp"
# A test that makes a process fail on purpose where a sanitizer catches it first (the crashing
# test plugin) sends those reports elsewhere and checks them itself.
export KLAB_SANITIZER_LANE=$lane
# Python, bash and the other programs the integration tests run are not instrumented; only
# klab's binaries load the sanitizer runtimes.
cd "$build"
status=0
: > "$log.tests.log"
gtest_count=0
for binary in "${gtests[@]}"; do
  echo "== bin/$binary" >> "$log.tests.log"
  if "./bin/$binary" >> "$log.tests.log" 2>&1; then
    gtest_count=$((gtest_count + $(grep -a "^\[  PASSED  \] [0-9]* test" "$log.tests.log" | tail -n 1 | grep -oE "[0-9]+")))
  else
    echo "FAIL: $binary (its output in $log.tests.log)"
    status=1
  fi
done
ctest -V -j "$(nproc)" -R "$tests" -E "$exclude" --timeout 1200 >> "$log.tests.log" 2>&1 || status=1
grep -E "tests passed|tests failed|Total Test time" "$log.tests.log" || true
if [ $status -ne 0 ]; then
  grep -E "^\s*[0-9]+ - |\*\*\*Failed|\*\*\*Timeout|\*\*\*Exception" "$log.tests.log" | head -n 40
fi
found=$(find "$reports" -type f | wc -l)
if [ "$found" -gt 0 ]; then
  echo "sanitize: $found sanitizer report(s) in $reports:"
  for f in $(find "$reports" -type f | head -n 5); do echo "== $f"; head -n 40 "$f"; done
  status=1
fi
# UBSan's reports, in the tests' output; the crashing test plugin's null store is deliberate
# (Integration.SweepLocal checks that it is caught).
ub=$(grep -a "runtime error:" "$log.tests.log" | grep -v "tests/plugins/bad_plugins.cpp:" | sort -u || true)
if [ -n "$ub" ]; then
  echo "sanitize: UndefinedBehaviorSanitizer reports in the tests' output ($log.tests.log):"
  echo "$ub" | head -n 20
  status=1
fi
ran=$(grep -oE "[0-9]+ tests? failed out of [0-9]+" "$log.tests.log" | grep -oE "[0-9]+$" || echo 0)
if [ $status -eq 0 ]; then
  echo "PASS: sanitize $lane: $gtest_count GoogleTest tests in ${#gtests[@]} processes and $ran CTest entries, no sanitizer report"
else
  echo "FAIL: sanitize $lane (log: $log.tests.log)"
fi
exit $status
