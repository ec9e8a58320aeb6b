// Recurrent layers: RNN (tanh/relu), LSTM and GRU over sequences (multi-layer, bidirectional,
// variable lengths) and their one-step cells, with PyTorch's parameter names and semantics.
#pragma once

#include "etna/nn/named_parameters.hpp"
#include "etna/nn/rnn/cells.hpp"
#include "etna/nn/rnn/gru.hpp"
#include "etna/nn/rnn/lstm.hpp"
#include "etna/nn/rnn/options.hpp"
#include "etna/nn/rnn/rnn.hpp"
