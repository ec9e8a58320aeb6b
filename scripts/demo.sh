#!/usr/bin/env bash
# Installs the dependencies, builds the examples in Release and runs the main demo: an MLP
# trained on Fashion-MNIST for 5 epochs (flags are passed through: --help lists them).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DETNA_BUILD_EXAMPLES=ON > /dev/null
cmake --build build -j"${ETNA_JOBS:-2}" --target fashion_mnist
./build/examples/fashion_mnist "$@"
