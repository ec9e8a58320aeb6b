// One recurrent layer in one direction over a whole sequence, recorded as one autograd node:
// the input projection of all steps is one GEMM, each step one GEMM (h W_hh^T) plus the fused
// gate pass; backward runs the steps in reverse (gate backward + one GEMM for dh) and forms
// dW_ih, dW_hh, dX and the bias gradients as single GEMMs / column sums over all steps.
#pragma once

#include <cstdint>
#include <memory>
#include <type_traits>
#include <utility>
#include <vector>

#include "etna/autograd/function.hpp"
#include "etna/backend/cuda/fwd_blas.hpp"
#include "etna/backend/cuda/fwd_rnn.hpp"
#include "etna/core/factory.hpp"
#include "etna/nn/rnn/cpu_gates.hpp"
#include "etna/nn/rnn/gates.hpp"
#include "etna/ops/matmul.hpp"

namespace etna::nn::detail {

template <class T, class D>
struct DirectionParams {
  Var<T, D> w_ih, w_hh, b_ih, b_hh;  // biases undefined without bias
};

// A step's views as the fused CUDA gate kernels take them (backend/cuda/fwd_rnn.hpp).
template <class T, class D>
cuda_backend::RnnStep<T> device_step(const StepTensors<T, D>& s, std::int64_t H) {
  cuda_backend::RnnStep<T> d;
  d.p = s.p.data();
  if (s.hp.defined()) d.hp = s.hp.data();
  d.h_prev = s.h_prev.data();
  d.h_new = s.h_new.data();
  if (s.c_new.defined()) {
    d.c_prev = s.c_prev.data();
    d.c_new = s.c_new.data();
  }
  if (s.m.defined()) d.m = s.m.data();
  d.N = s.h_new.size(0);
  d.H = H;
  return d;
}
inline cuda_backend::RnnGates device_gates(RecurrentKind kind) {  // the enums share one order
  static_assert(static_cast<int>(RecurrentKind::gru) ==
                static_cast<int>(cuda_backend::RnnGates::gru));
  return static_cast<cuda_backend::RnnGates>(static_cast<int>(kind));
}

// Everything a direction's forward computes and its backward reads. States are stored in time
// order in [L+1, N, H] buffers: the forward direction reads h_{t-1} at row t and writes row t+1
// (h0 at row 0, h_n at row L); the reverse one reads row t+1 and writes row t (h0 at row L,
// h_n at row 0). So the previous states of all steps are one contiguous block either way.
template <class T, class D>
struct SequenceState {
  RecurrentKind kind{};
  bool reverse = false;
  std::int64_t L = 0, N = 0, H = 0;
  Tensor<T, D> x2;    // [L*N, In]
  Tensor<T, D> p;     // [L, N, G*H] pre-activations, then activated gates (LSTM, GRU)
  Tensor<T, D> hp;    // GRU: [L, N, 3H] recurrent projections (with b_hh)
  Tensor<T, D> s, c;  // [L+1, N, H] hidden (and LSTM cell) states
  Tensor<T, D> mask;  // [L, N, 1] or undefined
  Tensor<T, D> w_ih, w_hh;

  std::int64_t prev_row(std::int64_t t) const { return reverse ? t + 1 : t; }
  std::int64_t new_row(std::int64_t t) const { return reverse ? t : t + 1; }
  std::int64_t final_row() const { return reverse ? 0 : L; }
  std::int64_t initial_row() const { return reverse ? L : 0; }
  StepTensors<T, D> step(std::int64_t t) const {
    StepTensors<T, D> st;
    st.p = p[t];
    if (hp.defined()) st.hp = hp[t];
    st.h_prev = s[prev_row(t)];
    st.h_new = s[new_row(t)];
    if (c.defined()) {
      st.c_prev = c[prev_row(t)];
      st.c_new = c[new_row(t)];
    }
    if (mask.defined()) st.m = mask[t];
    return st;
  }
};

template <class T, class D>
class SequenceNode final : public autograd::Node<T, D> {
 public:
  using Impl = std::shared_ptr<autograd::VarImpl<T, D>>;
  SequenceNode(SequenceState<T, D> st, Impl x, Impl h0, Impl c0, Impl w_ih, Impl w_hh, Impl b_ih,
               Impl b_hh)
      : st_(std::move(st)),
        x_(std::move(x)),
        h0_(std::move(h0)),
        c0_(std::move(c0)),
        w_ih_(std::move(w_ih)),
        w_hh_(std::move(w_hh)),
        b_ih_(std::move(b_ih)),
        b_hh_(std::move(b_hh)) {}
  const char* name() const override {
    return st_.kind == RecurrentKind::lstm  ? "LSTMBackward"
           : st_.kind == RecurrentKind::gru ? "GRUBackward"
                                            : "RNNBackward";
  }
  void next_nodes(std::vector<std::shared_ptr<autograd::NodeBase>>& out) const override {
    for (const Impl* i : {&x_, &h0_, &c0_, &w_ih_, &w_hh_, &b_ih_, &b_hh_})
      autograd::add_next(out, *i);
  }

