// CUDA kernels of the recurrent layers' gate math (declared in fwd_rnn.hpp): one thread per
// (n, j) element of the [N, H] state reads its G gate pre-activations and writes the gates and
// states, so a time step is one launch forward and one backward (the expression path took
// about 5 and 8). Launched on etna's stream with no allocation or sync, so CUDA graph capture
// records them; the emulated build runs the same functors on the host.
#pragma once

#include <cstdint>

#include "etna/backend/cuda/fwd_rnn.hpp"
#include "etna/backend/cuda/launch.hpp"
#include "etna/core/macros.hpp"
#include "etna/expr/math.hpp"

namespace etna::cuda_backend {
namespace rnn_kernels {

template <class T>
ETNA_HD T sigmoid(T x) {  // as op::Sigmoid and cpu_gates::sigmoid compute it
  return T(1) / (T(1) + math::exp(-x));
}

template <class T>
struct StepForward {
  RnnGates kind;
  RnnStep<T> s;
  ETNA_HD void operator()(std::int64_t i) const {
    const std::int64_t H = s.H, n = i / H, j = i % H;
    const std::int64_t G = kind == RnnGates::lstm ? 4 : kind == RnnGates::gru ? 3 : 1;
    T* p = s.p + n * G * H;
    if (s.m && s.m[n] == T(0)) {  // past this sequence's end: state kept
      s.h_new[i] = s.h_prev[i];
      if (kind == RnnGates::lstm) s.c_new[i] = s.c_prev[i];
      return;
    }
    switch (kind) {
      case RnnGates::rnn_tanh:
        s.h_new[i] = math::tanh(p[j]);
        break;
      case RnnGates::rnn_relu:
        s.h_new[i] = p[j] > T(0) ? p[j] : T(0);
        break;
      case RnnGates::lstm: {  // gate order i, f, g, o
        const T ig = sigmoid(p[j]), f = sigmoid(p[H + j]), g = math::tanh(p[2 * H + j]),
                o = sigmoid(p[3 * H + j]);
        const T c = f * s.c_prev[i] + ig * g;
        p[j] = ig;
        p[H + j] = f;
        p[2 * H + j] = g;
        p[3 * H + j] = o;
        s.c_new[i] = c;
        s.h_new[i] = o * math::tanh(c);
        break;
      }
      case RnnGates::gru: {  // gate order r, z, n
        const T* hp = s.hp + n * G * H;
        const T r = sigmoid(T(p[j] + hp[j])), z = sigmoid(T(p[H + j] + hp[H + j]));
        const T nn = math::tanh(T(p[2 * H + j] + r * hp[2 * H + j]));
        p[j] = r;
        p[H + j] = z;
        p[2 * H + j] = nn;
        s.h_new[i] = (T(1) - z) * nn + z * s.h_prev[i];
        break;
      }
    }
  }
};

template <class T>
struct StepBackward {
  RnnGates kind;
  RnnStep<T> s;
  const T* gy;
  T *ds, *dc, *dp, *dhp;
  ETNA_HD void operator()(std::int64_t i) const {
    const std::int64_t H = s.H, n = i / H, j = i % H;
    const std::int64_t G = kind == RnnGates::lstm ? 4 : kind == RnnGates::gru ? 3 : 1;
    const T* p = s.p + n * G * H;
    T* dpr = dp + n * G * H;
    if (s.m && s.m[n] == T(0)) {  // gradients pass through to the kept state
      for (std::int64_t g = 0; g < G; ++g) dpr[g * H + j] = T(0);
      if (kind == RnnGates::gru)
        for (std::int64_t g = 0; g < G; ++g) dhp[n * G * H + g * H + j] = T(0);
      return;
    }
    const T dh = ds[i] + (gy ? gy[i] : T(0));
    switch (kind) {
      case RnnGates::rnn_tanh: {
        const T h = s.h_new[i];
        dpr[j] = dh * (T(1) - h * h);
        ds[i] = T(0);
        break;
      }
      case RnnGates::rnn_relu:
        dpr[j] = s.h_new[i] > T(0) ? dh : T(0);
        ds[i] = T(0);
        break;
      case RnnGates::lstm: {
        const T ig = p[j], f = p[H + j], g = p[2 * H + j], o = p[3 * H + j];
        const T tc = math::tanh(s.c_new[i]);
        const T dcell = dc[i] + dh * o * (T(1) - tc * tc);
        dpr[j] = dcell * g * ig * (T(1) - ig);
        dpr[H + j] = dcell * s.c_prev[i] * f * (T(1) - f);
        dpr[2 * H + j] = dcell * ig * (T(1) - g * g);
        dpr[3 * H + j] = dh * tc * o * (T(1) - o);
        dc[i] = dcell * f;
        ds[i] = T(0);
        break;
      }
      case RnnGates::gru: {
        const T r = p[j], z = p[H + j], nn = p[2 * H + j];
        const T* hp = s.hp + n * G * H;
        T* dhpr = dhp + n * G * H;
        const T dn = dh * (T(1) - z) * (T(1) - nn * nn);
        const T dz = dh * (s.h_prev[i] - nn) * z * (T(1) - z);
        const T dr = dn * hp[2 * H + j] * r * (T(1) - r);
        dpr[j] = dr;
        dpr[H + j] = dz;
        dpr[2 * H + j] = dn;
        dhpr[j] = dr;
        dhpr[H + j] = dz;
        dhpr[2 * H + j] = dn * r;
        ds[i] = dh * z;
        break;
      }
    }
  }
};

}  // namespace rnn_kernels

template <class T>
void rnn_step_forward(RnnGates kind, const RnnStep<T>& s) {
  for_each_index(s.N * s.H, rnn_kernels::StepForward<T>{kind, s});
}

template <class T>
void rnn_step_backward(RnnGates kind, const RnnStep<T>& s, const T* gy, T* ds, T* dc, T* dp,
                       T* dhp) {
  for_each_index(s.N * s.H, rnn_kernels::StepBackward<T>{kind, s, gy, ds, dc, dp, dhp});
}

}  // namespace etna::cuda_backend
