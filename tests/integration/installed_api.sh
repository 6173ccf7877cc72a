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

# Data-source plugins build against the SDK alone, as model plugins do: klab's csv and sqlite
# sources, renamed, built from the installed SDK, give the very bars the shipped ones give.
mkdir -p "$work/sources"
cp "$src/tests/integration/installed_api/data_plugins/CMakeLists.txt" "$work/sources/"
sed 's/KLAB_DATA_SOURCE_PLUGIN("csv"/KLAB_DATA_SOURCE_PLUGIN("my_csv"/' "$src/plugins/data/csv/csv_source.cpp" > "$work/sources/csv_source.cpp"
sed 's/KLAB_DATA_SOURCE_PLUGIN("sqlite"/KLAB_DATA_SOURCE_PLUGIN("my_sqlite"/' "$src/plugins/data/sqlite/sqlite_source.cpp" > "$work/sources/sqlite_source.cpp"
cp "$src/tests/plugins/mean_model.cpp" "$work/sources/"
grep -q '"my_csv"' "$work/sources/csv_source.cpp" && grep -q '"my_sqlite"' "$work/sources/sqlite_source.cpp" \
  || fail "the plugin declarations moved: update this test"
if grep -n '#include "' "$work/sources/"*.cpp | grep -v '"klab/'; then fail "a data plugin includes something outside the SDK"; fi
cmake -S "$work/sources" -B "$work/sources/build" -DCMAKE_BUILD_TYPE=Release -Dklab_DIR="$klab_dir" \
  ${CMAKE_CXX_COMPILER_LAUNCHER:+-DCMAKE_CXX_COMPILER_LAUNCHER=$CMAKE_CXX_COMPILER_LAUNCHER} > "$work/sources.log" 2>&1 \
  || { cat "$work/sources.log"; fail "configure the data plugins against the installed SDK"; }
cmake --build "$work/sources/build" -j 2 >> "$work/sources.log" 2>&1 || { cat "$work/sources.log"; fail "build the data plugins against the installed SDK"; }
# klab::sdk has no torch: none of the three links it.
for so in my_csv my_sqlite mean_model; do
  if readelf -d "$work/sources/build/$so.so" | grep NEEDED | grep -Eiq 'torch|c10'; then fail "$so.so links torch"; fi
done
KLAB_PLUGIN_PATH="$work/sources/build" "$work/moved/bin/list_plugins" --check --json > "$work/list.json"
python3 - "$work/list.json" <<'PY'
import json, sys
plugins = {p["name"]: p for p in json.load(open(sys.argv[1]))["plugins"]}
assert plugins["mean_model"]["check"].startswith("ok:"), plugins["mean_model"]
PY
for pair in "sqlite my_sqlite {\"path\":\"$work/kline.db\"}" "csv my_csv {\"path\":\"$src/data/sample\"}"; do
  read -r shipped mine options <<< "$pair"
  for symbol in 600519 000001; do
    "$work/moved/bin/featurize" --source "$shipped" --options "$options" --symbol $symbol > "$work/shipped.csv"
    KLAB_PLUGIN_PATH="$work/sources/build" "$work/moved/bin/featurize" --source "$mine" --options "$options" \
      --symbol $symbol > "$work/mine.csv" || fail "$mine could not be loaded"
    [ "$(wc -l < "$work/mine.csv")" -gt 200 ] || fail "$mine gave $(wc -l < "$work/mine.csv") lines for $symbol"
    cmp -s "$work/shipped.csv" "$work/mine.csv" || fail "$mine and $shipped disagree on $symbol"
  done
done
cmp -s <("$work/moved/bin/featurize" --source sqlite --options "{\"path\":\"$work/kline.db\"}" --symbol 600519) \
       <("$work/moved/bin/featurize" --source csv --options "{\"path\":\"$src/data/sample\"}" --symbol 600519) \
  || fail "the csv and sqlite sources disagree"
echo "PASS: klab's csv and sqlite sources build against the installed SDK alone and return the same bars"
