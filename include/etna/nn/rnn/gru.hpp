// nn::GRU: multi-layer (bidirectional) gated recurrent unit with PyTorch's parameters, gate
// order (r, z, n), initialisation, shapes and packed-sequence semantics for lengths.
#pragma once

#include "etna/nn/rnn/recurrent_base.hpp"

namespace etna::nn {

template <FloatingScalar T = float, Device D = cpu>
class GRU : public detail::RecurrentBase<GRU<T, D>, T, D> {
  using Base = detail::RecurrentBase<GRU<T, D>, T, D>;

 public:
  GRU(std::int64_t input_size, std::int64_t hidden_size, const RNNOptions& options = {})
      : Base(detail::RecurrentKind::gru, input_size, hidden_size, options) {}

  template <class D2>
  using on_device = GRU<T, D2>;
  template <Device D1>
  GRU(const GRU<T, D1>& other, detail::DeviceCopy<D>& copy) : Base(other, copy) {}

  // x: [L, N, input_size] ([N, L, input_size] with batch_first) or unbatched [L, input_size];
  // h0: [num_layers * D, N, H], undefined = zeros; lengths: each sequence's valid length
  // (1..L, any order). Returns output [L, N, D*H] and h_n [num_layers * D, N, H].
  template <class X>
  RNNOutput<T, D> forward(const X& x, const Var<T, D>& h0 = {}) {
    return finish(this->run(as_var(x), h0, Var<T, D>(), nullptr));
  }
  template <class X>
  RNNOutput<T, D> forward(const X& x, const Var<T, D>& h0,
                          const std::vector<std::int64_t>& lengths) {
    return finish(this->run(as_var(x), h0, Var<T, D>(), &lengths));
  }
  template <class X>
  RNNOutput<T, D> forward(const X& x, const std::vector<std::int64_t>& lengths) {
    return finish(this->run(as_var(x), Var<T, D>(), Var<T, D>(), &lengths));
  }

 private:
  static RNNOutput<T, D> finish(typename Base::Result r) {
    return {std::move(r.output), std::move(r.h_n)};
  }
};

}  // namespace etna::nn
