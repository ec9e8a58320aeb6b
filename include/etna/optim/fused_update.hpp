// The one-pass element loop every optimizer update runs: reads the gradient, updates the
// parameter and its state buffers together (xsimd batches, scalar tail, parallel above a size).
// Host memory only: parameters on cuda are updated by the multi-tensor kernels of
// backend/cuda/optim.hpp (OptimizerBase::device_step).
#pragma once

#include <cmath>
#include <concepts>
#include <cstdint>
#include <tuple>
#include <type_traits>
#include <xsimd/xsimd.hpp>

#include "etna/backend/cpu/thread_pool.hpp"
#include "etna/core/dtype.hpp"

namespace etna::optim::detail {

// Below this many elements a second thread costs more than the update it would share.
inline constexpr std::int64_t kParallelGrain = std::int64_t{1} << 15;

// sqrt/max that read the same in a kernel on a scalar and on an xsimd batch.
template <std::floating_point T>
T vsqrt(T x) {
  return std::sqrt(x);
}
template <std::floating_point T>
T vmax(T a, T b) {
  return a < b ? b : a;
}
template <class T, class A>
xsimd::batch<T, A> vsqrt(const xsimd::batch<T, A>& x) {
  return xsimd::sqrt(x);
}
template <class T, class A>
xsimd::batch<T, A> vmax(const xsimd::batch<T, A>& a, const xsimd::batch<T, A>& b) {
  return xsimd::max(a, b);
}

// Calls kernel(g, p, s...) for every element i of n, where g = grad[i] is read-only and
// p = param[i], s... = state[i]... are updated in place through references. The kernel is
// generic: it is called with xsimd::batch<T> values over full batches and with plain T values
// for the tail, so one lambda holds the whole update rule, written once.
template <class T, class Kernel, class... State>
void fused_update(std::int64_t n, const T* grad, Kernel&& kernel, T* param, State*... state) {
  static_assert((std::is_same_v<State, T> && ...), "fused_update: state buffers must hold T");
  using B = xsimd::batch<T>;
  constexpr std::int64_t W = static_cast<std::int64_t>(B::size);
  cpu_backend::parallel_for(0, n, kParallelGrain, [&](std::int64_t begin, std::int64_t end) {
    std::int64_t i = begin;
    for (; i + W <= end; i += W) {
      const B g = B::load_unaligned(grad + i);
      B p = B::load_unaligned(param + i);
      std::tuple<decltype((void)state, B{})...> s{B::load_unaligned(state + i)...};
      std::apply([&](auto&... sv) { kernel(g, p, sv...); }, s);
      p.store_unaligned(param + i);
      std::apply([&](auto&... sv) { (sv.store_unaligned(state + i), ...); }, s);
    }
    for (; i < end; ++i) kernel(grad[i], param[i], state[i]...);
  });
}

}  // namespace etna::optim::detail
