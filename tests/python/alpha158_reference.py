"""Alpha158 as docs/DATA.md defines it, written with pandas and numpy from that page alone, and
compared with klab's (tools/featurize --features alpha158).

Usage: alpha158_reference.py KLINE_DB SYMBOL KLAB_FEATURES_CSV

Reads the bars from the SQLite file, adjusts them backward (raw price x adj_factor, volume /
adj_factor), computes the 158 features on the stock's own trading rows with explicit windows
(numpy sliding_window_view) or pandas rolling operators, and checks klab's CSV: the same names
in the same order, NaN in the same cells, every other cell within 1e-6 relative (values whose
difference is below 1e-14 count as equal). Run with Debian's /usr/bin/python3.
"""
import sqlite3
import sys

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view

WINDOWS = (5, 10, 20, 30, 60)
EPS = 1e-12


def load(db, symbol):
    with sqlite3.connect(db) as con:
        df = pd.read_sql_query(
            "SELECT trade_date, open, high, low, close, volume, amount, adj_factor "
            "FROM stock_kline_data WHERE symbol = ? ORDER BY trade_date", con, params=(symbol,))
    for col in ("open", "high", "low", "close"):
        df[col] = df[col] * df["adj_factor"]
    df["volume"] = df["volume"] / df["adj_factor"]
    return df.set_index("trade_date")


def win(x, w):
    """Row i holds x[i-w+1 .. i]; rows without a complete window are all NaN."""
    x = np.asarray(x, dtype=float)
    out = np.full((len(x), w), np.nan)
    if len(x) >= w:
        out[w - 1:] = sliding_window_view(x, w)
    return out


def constant(W):
    """A window whose values are all equal (and defined)."""
    return np.isfinite(W).all(axis=1) & (np.nanmax(W, axis=1, initial=-np.inf) == np.nanmin(W, axis=1, initial=np.inf))


def std(W):
    s = W.std(axis=1, ddof=1)
    s[constant(W)] = 0.0
    return s


def corr(A, B):
    a = A - A.mean(axis=1, keepdims=True)
    b = B - B.mean(axis=1, keepdims=True)
    r = (a * b).sum(axis=1) / np.sqrt((a * a).sum(axis=1) * (b * b).sum(axis=1))
    r[constant(A) | constant(B)] = np.nan
    return r


