#!/usr/bin/env bash
# The reference recurrent epoch (seq 60, 45 features, hidden 128, 2 layers, batch 32, 4,992
# windows), LSTM and GRU: klab fused, klab autograd and Python PyTorch, at 1 and 2 threads, side
# by side in one invocation; then the ratios to Python and the achieved GFLOP/s against a
# single-thread SGEMM measured here (the best of OpenBLAS and klab's kernel), and the targets as
# PASS/FAIL lines. KLAB_FUSED_ISA=avx2 measures klab's AVX2 kernel on an AVX-512 machine.
#
#   bash bench/run_rnn_bench.sh [build]        ROUNDS=3 (rounds; each configuration keeps its best)
#
# Epoch times on a shared 2-core VM drift by +-15 %: the configurations run interleaved, ROUNDS
# times, and each keeps its best epoch.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
bench=$build/bin/rnn_epoch_bench
python=/usr/bin/python3  # Debian's python3-torch (the python3 on PATH may lack torch)
rounds=${ROUNDS:-3}
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)," \
     "$(grep -o -m1 'avx512f' /proc/cpuinfo || echo 'no avx512f'); OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset}"

lines=""
run() { local out; out=$("$@"); echo "$out"; lines+="$out"$'\n'; }

for _ in $(seq 1 "$rounds"); do
  # Single-thread SGEMM, measured every round like the epochs (each keeps its best): OpenBLAS as
  # this environment loads it, klab's kernel, and on AVX-512 machines OpenBLAS's own AVX-512
  # kernel, which OPENBLAS_CORETYPE=Haswell keeps switched off (not with KLAB_FUSED_ISA=avx2,
  # which stands for a CPU without AVX-512).
  run "$bench" --sgemm
  if grep -q -m1 avx512f /proc/cpuinfo && [ "${KLAB_FUSED_ISA:-}" != avx2 ]; then
    run env OPENBLAS_CORETYPE=SkylakeX "$bench" --sgemm
  fi
  for model in lstm gru; do
    for threads in 1 2; do
      run "$bench" --model "$model" --impl fused --threads "$threads"
      run "$bench" --model "$model" --impl autograd --threads "$threads"
      # Python with BLAS on one thread (torch threads x BLAS threads above the cores is 3-5x
      # slower), and at 2 also torch on one thread with a 2-thread BLAS: its best is the bar.
      run env OPENBLAS_NUM_THREADS=1 "$python" "$root/bench/rnn_epoch_reference.py" 1 "$threads" "$model"
      if [ "$threads" = 2 ]; then
        run env OPENBLAS_NUM_THREADS=2 "$python" "$root/bench/rnn_epoch_reference.py" 1 1 "$model"
      fi
    done
  done
done

"$python" - "$lines" <<'PY'
import re, sys

def fields(line):
    return dict(re.findall(r"(\w+)=(\S+)", line))

sgemm = {}
best = {}
for line in sys.argv[1].splitlines():
    f = fields(line)
    if line.startswith("sgemm"):
        name = f["impl"] + (f" (OPENBLAS_CORETYPE={f['coretype']})" if "coretype" in f else "")
        sgemm[name] = max(sgemm.get(name, 0), float(f["gflops"]))
    elif line.startswith("epoch"):
        impl = line.split()[1] + "-" + f["impl"]
        blas = int(f.get("blas_threads", "1"))
        key = (f["model"], impl, int(f["threads"]) * blas, blas)  # threads: all the cores it may use
        best[key] = min(best.get(key, 1e30), float(f["seconds"]))

# GEMM work of one epoch (forward, backward through time, weight and input gradients; the
# layer-0 input needs no gradient), the same for every implementation.
def gflop(model, n=4992, b=32, t=60, f=45, h=128, layers=2):
    g = (4 if model == "lstm" else 3) * h
    total = 0.0
    for l in range(layers):
        i = f if l == 0 else h
        total += 2 * b * t * i * g                    # input projection
        total += 2 * 2 * b * (t - 1) * h * g          # recurrent forward and backward
        total += 2 * g * i * b * t + 2 * g * h * b * t  # weight gradients
        if l > 0:
            total += 2 * b * t * g * i                # input gradient
    return total * (n // b) / 1e9

peak_name, peak = max(sgemm.items(), key=lambda kv: kv[1])
# The targets (issue "Fast on every CPU"): klab's kernel at least OpenBLAS's best single-thread
# SGEMM on the machine; the fused epochs at >= 85 % of that rate at 1 thread; the LSTM epoch
# <= 0.35x Python at 1 thread and <= 0.2x Python's best at 2 threads where klab runs its AVX2
# kernel, <= 0.25x / 0.16x with its AVX-512 kernel.
klab_kernel = next((k for k in sgemm if k.startswith("klab-")), None)
blas_best = max(v for k, v in sgemm.items() if k.startswith("openblas"))
target1, target2 = (0.25, 0.16) if klab_kernel == "klab-avx512" else (0.35, 0.2)
checks = []
if klab_kernel:
    checks.append((f"{klab_kernel} sgemm >= OpenBLAS's best single-thread sgemm ({blas_best:.1f})",
                   sgemm[klab_kernel] / blas_best, 1.0))
print()
print("single-thread SGEMM: " + ", ".join(f"{k} {v:.1f} GFLOP/s" for k, v in sgemm.items()))
print(f"reference rate (the best of them): {peak:.1f} GFLOP/s ({peak_name})")
print()
print(f"{'model':5} {'implementation':24} {'threads':>7} {'epoch s':>8} {'x python':>9} {'x py best':>9} "
      f"{'GFLOP/s':>8} {'% sgemm':>8}")
for model in ("lstm", "gru"):
    py = {}
    for (m, impl, threads, _), s in best.items():
        if m == model and impl == "python-pytorch":
            py[threads] = min(py.get(threads, 1e30), s)
    py_best = min(py.values())
    for key in sorted(k for k in best if k[0] == model):
        _, impl, threads, blas = key
        s = best[key]
        label = impl + (f" (torch 1, blas {blas})" if blas > 1 else "")
        rate = gflop(model) / s
        vs_same = s / py[threads] if impl != "python-pytorch" else float("nan")
        print(f"{model:5} {label:24} {threads:>7} {s:8.2f} {vs_same:9.2f} {s / py_best:9.2f} {rate:8.1f} "
              f"{100 * rate / peak:7.0f}%")
    fused1, fused2 = best[(model, "klab-fused", 1, 1)], best[(model, "klab-fused", 2, 1)]
    checks.append((f"{model} fused 1 thread >= 85 % of OpenBLAS's best single-thread sgemm ({blas_best:.1f})",
                   gflop(model) / fused1 / blas_best, 0.85))
    if model == "lstm":
        checks.append((f"lstm fused 1 thread <= {target1} x python 1 thread", fused1 / py[1], target1))
        checks.append((f"lstm fused 2 threads <= {target2} x python's best", fused2 / py_best, target2))
print(f"\nepoch GEMM work: lstm {gflop('lstm'):.0f} GFLOP, gru {gflop('gru'):.0f} GFLOP")
for name, value, bound in checks:
    ok = value >= bound if ">=" in name else value <= bound
    print(f"{'PASS' if ok else 'FAIL'}  {name}: {value:.2f}")
PY
