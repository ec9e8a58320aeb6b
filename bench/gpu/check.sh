#!/usr/bin/env bash
# The GPU check of issue 7, for a machine with an NVIDIA GPU (H100/H200): builds the CUDA tests
# and the GPU benchmarks with nvcc for sm_90, runs every CUDA test, then etna's GPU benchmarks
# and PyTorch's on the same card, prints a short table and writes logs. Within 8 minutes.
#
# Usage (repository root): bash bench/gpu/check.sh [--build-only | --run-only] [bench filter]
#   --build-only: compile and link (needs nvcc, no GPU), e.g. on a build machine;
#   --run-only: run binaries built earlier in build-gpu/ (rebuilds when they cannot load here).
# Headers: the system's (Debian xtensor-dev, libxsimd-dev, nlohmann-json3-dev, catch2, zlib1g-dev)
# or, on a machine without them, .deps/ as filled by scripts/gpu-deps.sh on a machine with them.
# PYTHON names the interpreter with PyTorch (default python3).
# Device time is scarce: build here with --build-only, then carry build-gpu/test_cuda,
# build-gpu/etna_gpu_bench and .deps/ (the .o files are not needed) and use --run-only there.
# The NCCL group's test (tests/cuda_dist, test_cuda_dist) links libnccl.so.2, looked up in
# $NCCL_LIB_DIR, .deps/lib, the CUDA toolkit, then PyTorch's nvidia-nccl wheel (too large to
# carry: 200+ MB); its header nccl.h comes from the toolkit or .deps/include.
# Host code is built for x86-64-v3 (HOST_ARCH=... to change) so binaries built elsewhere run.
# Logs and results go to $OUT/gpu-check when OUT is set, else bench/results/gpu/.
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
logs="${OUT:+$OUT/gpu-check}"
logs="${logs:-$root/bench/results/gpu}"
build="$root/build-gpu"
mkdir -p "$logs" "$build"
mode=all
case "${1:-}" in --build-only) mode=build; shift ;; --run-only) mode=run; shift ;; esac
filter="${1:-}"
nvcc="${NVCC:-$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)}"
arch="${CUDA_ARCH:-sm_90}"
start=$(date +%s)

includes=(-I"$root/include" -I"$root/tests")
libs=(-lcublas -lz -lpthread)
if [[ -d "$root/.deps/include" ]]; then
  includes+=(-isystem "$root/.deps/include")
  libs=(-L"$root/.deps/lib" "${libs[@]}")
fi
flags=(-std=c++20 -O3 -arch="$arch" --extended-lambda --expt-relaxed-constexpr -DXTENSOR_USE_XSIMD
       -DETNA_TEST_DATA_DIR="\"$root/tests/reference/fixtures\""
       -Xcompiler=-march=${HOST_ARCH:-x86-64-v3},-fno-math-errno "${includes[@]}")

# The folder holding libnccl.so.2 (empty when none is found).
nccl_dir=""
for d in "${NCCL_LIB_DIR:-}" "$root/.deps/lib" /usr/local/cuda/lib64 /usr/local/cuda/lib \
         /usr/lib/x86_64-linux-gnu; do
  if [[ -n $d ]] && compgen -G "$d/libnccl.so.2*" >/dev/null; then nccl_dir=$d; break; fi
done
if [[ -z $nccl_dir ]]; then
  nccl_dir="$("${PYTHON:-python3}" - 2>/dev/null <<'PY'
import glob, os, site
for base in site.getsitepackages():
    hits = sorted(glob.glob(os.path.join(base, "nvidia", "**", "libnccl.so.2*"), recursive=True))
    if hits:
        print(os.path.dirname(hits[0]))
        break
PY
)"
fi
[[ -n $nccl_dir ]] && export LD_LIBRARY_PATH="$nccl_dir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"

echo "== GPU: $(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>/dev/null || echo unknown)"
echo "== nvcc: $("$nvcc" --version | tail -1)"
echo "== nccl: ${nccl_dir:-not found (set NCCL_LIB_DIR): test_cuda_dist is not built}"