def alpha158(df):
    o, h, l, c, v = (df[k].to_numpy(float) for k in ("open", "high", "low", "close", "volume"))
    amount = df["amount"].to_numpy(float)
    vwap = np.where((v > 0) & (amount > 0), amount / np.where(v > 0, v, 1), np.nan)
    f = {}
    rng = h - l + EPS
    f["KMID"] = (c - o) / o
    f["KLEN"] = (h - l) / o
    f["KMID2"] = (c - o) / rng
    f["KUP"] = (h - np.maximum(o, c)) / o
    f["KUP2"] = (h - np.maximum(o, c)) / rng
    f["KLOW"] = (np.minimum(o, c) - l) / o
    f["KLOW2"] = (np.minimum(o, c) - l) / rng
    f["KSFT"] = (2 * c - h - l) / o
    f["KSFT2"] = (2 * c - h - l) / rng
    f["OPEN0"], f["HIGH0"], f["LOW0"], f["VWAP0"] = o / c, h / c, l / c, vwap / c

    prev_c = pd.Series(c).shift(1).to_numpy()
    prev_v = pd.Series(v).shift(1).to_numpy()
    dc = c - prev_c
    dv = v - prev_v
    cs = pd.Series(c)
    ops = {}
    for w in WINDOWS:
        C, H, L, V = win(c, w), win(h, w), win(l, w), win(v, w)
        x = np.arange(1, w + 1, dtype=float)
        xc = x - x.mean()
        yc = C - C.mean(axis=1, keepdims=True)
        slope = (yc @ xc) / (xc @ xc)
        rsq = (yc @ xc) ** 2 / ((xc @ xc) * (yc * yc).sum(axis=1))
        rsq[constant(C)] = np.nan
        hmax, lmin = H.max(axis=1), L.min(axis=1)
        imax = np.where(np.isfinite(hmax), np.argmax(np.nan_to_num(H, nan=-np.inf), axis=1) + 1.0, np.nan)
        imin = np.where(np.isfinite(lmin), np.argmin(np.nan_to_num(L, nan=np.inf), axis=1) + 1.0, np.nan)
        DC, DV = win(dc, w), win(dv, w)
        up, down, absum = np.maximum(DC, 0).sum(1), np.maximum(-DC, 0).sum(1), np.abs(DC).sum(1)
        vup, vdown, vabs = np.maximum(DV, 0).sum(1), np.maximum(-DV, 0).sum(1), np.abs(DV).sum(1)
        n_up = np.where(np.isfinite(DC).all(1), (DC > 0).sum(1), np.nan)
        n_down = np.where(np.isfinite(DC).all(1), (DC < 0).sum(1), np.nan)
        WV = win(np.abs(c / prev_c - 1) * v, w)
        ops.setdefault("ROC", {})[w] = cs.shift(w).to_numpy() / c
        ops.setdefault("MA", {})[w] = cs.rolling(w).mean().to_numpy() / c
        ops.setdefault("STD", {})[w] = std(C) / c
        ops.setdefault("BETA", {})[w] = slope / c
        ops.setdefault("RSQR", {})[w] = rsq
        ops.setdefault("RESI", {})[w] = (c - (C.mean(axis=1) + slope * (w - x.mean()))) / c
        ops.setdefault("MAX", {})[w] = hmax / c
        ops.setdefault("MIN", {})[w] = lmin / c
        ops.setdefault("QTLU", {})[w] = cs.rolling(w).quantile(0.8).to_numpy() / c
        ops.setdefault("QTLD", {})[w] = cs.rolling(w).quantile(0.2).to_numpy() / c
        ops.setdefault("RANK", {})[w] = cs.rolling(w).rank(pct=True).to_numpy()
        ops.setdefault("RSV", {})[w] = (c - lmin) / (hmax - lmin + EPS)
        ops.setdefault("IMAX", {})[w] = imax / w
        ops.setdefault("IMIN", {})[w] = imin / w
        ops.setdefault("IMXD", {})[w] = (imax - imin) / w
        ops.setdefault("CORR", {})[w] = corr(C, win(np.log(v + 1), w))
        ops.setdefault("CORD", {})[w] = corr(win(c / prev_c, w), win(np.log(v / prev_v + 1), w))
        ops.setdefault("CNTP", {})[w] = n_up / w
        ops.setdefault("CNTN", {})[w] = n_down / w
        ops.setdefault("CNTD", {})[w] = n_up / w - n_down / w
        ops.setdefault("SUMP", {})[w] = up / (absum + EPS)
        ops.setdefault("SUMN", {})[w] = down / (absum + EPS)
        ops.setdefault("SUMD", {})[w] = (up - down) / (absum + EPS)
        ops.setdefault("VMA", {})[w] = V.mean(axis=1) / (v + EPS)
        ops.setdefault("VSTD", {})[w] = std(V) / (v + EPS)
        ops.setdefault("WVMA", {})[w] = std(WV) / (WV.mean(axis=1) + EPS)
        ops.setdefault("VSUMP", {})[w] = vup / (vabs + EPS)
        ops.setdefault("VSUMN", {})[w] = vdown / (vabs + EPS)
        ops.setdefault("VSUMD", {})[w] = (vup - vdown) / (vabs + EPS)
    for op, by_window in ops.items():
        for w in WINDOWS:
            f[f"{op}{w}"] = by_window[w]
    return pd.DataFrame(f, index=df.index)


def main():
    np.seterr(invalid="ignore", divide="ignore")
    db, symbol, klab_csv = sys.argv[1:4]
    ref = alpha158(load(db, symbol))
    got = pd.read_csv(klab_csv, index_col="date", na_values=["nan", "-nan"])
    assert len(ref.columns) == 158, len(ref.columns)
    assert list(got.columns) == list(ref.columns), f"columns differ:\n{list(got.columns)}\n{list(ref.columns)}"
    assert list(got.index) == list(ref.index), "dates differ"
    worst = (0.0, None, None)
    for col in ref.columns:
        a, b = got[col].to_numpy(float), ref[col].to_numpy(float)
        nan_a, nan_b = ~np.isfinite(a), ~np.isfinite(b)
        if not (nan_a == nan_b).all():
            i = int(np.argmax(nan_a != nan_b))
            sys.exit(f"FAIL {symbol} {col}: NaN pattern differs on {ref.index[i]} (klab {a[i]}, pandas {b[i]})")
        ok = ~nan_a
        diff = np.abs(a[ok] - b[ok])
        rel = diff / np.maximum(np.maximum(np.abs(a[ok]), np.abs(b[ok])), 1e-300)
        rel[diff < 1e-14] = 0.0
        if rel.size and rel.max() > worst[0]:
            i = int(np.argmax(rel))
            worst = (float(rel.max()), col, ref.index[ok][i])
        if rel.size and rel.max() > 1e-6:
            i = int(np.argmax(rel))
            sys.exit(f"FAIL {symbol} {col} on {ref.index[ok][i]}: klab {a[ok][i]!r} pandas {b[ok][i]!r} rel {rel.max():.3g}")
    undefined = int((~np.isfinite(ref.iloc[60:].to_numpy())).any(axis=1).sum())
    print(f"PASS {symbol}: {len(ref)} rows x 158 Alpha158 features agree with pandas; worst relative difference "
          f"{worst[0]:.2e} ({worst[1]} on {worst[2]}); {undefined} rows after the 60-row warm-up have an undefined feature")


if __name__ == "__main__":
    main()
