// The Transformer layers of et::nn, as PyTorch's torch.nn: TransformerEncoderLayer,
// TransformerDecoderLayer, TransformerEncoder, TransformerDecoder and Transformer.
#pragma once

#include "etna/nn/transformer/decoder.hpp"
#include "etna/nn/transformer/decoder_layer.hpp"
#include "etna/nn/transformer/encoder.hpp"
#include "etna/nn/transformer/encoder_layer.hpp"
#include "etna/nn/transformer/options.hpp"
#include "etna/nn/transformer/transformer.hpp"
