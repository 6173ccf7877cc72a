"""Writes N synthetic stocks x Y years of weekday bars in the 邢不行 CSV format klab imports
(random walks with volume, amount and market caps; ~1% of days missing as suspensions), for the
scaling benchmark. Usage: synth_universe.py OUT_DIR N [YEARS] [SEED]
"""
import os
import sys

import numpy as np
import pandas as pd

out, n = sys.argv[1], int(sys.argv[2])
years = int(sys.argv[3]) if len(sys.argv) > 3 else 20
rng = np.random.default_rng(int(sys.argv[4]) if len(sys.argv) > 4 else 7)
os.makedirs(out, exist_ok=True)
dates = pd.bdate_range(f"{2023 - years}-01-01", "2022-12-31")
header = "数据由邢不行整理\n"
for k in range(n):
    code = f"sh{600000 + k}" if k % 2 == 0 else f"sz{k:06d}"
    keep = rng.random(len(dates)) > 0.01
    d = dates[keep]
    m = len(d)
    close = 10 * np.exp(np.cumsum(rng.normal(0, 0.02, m)))
    pre = np.concatenate([[close[0]], close[:-1]])
    open_ = pre * (1 + rng.normal(0, 0.005, m))
    high = np.maximum(open_, close) * (1 + rng.random(m) * 0.02)
    low = np.minimum(open_, close) * (1 - rng.random(m) * 0.02)
    volume = rng.integers(100_000, 10_000_000, m)
    amount = volume * (high + low) / 2
    shares = 1e9 * (1 + k % 17)
    frame = pd.DataFrame({
        "股票代码": code, "股票名称": f"合成{k}", "交易日期": d.strftime("%Y-%m-%d"),
        "开盘价": open_.round(2), "最高价": high.round(2), "最低价": low.round(2), "收盘价": close.round(2),
        "前收盘价": pre.round(2), "成交量": volume, "成交额": amount.round(0),
        "流通市值": (close * shares * 0.8).round(0), "总市值": (close * shares).round(0)})
    with open(os.path.join(out, f"{code}.csv"), "w", encoding="utf-8") as f:
        f.write(header)
        frame.to_csv(f, index=False)
