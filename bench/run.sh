#!/usr/bin/env bash
# Builds and runs etna's benchmarks (bench/*_bench.cpp) against libtorch and OpenBLAS, writes one
# JSON line per case to bench/results/latest.jsonl and prints a table. Usage: bench/run.sh [filter]
#
# The filter is a substring of a full case name ("cpu/eltwise/chain_16M", "chain", "gemm",
# "cpu/gemm/square512"). Each X_bench binary is handed the part of the filter below its own
# "cpu/X/" prefix, since binaries match against their case names. train_bench also prints the
# "cpu/infer/" cases, seq_bench only "cpu/train/" ones (the LSTM and Transformer steps);
# "compile/mlp_example" is timed by this script itself.
# With no filter latest.jsonl holds this run alone; with a filter, the lines of the cases this
# run printed replace their old lines and the other cases' lines are kept.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
filter="${1:-}"
build="$root/build-bench"
results="$root/bench/results"
out="$results/latest.jsonl"

# The references are only needed here, never by the tests, so only this script installs them.
missing=()
for pkg in libtorch-dev libopenblas-dev time; do  # time: /usr/bin/time -v for compile/
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if ((${#missing[@]})); then
  echo "installing ${missing[*]}" >&2
  sudo_cmd=""
  [[ $(id -u) -ne 0 ]] && sudo_cmd="sudo"
  $sudo_cmd apt-get update
  $sudo_cmd apt-get install -y "${missing[@]}"
fi

mkdir -p "$build"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DETNA_BUILD_BENCH=ON \
  -DETNA_BUILD_TESTS=OFF -DETNA_BUILD_EXAMPLES=OFF \
  -DCMAKE_EXPORT_COMPILE_COMMANDS=ON >"$build/configure.log" 2>&1 ||
  { cat "$build/configure.log" >&2; exit 1; }

mkdir -p "$results"
previous="$(mktemp)"
[[ -n "$filter" && -f "$out" ]] && cp "$out" "$previous"
: >"$out"

# Single-threaded references by default; two-thread cases set their counts in code.
# OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE pin old OpenBLAS builds to safe kernels on this host; they
# are dropped for benchmark runs only, so OpenBLAS picks its native (AVX-512) kernels.
bench_env=(env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1)

corename="$("${bench_env[@]}" python3 -c 'import ctypes
l = ctypes.CDLL("libopenblas.so.0"); l.openblas_get_corename.restype = ctypes.c_char_p
print(l.openblas_get_corename().decode())' 2>/dev/null || echo unknown)"
load_before="$(cut -d' ' -f1 /proc/loadavg)"
echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(nproc) cores;" \
  "OpenBLAS kernels: $corename; load average before: $(cut -d' ' -f1-3 /proc/loadavg)"

# Escapes a text for a JSON string (quotes, backslashes, newlines).
json_str() { python3 -c 'import json, sys; print(json.dumps(sys.stdin.read().strip()))'; }

# Case-name prefixes a binary prints besides its own "cpu/<group>/"; for those the filter is
# passed whole (such a binary matches it against full case names).
declare -A extra_prefix=([train]="cpu/infer/" [seq]="cpu/train/")

for src in "$root"/bench/*_bench.cpp; do
  name="$(basename "$src" .cpp)"
  group="${name%_bench}"
  prefix="cpu/$group/"
  extra="${extra_prefix[$group]:-}"
  if [[ -z "$filter" || "$prefix" == *"$filter"* ]]; then
    sub=""
  elif [[ "$filter" == "$prefix"* ]]; then
    sub="${filter#"$prefix"}"
  elif [[ -n "$extra" && "$extra" == *"$filter"* ]]; then
    sub="$extra"
  elif [[ -n "$extra" && "$filter" == "$extra"* ]]; then
    sub="$filter"
  elif [[ "$filter" == */* ]]; then
    continue  # a full name of another group
  else
    sub="$filter"
  fi
  log="$build/$name.build.log"
  echo "building $name" >&2
  # One target at a time: a benchmark that does not compile yet must not hide the others.
  if ! cmake --build "$build" --target "$name" -j2 >"$log" 2>&1; then
    tail -20 "$log" >&2
    note="$name did not build; see build-bench/$name.build.log: $(grep -m1 'error' "$log" || true)"
    echo "{\"case\": \"${prefix}*\", \"note\": $(printf '%s' "$note" | json_str)}" | tee -a "$out"
    continue
  fi
  echo "running $name ${sub:+(filter '$sub')}" >&2
  if ! "${bench_env[@]}" "$build/bench/$name" "$sub" | tee -a "$out"; then
    echo "{\"case\": \"${prefix}*\", \"note\": \"$name exited with an error\"}" | tee -a "$out"
  fi
done

# compile/mlp_example: seconds and peak compiler memory of one user file with the Release flags
# of build-bench (its command from compile_commands.json, the object written to a scratch file).
# etna figures only: no reference is compiled, so the line has no ratio.
compile_case="compile/mlp_example"
if [[ -z "$filter" || "$compile_case" == *"$filter"* ]]; then
  echo "timing the compile of bench/compile/mlp_example.cpp" >&2
  python3 - "$build" "$root/bench/compile/mlp_example.cpp" "$compile_case" <<'EOF' | tee -a "$out"
import json, os, re, shlex, subprocess, sys, tempfile

build, src, case = sys.argv[1:4]
machine = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo")
                if l.startswith("model name")), "unknown")
