"""pandas reference for bench/data_bench: load every symbol from the SQLite file and compute the
same 45 features (tests/python/features_reference.py). Prints the best of N runs."""
import os
import sqlite3
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "python"))
import features_reference as ref  # noqa: E402


def main():
    db, repeat = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 3
    with sqlite3.connect(db) as con:
        symbols = [r[0] for r in con.execute("SELECT symbol FROM stock_basic_info ORDER BY symbol")]
    best, rows = float("inf"), 0
    for _ in range(repeat):
        t0 = time.perf_counter()
        rows = 0
        for s in symbols:
            rows += len(ref.features(ref.load(db, s, "1000-01-01", "9999-12-31")))
        best = min(best, time.perf_counter() - t0)
    print(f"load+featurize source=pandas symbols={len(symbols)} rows={rows} features=45 seconds={best}")


if __name__ == "__main__":
    main()
