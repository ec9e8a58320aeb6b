// Declarations of the CUDA backend's autograd entry points that device-generic autograd code
// calls (fused_node.hpp); defined in backend/cuda/autograd.hpp, which <etna/cuda.hpp> includes.
#pragma once

#include <array>

#include "etna/backend/cuda/fwd.hpp"

namespace etna::cuda_backend {

// The fused element-wise node's backward on the device: one kernel that, per element of the
// contiguous incoming gradient g, runs the forward/reverse sweep over expression e (reading the
// saved output y when e's root needs it) and writes every leaf's gradient at once into the
// contiguous buffers `out` (null for leaves that need none; out may alias g's buffer).
template <class T, class E, int N>
void fused_backward(const E& e, const Tensor<T, cuda>& g, const Tensor<T, cuda>& y,
                    const std::array<T*, N>& out);

}  // namespace etna::cuda_backend