line = {"case": case}
try:
    entry = next(e for e in json.load(open(os.path.join(build, "compile_commands.json")))
                 if os.path.realpath(e["file"]) == os.path.realpath(src))
    args = entry.get("arguments") or shlex.split(entry["command"])
    obj = tempfile.NamedTemporaryFile(suffix=".o", delete=False).name
    args[args.index("-o") + 1] = obj
    stats = tempfile.NamedTemporaryFile(suffix=".txt", delete=False).name
    run = subprocess.run(["/usr/bin/time", "-v", "-o", stats] + args, cwd=entry["directory"],
                         capture_output=True, text=True)
    text = open(stats).read()
    os.unlink(obj)
    os.unlink(stats)
    if run.returncode != 0:
        raise RuntimeError("compile failed: " + (run.stderr.strip().splitlines() or ["?"])[0])

    def field(name):
        return re.search(re.escape(name) + r": (.*)", text).group(1).strip()

    wall = 0.0
    for part in field("Elapsed (wall clock) time (h:mm:ss or m:ss)").split(":"):
        wall = wall * 60 + float(part)
    user, system = float(field("User time (seconds)")), float(field("System time (seconds)"))
    mib = int(field("Maximum resident set size (kbytes)")) / 1024
    flags = " ".join(a for a in args if a.startswith(("-O", "-march", "-std", "-f", "-D")))
    line.update({"etna_s": round(wall, 2), "etna_cpu_s": round(user + system, 2),
                 "etna_mib": round(mib, 1), "target_s": 30, "target_mib": 2048,
                 "meets_target": user + system < 30 and mib < 2048, "threads": 1,
                 "machine": machine, "load_avg": float(open("/proc/loadavg").read().split()[0]),
                 "note": "compile only (no link) of bench/compile/mlp_example.cpp, a typed "
                         "784-256-256-10 MLP trained with Adam and run under NoGradGuard, with "
                         f"the project's Release flags ({flags}); etna_s = wall clock, "
                         "etna_cpu_s = user + system, etna_mib = the compiler's maximum resident "
                         "set (/usr/bin/time -v). No ratio: nothing comparable is compiled for "
                         "libtorch; the target is PERFORMANCE.md's < 30 s and < 2 GiB, judged on "
                         "etna_cpu_s (the wall clock of a shared machine includes other work)"})
except Exception as e:  # a line that says why, rather than none
    line["note"] = f"{case} could not be timed: {e}"
print(json.dumps(line))
EOF
fi

# cpu/epoch/fashion_mnist_mlp: the README demo (examples/fashion_mnist.cpp, 5 epochs, 1 thread,
# no loader worker) against the same model, optimizer, schedule and batch size in PyTorch
# (bench/reference/fashion_mnist_torch.py with Debian's python3-torch); median epoch times
# (training plus test-set evaluation) and both final test accuracies.
epoch_case="cpu/epoch/fashion_mnist_mlp"
if [[ -z "$filter" || "$epoch_case" == *"$filter"* ]]; then
  echo "building and running the Fashion-MNIST demo and its PyTorch twin" >&2
  cmake -S "$root" -B "$build" -DETNA_BUILD_EXAMPLES=ON >>"$build/configure.log" 2>&1
  epoch_dir="$build/epoch_run"
  rm -rf "$epoch_dir"
  if cmake --build "$build" --target fashion_mnist -j2 >"$build/fashion_mnist.build.log" 2>&1 &&
    "${bench_env[@]}" "$build/examples/fashion_mnist" --threads 1 --workers 0 \
      --out "$epoch_dir" >"$build/fashion_mnist.log" 2>&1 &&
    "${bench_env[@]}" /usr/bin/python3 "$root/bench/reference/fashion_mnist_torch.py" \
      --threads 1 >"$build/fashion_mnist_torch.log" 2>&1; then
    python3 - "$epoch_dir/history.csv" "$build/fashion_mnist.log" "$build/fashion_mnist_torch.log" \
      "$epoch_case" <<'PYEOF' | tee -a "$out"