build_all() {
# Every translation unit in parallel (one per core): the tests, their runner and the benchmark.
  sources=(tests/cuda/*_test.cu tests/cuda/main.cu bench/gpu/etna_gpu_bench.cu)
  [[ -n $nccl_dir ]] && sources+=(tests/cuda_dist/*_test.cu)
  compile_one() {
    local src=$1 name
    name=$(basename "$src" .cu)
    if "$nvcc" "${flags[@]}" -c "$src" -o "$build/$name.o" >"$logs/build-$name.log" 2>&1; then
      echo "built $src"
    else
      echo "FAILED to build $src (see $logs/build-$name.log)"
      grep -m5 -A3 "error" "$logs/build-$name.log"
      touch "$build/$name.failed"
    fi
  }
  rm -f "$build"/*.failed
  for src in "${sources[@]}"; do
    while (( $(jobs -rp | wc -l) >= $(nproc) )); do wait -n; done
    compile_one "$src" &
  done
  wait
  build_failed=0
  compgen -G "$build/*.failed" >/dev/null && build_failed=1
  tests_obj=()
  for s in tests/cuda/*_test.cu tests/cuda/main.cu; do tests_obj+=("$build/$(basename "$s" .cu).o"); done
  "$nvcc" -arch="$arch" "${tests_obj[@]}" -o "$build/test_cuda" "${libs[@]}" >"$logs/link-tests.log" 2>&1 \
    || { echo "FAILED to link test_cuda"; tail -20 "$logs/link-tests.log"; build_failed=1; }
  "$nvcc" -arch="$arch" "$build/etna_gpu_bench.o" -o "$build/etna_gpu_bench" "${libs[@]}" \
    >"$logs/link-bench.log" 2>&1 || { echo "FAILED to link etna_gpu_bench"; tail -20 "$logs/link-bench.log"; build_failed=1; }
  if [[ -n $nccl_dir ]]; then
    dist_obj=("$build/main.o")
    for s in tests/cuda_dist/*_test.cu; do dist_obj+=("$build/$(basename "$s" .cu).o"); done
    "$nvcc" -arch="$arch" "${dist_obj[@]}" -o "$build/test_cuda_dist" "${libs[@]}" -L"$nccl_dir" \
      -l:libnccl.so.2 >"$logs/link-tests-dist.log" 2>&1 \
      || { echo "FAILED to link test_cuda_dist"; tail -20 "$logs/link-tests-dist.log"; build_failed=1; }
  fi
  echo "== build: $(( $(date +%s) - start )) s"
}
build_failed=0
if [[ $mode == run ]]; then
  bins=(test_cuda etna_gpu_bench)
  [[ -n $nccl_dir ]] && bins+=(test_cuda_dist)
  for bin in "${bins[@]}"; do
    if [[ ! -x "$build/$bin" ]] || ldd "$build/$bin" | grep -q "not found"; then
      echo "== $bin missing or cannot load here: building"; mode=all
    fi
  done
fi
[[ $mode != run ]] && build_all
[[ $mode == build ]] && exit $build_failed

tests_status="not run"
if [[ -x "$build/test_cuda" ]]; then
  "$build/test_cuda" --durations yes >"$logs/test_cuda.log" 2>&1
  rc=$?
  tests_status="$(grep -E '^(All tests passed|test cases:)' "$logs/test_cuda.log" | tail -1)"
  if [[ $rc -eq 77 ]]; then
    tests_status="skipped: no CUDA device"
  elif [[ $rc -ne 0 ]]; then
    echo "CUDA tests FAILED (rc $rc):"; grep -B2 -A12 -E 'FAILED|REQUIRE|CHECK' "$logs/test_cuda.log" | head -80
  fi
fi
echo "== tests: $tests_status ($(( $(date +%s) - start )) s)"

# The NCCL group on this GPU (a world of one): its own binary, so test_cuda needs no libnccl.
dist_status="not built"
if [[ -n $nccl_dir && -x "$build/test_cuda_dist" ]]; then
  "$build/test_cuda_dist" --durations yes >"$logs/test_cuda_dist.log" 2>&1
  rc=$?
  dist_status="$(grep -E '^(All tests passed|test cases:)' "$logs/test_cuda_dist.log" | tail -1)"
  if [[ $rc -eq 77 ]]; then
    dist_status="skipped: no CUDA device"
  elif [[ $rc -ne 0 ]]; then
    echo "NCCL tests FAILED (rc $rc):"; grep -B2 -A12 -E 'FAILED|REQUIRE|CHECK' "$logs/test_cuda_dist.log" | head -60
    tests_status="FAILED (test_cuda_dist)"
  fi
fi
echo "== nccl tests: $dist_status"

: >"$logs/etna.jsonl"; : >"$logs/torch.jsonl"
[[ -x "$build/etna_gpu_bench" ]] && timeout 150 "$build/etna_gpu_bench" "$filter" >"$logs/etna.jsonl" 2>"$logs/etna_bench.err"
echo "== etna bench done ($(( $(date +%s) - start )) s)"; tail -3 "$logs/etna_bench.err" 2>/dev/null
timeout 150 "${PYTHON:-python3}" bench/gpu/torch_ref.py "$filter" >"$logs/torch.jsonl" 2>"$logs/torch_bench.err"
echo "== torch bench done ($(( $(date +%s) - start )) s)"; tail -3 "$logs/torch_bench.err" 2>/dev/null

python3 - "$logs" <<'PY'
import json, sys, os
logs = sys.argv[1]
def load(p):
    out = {}
    for line in open(os.path.join(logs, p)):
        line = line.strip()
        if line.startswith("{"):
            try: d = json.loads(line); out[d["case"]] = d
            except Exception: pass
    return out
e, t = load("etna.jsonl"), load("torch.jsonl")
targets = {"gpu/train/mlp784_b64_sgd_eager": 100, "gpu/train/mlp784_b64_sgd_graph": 50,
           "gpu/train/mlp784_b4096_sgd_graph": 290, "gpu/train/mlp784_b256_adam_eager": 150,
           "gpu/train/tiny_mlp_b32_sgd_eager": 40, "gpu/train/tiny_mlp_b32_sgd_graph": 20,
           "gpu/train/wide_mlp_64x4_b65536": 400, "gpu/train/lstm_h128_seq32_b32_graph": 250,
           "gpu/train/transformer_enc_d128_seq64_b16_graph": 250}
rows = []
with open(os.path.join(logs, "gpu.jsonl"), "w") as f:
    for name in sorted(set(e) | set(t)):
        a, b = e.get(name, {}), t.get(name, {})
        r = {"case": name, "etna_us": a.get("etna_us"), "ref": b.get("ref"), "ref_us": b.get("ref_us"),
             "device": a.get("device") or b.get("device")}
        if a.get("etna_us") and b.get("ref_us"): r["ratio"] = round(a["etna_us"] / b["ref_us"], 3)
        if "etna_gbs" in a: r["etna_gbs"] = a["etna_gbs"]
        if "ref_gbs" in b: r["ref_gbs"] = b["ref_gbs"]
        if "error" in a: r["etna_error"] = a["error"]  # the case threw; the others still ran
        if name in targets: r["target_us"] = targets[name]
        if name == "gpu/eltwise/chain_64M": r["target_gbs"] = 4000
        f.write(json.dumps(r) + "\n"); rows.append(r)
print(f"{'case':42s} {'etna us':>9s} {'torch us':>9s} {'ratio':>6s}  target")
for r in rows:
    tgt = f"<= {r['target_us']} us" if "target_us" in r else (f">= 4000 GB/s (etna {r.get('etna_gbs')}, torch {r.get('ref_gbs')})" if "target_gbs" in r else "")
    fmt = lambda v: f"{v:9.1f}" if isinstance(v, (int, float)) else f"{'-':>9s}"
    if "etna_error" in r: tgt += f"  etna error: {r['etna_error'][:100]}"
    print(f"{r['case']:42s} {fmt(r['etna_us'])} {fmt(r['ref_us'])} {r.get('ratio', '-'):>6}  {tgt}")
PY
echo "== total: $(( $(date +%s) - start )) s; logs in $logs"
[[ $build_failed -eq 0 && "$tests_status" == "All tests passed"* ]]
