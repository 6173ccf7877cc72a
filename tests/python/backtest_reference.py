"""The TopkDropout backtest as docs/EVALUATION.md states it, written from that page alone, and
compared with a run's results/backtest.json.

Usage: backtest_reference.py KLINE_DB RUN_DIR (or a walk-forward record: walk_forward/wf-NNNN)

Reads the run's predictions (results/predictions.csv.gz: signal day = as_of, score = prediction),
its universe (universe.json, when the run has one) and its backtest options, the raw bars of the
run's stocks from the SQLite file with pandas, simulates the account day by day, and checks every
daily value, return, cost, benchmark, turnover and holdings count (1e-6 relative) and the summary
(Qlib's convention). Run with Debian's /usr/bin/python3.
"""
import bisect
import gzip
import json
import math
import os
import sqlite3
import sys

import numpy as np
import pandas as pd


def limit_percent(symbol, date, st):
    if symbol[:3] in ("688", "689"):
        return 20
    if symbol[:2] == "30":
        return 20 if date >= "2020-08-24" else (5 if st == 1 else 10)
    if symbol[0] in "84" or symbol[:2] == "92":
        return 30
    return 5 if st == 1 else 10


def fen(price):
    return math.floor(price * 100 + 0.5)


def limits(pre_close, percent):
    pre = fen(pre_close)
    return (pre * (100 + percent) + 50) // 100, (pre * (100 - percent) + 50) // 100


