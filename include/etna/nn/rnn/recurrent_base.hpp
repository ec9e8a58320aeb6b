// The multi-layer, optionally bidirectional driver shared by RNN, LSTM and GRU: PyTorch's
// parameters (weight_ih_l0, bias_hh_l1_reverse...), option checks, input/state shape checks,
// lengths (packed-sequence semantics) and dropout between layers.
#pragma once

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "etna/autograd/ops/join.hpp"
#include "etna/autograd/ops/views.hpp"
#include "etna/core/error.hpp"
#include "etna/nn/functional/dropout.hpp"
#include "etna/nn/init.hpp"
#include "etna/nn/module.hpp"
#include "etna/nn/named_parameters.hpp"
#include "etna/nn/python_repr.hpp"
#include "etna/nn/rnn/sequence.hpp"

namespace etna::nn::detail {

// PyTorch's U(-1/sqrt(H), 1/sqrt(H)) for every weight and bias of a recurrent layer or cell.
template <class T, class D>
Var<T, D> recurrent_parameter(const Shape& shape, std::int64_t hidden) {
  Var<T, D> p(empty<T, D>(shape), true);
  const double bound = 1.0 / std::sqrt(static_cast<double>(hidden));
  init::uniform_(p, -bound, bound);
  return p;
}

inline void check_recurrent_sizes(const char* who, std::int64_t in, std::int64_t hidden) {
  if (in <= 0 || hidden <= 0)
    throw value_error(str(who, ": input_size and hidden_size must be positive, got input_size=", in,
                          ", hidden_size=", hidden));
}

template <class Derived, class T, class D>
class RecurrentBase : public Module<Derived> {
 public:
  NamedParameters<T, D> params_;  // registered by ETNA_MODULE: names are PyTorch's

  std::int64_t input_size() const { return input_size_; }
  std::int64_t hidden_size() const { return hidden_size_; }
  std::int64_t num_layers() const { return options_.num_layers; }
  bool bidirectional() const { return options_.bidirectional; }
  bool batch_first() const { return options_.batch_first; }
  const RNNOptions& options() const { return options_; }

  // PyTorch's repr: "LSTM(32, 128, num_layers=2, batch_first=True, bidirectional=True)".
  std::string extra_repr() const {
    std::string s = str(input_size_, ", ", hidden_size_);
    if (options_.num_layers != 1) s += str(", num_layers=", options_.num_layers);
    if (!options_.bias) s += ", bias=False";
    if (options_.batch_first) s += ", batch_first=True";
    if (options_.dropout != 0) s += ", dropout=" + python_float(options_.dropout);
    if (options_.bidirectional) s += ", bidirectional=True";
    if (kind_ == RecurrentKind::rnn_relu) s += ", nonlinearity=relu";
    return s;
  }

  ETNA_MODULE(params_)

 protected:
  template <class, class, class>
  friend class RecurrentBase;

  struct Result {
    Var<T, D> output, h_n, c_n;
  };

  RecurrentBase(RecurrentKind kind, std::int64_t input_size, std::int64_t hidden_size,
                const RNNOptions& options)
      : kind_(kind), input_size_(input_size), hidden_size_(hidden_size), options_(options) {
    const char* who = kind_name(kind);
    check_recurrent_sizes(who, input_size, hidden_size);
    if (options.num_layers < 1)
      throw value_error(str(who, ": num_layers must be at least 1, got ", options.num_layers));
    if (!(options.dropout >= 0 && options.dropout <= 1))
      throw value_error(
          str(who, ": dropout must be a probability in [0, 1], got ", options.dropout));
    const std::int64_t G = gate_count(kind), H = hidden_size;
    for (std::int64_t k = 0; k < options.num_layers; ++k)
      for (int d = 0; d < directions(); ++d) {
        const std::string suffix = str("_l", k, d == 1 ? "_reverse" : "");
        const std::int64_t in_k = k == 0 ? input_size : H * directions();
        params_.add("weight_ih" + suffix, recurrent_parameter<T, D>({G * H, in_k}, H));
        params_.add("weight_hh" + suffix, recurrent_parameter<T, D>({G * H, H}, H));
        if (options.bias) {
          params_.add("bias_ih" + suffix, recurrent_parameter<T, D>({G * H}, H));
          params_.add("bias_hh" + suffix, recurrent_parameter<T, D>({G * H}, H));
        }
      }
  }
  // The device copy (net.to<D2>()): same configuration, parameters copied by name.
  template <class Other>
  RecurrentBase(const Other& other, DeviceCopy<D>& copy)
      : params_(copy(other.params_)),
        kind_(other.kind_),
        input_size_(other.input_size_),
        hidden_size_(other.hidden_size_),
        options_(other.options_) {}

  static std::string shape_text(const Shape& s) { return str(s); }

