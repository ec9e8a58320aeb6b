// nn::functional's activations: the etna:: element-wise functions and softmax / log_softmax,
// re-exported so that model code reads F::relu(x) as in PyTorch (one implementation, two names).
#pragma once

#include "etna/autograd/function.hpp"
#include "etna/autograd/ops/softmax.hpp"
#include "etna/expr/operators.hpp"
#include "etna/ops/softmax.hpp"

namespace etna::nn::functional {

using etna::elu;
using etna::gelu;
using etna::leaky_relu;
using etna::log_softmax;
using etna::relu;
using etna::sigmoid;
using etna::silu;
using etna::softmax;
using etna::softplus;
using etna::tanh;

}  // namespace etna::nn::functional
