// nn::LSTM: multi-layer (bidirectional) long short-term memory with PyTorch's parameters, gate
// order (i, f, g, o), initialisation, shapes and packed-sequence semantics for lengths.
#pragma once

#include "etna/nn/rnn/recurrent_base.hpp"

namespace etna::nn {

template <FloatingScalar T = float, Device D = cpu>
class LSTM : public detail::RecurrentBase<LSTM<T, D>, T, D> {
  using Base = detail::RecurrentBase<LSTM<T, D>, T, D>;

 public:
  LSTM(std::int64_t input_size, std::int64_t hidden_size, const RNNOptions& options = {})
      : Base(detail::RecurrentKind::lstm, input_size, hidden_size, options) {}

  template <class D2>
  using on_device = LSTM<T, D2>;
  template <Device D1>
  LSTM(const LSTM<T, D1>& other, detail::DeviceCopy<D>& copy) : Base(other, copy) {}

  // x: [L, N, input_size] ([N, L, input_size] with batch_first) or unbatched [L, input_size];
  // state: (h0, c0) [num_layers * D, N, H] each, undefined = zeros; lengths: each sequence's
  // valid length (1..L, any order). Returns output [L, N, D*H], h_n and c_n.
  template <class X>
  LSTMOutput<T, D> forward(const X& x, const LSTMState<T, D>& state = {}) {
    return finish(this->run(as_var(x), state.h, state.c, nullptr));
  }
  template <class X>
  LSTMOutput<T, D> forward(const X& x, const LSTMState<T, D>& state,
                           const std::vector<std::int64_t>& lengths) {
    return finish(this->run(as_var(x), state.h, state.c, &lengths));
  }
  template <class X>
  LSTMOutput<T, D> forward(const X& x, const std::vector<std::int64_t>& lengths) {
    return finish(this->run(as_var(x), Var<T, D>(), Var<T, D>(), &lengths));
  }

 private:
  static LSTMOutput<T, D> finish(typename Base::Result r) {
    return {std::move(r.output), std::move(r.h_n), std::move(r.c_n)};
  }
};

}  // namespace etna::nn
