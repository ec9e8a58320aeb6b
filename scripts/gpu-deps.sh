#!/usr/bin/env bash
# Copies the third-party headers (and static zlib) the CUDA build needs into .deps/ (git-ignored),
# for GPU machines that have nvcc and PyTorch but not etna's Debian packages: run it here, then
# carry .deps/ there and run bench/gpu/check.sh.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
mkdir -p "$root/.deps/include" "$root/.deps/lib"
for d in xtensor xtl xsimd nlohmann catch2; do cp -r "/usr/include/$d" "$root/.deps/include/"; done
cp /usr/include/zlib.h /usr/include/zconf.h "$root/.deps/include/"
# NCCL's header for the NCCL group's test (test_cuda_dist). Its library (200+ MB, over what a
# device call carries) is found on the GPU machine by bench/gpu/check.sh: the CUDA toolkit's,
# PyTorch's nvidia-nccl wheel, or NCCL_LIB_DIR.
for h in /usr/local/cuda/include/nccl.h /usr/include/nccl.h; do
  if [[ -f $h ]]; then cp "$h" "$root/.deps/include/"; break; fi
done
cp /usr/lib/x86_64-linux-gnu/libz.a "$root/.deps/lib/"
du -sh "$root/.deps"