 protected:
  void backward(const Tensor<T, D>& g_in) override {
    const auto& st = st_;
    const std::int64_t L = st.L, N = st.N, H = st.H, GH = st.p.size(2);
    const bool lstm = st.kind == RecurrentKind::lstm, gru = st.kind == RecurrentKind::gru;
    const Tensor<T, D> g = g_in.contiguous();
    const Tensor<T, D> ds = g[L].clone();
    const Tensor<T, D> dc = lstm ? g[L + 1].clone() : Tensor<T, D>();
    auto dp = Tensor<T, D>::allocate({L, N, GH});
    auto dhp = gru ? Tensor<T, D>::allocate({L, N, GH}) : dp;
    // Scratch of the generic expression path only (the fused kernels keep dh in registers).
    bool generic = false;
    if constexpr (std::is_same_v<D, cpu>) generic = rnn_use_generic_gates();
    auto dh = generic ? Tensor<T, D>::allocate({N, H}) : Tensor<T, D>();
    auto dcell = generic && lstm ? Tensor<T, D>::allocate({N, H}) : Tensor<T, D>();
    const T beta = has_direct_state_grad(st.kind, st.mask.defined()) ? T(1) : T(0);
    for (std::int64_t k = 0; k < L; ++k) {
      const std::int64_t t = st.reverse ? k : L - 1 - k;  // forward order, reversed
      if constexpr (std::is_same_v<D, cpu>) {
        if (!generic) {
          cpu_step_backward(st.kind, st.step(t), H, g[t], ds, dc, dp[t], dhp[t]);
        } else {
          step_backward(st.kind, st.step(t), H, g[t], ds, dc, dp[t], dhp[t], dh, dcell);
        }
      } else {
        const Tensor<T, D> gy = g[t], dpt = dp[t];
        cuda_backend::rnn_step_backward(device_gates(st.kind), device_step(st.step(t), H),
                                        gy.data(), ds.data(), lstm ? dc.data() : nullptr,
                                        dpt.data(), gru ? dhp[t].data() : nullptr);
      }
      etna::detail::gemm_2d(dhp[t], st.w_hh, ds, T(1), beta);  // [N, GH] x [GH, H]
    }
    autograd::propagate(h0_, ds);
    if (lstm) autograd::propagate(c0_, dc);
    const Tensor<T, D> dp2 = dp.reshape({L * N, GH}), dhp2 = dhp.reshape({L * N, GH});
    if (x_) {
      auto dx = Tensor<T, D>::allocate({L * N, st.x2.size(1)});
      etna::detail::gemm_2d(dp2, st.w_ih, dx);
      autograd::propagate(x_, dx.reshape({L, N, st.x2.size(1)}));
    }
    if (w_ih_) {
      auto dw = Tensor<T, D>::allocate(st.w_ih.shape());
      etna::detail::gemm_2d(dp2.t(), st.x2, dw);
      autograd::propagate(w_ih_, dw);
    }
    if (w_hh_) {
      const Tensor<T, D> prev = st.s.narrow(0, st.reverse ? 1 : 0, L).reshape({L * N, H});
      auto dw = Tensor<T, D>::allocate(st.w_hh.shape());
      etna::detail::gemm_2d(dhp2.t(), prev, dw);
      autograd::propagate(w_hh_, dw);
    }
    // Both biases enter every gate pre-activation except GRU's recurrent ones (inside r * (.)),
    // so outside the GRU they share one column sum (b_hh gets a copy: gradients are updated in
    // place later, e.g. by clipping, and must not alias).
    if (b_ih_ || b_hh_) {
      const Tensor<T, D> db_ih = etna::detail::column_sum_2d(dp2);
      if (b_hh_)
        autograd::propagate(b_hh_, gru ? etna::detail::column_sum_2d(dhp2) : db_ih.clone());
      if (b_ih_) autograd::propagate(b_ih_, db_ih);
    }
  }
  void release_saved() override {
    st_ = SequenceState<T, D>();
    for (Impl* i : {&x_, &h0_, &c0_, &w_ih_, &w_hh_, &b_ih_, &b_hh_}) i->reset();
  }