import csv, json, statistics, sys
history, etna_log, torch_log, case = sys.argv[1:5]
rows = list(csv.DictReader(open(history)))
etna_s = statistics.median(float(r["epoch_time_s"]) for r in rows)
etna_acc = float([l for l in open(etna_log) if l.startswith("test_accuracy=")][-1].split("=")[1])
ref = json.loads([l for l in open(torch_log) if l.startswith("{")][-1])
machine = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo")
                if l.startswith("model name")), "unknown")
ratio = etna_s / ref["epoch_s"]
print(json.dumps({"case": case, "etna_us": round(etna_s * 1e6, 1), "ref": ref["ref"],
                  "ref_us": round(ref["epoch_s"] * 1e6, 1), "ratio": round(ratio, 3),
                  "target_ratio": 0.7, "meets_target": ratio <= 0.7 and etna_acc >= 0.89,
                  "etna_test_accuracy": etna_acc, "ref_test_accuracy": round(ref["test_accuracy"], 4),
                  "threads": 1, "machine": machine,
                  "note": "median epoch (training + test evaluation) over 5 epochs; MLP "
                          "784-256-256-10, Adam + OneCycleLR(max 2e-3), label smoothing 0.1, "
                          "batch 64; etna: "
                          "examples/fashion_mnist --threads 1 --workers 0"}))
PYEOF
  else
    note="the demo or its PyTorch twin failed; see build-bench/fashion_mnist*.log"
    echo "{\"case\": \"$epoch_case\", \"note\": \"$note\"}" | tee -a "$out"
  fi
fi

load_after="$(cut -d' ' -f1 /proc/loadavg)"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
# Other work on these 2 cores halves or worse the figures (two-thread ones most): say so.
if python3 -c "import sys; sys.exit(0 if max($load_before, $load_after) > 1.5 else 1)"; then
  echo "WARNING: the machine was busy (load average above 1.5): absolute figures are unreliable;" \
    "ratios less so, two-thread cases least of all" >&2
fi
python3 - "$out" "$previous" <<'EOF'
import json, sys

lines = [line for line in open(sys.argv[1]) if line.strip()]
rows = [json.loads(line) for line in lines]
# A filtered run keeps the other cases' lines of the previous latest.jsonl (previous is empty
# after an unfiltered run), verbatim; the table shows this run's cases only.
fresh = {r["case"] for r in rows}
kept = [l for l in open(sys.argv[2]) if l.strip() and json.loads(l)["case"] not in fresh]
if kept:
    with open(sys.argv[1], "w") as f:
        f.writelines(kept + lines)
print(f"\n{'case':44} {'etna':>11} {'reference':>11} {'ratio':>7} {'etna':>9} {'ref':>9}  ")
for r in rows:
    if "etna_mib" in r:  # a compile-time line: seconds and MiB, no reference
        target = "  target met" if r.get("meets_target") else "  TARGET MISSED"
        print(f"{r['case']:44} {r['etna_s']:10.1f}s {'-':>11} {'-':>7} {r['etna_mib']:9.0f} MiB"
              f"{target}")
        continue
    if "ratio" not in r:
        print(f"{r['case']:44} {'-':>11} {'-':>11} {'-':>7}  {r.get('note', '')}")
        continue
    if "etna_gbs" in r:
        unit, e, f = "GB/s", r["etna_gbs"], r["ref_gbs"]
    elif "etna_gflops" in r:
        unit, e, f = "GFLOP/s", r["etna_gflops"], r["ref_gflops"]
    else:
        unit, e, f = "", 0, 0
    rate = f"{e:9.1f} {f:9.1f}  {unit}" if unit else ""
    target = {True: "  target met", False: "  TARGET MISSED"}.get(r.get("meets_target"), "")
    if "ratio_p10" in r:  # cases that also report the ratio of their least disturbed samples
        target += f" (target {r['target_ratio']:.2f}, p10 ratio {r['ratio_p10']:.3f})"
    print(f"{r['case']:44} {r['etna_us']:9.1f}us {r['ref_us']:9.1f}us {r['ratio']:7.3f} {rate}"
          f"{target}")
print(f"\nratio = etna time / reference time (below 1: etna is faster); {len(rows)} cases run,"
      f" {len(kept) + len(rows)} lines in {sys.argv[1]}")
EOF
rm -f "$previous"
