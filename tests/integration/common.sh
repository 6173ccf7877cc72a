# Sourced by the integration tests (bash SCRIPT <klab source dir> <klab build dir>): sets src,
# build and work (a temporary folder removed at exit) and imports the committed sample into
# $work/kline.db.
src=$1
build=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$build/bin/import_kline" --quiet --db "sqlite:$work/kline.db" "$src/data/sample" > /dev/null
