#!/usr/bin/env python3
"""tools/list_training_runs.py — the specification's command (`python tools/list_training_runs.py
[--run NAME]`): klab's list_runs under the name the specification uses, same arguments."""
import os
import shutil
import sys

here = os.path.dirname(os.path.abspath(__file__))
built = os.path.join(here, "..", "build", "bin", "list_runs")
tool = built if os.access(built, os.X_OK) else shutil.which("list_runs")
if tool is None:
    sys.exit("list_training_runs: list_runs is not built yet: run bash scripts/build.sh")
os.execv(tool, [tool] + sys.argv[1:])
