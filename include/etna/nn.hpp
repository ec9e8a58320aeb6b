// Everything in etna::nn: the Module protocol, layers, composition, functional ops, losses and
// initialisers.
#pragma once

#include "etna/nn/activation.hpp"
#include "etna/nn/functional.hpp"
#include "etna/nn/init.hpp"
#include "etna/nn/linear.hpp"
#include "etna/nn/loss.hpp"
#include "etna/nn/module.hpp"
#include "etna/nn/sequential.hpp"
