// Options and results of the recurrent layers (RNN, LSTM, GRU and their cells), named as
// PyTorch's constructor arguments and return values.
#pragma once

#include <cstdint>
#include <string>

#include "etna/autograd/var.hpp"

namespace etna::nn {

// The recurrent modules' constructor options, PyTorch's keyword arguments.
struct RNNOptions {
  std::int64_t num_layers = 1;
  bool bias = true;
  bool batch_first = false;
  double dropout = 0.0;  // on each layer's output but the last, training mode only
  bool bidirectional = false;
  std::string nonlinearity = "tanh";  // RNN only: "tanh" | "relu"
};

// What RNN and GRU return: output [L, N, D*H] ([N, L, D*H] with batch_first, [L, D*H]
// unbatched) and h_n [num_layers*D, N, H] ([num_layers*D, H] unbatched).
template <class T = float, class D = cpu>
struct RNNOutput {
  Var<T, D> output, h_n;
};

// An LSTM's (h, c) pair: initial state in, final state out (an undefined member means zeros).
template <class T = float, class D = cpu>
struct LSTMState {
  Var<T, D> h, c;
};

template <class T = float, class D = cpu>
struct LSTMOutput {
  Var<T, D> output, h_n, c_n;
};

namespace detail {
// The cell type of a recurrent layer; gates() is PyTorch's number of gate blocks in the weights.
enum class RecurrentKind { rnn_tanh, rnn_relu, lstm, gru };
inline constexpr std::int64_t gate_count(RecurrentKind k) {
  return k == RecurrentKind::lstm ? 4 : k == RecurrentKind::gru ? 3 : 1;
}
inline constexpr const char* kind_name(RecurrentKind k) {
  return k == RecurrentKind::lstm ? "LSTM" : k == RecurrentKind::gru ? "GRU" : "RNN";
}
}  // namespace detail

}  // namespace etna::nn