 private:
  SequenceState<T, D> st_;
  Impl x_, h0_, c0_, w_ih_, w_hh_, b_ih_, b_hh_;
};

// Runs one direction of one layer. x: [L, N, In] (contiguous), h0/c0: [N, H] or undefined
// (zeros), mask: [L, N, 1] or undefined. Returns a Var [L + 1 (+1 for LSTM), N, H]: rows 0..L-1
// the outputs (0 past a sequence's end), row L h_n, row L+1 c_n.
template <class T, class D>
Var<T, D> run_sequence(RecurrentKind kind, const Var<T, D>& x, const Var<T, D>& h0,
                       const Var<T, D>& c0, const DirectionParams<T, D>& w, bool reverse,
                       const Tensor<T, D>& mask) {
  SequenceState<T, D> st;
  st.kind = kind;
  st.reverse = reverse;
  st.L = x.size(0);
  st.N = x.size(1);
  const std::int64_t L = st.L, N = st.N, In = x.size(2), H = w.w_hh.size(1);
  const std::int64_t GH = w.w_hh.size(0);
  const bool lstm = kind == RecurrentKind::lstm, gru = kind == RecurrentKind::gru;
  const bool bias = w.b_ih.defined();
  st.H = H;
  st.w_ih = w.w_ih.value();
  st.w_hh = w.w_hh.value();
  st.mask = mask;
  st.x2 = x.value().contiguous().reshape({L * N, In});

  // All steps' input projections in one GEMM onto the broadcast biases.
  st.p = Tensor<T, D>::allocate({L, N, GH});
  const Tensor<T, D> p2 = st.p.reshape({L * N, GH});
  if (bias) {
    const auto b_ih = w.b_ih.value().unsqueeze(0).expand({L * N, GH});
    const auto b_hh = w.b_hh.value().unsqueeze(0).expand({L * N, GH});
    if (gru)
      p2.assign(b_ih);
    else
      p2.assign(b_ih + b_hh);
  }
  etna::detail::gemm_2d(st.x2, st.w_ih.t(), p2, T(1), bias ? T(1) : T(0));
  if (gru) {
    st.hp = Tensor<T, D>::allocate({L, N, GH});
    if (bias) st.hp.reshape({L * N, GH}).assign(w.b_hh.value().unsqueeze(0).expand({L * N, GH}));
  }
  st.s = Tensor<T, D>::allocate({L + 1, N, H});
  if (h0.defined())
    st.s[st.initial_row()].assign(h0.value());
  else
    st.s[st.initial_row()].fill(T(0));
  if (lstm) {
    st.c = Tensor<T, D>::allocate({L + 1, N, H});
    if (c0.defined())
      st.c[st.initial_row()].assign(c0.value());
    else
      st.c[st.initial_row()].fill(T(0));
  }

  for (std::int64_t k = 0; k < L; ++k) {
    const std::int64_t t = reverse ? L - 1 - k : k;
    const auto step = st.step(t);
    if (gru)
      etna::detail::gemm_2d(step.h_prev, st.w_hh.t(), step.hp, T(1), bias ? T(1) : T(0));
    else
      etna::detail::gemm_2d(step.h_prev, st.w_hh.t(), step.p, T(1), T(1));
    if constexpr (std::is_same_v<D, cpu>) {
      if (!rnn_use_generic_gates())
        cpu_step_forward(kind, step, H);
      else
        step_forward(kind, step, H);
    } else {
      cuda_backend::rnn_step_forward(device_gates(kind), device_step(step, H));
    }
  }

  auto out = Tensor<T, D>::allocate({L + (lstm ? 2 : 1), N, H});
  const auto states = st.s.narrow(0, reverse ? 0 : 1, L);
  if (mask.defined())
    out.narrow(0, 0, L).assign(states * mask);
  else
    out.narrow(0, 0, L).assign(states);
  out[L].assign(st.s[st.final_row()]);
  if (lstm) out[L + 1].assign(st.c[st.final_row()]);

  std::shared_ptr<autograd::Node<T, D>> node;
  const bool record =
      autograd::recording() &&
      (x.requires_grad() || (h0.defined() && h0.requires_grad()) ||
       (c0.defined() && c0.requires_grad()) || w.w_ih.requires_grad() || w.w_hh.requires_grad() ||
       (bias && (w.b_ih.requires_grad() || w.b_hh.requires_grad())));
  if (record) {
    auto input = [](const Var<T, D>& v) { return v.defined() ? autograd::grad_input(v) : nullptr; };
    node = std::make_shared<SequenceNode<T, D>>(std::move(st), input(x), input(h0), input(c0),
                                                input(w.w_ih), input(w.w_hh), input(w.b_ih),
                                                input(w.b_hh));
  }
  return make_result(std::move(out), std::move(node));
}

}  // namespace etna::nn::detail
