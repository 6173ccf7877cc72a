"""The reference for bench/run_alpha158_bench.sh: Alpha158 for every symbol of a klab SQLite file
with the pandas/numpy implementation the tests compare klab with (tests/python/alpha158_reference.py,
written from docs/DATA.md: numpy windows, pandas rolling mean/quantile/rank). Loading and computing
are timed apart. Usage: alpha158_pandas.py KLINE_DB [MAX_SYMBOLS]
"""
import os
import sqlite3
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "python"))
import numpy as np  # noqa: E402
import alpha158_reference as ref  # noqa: E402

db = sys.argv[1]
limit = int(sys.argv[2]) if len(sys.argv) > 2 else None
np.seterr(all="ignore")
with sqlite3.connect(db) as con:
    symbols = [r[0] for r in con.execute("SELECT DISTINCT symbol FROM stock_kline_data ORDER BY symbol")]
symbols = symbols[:limit] if limit else symbols
start = time.time()
frames = [ref.load(db, s) for s in symbols]
load = time.time() - start
start = time.time()
rows = sum(len(ref.alpha158(df)) for df in frames)
seconds = time.time() - start
print(f"pandas load symbols={len(symbols)} rows={rows} seconds={load:.2f}")
print(f"pandas features=alpha158 threads=1 rows={rows} seconds={seconds:.2f} rows_per_second={rows / seconds:.0f}")
