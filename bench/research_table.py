#!/usr/bin/env python3
"""The research table: mean ± std over seeds of each (model, feature set) experiment.

Reads every sweep record's trials under each OUT/.sweeps/ (trials/trial-NNNN.status.json: the
run's eval_results, as `sweep` wrote them) — the newest record of each experiment name — and
files each completed trial in the archive (--archive, default bench/research/: one JSON file per
experiment, committed with the repository, so seeds measured in different sessions or on
different days add up). A seed measured again replaces its earlier measurement; an archive made
with a different experiment (any key but the seed, the database path and train.threads) is
refused, never mixed or overwritten.

The table is built from the archive and printed beside Qlib's published figures; --write FILE
replaces, between <!-- research-table:begin --> and <!-- research-table:end --> of FILE, the
rows of every archived experiment and keeps the rows of the others as they are.
"""
import argparse, copy, csv, glob, json, math, os, platform, statistics, sys

METRICS = [("IC", ("cross_section", "ic_mean")), ("ICIR", ("cross_section", "icir")),
           ("Rank IC", ("cross_section", "rank_ic_mean")), ("Rank ICIR", ("cross_section", "rank_icir")),
           ("Ann. excess", ("backtest", "excess_return_with_cost", "annualized_return")),
           ("IR", ("backtest", "excess_return_with_cost", "information_ratio")),
           ("Max DD", ("backtest", "excess_return_with_cost", "max_drawdown"))]
QLIB_KEYS = ["ic", "icir", "rank_ic", "rank_icir", "annualized_return", "information_ratio", "max_drawdown"]
# Alpha158 first, then Alpha360; within each, the networks then the row models.
ORDER = ["lstm", "gru", "transformer", "alstm", "tcn", "mlp", "xgboost", "linear"]
BEGIN, END = "<!-- research-table:begin -->", "<!-- research-table:end -->"


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


def seed_of(experiment):
    """A fit-family model draws its randomness from model.seed, a network from train.seed."""
    return experiment["model"].get("seed", experiment["train"].get("seed"))


def setting(experiment):
    """The experiment without what differs between the seeds of one row or between machines."""
    e = copy.deepcopy(experiment)
    e["model"].pop("seed", None)
    e.get("train", {}).pop("seed", None)
    e.get("train", {}).pop("threads", None)  # cores given to a run: the same model and data
    e.get("data", {}).get("options", {}).pop("path", None)
    for k in ("output_dir", "sweep"):
        e.pop(k, None)
    return e


def first_difference(a, b, prefix=""):
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            if k not in a or k not in b:
                return prefix + k
            d = first_difference(a[k], b[k], prefix + k + ".")
            if d:
                return d
        return None
    return None if a == b else prefix.rstrip(".")


def write_atomically(path, text):
    """No half-written file: the text goes to PATH.tmp, then replaces PATH."""
    with open(path + ".tmp", "w") as f:
        f.write(text)
    os.replace(path + ".tmp", path)


def read_sweeps(out):
    """{experiment name: {"setting", "model", "features", "runs": [...], "failed", "unfinished"}}."""
    newest = {}
    for sweep_file in sorted(glob.glob(os.path.join(out, ".sweeps", "*", "sweep.json"))):
        sweep = json.load(open(sweep_file))
        newest[sweep["name"]] = (os.path.dirname(sweep_file), sweep)  # name_timestamp: last is newest
    found = {}
    for name, (record, sweep) in sorted(newest.items()):
        entry = None
        for t in sweep["trials"]:
            trial = os.path.join(record, "trials", "trial-%04d" % t["index"])
            experiment = json.load(open(trial + ".json"))
            status = json.load(open(trial + ".status.json")) if os.path.exists(trial + ".status.json") else {}
            this = setting(experiment)
            if entry is None:
                features = experiment["features"] if isinstance(experiment["features"], str) else "custom"
                entry = {"model": experiment["model"]["type"], "features": features,
                         "setting": this, "runs": [], "failed": 0, "unfinished": 0}
            if this != entry["setting"]:
                sys.exit(f"research_table: {trial}.json: not the experiment of the record's first trial "
                         f"(differs at {first_difference(this, entry['setting'])}); "
                         "one record must vary the seed only")
            if status.get("status") in ("failed", "interrupted"):
                entry["failed"] += 1
            elif status.get("status") != "completed":
                entry["unfinished"] += 1
            else:
                entry["runs"].append({"seed": seed_of(experiment), "run": status.get("run_name", ""),
                                      "finished_at": status.get("finished_at", ""),
                                      "epochs_trained": status.get("epochs_trained"),
                                      "best_epoch": status.get("best_epoch"), "eval": status["eval"]})
        if entry is not None:
            found[name] = entry
    return found


