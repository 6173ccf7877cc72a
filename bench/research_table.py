#!/usr/bin/env python3
"""The research table: mean ± std over seeds of each (model, feature set) sweep under OUT/.sweeps/.

Reads every sweep record's trials (trials/trial-NNNN.status.json: the run's eval_results, as
`sweep` wrote them) — the newest record of each experiment name — and prints a Markdown table
beside Qlib's published figures; --write FILE replaces the part of FILE between
<!-- research-table:begin --> and <!-- research-table:end -->.
"""
import argparse, csv, glob, json, math, os, statistics, sys

METRICS = [("IC", ("cross_section", "ic_mean")), ("ICIR", ("cross_section", "icir")),
           ("Rank IC", ("cross_section", "rank_ic_mean")), ("Rank ICIR", ("cross_section", "rank_icir")),
           ("Ann. excess", ("backtest", "excess_return_with_cost", "annualized_return")),
           ("IR", ("backtest", "excess_return_with_cost", "information_ratio")),
           ("Max DD", ("backtest", "excess_return_with_cost", "max_drawdown"))]
QLIB_KEYS = ["ic", "icir", "rank_ic", "rank_icir", "annualized_return", "information_ratio", "max_drawdown"]


def dig(d, path):
    for k in path:
        if not isinstance(d, dict) or k not in d:
            return None
        d = d[k]
    return d if isinstance(d, (int, float)) and math.isfinite(d) else None


def cell(values):
    values = [v for v in values if v is not None]
    if not values:
        return "–"
    if len(values) == 1:
        return f"{values[0]:.4f}"
    return f"{statistics.mean(values):.4f}±{statistics.stdev(values):.4f}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--qlib", required=True)
    ap.add_argument("--write")
    a = ap.parse_args()
    newest = {}
    for sweep_file in sorted(glob.glob(os.path.join(a.out, ".sweeps", "*", "sweep.json"))):
        record = os.path.dirname(sweep_file)
        sweep = json.load(open(sweep_file))
        newest[sweep["name"]] = (record, sweep)  # sorted by name_timestamp: the last is the newest
    rows = []
    for name, (record, sweep) in sorted(newest.items()):
        evals, seeds, experiment, failed, unfinished = [], [], None, 0, 0
        for t in sweep["trials"]:
            status_file = os.path.join(record, "trials", "trial-%04d.status.json" % t["index"])
            status = json.load(open(status_file)) if os.path.exists(status_file) else {}
            experiment = json.load(open(os.path.join(record, "trials", "trial-%04d.json" % t["index"])))
            if status.get("status") in ("failed", "interrupted"):
                failed += 1
                continue
            if status.get("status") != "completed":
                unfinished += 1
                continue
            evals.append(status["eval"])
            seeds.append(experiment["model"].get("seed", experiment["train"]["seed"]))
        if experiment is None or not evals:
            continue  # nothing completed (e.g. stopped before its first run ended)
        model = experiment["model"]["type"]
        features = experiment["features"] if isinstance(experiment["features"], str) else "custom"
        rows.append({"name": name, "model": model, "features": features, "evals": evals, "seeds": seeds,
                     "failed": failed, "unfinished": unfinished})
    # Alpha158 first, then Alpha360; within each, the networks then the row models.
    order = ["lstm", "gru", "transformer", "alstm", "tcn", "mlp", "xgboost", "linear"]
    rows.sort(key=lambda r: (r["features"].startswith("alpha360"),
                             order.index(r["model"]) if r["model"] in order else len(order), r["model"]))
    qlib = {}
    with open(a.qlib) as f:
        for r in csv.DictReader(line for line in f if not line.startswith("#")):
            qlib[(r["model"], r["features"])] = r

    header = "| model | features | seeds | " + " | ".join(m for m, _ in METRICS) + " |"
    lines = [header, "|" + "---|" * (3 + len(METRICS))]
    for r in rows:
        seeds = ", ".join(str(s) for s in r["seeds"]) + (f" ({r['failed']} failed or stopped)" if r["failed"] else "") + \
            (f" ({r['unfinished']} not finished)" if r["unfinished"] else "")
        lines.append(f"| klab {r['model']} | {r['features']} | {seeds} | " +
                     " | ".join(cell([dig(e, path) for e in r["evals"]]) for _, path in METRICS) + " |")
        # The reversal is model-free: the same on every seed's test days (the first is shown).
        base = [r["evals"][0].get("baseline_signal", {})]
        lines.append(f"| 5-day reversal, same days | {r['features']} | – | " +
                     " | ".join(cell([dig(b, path) for b in base]) for _, path in METRICS) + " |")
        q = qlib.get((r["model"], r["features"].replace("alpha158_20", "alpha158")))
        if q:
            lines.append(f"| Qlib {r['model']} (published, CSI300) | {q['dataset_as_published']} | 20 | " +
                         " | ".join(q[k] for k in QLIB_KEYS) + " |")
    table = "\n".join(lines)
    print(table)
    if a.write:
        text = open(a.write).read()
        begin, end = "<!-- research-table:begin -->", "<!-- research-table:end -->"
        if begin not in text or end not in text:
            sys.exit(f"{a.write}: no {begin} ... {end} markers")
        head, rest = text.split(begin, 1)
        _, tail = rest.split(end, 1)
        open(a.write, "w").write(head + begin + "\n" + table + "\n" + end + tail)


if __name__ == "__main__":
    main()
