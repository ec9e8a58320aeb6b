// sparse::crossover_sparsity: the weight sparsity above which the CSR linear beats the dense GEMM,
// as measured by bench/sparse_bench.cpp; prune::compress and nn::Linear decide with it.
#pragma once

#include <cstdint>
#include <type_traits>

#include "etna/core/device.hpp"

namespace etna::sparse {

// Fraction of zeros in a Linear weight from which the sparse path is faster, for a forward of
// `batch` samples. The figures come from bench/sparse_bench.cpp's crossover_* cases (784x256 and
// 256x256 weights, random unstructured masks, one thread, AMD EPYC Zen 4 with AVX-512, median of
// 3 runs on a shared machine; docs/performance.md has the table), rounded up to the next 5% so a
// layer near the line keeps the dense GEMM:
//  - batch <= 4: measured 0.92-0.93. etna's dense GEMM has a fast small-problem path here (a
//    GEMV in effect, 16 multiply-adds per load), the sparse kernels one gathered load per
//    nonzero: only very sparse weights win.                                      -> 0.95
//  - batch 5-16: measured 0.36-0.68 (0.57 / 0.68 at 8, 0.36 / 0.55 at 16): the dense GEMM
//    leaves its small path and pays for packing, the sparse axpy kernel does not. -> 0.70
//  - batch > 16: measured 0.50-0.71 (0.63 / 0.50 at 64, 0.70 / 0.71 at 256).    -> 0.75
// double: not measured apart; the kernels do half the work per vector as the GEMM does, so the
// same ratios are assumed.
// cuda: not measured (no GPU in the session that wrote this), so never chosen automatically:
// a model on cuda takes the sparse path only with CompressOptions::min_sparsity set.
template <class T, class D = cpu>
double crossover_sparsity(std::int64_t batch) {
  if constexpr (!std::is_same_v<D, cpu>) {
    (void)batch;
    return 2.0;  // above any sparsity: dense
  } else {
    if (batch <= 4) return 0.95;
    if (batch <= 16) return 0.70;
    return 0.75;
  }
}

}  // namespace etna::sparse
