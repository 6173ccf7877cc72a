#!/usr/bin/env python3
"""Python's xgboost on the matrices xgboost_bench wrote: the same parameters and rounds, timed the
same way (dense matrix from the float32 windows + boosting; the best of --repeat).
Usage: xgboost_reference.py DIR [--repeat 2]"""
import json, sys, time
import numpy as np
import xgboost as xgb

folder = sys.argv[1]
repeat = int(sys.argv[3]) if len(sys.argv) > 3 and sys.argv[2] == "--repeat" else 2
shape = json.load(open(folder + "/shape.json"))
p = shape["params"]
seq, nf = shape["seq_length"], shape["n_features"]
def load(name, rows):
    x = np.fromfile(f"{folder}/{name}.f32", dtype=np.float32).reshape(rows, seq, nf)
    return x.reshape(rows, -1) if p.get("input") == "flatten" else np.ascontiguousarray(x[:, -1, :])
xt, xv = load("train", shape["train_rows"]), load("valid", shape["valid_rows"])
yt = np.fromfile(folder + "/train_labels.f32", dtype=np.float32)
yv = np.fromfile(folder + "/valid_labels.f32", dtype=np.float32)
params = {"objective": "reg:squarederror", "eval_metric": "rmse", "max_depth": p["max_depth"], "eta": p["eta"],
          "subsample": p["subsample"], "colsample_bytree": p["colsample"], "lambda": p["lambda"], "alpha": p["alpha"],
          "min_child_weight": p["min_child_weight"], "tree_method": p["tree_method"], "max_bin": p["max_bin"],
          "seed": p["seed"], "nthread": p["nthread"], "verbosity": 0}
best, rmse = 1e300, None
for _ in range(repeat):
    t0 = time.perf_counter()
    dt = xgb.DMatrix(xt, label=yt, missing=np.nan)
    dv = xgb.DMatrix(xv, label=yv, missing=np.nan)
    result = {}
    xgb.train(params, dt, num_boost_round=p["num_round"], evals=[(dv, "valid")], evals_result=result, verbose_eval=False)
    best = min(best, time.perf_counter() - t0)
    rmse = result["valid"]["rmse"][-1]
print(f"python: rows={len(yt)} columns={xt.shape[1]} rounds={p['num_round']} nthread={p['nthread']} "
      f"fit_seconds={best:.3f} val_rmse={rmse} xgboost={xgb.__version__}")
