// RNN, LSTM, GRU and the cells against PyTorch (tests/reference/make_rnn.py): outputs, final
// states and gradients of inputs, initial states and every parameter, with identical weights.
#include "rnn/rnn_case.hpp"

using etna::test::check_cell_case;
using etna::test::check_sequence_case;

TEST_CASE("RNN tanh and relu match PyTorch", "[rnn][fixture]") {
  check_sequence_case("rnn.json", "rnn_tanh");
  check_sequence_case("rnn.json", "rnn_relu_2l");
}

TEST_CASE("LSTM matches PyTorch: one and two layers, bidirectional, batch_first, no bias",
          "[rnn][lstm][fixture]") {
  check_sequence_case("rnn.json", "lstm");
  check_sequence_case("rnn.json", "lstm_2l");
  check_sequence_case("rnn.json", "lstm_bi_bf");
  check_sequence_case("rnn.json", "lstm_nobias");
}

TEST_CASE("GRU matches PyTorch: one and two bidirectional layers", "[rnn][gru][fixture]") {
  check_sequence_case("rnn.json", "gru");
  check_sequence_case("rnn.json", "gru_2l_bi");
}

TEST_CASE("Unbatched inputs match PyTorch", "[rnn][fixture]") {
  check_sequence_case("rnn.json", "lstm_unbatched");
  check_sequence_case("rnn.json", "gru_unbatched");
}

TEST_CASE("lengths reproduce pack_padded_sequence(enforce_sorted=False)",
          "[rnn][lengths][fixture]") {
  check_sequence_case("rnn_varlen.json", "rnn_tanh_len");
  check_sequence_case("rnn_varlen.json", "rnn_relu_bi_len");
  check_sequence_case("rnn_varlen.json", "lstm_len");
  check_sequence_case("rnn_varlen.json", "lstm_2l_bi_len");
  check_sequence_case("rnn_varlen.json", "lstm_bi_bf_len");
  check_sequence_case("rnn_varlen.json", "gru_2l_bi_len");
}

TEST_CASE("RNNCell, LSTMCell and GRUCell match PyTorch", "[rnn][cell][fixture]") {
  check_cell_case("rnn_varlen.json", "rnn_cell");
  check_cell_case("rnn_varlen.json", "rnn_cell_relu");
  check_cell_case("rnn_varlen.json", "lstm_cell");
  check_cell_case("rnn_varlen.json", "lstm_cell_nobias");
  check_cell_case("rnn_varlen.json", "gru_cell");
}

// The expression path (the one CUDA runs) against the same fixtures, on the CPU.
TEST_CASE("the generic gate path matches PyTorch too", "[rnn][fixture][generic]") {
  struct Generic {
    Generic() { etna::nn::detail::rnn_use_generic_gates() = true; }
    ~Generic() { etna::nn::detail::rnn_use_generic_gates() = false; }
  } generic;
  for (const char* name :
       {"rnn_tanh", "rnn_relu_2l", "lstm", "lstm_bi_bf", "gru_2l_bi", "lstm_unbatched"})
    check_sequence_case("rnn.json", name);
  for (const char* name : {"rnn_tanh_len", "rnn_relu_bi_len", "lstm_2l_bi_len", "gru_2l_bi_len"})
    check_sequence_case("rnn_varlen.json", name);
  for (const char* name : {"rnn_cell", "lstm_cell", "gru_cell"})
    check_cell_case("rnn_varlen.json", name);
}
