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


class AlstmModel(nn.Module):
    """klab's alstm.so, written as Qlib's ALSTMModel: projection, GRU/LSTM, attention pooling."""

    def __init__(self, c):
        super().__init__()
        h = c["hidden_size"]
        self.net = nn.Sequential()
        self.net.add_module("fc_in", nn.Linear(c["input_size"], h))
        self.net.add_module("act", nn.Tanh())
        rnn = nn.GRU if c["rnn_type"] == "gru" else nn.LSTM
        self.rnn = rnn(h, h, c["num_layers"], batch_first=True, dropout=c["dropout"] if c["num_layers"] > 1 else 0.0)
        self.att_net = nn.Sequential()
        self.att_net.add_module("att_fc_in", nn.Linear(h, h // 2))
        self.att_net.add_module("att_dropout", nn.Dropout(c["dropout"]))
        self.att_net.add_module("att_act", nn.Tanh())
        self.att_net.add_module("att_fc_out", nn.Linear(h // 2, 1, bias=False))
        self.att_net.add_module("att_softmax", nn.Softmax(dim=1))
        self.fc_out = nn.Linear(h * 2, c["output_size"])

    def forward(self, x):
        out, _ = self.rnn(self.net(x))
        score = self.att_net(out)
        return self.fc_out(torch.cat((out[:, -1, :], torch.sum(out * score, dim=1)), dim=1))


class TcnModel(nn.Module):
    """klab's tcn.so: residual blocks of weight-normalised dilated causal convolutions, linear head."""

    class Block(nn.Module):
        def __init__(self, i, o, k, d, dropout):
            super().__init__()
            self.pad = (k - 1) * d
            self.conv1 = nn.utils.weight_norm(nn.Conv1d(i, o, k, padding=self.pad, dilation=d))
            self.conv2 = nn.utils.weight_norm(nn.Conv1d(o, o, k, padding=self.pad, dilation=d))
            self.downsample = nn.Conv1d(i, o, 1) if i != o else None
            self.drop = nn.Dropout(dropout)

        def forward(self, x):
            h = self.drop(torch.relu(self.conv1(x)[:, :, : -self.pad]))
            h = self.drop(torch.relu(self.conv2(h)[:, :, : -self.pad]))
            return torch.relu(h + (self.downsample(x) if self.downsample is not None else x))

    def __init__(self, c):
        super().__init__()
        ch = c["channels"]
        blocks = [TcnModel.Block(c["input_size"] if b == 0 else ch, ch, c["kernel_size"], 2 ** b, c["dropout"])
                  for b in range(c["num_layers"])]
        self.tcn = nn.ModuleDict({"network": nn.ModuleList(blocks)})
        self.linear = nn.Linear(ch, c["output_size"])

    def forward(self, x):
        h = x.transpose(1, 2)
        for block in self.tcn["network"]:
            h = block(h)
        return self.linear(h[:, :, -1])


class MlpModel(nn.Module):
    """klab's mlp.so, written as Qlib's Net (pytorch_nn.py): dropout, Linear-BatchNorm-LeakyReLU blocks, head."""

    def __init__(self, c):
        super().__init__()
        width = c["input_size"] * (c["seq_length"] if c["input"] == "flatten" else 1)
        layers = [nn.Dropout(c["dropout"])]
        for _ in range(c["num_layers"]):
            block = [nn.Linear(width, c["hidden_size"])]
            if c["batch_norm"]:
                block.append(nn.BatchNorm1d(c["hidden_size"]))
            block.append(nn.LeakyReLU(0.1))
            layers.append(nn.Sequential(*block))
            width = c["hidden_size"]
        layers += [nn.Dropout(c["dropout"]), nn.Linear(width, c["output_size"])]
        self.dnn_layers = nn.ModuleList(layers)
        self.flatten = c["input"] == "flatten"

    def forward(self, x):
        x = x.flatten(1) if self.flatten else x[:, -1, :]
        for layer in self.dnn_layers:
            x = layer(x)
        return x


def build(config):
    kind = config["model_type"]
    if kind in ("lstm", "gru"):
        return RecurrentModel(kind, config["input_size"], config["hidden_size"], config["num_layers"],
                              config["dropout"], config["bidirectional"], config["output_size"])
    if kind == "transformer":
        return TransformerModel(config)
    if kind == "alstm":
        return AlstmModel(config)
    if kind == "tcn":
        return TcnModel(config)
    if kind == "mlp":
        return MlpModel(config)
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
