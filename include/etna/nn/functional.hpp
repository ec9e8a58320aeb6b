// The functional forms of the layers, on Vars: et::nn::functional::linear, dropout,
// alpha_dropout, batch_norm, layer_norm, embedding, flatten, the activations and the losses.
#pragma once

#include "etna/nn/functional/activation.hpp"
#include "etna/nn/functional/dropout.hpp"
#include "etna/nn/functional/embedding.hpp"
#include "etna/nn/functional/linear.hpp"
#include "etna/nn/functional/normalization.hpp"
#include "etna/nn/loss.hpp"
#include "etna/autograd/ops/views.hpp"

namespace etna::nn::functional {
// The Flatten layer's functional twin (torch.flatten): F::flatten(x, 1).
using etna::flatten;
}  // namespace etna::nn::functional
