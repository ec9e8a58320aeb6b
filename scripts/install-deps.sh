#!/usr/bin/env bash
# Installs what etna's build, tests and examples need on Debian 12 (idempotent, run as root).
# Benchmark-only packages (libtorch-dev, libopenblas-dev) are installed by bench/run.sh.
set -euo pipefail

# bible-kjv: the King James Version text (public domain) that examples/char_lm trains on.
# openmpi-bin, libopenmpi-dev: etna::dist (mpirun, <mpi.h>) and its tests (test_dist).
packages=(g++ cmake make xtensor-dev libxsimd-dev catch2 zlib1g-dev nlohmann-json3-dev
          dataset-fashion-mnist bible-kjv openmpi-bin libopenmpi-dev)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  echo "install-deps: installing ${missing[*]}"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# The tests' Python environment (.venv: tensorboard for reading event files back).
bash "$(dirname "${BASH_SOURCE[0]}")/setup-python.sh"
