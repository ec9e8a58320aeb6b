#!/usr/bin/env bash
# Builds and runs etna's benchmarks (bench/*_bench.cpp) against libtorch and OpenBLAS, writes one
# JSON line per case to bench/results/latest.jsonl and prints a table. Usage: bench/run.sh [filter]
#
# The filter is a substring of a full case name ("cpu/eltwise/chain_16M", "chain", "gemm",
# "cpu/gemm/square512"). Each X_bench binary is handed the part of the filter below its own
# "cpu/X/" prefix, since binaries match against their case names.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
filter="${1:-}"
build="$root/build-bench"
results="$root/bench/results"
out="$results/latest.jsonl"

# The references are only needed here, never by the tests, so only this script installs them.
missing=()
for pkg in libtorch-dev libopenblas-dev; do
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
  -DETNA_BUILD_TESTS=OFF -DETNA_BUILD_EXAMPLES=OFF >"$build/configure.log" 2>&1 ||
  { cat "$build/configure.log" >&2; exit 1; }

mkdir -p "$results"
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

for src in "$root"/bench/*_bench.cpp; do
  name="$(basename "$src" .cpp)"
  group="${name%_bench}"
  prefix="cpu/$group/"
  if [[ -z "$filter" || "$prefix" == *"$filter"* ]]; then
    sub=""
  elif [[ "$filter" == "$prefix"* ]]; then
    sub="${filter#"$prefix"}"
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

load_after="$(cut -d' ' -f1 /proc/loadavg)"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
# Other work on these 2 cores halves or worse the figures (two-thread ones most): say so.
if python3 -c "import sys; sys.exit(0 if max($load_before, $load_after) > 1.5 else 1)"; then
  echo "WARNING: the machine was busy (load average above 1.5): absolute figures are unreliable;" \
    "ratios less so, two-thread cases least of all" >&2
fi
python3 - "$out" <<'EOF'
import json, sys

rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
print(f"\n{'case':44} {'etna':>11} {'reference':>11} {'ratio':>7} {'etna':>9} {'ref':>9}  ")
for r in rows:
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
    print(f"{r['case']:44} {r['etna_us']:9.1f}us {r['ref_us']:9.1f}us {r['ratio']:7.3f} {rate}"
          f"{target}")
print(f"\nratio = etna time / reference time (below 1: etna is faster); {len(rows)} lines in "
      f"{sys.argv[1]}")
EOF
