#!/usr/bin/env bash
# Installs the dependencies, builds the examples in Release and runs the main demo.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DETNA_BUILD_EXAMPLES=ON > /dev/null
cmake --build build -j"${ETNA_JOBS:-2}" --target fused_expressions
./build/examples/fused_expressions "$@"
