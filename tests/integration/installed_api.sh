#!/usr/bin/env bash
# The API outside this tree: `cmake --install` to a temporary prefix, move the prefix (the
# package must be relocatable), then build examples/train_with_manager.cpp and a prediction
# program against it with find_package(klab) + klab::klab, and run both.
# Usage: installed_api.sh <klab source dir> <klab build dir>
set -euo pipefail
source "$(dirname "$0")/common.sh"
fail() { echo "FAIL: $*"; exit 1; }
cmake --install "$build" --prefix "$work/prefix" > "$work/install.log" 2>&1 || { cat "$work/install.log"; fail "install"; }
config=$(find "$work/prefix" -name klabConfig.cmake)
[ -n "$config" ] || fail "no klabConfig.cmake installed"
grep -q "/usr/local" "$config" && fail "klabConfig.cmake hard-codes /usr/local"
grep -q "$work/prefix" "$config" && fail "klabConfig.cmake hard-codes its install prefix"
test -f "$work/prefix/include/klab/host/runs/training_manager.h" || fail "TrainingManager's header is not installed"
test -f "$work/prefix/include/klab/host/predict/engine.h" || fail "PredictionEngine's header is not installed"
mv "$work/prefix" "$work/moved"   # relocatable: nothing points at the old place
mkdir -p "$work/user"
cp "$src/tests/integration/installed_api/CMakeLists.txt" "$src/tests/integration/installed_api/predict_one.cpp" "$work/user/"
cp "$src/examples/train_with_manager.cpp" "$work/user/"
klab_dir=$(dirname "$(find "$work/moved" -name klabConfig.cmake)")
cmake -S "$work/user" -B "$work/user/build" -DCMAKE_BUILD_TYPE=Release -Dklab_DIR="$klab_dir" \
  ${CMAKE_CXX_COMPILER_LAUNCHER:+-DCMAKE_CXX_COMPILER_LAUNCHER=$CMAKE_CXX_COMPILER_LAUNCHER} > "$work/configure.log" 2>&1 \
  || { cat "$work/configure.log"; fail "configure against the installed klab"; }
cmake --build "$work/user/build" -j 2 > "$work/build.log" 2>&1 || { cat "$work/build.log"; fail "build against the installed klab"; }
"$work/user/build/train_with_manager" "$work/kline.db" "$work/out" > "$work/train.log" || { cat "$work/train.log"; fail "train_with_manager"; }
run=$(ls -d "$work"/out/000001_lstm_*/)
"$work/user/build/predict_one" "$run" 000001 > "$work/mine.json" || fail "predict_one"
# The same number as the installed predict tool gives.
"$work/moved/bin/predict" --output-dir "$work/out" --run "$(basename "$run")" --symbol 000001 --json > "$work/tool.json" \
  || fail "the installed predict tool"
python3 - "$work/mine.json" "$work/tool.json" <<'PY'
import json, sys
mine = json.load(open(sys.argv[1]))
tool = json.load(open(sys.argv[2]))["predictions"][0]
assert mine["symbol"] == "000001" and mine["predicted_close"] == tool["predicted_close"], (mine, tool)
print("PASS: an installed, moved klab builds and runs a user's TrainingManager loop and PredictionEngine program")
PY
