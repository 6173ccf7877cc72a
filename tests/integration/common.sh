# Sourced by the integration tests (bash SCRIPT <klab source dir> <klab build dir>): sets src,
# build and work (a temporary folder removed at exit) and imports the committed sample into
# $work/kline.db — or, with sample=universe_sample set before sourcing, the universe sample
# (data/universe_sample) into $work/universe.db.
src=$1
build=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
case "${sample:-sample}" in
  sample) "$build/bin/import_kline" --quiet --db "sqlite:$work/kline.db" "$src/data/sample" > /dev/null ;;
  universe_sample) "$build/bin/import_kline" --quiet --db "sqlite:$work/universe.db" "$src/data/universe_sample" > /dev/null ;;
  *) echo "common.sh: unknown sample '$sample' (sample or universe_sample)" >&2; exit 2 ;;
esac
