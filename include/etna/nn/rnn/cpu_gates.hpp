// The CPU's fused gate kernels: one SIMD pass per time step forward and one backward (the
// generic path in gates.hpp takes several expression passes; CUDA has its own fused kernels in
// backend/cuda/rnn.hpp). Same math, same buffers; tests run both
// (detail::rnn_use_generic_gates() forces the generic one on the CPU).
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
inline V load_lane(const T* p) {
  if constexpr (std::is_arithmetic_v<V>)
    return *p;
  else
    return V::load_unaligned(p);
}
template <class V, class T>
inline void store_lane(T* p, const V& v) {
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
        lanes<T>(H, [&]<class V>(std::int64_t j) {
          store_lane(hnew + j, V(math::tanh(load_lane<V>(p + j))));
        });
        break;
      case RecurrentKind::rnn_relu:
        lanes<T>(H, [&]<class V>(std::int64_t j) {
          store_lane(hnew + j, V(math::max(load_lane<V>(p + j), V(0))));
        });
        break;
      case RecurrentKind::lstm: {
        const T* cprev = s.c_prev.data() + n * H;
        T* cnew = s.c_new.data() + n * H;
        lanes<T>(H, [&]<class V>(std::int64_t j) {
          const V i = sigmoid(load_lane<V>(p + j)), f = sigmoid(load_lane<V>(p + H + j));
          const V g = math::tanh(load_lane<V>(p + 2 * H + j)),
                  o = sigmoid(load_lane<V>(p + 3 * H + j));
          const V c = f * load_lane<V>(cprev + j) + i * g;
          store_lane(p + j, i);
          store_lane(p + H + j, f);
          store_lane(p + 2 * H + j, g);
          store_lane(p + 3 * H + j, o);
          store_lane(cnew + j, c);
          store_lane(hnew + j, V(o * math::tanh(c)));
        });
        break;
      }
      case RecurrentKind::gru:
        lanes<T>(H, [&]<class V>(std::int64_t j) {
          const V r = sigmoid(V(load_lane<V>(p + j) + load_lane<V>(hp + j)));
          const V z = sigmoid(V(load_lane<V>(p + H + j) + load_lane<V>(hp + H + j)));
          const V nn =
              math::tanh(V(load_lane<V>(p + 2 * H + j) + r * load_lane<V>(hp + 2 * H + j)));
          store_lane(p + j, r);
          store_lane(p + H + j, z);
          store_lane(p + 2 * H + j, nn);
          store_lane(hnew + j, V((V(1) - z) * nn + z * load_lane<V>(hprev + j)));
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
          const V h = load_lane<V>(hnew + j);
          store_lane(dp + j, V((load_lane<V>(ds + j) + load_lane<V>(gy + j)) * (V(1) - h * h)));
          store_lane(ds + j, V(0));
        });
        break;
      case RecurrentKind::rnn_relu:
        lanes<T>(H, [&]<class V>(std::int64_t j) {
          const V dh = load_lane<V>(ds + j) + load_lane<V>(gy + j);
          store_lane(dp + j, V(math::select(load_lane<V>(hnew + j) > V(0), dh, V(0))));
          store_lane(ds + j, V(0));
        });
        break;
      case RecurrentKind::lstm: {
        const T* cprev = s.c_prev.data() + n * H;
        const T* cnew = s.c_new.data() + n * H;
        T* dc = dc_t.data() + n * H;
        lanes<T>(H, [&]<class V>(std::int64_t j) {
          const V i = load_lane<V>(p + j), f = load_lane<V>(p + H + j),
                  g = load_lane<V>(p + 2 * H + j), o = load_lane<V>(p + 3 * H + j);
          const V dh = load_lane<V>(ds + j) + load_lane<V>(gy + j);
          const V tc = math::tanh(load_lane<V>(cnew + j));
          const V dcell = load_lane<V>(dc + j) + dh * o * (V(1) - tc * tc);
          store_lane(dp + j, V(dcell * g * i * (V(1) - i)));
          store_lane(dp + H + j, V(dcell * load_lane<V>(cprev + j) * f * (V(1) - f)));
          store_lane(dp + 2 * H + j, V(dcell * i * (V(1) - g * g)));
          store_lane(dp + 3 * H + j, V(dh * tc * o * (V(1) - o)));
          store_lane(dc + j, V(dcell * f));
          store_lane(ds + j, V(0));
        });
        break;
      }
      case RecurrentKind::gru: {
        const T* hp = s.hp.data() + n * GH;
        const T* hprev = s.h_prev.data() + n * H;
        T* dhp = dhp_t.data() + n * GH;
        lanes<T>(H, [&]<class V>(std::int64_t j) {
          const V r = load_lane<V>(p + j), z = load_lane<V>(p + H + j),
                  nn = load_lane<V>(p + 2 * H + j);
          const V dh = load_lane<V>(ds + j) + load_lane<V>(gy + j);
          const V dn = dh * (V(1) - z) * (V(1) - nn * nn);
          const V dz = dh * (load_lane<V>(hprev + j) - nn) * z * (V(1) - z);
          const V dr = dn * load_lane<V>(hp + 2 * H + j) * r * (V(1) - r);
          store_lane(dp + j, dr);
          store_lane(dp + H + j, dz);
          store_lane(dp + 2 * H + j, dn);
          store_lane(dhp + j, dr);
          store_lane(dhp + H + j, dz);
          store_lane(dhp + 2 * H + j, V(dn * r));
          store_lane(ds + j, V(dh * z));
        });
        break;
      }
    }
  }
}

}  // namespace etna::nn::detail
