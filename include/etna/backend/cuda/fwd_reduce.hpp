// Declarations of the CUDA reductions and softmax kernels that device-generic code (ops/reduce,
// ops/softmax and their autograd nodes) calls; defined in backend/cuda/reduce.hpp and softmax.hpp.
#pragma once

#include <cstdint>
#include <vector>

namespace etna::cuda_backend {

// Reduces the device expression e over the dimensions flagged in `reduced` (one flag per
// dimension of e.shape()) with the CPU reduction policy P, writing one output per combination
// of the kept dimensions, contiguous and in their order, to device memory `out`. The
// expression is evaluated inside the reduction kernel (nothing is materialised).
template <class P, class E>
void reduce(const E& e, const std::vector<bool>& reduced, typename P::output_type* out);

// The per-row backward rules of prod, max/min and the infinity norm over [outputs, n]
// contiguous rows (rule: 0 product, 1 first extreme, 2 split ties, 3 split ties of |x|).
template <class T>
void row_backward(int rule, const T* x, const T* y, const T* g, T* out, std::int64_t outputs,
                  std::int64_t n);

// softmax / log_softmax of contiguous device data viewed as [outer, n, inner], along n.
// `in` may equal `out`.
template <class T>
void softmax(const T* in, T* out, std::int64_t outer, std::int64_t n, std::int64_t inner,
             bool log);

// Their input gradient from the saved output y and the incoming gradient g (all contiguous
// [outer, n, inner]): softmax y * (g - sum(g * y)); log_softmax g - exp(y) * sum(g).
template <class T>
void softmax_backward(const T* y, const T* g, T* out, std::int64_t outer, std::int64_t n,
                      std::int64_t inner, bool log);

}  // namespace etna::cuda_backend