  // x: [L, N, In] ([N, L, In] batch_first) or [L, In]; h0/c0 undefined or [layers*D, N, H]
  // ([layers*D, H] unbatched); lengths null or one entry per sequence.
  Result run(const Var<T, D>& x_in, const Var<T, D>& h0_in, const Var<T, D>& c0_in,
             const std::vector<std::int64_t>* lengths) {
    const char* who = kind_name(kind_);
    const bool lstm = kind_ == RecurrentKind::lstm;
    if (x_in.dim() != 2 && x_in.dim() != 3)
      throw shape_error(str(who, ": expected a 3-d input [L, N, input_size] (",
                            options_.batch_first ? "[N, L, input_size] with batch_first, " : "",
                            "or 2-d [L, input_size] unbatched), got shape ", x_in.shape()));
    const bool batched = x_in.dim() == 3;
    if (x_in.size(-1) != input_size_)
      throw shape_error(str(who, ": input has ", x_in.size(-1), " features but input_size is ",
                            input_size_, " (input shape ", x_in.shape(), ")"));
    Var<T, D> x = batched ? x_in : x_in.unsqueeze(1);
    if (batched && options_.batch_first) x = x.transpose(0, 1);
    x = x.contiguous();
    const std::int64_t L = x.size(0), N = x.size(1), H = hidden_size_;
    const std::int64_t layers_dirs = options_.num_layers * directions();
    if (L == 0)
      throw shape_error(str(who, ": the input sequence is empty (shape ", x_in.shape(), ")"));
    auto state = [&](const Var<T, D>& s, const char* name) -> Var<T, D> {
      if (!s.defined()) return s;
      const Shape expected = batched ? Shape{layers_dirs, N, H} : Shape{layers_dirs, H};
      if (s.shape() != expected)
        throw shape_error(
            str(who, ": expected ", name, " of shape ", expected, ", got ", s.shape()));
      return batched ? s : s.unsqueeze(1);
    };
    const Var<T, D> h0 = state(h0_in, "h0"), c0 = state(c0_in, "c0");

    Tensor<T, D> mask;
    if (lengths) mask = length_mask(*lengths, L, N);

    Var<T, D> input = x;
    std::vector<Var<T, D>> h_n, c_n;
    for (std::int64_t k = 0; k < options_.num_layers; ++k) {
      std::vector<Var<T, D>> outs;
      for (int d = 0; d < directions(); ++d) {
        const std::int64_t idx = k * directions() + d;
        const std::string suffix = str("_l", k, d == 1 ? "_reverse" : "");
        DirectionParams<T, D> w{params_["weight_ih" + suffix], params_["weight_hh" + suffix],
                                Var<T, D>(), Var<T, D>()};
        if (options_.bias) {
          w.b_ih = params_["bias_ih" + suffix];
          w.b_hh = params_["bias_hh" + suffix];
        }
        const Var<T, D> out = run_sequence(kind_, input, h0.defined() ? h0.select(0, idx) : h0,
                                           c0.defined() ? c0.select(0, idx) : c0, w, d == 1, mask);
        outs.push_back(out.narrow(0, 0, L));
        h_n.push_back(out.select(0, L));
        if (lstm) c_n.push_back(out.select(0, L + 1));
      }
      input = outs.size() == 1 ? outs[0] : etna::cat(outs, 2);
      if (options_.dropout > 0 && k + 1 < options_.num_layers && this->is_training())
        input = functional::dropout(input, options_.dropout, true);
    }
    Result r;
    r.output = input;
    if (batched && options_.batch_first) r.output = r.output.transpose(0, 1);
    r.h_n = h_n.size() == 1 ? h_n[0].unsqueeze(0) : etna::stack(h_n, 0);
    if (lstm) r.c_n = c_n.size() == 1 ? c_n[0].unsqueeze(0) : etna::stack(c_n, 0);
    if (!batched) {
      r.output = r.output.squeeze(1);
      r.h_n = r.h_n.squeeze(1);
      if (lstm) r.c_n = r.c_n.squeeze(1);
    }
    return r;
  }

 private:
  int directions() const { return options_.bidirectional ? 2 : 1; }

  // [L, N, 1]: 1 where step t is inside sequence n; undefined when every sequence is full.
  Tensor<T, D> length_mask(const std::vector<std::int64_t>& lengths, std::int64_t L,
                           std::int64_t N) const {
    const char* who = kind_name(kind_);
    if (static_cast<std::int64_t>(lengths.size()) != N)
      throw shape_error(str(who, ": lengths has ", lengths.size(), " entries but the batch has ", N,
                            " sequences"));
    bool full = true;
    for (std::size_t n = 0; n < lengths.size(); ++n) {
      if (lengths[n] < 1 || lengths[n] > L)
        throw value_error(str(who, ": lengths[", n, "] = ", lengths[n], " is outside [1, ", L,
                              "] (the padded sequence length)"));
      full = full && lengths[n] == L;
    }
    if (full) return Tensor<T, D>();
    Tensor<T> m = zeros<T>({L, N, 1});
    for (std::int64_t n = 0; n < N; ++n)
      for (std::int64_t t = 0; t < lengths[n]; ++t) m.data()[t * N + n] = T(1);
    if constexpr (std::is_same_v<D, cpu>)
      return m;
    else
      return m.template to<D>();
  }

  RecurrentKind kind_;
  std::int64_t input_size_ = 0, hidden_size_ = 0;
  RNNOptions options_;
};

}  // namespace etna::nn::detail
