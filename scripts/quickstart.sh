#!/usr/bin/env bash
# The whole first experience on a fresh Debian 12: install, build, then the main job.
# Usage: bash scripts/quickstart.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bash "$root/scripts/setup.sh"
bash "$root/scripts/build.sh"
build=${KLAB_BUILD_DIR:-$root/build}

echo
echo "== sample databases (data/sample/kline.db, data/sample/universe.db) =="
bash "$root/scripts/make_sample_db.sh"

echo
echo "== klab plugins (each model built and run once on a [4, 60, 45] window) =="
"$build/bin/list_plugins" --check

echo
echo "== quickstart experiment (experiments/quickstart.yaml) =="
cd "$root"
"$build/bin/sweep" experiments/quickstart.yaml --progress

echo
echo "== one model over a universe, judged by its ranking and its portfolio (experiments/quickstart_universe.yaml) =="
"$build/bin/sweep" experiments/quickstart_universe.yaml

echo
echo "== look at it: every run, its curves, its daily IC and its portfolio (docs/REPORTS.md) =="
echo "   build/bin/serve --port 8080       then open http://127.0.0.1:8080/"
echo "   build/bin/report --site reports/  the same pages as offline files: reports/index.html"
