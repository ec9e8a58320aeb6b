// The CPU's fused gate kernels: one SIMD pass per time step forward and one backward (the
// generic path in gates.hpp takes several expression passes). Same math, same buffers; tests
// run both (detail::rnn_use_generic_gates() forces the generic one on the CPU).
#pragma once

#include <cstdint>
#include <type_traits>
#include <xsimd/xsimd.hpp>

#include "etna/expr/math.hpp"
#include "etna/nn/rnn/gates.hpp"

namespace etna::nn::detail {

// Set by tests to run the expression path (the one CUDA uses) on the CPU too.
inline bool& rnn_use_generic_gates() {
  static bool on = false;
  return on;
}

namespace cpu_gates {

template <class V, class T>
inline V load(const T* p) {
  if constexpr (std::is_arithmetic_v<V>)
    return *p;
  else
    return V::load_unaligned(p);
}
template <class V, class T>
inline void store(T* p, const V& v) {
  if constexpr (std::is_arithmetic_v<V>)
    *p = v;
  else
    v.store_unaligned(p);
}
template <class V>
inline V sigmoid(const V& x) {
  return V(1) / (V(1) + math::exp(-x));
}
// f.template operator()<V>(j) over j in [0, H): SIMD batches, then a scalar tail.
template <class T, class F>
inline void lanes(std::int64_t H, F&& f) {
  std::int64_t j = 0;
  using B = xsimd::batch<T>;
  constexpr std::int64_t W = static_cast<std::int64_t>(B::size);
  for (; j + W <= H; j += W) f.template operator()<B>(j);
  for (; j < H; ++j) f.template operator()<T>(j);
}

}  // namespace cpu_gates

template <class T>
void cpu_step_forward(RecurrentKind kind, const StepTensors<T, cpu>& s, std::int64_t H) {
  using namespace cpu_gates;
  const std::int64_t N = s.h_new.size(0), GH = s.p.size(1);
  for (std::int64_t n = 0; n < N; ++n) {
    T* p = s.p.data() + n * GH;
    const T* hp = s.hp.defined() ? s.hp.data() + n * GH : nullptr;
    const T* hprev = s.h_prev.data() + n * H;
    T* hnew = s.h_new.data() + n * H;
    if (s.m.defined() && s.m.data()[n] == T(0)) {  // past this sequence's end: state kept
      std::copy_n(hprev, H, hnew);
      if (kind == RecurrentKind::lstm)
        std::copy_n(s.c_prev.data() + n * H, H, s.c_new.data() + n * H);
      continue;
    }
    switch (kind) {
      case RecurrentKind::rnn_tanh:
        lanes<T>(H,
                 [&]<class V>(std::int64_t j) { store(hnew + j, V(math::tanh(load<V>(p + j)))); });
        break;
      case RecurrentKind::rnn_relu:
        lanes<T>(H, [&]<class V>(std::int64_t j) {
          store(hnew + j, V(math::max(load<V>(p + j), V(0))));
        });
        break;
      case RecurrentKind::lstm: {
        const T* cprev = s.c_prev.data() + n * H;
        T* cnew = s.c_new.data() + n * H;
        lanes<T>(H, [&]<class V>(std::int64_t j) {
          const V i = sigmoid(load<V>(p + j)), f = sigmoid(load<V>(p + H + j));
          const V g = math::tanh(load<V>(p + 2 * H + j)), o = sigmoid(load<V>(p + 3 * H + j));
          const V c = f * load<V>(cprev + j) + i * g;
          store(p + j, i);
          store(p + H + j, f);
          store(p + 2 * H + j, g);
          store(p + 3 * H + j, o);
          store(cnew + j, c);
          store(hnew + j, V(o * math::tanh(c)));
        });
        break;
      }
      case RecurrentKind::gru:
        lanes<T>(H, [&]<class V>(std::int64_t j) {
          const V r = sigmoid(V(load<V>(p + j) + load<V>(hp + j)));
          const V z = sigmoid(V(load<V>(p + H + j) + load<V>(hp + H + j)));
          const V nn = math::tanh(V(load<V>(p + 2 * H + j) + r * load<V>(hp + 2 * H + j)));
          store(p + j, r);
          store(p + H + j, z);
          store(p + 2 * H + j, nn);
          store(hnew + j, V((V(1) - z) * nn + z * load<V>(hprev + j)));
        });
        break;
    }
  }
}

// The contract of step_backward (gates.hpp), in one pass per row.
template <class T>
void cpu_step_backward(RecurrentKind kind, const StepTensors<T, cpu>& s, std::int64_t H,
                       const Tensor<T, cpu>& gy_t, const Tensor<T, cpu>& ds_t,
                       const Tensor<T, cpu>& dc_t, const Tensor<T, cpu>& dp_t,
                       const Tensor<T, cpu>& dhp_t) {
  using namespace cpu_gates;
  const std::int64_t N = s.h_new.size(0), GH = s.p.size(1);
  for (std::int64_t n = 0; n < N; ++n) {
    const T* p = s.p.data() + n * GH;
    const T* gy = gy_t.data() + n * H;
    T* ds = ds_t.data() + n * H;
    T* dp = dp_t.data() + n * GH;
    if (s.m.defined() && s.m.data()[n] == T(0)) {  // gradients pass through to the kept state
      std::fill_n(dp, GH, T(0));
      if (kind == RecurrentKind::gru) std::fill_n(dhp_t.data() + n * GH, GH, T(0));
      continue;
    }
    const T* hnew = s.h_new.data() + n * H;
    switch (kind) {
      case RecurrentKind::rnn_tanh:
        lanes<T>(H, [&]<class V>(std::int64_t j) {
          const V h = load<V>(hnew + j);
          store(dp + j, V((load<V>(ds + j) + load<V>(gy + j)) * (V(1) - h * h)));
          store(ds + j, V(0));
        });
        break;
      case RecurrentKind::rnn_relu:
        lanes<T>(H, [&]<class V>(std::int64_t j) {
          const V dh = load<V>(ds + j) + load<V>(gy + j);
          store(dp + j, V(math::select(load<V>(hnew + j) > V(0), dh, V(0))));
          store(ds + j, V(0));
        });
        break;
      case RecurrentKind::lstm: {
        const T* cprev = s.c_prev.data() + n * H;
        const T* cnew = s.c_new.data() + n * H;
        T* dc = dc_t.data() + n * H;
        lanes<T>(H, [&]<class V>(std::int64_t j) {
          const V i = load<V>(p + j), f = load<V>(p + H + j), g = load<V>(p + 2 * H + j),
                  o = load<V>(p + 3 * H + j);
          const V dh = load<V>(ds + j) + load<V>(gy + j);
          const V tc = math::tanh(load<V>(cnew + j));
          const V dcell = load<V>(dc + j) + dh * o * (V(1) - tc * tc);
          store(dp + j, V(dcell * g * i * (V(1) - i)));
          store(dp + H + j, V(dcell * load<V>(cprev + j) * f * (V(1) - f)));
          store(dp + 2 * H + j, V(dcell * i * (V(1) - g * g)));
          store(dp + 3 * H + j, V(dh * tc * o * (V(1) - o)));
          store(dc + j, V(dcell * f));
          store(ds + j, V(0));
        });
        break;
      }
      case RecurrentKind::gru: {
        const T* hp = s.hp.data() + n * GH;
        const T* hprev = s.h_prev.data() + n * H;
        T* dhp = dhp_t.data() + n * GH;
        lanes<T>(H, [&]<class V>(std::int64_t j) {
          const V r = load<V>(p + j), z = load<V>(p + H + j), nn = load<V>(p + 2 * H + j);
          const V dh = load<V>(ds + j) + load<V>(gy + j);
          const V dn = dh * (V(1) - z) * (V(1) - nn * nn);
          const V dz = dh * (load<V>(hprev + j) - nn) * z * (V(1) - z);
          const V dr = dn * load<V>(hp + 2 * H + j) * r * (V(1) - r);
          store(dp + j, dr);
          store(dp + H + j, dz);
          store(dp + 2 * H + j, dn);
          store(dhp + j, dr);
          store(dhp + H + j, dz);
          store(dhp + 2 * H + j, V(dn * r));
          store(ds + j, V(dh * z));
        });
        break;
      }
    }
  }
}

}  // namespace etna::nn::detail
