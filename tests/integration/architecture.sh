#!/usr/bin/env bash
# The rooms of docs/ARCHITECTURE.md hold: every #include in framework/src, the SDK and plugins/
# follows the page's "may include" and "torch" columns (read from the page itself), and no file
# of framework/src or tools/ passes ~400 lines without saying why in its first lines.
# Usage: architecture.sh <klab source dir> <klab build dir>
set -euo pipefail
python3 - "$1" <<'PY'
import os, re, sys
src = sys.argv[1]
page = open(os.path.join(src, "docs", "ARCHITECTURE.md"), encoding="utf-8").read()
rules = {}
for line in page.splitlines():
    m = re.match(r"\| `([a-z]+)` \|[^|]*\| ([a-z, ]+) \| ([^|]+) \|$", line)
    if m:
        rules[m.group(1)] = ({r.strip() for r in m.group(2).split(",")}, m.group(3).strip())
assert {"klab", "data", "config", "eval", "runs", "train", "workflow", "sweep"} <= set(rules), sorted(rules)
torch_include = re.compile(r'#include [<"](torch/|ATen/|c10/|klab/torch_model\.h)')
quoted = re.compile(r'#include "([^"]+)"')
problems = []

def files_under(folder, exts=(".h", ".cpp")):
    for root, _, names in os.walk(folder):
        for n in sorted(names):
            if n.endswith(exts):
                yield os.path.join(root, n)

# framework/src/<room>/...
host = os.path.join(src, "framework", "src")
rooms = sorted(d for d in os.listdir(host) if os.path.isdir(os.path.join(host, d)))
for room in rooms:
    if room not in rules:
        problems.append(f"framework/src/{room}/: a room docs/ARCHITECTURE.md does not describe")
        continue
    allowed, torch = rules[room]
    for path in files_under(os.path.join(host, room)):
        rel = os.path.relpath(path, src)
        text = open(path, encoding="utf-8").read()
        for inc in quoted.findall(text):
            first = inc.split("/")[0]
            if "/" not in inc or first == room:
                continue
            if first not in allowed:
                problems.append(f"{rel}: includes \"{inc}\", but {room}/ may include only {', '.join(sorted(allowed))}")
        if torch.startswith("no") and torch_include.search(text):
            problems.append(f"{rel}: includes torch, but {room}/ is torch-free")

# The SDK: klab headers only; torch only in torch_model.h.
sdk = os.path.join(src, "framework", "include", "klab")
for path in files_under(sdk):
    rel = os.path.relpath(path, src)
    text = open(path, encoding="utf-8").read()
    for inc in quoted.findall(text):
        if not inc.startswith("klab/"):
            problems.append(f"{rel}: the SDK includes \"{inc}\" (host internals)")
    if torch_include.search(text) and not path.endswith("torch_model.h"):
        problems.append(f"{rel}: the SDK outside klab/torch_model.h includes torch")

# Plugins: the SDK and their own folder's headers, nothing of the host.
for path in files_under(os.path.join(src, "plugins")):
    rel = os.path.relpath(path, src)
    for inc in quoted.findall(open(path, encoding="utf-8").read()):
        if not inc.startswith("klab/") and not os.path.exists(os.path.join(os.path.dirname(path), inc)):
            problems.append(f"{rel}: a plugin includes \"{inc}\", which is not in the SDK")

# Length: over ~400 lines only with a stated reason at the top.
for folder in (host, os.path.join(src, "tools")):
    for path in files_under(folder):
        lines = open(path, encoding="utf-8").read().splitlines()
        if len(lines) > 420 and "over 400 lines:" not in "\n".join(lines[:12]).lower():
            problems.append(f"{os.path.relpath(path, src)}: {len(lines)} lines without a reason at its top")

for p in problems:
    print("FAIL:", p)
if problems:
    sys.exit(1)
print(f"PASS: {len(rooms)} rooms, the SDK and the plugins follow docs/ARCHITECTURE.md")
PY