def archive_runs(archive, name, entry, cpu):
    """Files entry's completed runs in archive/NAME.json; returns the archived experiment."""
    path = os.path.join(archive, name + ".json")
    if os.path.exists(path):
        stored = json.load(open(path))
        if stored["setting"] != entry["setting"]:
            sys.exit(f"research_table: {path}: its runs were made with another experiment than {name} now "
                     f"(differs at {first_difference(stored['setting'], entry['setting'])}); "
                     "move the file aside to start the row again")
    else:
        stored = {"name": name, "model": entry["model"], "features": entry["features"],
                  "setting": entry["setting"], "runs": []}
    for run in entry["runs"]:
        run = dict(run, cpu=cpu)
        stored["runs"] = [r for r in stored["runs"] if r["seed"] != run["seed"]] + [run]
    stored["runs"].sort(key=lambda r: (str(type(r["seed"])), r["seed"]))
    if entry["runs"]:
        os.makedirs(archive, exist_ok=True)
        write_atomically(path, json.dumps(stored, indent=1, sort_keys=True) + "\n")
    return stored


def rows_of(stored, notes, qlib):
    runs = stored["runs"]
    evals = [r["eval"] for r in runs]
    seeds = ", ".join(str(r["seed"]) for r in runs) + notes
    lines = [f"| klab {stored['model']} | {stored['features']} | {seeds} | " +
             " | ".join(cell([dig(e, path) for e in evals]) for _, path in METRICS) + " |"]
    # The reversal is model-free: the same on every seed's test days (the first is shown).
    base = [evals[0].get("baseline_signal", {})]
    lines.append(f"| 5-day reversal, same days | {stored['features']} | – | " +
                 " | ".join(cell([dig(b, path) for b in base]) for _, path in METRICS) + " |")
    q = qlib.get((stored["model"], stored["features"].replace("alpha158_20", "alpha158")))
    if q:
        lines.append(f"| Qlib {stored['model']} (published, CSI300) | {q['dataset_as_published']} | 20 | " +
                     " | ".join(q[k] for k in QLIB_KEYS) + " |")
    return lines


def group_key(model, features):
    return (features.startswith("alpha360"), ORDER.index(model) if model in ORDER else len(ORDER), model,
            features)


def existing_groups(table_text):
    """The row groups of a written table: {(model, features): [lines]}, each from its 'klab' row."""
    groups, current = {}, None
    for line in table_text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("| klab "):
            current = (cells[0][len("klab "):], cells[1])
            groups[current] = []
        if current is not None:
            groups[current].append(line)
    return groups


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out", nargs="*", help="output folders whose .sweeps/ records to read (none: the archive only)")
    ap.add_argument("--qlib", required=True)
    ap.add_argument("--archive", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "research"))
    ap.add_argument("--write")
    a = ap.parse_args()
    cpu = platform.processor()
    if os.path.exists("/proc/cpuinfo"):
        info = {}
        for line in open("/proc/cpuinfo"):
            key, _, value = line.partition(":")
            info.setdefault(key.strip(), value.strip())
        cpu = f"{info.get('model name', cpu)} (family {info.get('cpu family', '?')}, model {info.get('model', '?')})"
    cpu += f", {os.cpu_count()} cores"
    notes = {}
    for out in a.out:
        for name, entry in read_sweeps(out).items():
            archive_runs(a.archive, name, entry, cpu)
            note = (f" ({entry['failed']} failed or stopped)" if entry["failed"] else "") + \
                   (f" ({entry['unfinished']} not finished)" if entry["unfinished"] else "")
            notes[(entry["model"], entry["features"])] = note
            print(f"{out}: {name}: {len(entry['runs'])} completed{note}", file=sys.stderr)
    qlib = {}
    with open(a.qlib) as f:
        for r in csv.DictReader(line for line in f if not line.startswith("#")):
            qlib[(r["model"], r["features"])] = r

    groups = {}
    if a.write:
        text = open(a.write).read()
        if BEGIN not in text or END not in text:
            sys.exit(f"research_table: {a.write}: no {BEGIN} ... {END} markers")
        groups = existing_groups(text.split(BEGIN, 1)[1].split(END, 1)[0])
    for path in sorted(glob.glob(os.path.join(a.archive, "*.json"))):
        stored = json.load(open(path))
        if stored["runs"]:
            key = (stored["model"], stored["features"])
            groups[key] = rows_of(stored, notes.get(key, ""), qlib)
    header = "| model | features | seeds | " + " | ".join(m for m, _ in METRICS) + " |"
    lines = [header, "|" + "---|" * (3 + len(METRICS))]
    for key in sorted(groups, key=lambda k: group_key(*k)):
        lines += groups[key]
    table = "\n".join(lines)
    print(table)
    if a.write:
        head, rest = text.split(BEGIN, 1)
        _, tail = rest.split(END, 1)
        write_atomically(a.write, head + BEGIN + "\n" + table + "\n" + END + tail)


if __name__ == "__main__":
    main()
