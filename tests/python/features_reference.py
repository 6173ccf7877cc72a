"""pandas re-implementation of klab's default features (docs/DATA.md), compared with klab's.

Usage: features_reference.py KLINE_DB SYMBOL KLAB_FEATURES_CSV [START END [ADJUST]]

Reads the same bars from the SQLite file with pandas, adjusts them from adj_factor as docs/DATA.md
defines it (backward, the default: raw x factor; forward: raw x factor / last factor),
computes all 45 features independently, and checks klab's output (tools/featurize) against
them: the same warm-up (NaN) cells, and every other cell within 1e-6 relative.
Run with Debian's /usr/bin/python3 (python3-pandas).
"""
import sqlite3
import sys

import numpy as np
import pandas as pd


def load(db, symbol, start, end, adjust):
    with sqlite3.connect(db) as con:
        df = pd.read_sql_query(
            "SELECT trade_date, open, high, low, close, pre_close, volume, amount, adj_factor "
            "FROM stock_kline_data WHERE symbol = ? AND trade_date >= ? AND trade_date <= ? "
            "ORDER BY trade_date", con, params=(symbol, start, end))
    if adjust == "backward":
        ratio = df["adj_factor"]
    elif adjust == "forward":
        ratio = df["adj_factor"] / df["adj_factor"].iloc[-1]
    else:
        ratio = df["adj_factor"] * 0 + 1
    for col in ("open", "high", "low", "close", "pre_close"):
        df[col] = df[col] * ratio
    df["volume"] = df["volume"] / ratio
    return df.set_index("trade_date")


def rsi(close, n):
    delta = close.diff()
    gain = delta.clip(lower=0).ewm(alpha=1 / n, adjust=False).mean()
    loss = (-delta).clip(lower=0).ewm(alpha=1 / n, adjust=False).mean()
    out = 100 * gain / (gain + loss)
    out[(gain + loss) == 0] = 50.0
    return out


def position(x, lo, hi):
    out = (x - lo) / (hi - lo)
    out[hi == lo] = 0.5
    out[lo.isna() | hi.isna()] = np.nan
    return out


def features(df):
    o, h, l, c, v = df["open"], df["high"], df["low"], df["close"], df["volume"]
    f = pd.DataFrame(index=df.index)
    f["close"], f["open"], f["high"], f["low"], f["volume"] = c, o, h, l, v
    for w in (5, 10, 20, 60):
        f[f"ma_{w}"] = c.rolling(w).mean()
    f["ema_12"] = c.ewm(span=12, adjust=False).mean()
    f["ema_26"] = c.ewm(span=26, adjust=False).mean()
    for k in (1, 5, 10, 20):
        f[f"return_{k}"] = c / c.shift(k) - 1
    f["log_return_1"] = np.log(c / c.shift(1))
    for w in (5, 10, 20):
        f[f"volatility_{w}"] = f["return_1"].rolling(w).std()
    f["rsi_6"], f["rsi_14"] = rsi(c, 6), rsi(c, 14)
    f["macd"] = f["ema_12"] - f["ema_26"]
    f["macd_signal"] = f["macd"].ewm(span=9, adjust=False).mean()
    f["macd_hist"] = f["macd"] - f["macd_signal"]
    std20 = c.rolling(20).std()
    f["bb_upper"] = f["ma_20"] + 2 * std20
    f["bb_lower"] = f["ma_20"] - 2 * std20
    f["bb_width"] = (f["bb_upper"] - f["bb_lower"]) / f["ma_20"]
    f["bb_position"] = position(c, f["bb_lower"], f["bb_upper"])
    rsv = 100 * position(c, l.rolling(9).min(), h.rolling(9).max())
    f["kdj_k"] = rsv.ewm(alpha=1 / 3, adjust=False).mean()
    f["kdj_d"] = f["kdj_k"].ewm(alpha=1 / 3, adjust=False).mean()
    f["kdj_j"] = 3 * f["kdj_k"] - 2 * f["kdj_d"]
    prev = c.shift(1)
    tr = pd.concat([h - l, (h - prev).abs(), (l - prev).abs()], axis=1).max(axis=1)
    f["atr_14"] = tr.rolling(14).mean()
    f["atr_ratio_14"] = f["atr_14"] / c
    f["volume_ma_5"] = v.rolling(5).mean()
    f["volume_ratio_5"] = v / f["volume_ma_5"]
    f["volume_ratio_20"] = v / v.rolling(20).mean()
    f["log_amount"] = np.log1p(df["amount"])
    f["volume_change_1"] = v / v.shift(1) - 1
    f["kmid"] = (c - o) / o
    f["klen"] = (h - l) / o
    f["kup"] = (h - np.maximum(o, c)) / o
    f["klow"] = (np.minimum(o, c) - l) / o
    f["ksft"] = (2 * c - h - l) / o
    for w in (20, 60):
        f[f"position_{w}"] = position(c, l.rolling(w).min(), h.rolling(w).max())
    return f


def main():
    db, symbol, klab_csv = sys.argv[1:4]
    start, end = (sys.argv[4], sys.argv[5]) if len(sys.argv) > 5 else ("1000-01-01", "9999-12-31")
    adjust = sys.argv[6] if len(sys.argv) > 6 else "backward"
    ref = features(load(db, symbol, start, end, adjust))
    got = pd.read_csv(klab_csv, index_col="date", na_values=["nan"])
    assert list(got.columns) == list(ref.columns), f"columns differ:\n{list(got.columns)}\n{list(ref.columns)}"
    assert list(got.index) == list(ref.index), "dates differ"
    assert len(ref.columns) == 45, len(ref.columns)
    worst = (0.0, None, None)
    for col in ref.columns:
        a, b = got[col].to_numpy(), ref[col].to_numpy()
        nan_a, nan_b = np.isnan(a), np.isnan(b)
        if not (nan_a == nan_b).all():
            i = int(np.argmax(nan_a != nan_b))
            sys.exit(f"FAIL {col}: NaN pattern differs at {ref.index[i]} (klab {a[i]}, pandas {b[i]})")
        ok = ~nan_a
        rel = np.abs(a[ok] - b[ok]) / np.maximum(np.maximum(np.abs(a[ok]), np.abs(b[ok])), 1e-12)
        rel[np.abs(a[ok] - b[ok]) < 1e-12] = 0.0   # both (near) zero
        if rel.size and rel.max() > worst[0]:
            i = int(np.argmax(rel))
            worst = (float(rel.max()), col, ref.index[ok][i])
        if rel.size and rel.max() > 1e-6:
            i = int(np.argmax(rel))
            sys.exit(f"FAIL {col} at {ref.index[ok][i]}: klab {a[ok][i]!r} pandas {b[ok][i]!r} rel {rel.max():.3g}")
    warm = int(ref.isna().any(axis=1).sum())
    print(f"PASS {symbol}: {len(ref)} rows x {len(ref.columns)} features agree with pandas; "
          f"worst relative difference {worst[0]:.2e} ({worst[1]} on {worst[2]}); {warm} warm-up rows")


if __name__ == "__main__":
    main()
