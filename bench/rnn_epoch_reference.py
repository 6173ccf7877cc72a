"""Python PyTorch reference for bench/rnn_epoch_bench: the same model, data shape and step.
Usage: rnn_epoch_reference.py [epochs] [torch threads] [lstm|gru]   (set OPENBLAS_NUM_THREADS
outside: the BLAS pool is sized when the library loads).
       rnn_epoch_reference.py EPOCHS THREADS twin CONFIG_JSON   any model with a Python twin in
tests/python/check_interop.py, built from klab's model/config.json (rnn_epoch_bench prints it)."""
import os
import sys
import time

import torch
from torch import nn


def main():
    epochs = int(sys.argv[1]) if len(sys.argv) > 1 else 1
    threads = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    kind = sys.argv[3] if len(sys.argv) > 3 else "lstm"
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    seq, features, batch, n = 60, 45, 32, 4992
    if kind == "twin":
        import json
        sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "python"))
        from check_interop import build
        config = json.loads(sys.argv[4])
        model = build(config)
        kind = config["model_type"]
        forward = model
        params = list(model.parameters())
    else:
        rnn = (nn.LSTM if kind == "lstm" else nn.GRU)(features, 128, 2, batch_first=True, dropout=0.2)
        fc = nn.Linear(128, 1)
        forward = lambda v: fc(rnn(v)[0][:, -1, :])
        params = list(rnn.parameters()) + list(fc.parameters())
    opt = torch.optim.Adam(params, lr=1e-3)
    x, y = torch.randn(n, seq, features), torch.randn(n, 1)
    best = float("inf")
    if kind not in ("lstm", "gru"):
        model.train()
    for _ in range(epochs):
        order = torch.randperm(n)
        t0 = time.perf_counter()
        for first in range(0, n, batch):
            idx = order[first:first + batch]
            opt.zero_grad()
            loss = nn.functional.mse_loss(forward(x[idx]), y[idx])
            loss.backward()
            opt.step()
        best = min(best, time.perf_counter() - t0)
    blas = os.environ.get("OPENBLAS_NUM_THREADS", "default")
    print(f"epoch python model={kind} impl=pytorch threads={threads} blas_threads={blas} windows={n} "
          f"seconds={best} samples_per_second={n / best}")


if __name__ == "__main__":
    main()
