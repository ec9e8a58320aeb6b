// The functional forms of the layers, on Vars: et::nn::functional::linear, dropout,
// alpha_dropout, batch_norm, layer_norm, embedding, the activations and (from loss.hpp) the losses.
#pragma once

#include "etna/nn/functional/activation.hpp"
#include "etna/nn/functional/dropout.hpp"
#include "etna/nn/functional/embedding.hpp"
#include "etna/nn/functional/linear.hpp"
#include "etna/nn/functional/normalization.hpp"
#include "etna/nn/loss.hpp"
