#!/usr/bin/env bash
# libFuzzer targets (tests/fuzz/: the kline CSV reader, the experiment YAML loader, the sweep
# specification, the report pages' HTTP routes, the prediction service's endpoints): builds them with Debian's clang against a klab build, replays
# their corpora (tests/fuzz/corpus/: seeds and every input that once found a bug), then fuzzes
# each target for SECONDS with AddressSanitizer + UndefinedBehaviorSanitizer. A crash, a hang
# (> 10 s on one input), a sanitizer report or a broken invariant fails it; the input that did it
# is kept in <build>/fuzz/findings/ (add it to tests/fuzz/corpus/<target>/ with the fix).
#
#   bash scripts/fuzz.sh [build dir] [seconds per target]     (CI: 20 s each; the campaign: 600)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(realpath "${1:-$root/build}")
seconds=${2:-60}
command -v clang++ > /dev/null || { echo "fuzz: clang++ not found (scripts/setup.sh installs clang)"; exit 1; }
out=$build/fuzz
mkdir -p "$out/findings"
cmake -S "$root/tests/fuzz" -B "$out/build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++ \
      -DKLAB_BUILD_DIR="$build" > "$out/configure.log" || { cat "$out/configure.log"; exit 1; }
cmake --build "$out/build" > "$out/build.log" || { tail -n 40 "$out/build.log"; exit 1; }
export TMPDIR=${TMPDIR:-/tmp}
status=0
for target in kline_csv experiment sweep_spec pages_http serve_api; do
  bin=$out/build/fuzz_$target
  corpus=$root/tests/fuzz/corpus/$target
  work=$(mktemp -d)
  # Replay: every input of the corpus, once.
  if ! "$bin" -runs=0 "$corpus" > "$out/$target.replay.log" 2>&1; then
    echo "FAIL: fuzz_$target on its corpus"; tail -n 30 "$out/$target.replay.log"; status=1; rm -rf "$work"; continue
  fi
  # Fuzz: new inputs into a scratch corpus seeded by the committed one.
  if "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=8192 -print_final_stats=1 \
       -artifact_prefix="$out/findings/${target}-" "$work" "$corpus" > "$out/$target.log" 2>&1; then
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$out/$target.log" | grep -o '[0-9]*$' || echo "?")
    echo "PASS: fuzz_$target: ${seconds} s, $runs inputs, no crash, hang or sanitizer report"
  else
    echo "FAIL: fuzz_$target (input kept in $out/findings/)"; grep -E "FINDING|ERROR|SUMMARY" "$out/$target.log" | head -n 5
    status=1
  fi
  rm -rf "$work"
done
exit $status
