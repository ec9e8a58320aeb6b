// nn::RNNCell, LSTMCell, GRUCell: one time step, PyTorch's cell modules (parameters weight_ih,
// weight_hh, bias_ih, bias_hh). A step runs the sequence kernel with L = 1.
#pragma once

#include <string>

#include "etna/nn/rnn/recurrent_base.hpp"

namespace etna::nn {
namespace detail {

template <class Derived, class T, class D>
class RecurrentCellBase : public Module<Derived> {
 public:
  Var<T, D> weight_ih, weight_hh, bias_ih, bias_hh;  // [G*H, In], [G*H, H], [G*H], [G*H]

  std::int64_t input_size() const { return weight_ih.size(1); }
  std::int64_t hidden_size() const { return weight_hh.size(1); }

  std::string extra_repr() const {
    std::string s = str(input_size(), ", ", hidden_size());
    if (!bias_ih.defined()) s += ", bias=False";
    if (kind_ == RecurrentKind::rnn_relu) s += ", nonlinearity=relu";
    return s;
  }

  ETNA_MODULE(weight_ih, weight_hh, bias_ih, bias_hh)

 protected:
  template <class, class, class>
  friend class RecurrentCellBase;

  RecurrentCellBase(RecurrentKind kind, std::int64_t in, std::int64_t hidden, bool bias)
      : kind_(kind) {
    check_recurrent_sizes(cell_name(), in, hidden);
    const std::int64_t GH = gate_count(kind) * hidden;
    weight_ih = recurrent_parameter<T, D>({GH, in}, hidden);
    weight_hh = recurrent_parameter<T, D>({GH, hidden}, hidden);
    if (bias) {
      bias_ih = recurrent_parameter<T, D>({GH}, hidden);
      bias_hh = recurrent_parameter<T, D>({GH}, hidden);
    }
  }
  template <class Other>
  RecurrentCellBase(const Other& other, DeviceCopy<D>& copy)
      : weight_ih(copy.var(other.weight_ih)),
        weight_hh(copy.var(other.weight_hh)),
        bias_ih(copy.var(other.bias_ih)),
        bias_hh(copy.var(other.bias_hh)),
        kind_(other.kind_) {}

  const char* cell_name() const {
    return kind_ == RecurrentKind::lstm  ? "LSTMCell"
           : kind_ == RecurrentKind::gru ? "GRUCell"
                                         : "RNNCell";
  }

  // x: [N, In] or [In]; h, c: [N, H] or [H] (undefined = zeros). Returns (h', c').
  std::pair<Var<T, D>, Var<T, D>> step(const Var<T, D>& x_in, const Var<T, D>& h_in,
                                       const Var<T, D>& c_in) {
    const char* who = cell_name();
    if (x_in.dim() != 1 && x_in.dim() != 2)
      throw shape_error(str(who,
                            ": expected a 2-d input [N, input_size] or 1-d [input_size], "
                            "got shape ",
                            x_in.shape()));
    if (x_in.size(-1) != input_size())
      throw shape_error(str(who, ": input has ", x_in.size(-1), " features but input_size is ",
                            input_size(), " (input shape ", x_in.shape(), ")"));
    const bool batched = x_in.dim() == 2;
    const Var<T, D> x = (batched ? x_in : x_in.unsqueeze(0)).contiguous().unsqueeze(0);
    const std::int64_t N = x.size(1), H = hidden_size();
    auto state = [&](const Var<T, D>& s, const char* name) -> Var<T, D> {
      if (!s.defined()) return s;
      const Shape expected = batched ? Shape{N, H} : Shape{H};
      if (s.shape() != expected)
        throw shape_error(
            str(who, ": expected ", name, " of shape ", expected, ", got ", s.shape()));
      return batched ? s : s.unsqueeze(0);
    };
    const DirectionParams<T, D> w{weight_ih, weight_hh, bias_ih, bias_hh};
    const Var<T, D> out =
        run_sequence(kind_, x, state(h_in, "hx"), state(c_in, "cx"), w, false, Tensor<T, D>());
    Var<T, D> h = out.select(0, 1), c;
    if (kind_ == RecurrentKind::lstm) c = out.select(0, 2);
    if (!batched) {
      h = h.squeeze(0);
      if (c.defined()) c = c.squeeze(0);
    }
    return {h, c};
  }

  RecurrentKind kind_;
};

}  // namespace detail

// h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh) (or relu).
template <FloatingScalar T = float, Device D = cpu>
class RNNCell : public detail::RecurrentCellBase<RNNCell<T, D>, T, D> {
  using Base = detail::RecurrentCellBase<RNNCell<T, D>, T, D>;

 public:
  RNNCell(std::int64_t input_size, std::int64_t hidden_size, bool bias = true,
          const std::string& nonlinearity = "tanh")
      : Base(kind_of(nonlinearity), input_size, hidden_size, bias) {}
  template <class D2>
  using on_device = RNNCell<T, D2>;
  template <Device D1>
  RNNCell(const RNNCell<T, D1>& other, detail::DeviceCopy<D>& copy) : Base(other, copy) {}

  template <class X>
  Var<T, D> forward(const X& x, const Var<T, D>& h = {}) {
    return this->step(as_var(x), h, Var<T, D>()).first;
  }

 private:
  static detail::RecurrentKind kind_of(const std::string& nonlinearity) {
    if (nonlinearity == "tanh") return detail::RecurrentKind::rnn_tanh;
    if (nonlinearity == "relu") return detail::RecurrentKind::rnn_relu;
    throw value_error(detail::str("RNNCell: unknown nonlinearity '", nonlinearity,
                                  "' (expected 'tanh' or 'relu')"));
  }
};

template <FloatingScalar T = float, Device D = cpu>
class LSTMCell : public detail::RecurrentCellBase<LSTMCell<T, D>, T, D> {
  using Base = detail::RecurrentCellBase<LSTMCell<T, D>, T, D>;

 public:
  LSTMCell(std::int64_t input_size, std::int64_t hidden_size, bool bias = true)
      : Base(detail::RecurrentKind::lstm, input_size, hidden_size, bias) {}
  template <class D2>
  using on_device = LSTMCell<T, D2>;
  template <Device D1>
  LSTMCell(const LSTMCell<T, D1>& other, detail::DeviceCopy<D>& copy) : Base(other, copy) {}

  // Returns the next (h, c).
  template <class X>
  LSTMState<T, D> forward(const X& x, const LSTMState<T, D>& state = {}) {
    auto [h, c] = this->step(as_var(x), state.h, state.c);
    return {h, c};
  }
};

template <FloatingScalar T = float, Device D = cpu>
class GRUCell : public detail::RecurrentCellBase<GRUCell<T, D>, T, D> {
  using Base = detail::RecurrentCellBase<GRUCell<T, D>, T, D>;

 public:
  GRUCell(std::int64_t input_size, std::int64_t hidden_size, bool bias = true)
      : Base(detail::RecurrentKind::gru, input_size, hidden_size, bias) {}
  template <class D2>
  using on_device = GRUCell<T, D2>;
  template <Device D1>
  GRUCell(const GRUCell<T, D1>& other, detail::DeviceCopy<D>& copy) : Base(other, copy) {}

  template <class X>
  Var<T, D> forward(const X& x, const Var<T, D>& h = {}) {
    return this->step(as_var(x), h, Var<T, D>()).first;
  }
};

}  // namespace etna::nn
