// Everything in etna::nn: the Module protocol, layers, composition, functional ops, losses and
// initialisers.
#pragma once

#include "etna/nn/activation.hpp"
#include "etna/nn/any_layer.hpp"
#include "etna/nn/any_sequential.hpp"
#include "etna/nn/dropout.hpp"
#include "etna/nn/embedding.hpp"
#include "etna/nn/flatten.hpp"
#include "etna/nn/functional.hpp"
#include "etna/nn/init.hpp"
#include "etna/nn/layer_spec.hpp"
#include "etna/nn/linear.hpp"
#include "etna/nn/loss.hpp"
#include "etna/nn/module.hpp"
#include "etna/nn/normalization.hpp"
#include "etna/nn/parallel.hpp"
#include "etna/nn/python_repr.hpp"
#include "etna/nn/repeat.hpp"
#include "etna/nn/residual.hpp"
#include "etna/nn/sequential.hpp"
