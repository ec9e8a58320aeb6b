#!/usr/bin/env bash
# Installs the dependencies, builds everything in Release and runs the whole test suite:
# unit tests (ctest), every header compiled alone, and a find_package(etna) consumer project.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
jobs=${ETNA_JOBS:-2}
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DETNA_BUILD_TESTS=ON -DETNA_BUILD_EXAMPLES=ON
cmake --build build -j"$jobs"
# The installed package must work from a separate project (find_package(etna)).
rm -rf build/install build/consumer
cmake --install build --prefix build/install > /dev/null
cmake -S tests/consumer -B build/consumer -DCMAKE_PREFIX_PATH="$PWD/build/install" \
      -DCMAKE_BUILD_TYPE=Release > /dev/null
cmake --build build/consumer -j"$jobs" > /dev/null
./build/consumer/etna_consumer
cd build && ctest --output-on-failure -j"$jobs"
