"""Python's torch reads klab's weights: model/pytorch_model.bin and a checkpoint's
model_state_dict load with strict=True into plain torch.nn modules, and reproduce klab's
test-window predictions (results/predictions.json) to 1e-5.

Usage: check_interop.py RUN_DIR WINDOWS_FILE   (WINDOWS_FILE from tests/tools/dump_windows)
Run with Debian's /usr/bin/python3 (python3-torch 1.13).
"""
import json
import math
import os
import sys

import torch
from torch import nn


class RecurrentModel(nn.Module):
    """klab's lstm.so / gru.so: nn.LSTM or nn.GRU (batch_first) + Linear on the last step."""

    def __init__(self, kind, input_size, hidden_size, num_layers, dropout, bidirectional, output_size):
        super().__init__()
        rnn = nn.LSTM if kind == "lstm" else nn.GRU
        setattr(self, kind, rnn(input_size, hidden_size, num_layers, batch_first=True,
                                dropout=dropout if num_layers > 1 else 0.0, bidirectional=bidirectional))
        self.kind = kind
        self.fc = nn.Linear(hidden_size * (2 if bidirectional else 1), output_size)

    def forward(self, x):
        out, _ = getattr(self, self.kind)(x)
        return self.fc(out[:, -1, :])


class TransformerModel(nn.Module):
    """klab's transformer.so: input_proj, positional encoding, sequence-first encoder, pooling, fc."""

    def __init__(self, c):
        super().__init__()
        d = c["d_model"]
        self.input_proj = nn.Linear(c["input_size"], d)
        pe = torch.zeros(c["max_len"], d)
        if c["positional_encoding"] == "sinusoidal":
            self.register_buffer("positional_encoding", pe)
        elif c["positional_encoding"] == "learned":
            self.positional_encoding = nn.Parameter(pe)
        else:
            self.positional_encoding = None
        layer = nn.TransformerEncoderLayer(d, c["nhead"], c["dim_feedforward"], c["dropout"], c["activation"])
        self.encoder = nn.TransformerEncoder(layer, c["num_layers"], enable_nested_tensor=False)
        self.fc = nn.Linear(d, c["output_size"])
        self.pooling = c["pooling"]

    def forward(self, x):
        x = self.input_proj(x)
        if self.positional_encoding is not None:
            x = x + self.positional_encoding[: x.size(1)].unsqueeze(0)
        x = self.encoder(x.transpose(0, 1))
        pooled = x.mean(0) if self.pooling == "mean" else x[-1]
        return self.fc(pooled)


def build(config):
    kind = config["model_type"]
    if kind in ("lstm", "gru"):
        return RecurrentModel(kind, config["input_size"], config["hidden_size"], config["num_layers"],
                              config["dropout"], config["bidirectional"], config["output_size"])
    if kind == "transformer":
        return TransformerModel(config)
    raise SystemExit(f"no Python twin for model type {kind}")


def main():
    run, windows_file = sys.argv[1], sys.argv[2]
    config = json.load(open(os.path.join(run, "model", "config.json")))
    scaler = json.load(open(os.path.join(run, "scaler.json")))
    predictions = json.load(open(os.path.join(run, "results", "predictions.json")))
    inputs = torch.load(windows_file)["inputs"]
    assert inputs.shape[0] == len(predictions), (inputs.shape, len(predictions))

    model = build(config)
    state = torch.load(os.path.join(run, "model", "pytorch_model.bin"))
    assert isinstance(state, dict), type(state)
    model.load_state_dict(state, strict=True)
    model.eval()
    with torch.no_grad():
        out = model(inputs)[:, 0].double()
    y = out * scaler["target_scale"] + scaler["target_center"]
    worst = 0.0
    for i, p in enumerate(predictions):
        price = float(y[i]) if config["target"]["kind"] == "close" else p["last_close"] * (1 + float(y[i]))
        rel = abs(price - p["predicted"]) / max(abs(p["predicted"]), 1e-12)
        worst = max(worst, rel)
        if rel > 1e-5:
            sys.exit(f"FAIL {config['model_type']}: window {i} ({p['date']}): python {price!r} klab {p['predicted']!r}")

    # Every checkpoint's model_state_dict loads strictly too, and best/ holds the final weights.
    checkpoints = os.path.join(run, "checkpoints")
    for name in sorted(os.listdir(checkpoints)):
        ck = torch.load(os.path.join(checkpoints, name, "pytorch_model.bin"))
        assert set(ck) >= {"epoch", "model_state_dict", "optimizer_state_dict", "metrics", "timestamp"}, ck.keys()
        twin = build(config)
        twin.load_state_dict(ck["model_state_dict"], strict=True)
        assert set(ck["optimizer_state_dict"]) == {"state", "param_groups"}
        if name == "best":
            for k, v in ck["model_state_dict"].items():
                assert torch.equal(v, state[k]), f"best/ differs from model/ in {k}"
    print(f"PASS {config['model_type']}: {len(predictions)} test predictions reproduced in Python "
          f"(worst relative difference {worst:.1e}); {len(os.listdir(checkpoints))} checkpoints load strictly")


if __name__ == "__main__":
    main()
