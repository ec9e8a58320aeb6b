// The functional forms of the layers, on Vars: et::nn::functional::linear, conv1d/2d,
// conv_transpose2d, the pools, interpolate, dropout (and channel dropout), alpha_dropout,
// batch_norm, layer_norm, group_norm, embedding, flatten, the activations and the losses.
#pragma once

#include "etna/nn/functional/activation.hpp"
#include "etna/nn/functional/attention.hpp"
#include "etna/nn/functional/conv.hpp"
#include "etna/nn/functional/conv_options.hpp"
#include "etna/nn/functional/conv_transpose.hpp"
#include "etna/nn/functional/dropout.hpp"
#include "etna/nn/functional/dropout2d.hpp"
#include "etna/nn/functional/embedding.hpp"
#include "etna/nn/functional/group_norm.hpp"
#include "etna/nn/functional/linear.hpp"
#include "etna/nn/functional/normalization.hpp"
#include "etna/nn/functional/pooling.hpp"
#include "etna/nn/functional/upsample.hpp"
#include "etna/nn/loss.hpp"
#include "etna/autograd/ops/views.hpp"

namespace etna::nn::functional {
// The Flatten layer's functional twin (torch.flatten): F::flatten(x, 1).
using etna::flatten;
}  // namespace etna::nn::functional
