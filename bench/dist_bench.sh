#!/usr/bin/env bash
# Scaling of the data-parallel demo (examples/ddp_fashion_mnist.cpp) on this machine: the epoch
# time of 1 rank x T threads against N ranks x T/N threads (the same total of threads and the same
# job batch: each of the N ranks takes batch/N samples per step), and DistributedDataParallel's
# gradient bytes per step against the model's size. Writes JSON lines and prints a table.
#
# Usage: bash bench/dist_bench.sh [BUILD_DIR] [total threads, default nproc] [epochs, default 2]
#   BUILD_DIR holds examples/ddp_fashion_mnist (default build/; `make ddp_fashion_mnist` there).
# Results: bench/results/dist.jsonl (or $OUT/dist.jsonl when OUT is set).
# --bind-to none: Open MPI binds each rank to one core by default, which would put both threads
# of the 1-rank run on one core. --workers 0: no loader thread beside the compute threads.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${1:-$root/build}"
threads="${2:-$(nproc)}"
epochs="${3:-2}"
exe="$build/examples/ddp_fashion_mnist"
[[ -x $exe ]] || { echo "dist_bench: $exe not found: make ddp_fashion_mnist in $build" >&2; exit 2; }
results="${OUT:-$root/bench/results}"
mkdir -p "$results"
out="$results/dist.jsonl"
: >"$out"
job_batch=128

run() {  # ranks
  local ranks=$1 log
  log="$(mktemp)"
  mpirun --allow-run-as-root --oversubscribe --bind-to none \
    --mca btl_vader_single_copy_mechanism none -np "$ranks" "$exe" --epochs "$epochs" \
    --threads $((threads / ranks)) --batch-size $((job_batch / ranks)) --workers 0 \
    --out "$(mktemp -d)" >"$log" 2>&1 || { cat "$log" >&2; exit 1; }
  # Each "epoch k/n (all ranks): ... epoch_time_s=X ..." line; the fastest epoch counts (the
  # machine is shared), the accuracy and bytes come from rank 0's final lines.
  python3 - "$log" "$ranks" "$((threads / ranks))" "$out" <<'PY'
import json, re, sys
log, ranks, threads, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
text = open(log).read()
times = [float(t) for t in re.findall(r"\(all ranks\):.*?epoch_time_s=([0-9.e+-]+)", text)]
get = lambda key: float(re.findall(key + r"=([0-9.]+)", text)[-1])
row = {"case": f"dist/ddp_mlp_{ranks}x{threads}", "ranks": ranks, "threads_per_rank": threads,
       "job_batch": 128, "epoch_s": min(times), "epoch_times_s": times,
       "model_bytes": int(get("model_bytes")), "bytes_per_step": int(get("bytes_per_step")),
       "test_accuracy": get("test_accuracy")}
open(out, "a").write(json.dumps(row) + "\n")
PY
  rm -f "$log"
}

run 1
run 2
python3 - "$out" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
base = rows[0]["epoch_s"]
print(f"{'ranks x threads':16s} {'epoch s':>8s} {'speedup':>8s} {'bytes/step':>11s} {'model bytes':>12s} {'acc':>6s}")
for r in rows:
    print(f"{r['ranks']} x {r['threads_per_rank']:<12d} {r['epoch_s']:8.2f} {base / r['epoch_s']:8.2f} "
          f"{r['bytes_per_step']:11d} {r['model_bytes']:12d} {r['test_accuracy']:6.4f}")
PY
echo "results: $out"
