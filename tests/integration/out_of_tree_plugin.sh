#!/usr/bin/env bash
# "No rebuild" proof: build examples/mlp_plugin outside klab's tree against the exported CMake
# package, load it through KLAB_PLUGIN_PATH, and show that no host binary changed.
# Usage: out_of_tree_plugin.sh <klab source dir> <klab build dir>
set -euo pipefail
src=$1
build=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

host_files() { find "$build/bin" "$build/lib" -maxdepth 1 -type f | sort; find "$build/lib/klab/plugins" -type f | sort; }
host_files | xargs sha256sum > "$work/before.sha"

# The steps of docs/PLUGINS.md, as a user runs them: the source from examples/, the
# CMakeLists.txt exactly as the document prints it.
mkdir -p "$work/my_plugin"
cp "$src/examples/mlp_plugin/mlp_model.cpp" "$work/my_plugin/"
python3 - "$src/docs/PLUGINS.md" > "$work/my_plugin/CMakeLists.txt" <<'PY'
import re, sys
blocks = re.findall(r"```cmake\n(.*?)```", open(sys.argv[1], encoding="utf-8").read(), re.S)
assert blocks, "docs/PLUGINS.md has no cmake block"
print(blocks[0], end="")
PY
grep -q 'klab_add_plugin(tiny_mlp' "$work/my_plugin/CMakeLists.txt" || { echo "FAIL: doc's CMakeLists"; exit 1; }
cmake -S "$work/my_plugin" -B "$work/my_plugin/build" -DCMAKE_BUILD_TYPE=Release -Dklab_DIR="$build" > "$work/configure.log" 2>&1 \
  || { cat "$work/configure.log"; exit 1; }
cmake --build "$work/my_plugin/build" > "$work/build.log" 2>&1 || { cat "$work/build.log"; exit 1; }
test -f "$work/my_plugin/build/tiny_mlp.so" || { echo "FAIL: tiny_mlp.so was not built"; exit 1; }

# Without the path the plugin is unknown; with it, list_plugins shows it and --check runs it.
if "$build/bin/list_plugins" --json | grep -q '"name": "tiny_mlp"'; then
  echo "FAIL: tiny_mlp listed without KLAB_PLUGIN_PATH"; exit 1
fi
KLAB_PLUGIN_PATH="$work/my_plugin/build" "$build/bin/list_plugins" --check --json > "$work/list.json"
python3 - "$work/list.json" <<'PY'
import json, sys
listing = json.load(open(sys.argv[1]))
plugins = {p["name"]: p for p in listing["plugins"]}
assert not listing["failures"], listing["failures"]
for name in ("lstm", "gru", "transformer", "tiny_mlp"):
    assert name in plugins, f"{name} not listed: {sorted(plugins)}"
mlp = plugins["tiny_mlp"]
assert mlp["kind"] == "model" and mlp["version"] == "0.1.0", mlp
assert mlp["path"].endswith("/my_plugin/build/tiny_mlp.so"), mlp["path"]
assert mlp["check"].startswith("ok: output [4, 1]"), mlp["check"]
print("tiny_mlp plugin:", mlp["check"])
PY
# --plugin-dir finds it too.
"$build/bin/list_plugins" --plugin-dir "$work/my_plugin/build" | grep -q '^tiny_mlp ' || { echo "FAIL: --plugin-dir"; exit 1; }

host_files | xargs sha256sum > "$work/after.sha"
diff "$work/before.sha" "$work/after.sha" || { echo "FAIL: host binaries changed"; exit 1; }
echo "PASS: out-of-tree plugin built and loaded; $(wc -l < "$work/before.sha") host files byte-identical"

# The fit family's example (examples/stump_plugin): built the same way without torch, trained by
# sweep through its fit(), and its library needs no libtorch.
cmake -S "$src/examples/stump_plugin" -B "$work/stump" -DCMAKE_BUILD_TYPE=Release -Dklab_DIR="$build" > "$work/stump.log" 2>&1 \
  && cmake --build "$work/stump" >> "$work/stump.log" 2>&1 || { cat "$work/stump.log"; echo "FAIL: stump example"; exit 1; }
if readelf -d "$work/stump/stump.so" | grep NEEDED | grep -Eiq 'torch|c10'; then echo "FAIL: stump.so links torch"; exit 1; fi
"$build/bin/import_kline" --quiet --db "sqlite:$work/kline.db" "$src/data/sample" > /dev/null
cat > "$work/stump.yaml" <<YAML
name: stump
data: {source: sqlite, options: {path: $work/kline.db}, symbols: all, start_date: 2018-01-01, end_date: 2022-01-14}
features: basic
target: {kind: return}
model: {type: stump, min_leaf: 50}
train: {seq_length: 5}
output_dir: $work/stump_out
YAML
KLAB_PLUGIN_PATH="$work/stump" "$build/bin/sweep" --quiet "$work/stump.yaml" > "$work/stump_run.log" 2>&1 \
  || { cat "$work/stump_run.log"; echo "FAIL: sweep with the stump"; exit 1; }
python3 - "$work/stump_out" <<'PY'
import glob, json, sys
run = glob.glob(sys.argv[1] + "/stump_*/")[0]
stump = json.load(open(run + "model/stump.json"))
assert 0 <= stump["feature"] < 12 and stump["left"] != stump["right"], stump
assert json.load(open(run + "metadata.json"))["model_path"].endswith("/model/stump.json")
print("PASS: the fit-family example trained by sweep:", stump)
PY