def main():
    db, run = sys.argv[1:3]
    saved = json.load(open(os.path.join(run, "results", "backtest.json")))
    opt = saved["options"]
    pred = pd.read_csv(os.path.join(run, "results", "predictions.csv.gz"), dtype={"symbol": str})
    scores = {}
    for row in pred.itertuples():
        if np.isfinite(row.prediction):
            scores.setdefault(row.as_of, {})[row.symbol] = row.prediction
    first_day = min(scores)
    last_day = pred["date"].max()
    universe_file = os.path.join(run, "universe.json")
    rebalances = None
    if os.path.exists(universe_file):
        u = json.load(open(universe_file))
        rebalances = [(r["date"], set(r["members"])) for r in u["rebalances"]]
    # The run's stocks: those it used (the symbols asked for, or what `all` meant, less the ones
    # skipped for too little data).
    # (A walk-forward's combined record has no metadata.json: its data.json says the same.)
    meta_file = os.path.join(run, "metadata.json")
    meta = json.load(open(meta_file if os.path.exists(meta_file) else os.path.join(run, "data.json")))
    asked = meta.get("stock_symbols") or json.load(open(os.path.join(run, "experiment.json")))["data"]["symbols"]
    skipped = {s["symbol"] for s in meta.get("skipped_symbols", [])}
    run_symbols = sorted(set(asked) - skipped)

    with sqlite3.connect(db) as con:
        frame = pd.read_sql_query(
            "SELECT symbol, trade_date, close, pre_close, adj_factor, total_market_cap, st FROM stock_kline_data "
            "WHERE trade_date >= ? ORDER BY symbol, trade_date", con, params=(first_day,))
    frame = frame[frame["symbol"].isin(run_symbols)]
    data_end = frame["trade_date"].max()
    bars = {s: g.reset_index(drop=True) for s, g in frame.groupby("symbol")}
    dates_of = {s: list(g["trade_date"]) for s, g in bars.items()}
    calendar = sorted(d for d in set(frame["trade_date"]) if first_day <= d <= last_day)

    def bar_on(s, d):
        dates = dates_of.get(s, [])
        i = bisect.bisect_left(dates, d)
        return bars[s].iloc[i] if i < len(dates) and dates[i] == d else None

    def last_upto(s, d):
        dates = dates_of.get(s, [])
        i = bisect.bisect_right(dates, d) - 1
        return (i, bars[s].iloc[i]) if i >= 0 else (None, None)

    def member(s, d):
        if rebalances is None:
            return True
        i = bisect.bisect_right([r[0] for r in rebalances], d) - 1
        return i >= 0 and s in rebalances[i][1]

    def ranked(symbols, sc):
        def key(s):
            v = sc.get(s, float("nan"))
            return (1, 0.0, s) if math.isnan(v) else (0, -v, s)
        return sorted(symbols, key=key)

    cash = prev_value = opt["initial_cash"]
    hold = {}  # symbol -> [shares, factor, price]
    out = []
    for k in range(1, len(calendar)):
        t, d = calendar[k - 1], calendar[k]
        members = []
        for s in bars:
            i, b = last_upto(s, t)
            if b is not None and member(s, t):
                members.append((s, b["close"] * b["adj_factor"], b["total_market_cap"]))
        cost = traded = 0.0
        for s, h in hold.items():
            b = bar_on(s, d)
            if b is not None:
                h[0] *= b["adj_factor"] / h[1]
                h[1] = b["adj_factor"]
                h[2] = b["close"]
        for s in list(hold):
            last = dates_of[s][-1]
            if last < d and last < data_end:
                if opt["delisted"] == "last_close":
                    amount = hold[s][0] * hold[s][2]
                    c = max(amount * opt["close_cost"], opt["min_cost"])
                    cash += amount - c
                    cost += c
                    traded += amount
                del hold[s]
        if t in scores:
            sc = scores[t]
            last = ranked(list(hold), sc)
            today = ranked([s for s in sc if s not in hold], sc)[:max(0, opt["n_drop"] + opt["topk"] - len(last))]
            comb = ranked(last + today, sc)
            worst = set(comb[len(comb) - min(opt["n_drop"], len(comb)):])
            sell = [s for s in last if s in worst]
            buy = today[:max(0, len(sell) + opt["topk"] - len(last))]

            def lim(s, b):
                i = dates_of[s].index(d)
                pre = b["pre_close"] if b["pre_close"] > 0 else (bars[s].iloc[i - 1]["close"] if i > 0 else b["close"])
                st = -1 if pd.isna(b["st"]) else int(b["st"])
                return limits(pre, limit_percent(s, d, st))

            for s in sell:
                b = bar_on(s, d)
                if b is None or fen(b["close"]) <= lim(s, b)[1]:
                    continue
                amount = hold[s][0] * b["close"]
                c = max(amount * opt["close_cost"], opt["min_cost"])
                cash += amount - c
                cost += c
                traded += amount
                del hold[s]
            budget = cash * opt["risk_degree"] / len(buy) if buy else 0.0
            for s in buy:
                b = bar_on(s, d)
                if b is None or fen(b["close"]) >= lim(s, b)[0]:
                    continue
                lot_price = b["close"] * opt["lot"]
                lots = math.floor(budget / lot_price)
                while lots > 0 and lots * lot_price + max(lots * lot_price * opt["open_cost"], opt["min_cost"]) > cash:
                    lots -= 1
                if lots <= 0:
                    continue
                amount = lots * lot_price
                c = max(amount * opt["open_cost"], opt["min_cost"])
                cash -= amount + c
                cost += c
                traded += amount
                hold[s] = [lots * opt["lot"], b["adj_factor"], b["close"]]
        value = cash + sum(h[0] * h[2] for h in hold.values())
        rets, caps = [], []
        for s, close_adj, cap in members:
            b = bar_on(s, d)
            r = b["close"] * b["adj_factor"] / close_adj - 1 if b is not None else 0.0
            rets.append(r)
            if cap > 0:
                caps.append((cap, r))
        bench = sum(rets) / len(rets) if rets else 0.0
        bench_cap = sum(c * r for c, r in caps) / sum(c for c, _ in caps) if caps else bench
        out.append({"date": d, "value": value, "return": value / prev_value - 1, "cost": cost / prev_value,
                    "bench": bench, "bench_cap_weighted": bench_cap, "turnover": traded / (2 * prev_value),
                    "holdings": len(hold)})
        prev_value = value

    got = saved["daily"]
    assert len(got) == len(out), f"{len(got)} days in backtest.json, {len(out)} in the reference"
    worst = 0.0
    for a, b in zip(got, out):
        assert a["date"] == b["date"], (a["date"], b["date"])
        assert a["holdings"] == b["holdings"], (a["date"], a["holdings"], b["holdings"])
        for key in ("value", "return", "cost", "bench", "bench_cap_weighted", "turnover"):
            scale = max(abs(b[key]), 1e-3 if key != "value" else 1.0)
            err = abs(a[key] - b[key]) / scale
            worst = max(worst, err)
            assert err < 1e-6, f"{a['date']} {key}: klab {a[key]!r} reference {b[key]!r}"
    # The summary in Qlib's convention, from the reference's own series.
    excess = np.array([o["return"] - o["bench"] for o in out])
    mean, std = excess.mean(), excess.std(ddof=1)
    cum = np.cumsum(excess)
    expect = {"annualized_return": mean * 238, "information_ratio": mean / std * math.sqrt(238),
              "max_drawdown": float((cum - np.maximum.accumulate(cum)).min())}
    for key, value in expect.items():
        got_v = saved["summary"]["excess_return_with_cost"][key]
        assert abs(got_v - value) <= 1e-6 * max(1.0, abs(value)), f"summary {key}: klab {got_v} reference {value}"
    print(f"PASS backtest: {len(out)} days, {sum(o['holdings'] for o in out) / len(out):.1f} holdings on average, "
          f"final value {out[-1]['value']:,.0f}; worst relative difference {worst:.1e}; "
          f"excess return with costs {expect['annualized_return']:.4f} a year (IR {expect['information_ratio']:.3f})")


if __name__ == "__main__":
    main()
