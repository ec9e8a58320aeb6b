// The per-time-step gate math of RNN (tanh/relu), LSTM and GRU, forward and backward, written
// as tensor expressions on [N, H] views: the reference contract that the fused kernels (the
// CPU's cpu_gates.hpp, CUDA's backend/cuda/rnn.hpp) mirror; tests still run it on the CPU.
#pragma once

#include <cstdint>

#include "etna/core/tensor.hpp"
#include "etna/expr/operators.hpp"
#include "etna/nn/rnn/options.hpp"

namespace etna::nn::detail {

// One time step's views. p holds the pre-activations [N, G*H] (input and recurrent projections
// with biases; for GRU without the recurrent part, which is hp [N, 3H] with b_hh); LSTM and GRU
// overwrite p with the activated gates, which backward reads. m is the step's validity mask
// [N, 1] (1 = inside the sequence) or undefined when every sequence is full length: a row
// outside its sequence keeps its previous state and its gradients pass straight through.
template <class T, class D>
struct StepTensors {
  Tensor<T, D> p, hp, h_prev, h_new, c_prev, c_new, m;
};

// dst = value where the step is valid, else keep (previous state).
template <class T, class D, class E, class K>
void masked_store(const Tensor<T, D>& dst, const Tensor<T, D>& m, const E& value, const K& keep) {
  if (m.defined())
    dst.assign(m * value + (T(1) - m) * keep);
  else
    dst.assign(value);
}

template <class T, class D>
void step_forward(RecurrentKind kind, const StepTensors<T, D>& s, std::int64_t H) {
  switch (kind) {
    case RecurrentKind::rnn_tanh:
      masked_store(s.h_new, s.m, tanh(s.p), s.h_prev);
      break;
    case RecurrentKind::rnn_relu:
      masked_store(s.h_new, s.m, relu(s.p), s.h_prev);
      break;
    case RecurrentKind::lstm: {  // gate order i, f, g, o
      const auto i_f = s.p.narrow(1, 0, 2 * H), g = s.p.narrow(1, 2 * H, H),
                 o = s.p.narrow(1, 3 * H, H);
      i_f.assign(sigmoid(i_f));
      g.assign(tanh(g));
      o.assign(sigmoid(o));
      const auto i = s.p.narrow(1, 0, H), f = s.p.narrow(1, H, H);
      masked_store(s.c_new, s.m, f * s.c_prev + i * g, s.c_prev);
      masked_store(s.h_new, s.m, o * tanh(s.c_new), s.h_prev);
      break;
    }
    case RecurrentKind::gru: {  // gate order r, z, n; n = tanh(x W_in + b_in + r (h W_hn + b_hn))
      const auto rz = s.p.narrow(1, 0, 2 * H), n = s.p.narrow(1, 2 * H, H);
      rz.assign(sigmoid(rz + s.hp.narrow(1, 0, 2 * H)));
      const auto r = s.p.narrow(1, 0, H), z = s.p.narrow(1, H, H);
      n.assign(tanh(n + r * s.hp.narrow(1, 2 * H, H)));
      masked_store(s.h_new, s.m, (T(1) - z) * n + z * s.h_prev, s.h_prev);
      break;
    }
  }
}

// Gradients of one step. In: ds = dLoss/dh_new from later steps, gy = dLoss/doutput at this
// step (undefined = 0), dc (LSTM) = dLoss/dc_new. Out: dp [N, G*H] = dLoss/d(input projection),
// dhp (GRU) = dLoss/d(recurrent projection) (for the others it is dp), ds = the part of
// dLoss/dh_prev that does not go through W_hh (the caller adds dhp W_hh), dc = dLoss/dc_prev.
// dh and dcell are [N, H] scratch.
template <class T, class D>
void step_backward(RecurrentKind kind, const StepTensors<T, D>& s, std::int64_t H,
                   const Tensor<T, D>& gy, const Tensor<T, D>& ds, const Tensor<T, D>& dc,
                   const Tensor<T, D>& dp, const Tensor<T, D>& dhp, const Tensor<T, D>& dh,
                   const Tensor<T, D>& dcell) {
  const bool masked = s.m.defined();
  if (gy.defined()) {
    if (masked)
      dh.assign(s.m * (ds + gy));
    else
      dh.assign(ds + gy);
  } else {
    if (masked)
      dh.assign(s.m * ds);
    else
      dh.assign(ds);
  }
  switch (kind) {
    case RecurrentKind::rnn_tanh:
      dp.assign(dh * (T(1) - s.h_new * s.h_new));
      break;
    case RecurrentKind::rnn_relu:
      dp.assign(where(s.h_new > T(0), dh, T(0)));
      break;
    case RecurrentKind::lstm: {
      const auto i = s.p.narrow(1, 0, H), f = s.p.narrow(1, H, H), g = s.p.narrow(1, 2 * H, H),
                 o = s.p.narrow(1, 3 * H, H);
      if (masked)
        dcell.assign(s.m * dc + dh * o * (T(1) - tanh(s.c_new) * tanh(s.c_new)));
      else
        dcell.assign(dc + dh * o * (T(1) - tanh(s.c_new) * tanh(s.c_new)));
      dp.narrow(1, 3 * H, H).assign(dh * tanh(s.c_new) * o * (T(1) - o));
      dp.narrow(1, 0, H).assign(dcell * g * i * (T(1) - i));
      dp.narrow(1, H, H).assign(dcell * s.c_prev * f * (T(1) - f));
      dp.narrow(1, 2 * H, H).assign(dcell * i * (T(1) - g * g));
      if (masked)
        dc.assign(dcell * f + (T(1) - s.m) * dc);
      else
        dc.assign(dcell * f);
      break;
    }
    case RecurrentKind::gru: {
      const auto r = s.p.narrow(1, 0, H), z = s.p.narrow(1, H, H), n = s.p.narrow(1, 2 * H, H);
      const auto dn = dp.narrow(1, 2 * H, H);
      dn.assign(dh * (T(1) - z) * (T(1) - n * n));
      dp.narrow(1, H, H).assign(dh * (s.h_prev - n) * z * (T(1) - z));
      dp.narrow(1, 0, H).assign(dn * s.hp.narrow(1, 2 * H, H) * r * (T(1) - r));
      dhp.narrow(1, 0, 2 * H).assign(dp.narrow(1, 0, 2 * H));
      dhp.narrow(1, 2 * H, H).assign(dn * r);
      if (masked)
        ds.assign(dh * z + (T(1) - s.m) * ds);
      else
        ds.assign(dh * z);
      return;
    }
  }
  if (masked) ds.assign((T(1) - s.m) * ds);
}

// Whether step_backward leaves a direct part of dLoss/dh_prev in ds (else ds is to be
// overwritten by the recurrent GEMM).
inline bool has_direct_state_grad(RecurrentKind kind, bool masked) {
  return masked || kind == RecurrentKind::gru;
}

}  // namespace etna::nn::detail
