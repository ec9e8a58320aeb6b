// The whole CPU library in one include: tensors, expressions, tensor ops, autograd, modules,
// optimizers, data, training, saving/loading (etna::io) and pruning (etna::prune). GPU code
// additionally includes <etna/cuda.hpp> from .cu files compiled by nvcc.
#pragma once

#include "etna/core/device.hpp"
#include "etna/core/dtype.hpp"
#include "etna/core/error.hpp"
#include "etna/core/factory.hpp"
#include "etna/core/print.hpp"
#include "etna/core/random.hpp"
#include "etna/core/shape.hpp"
#include "etna/core/tensor.hpp"
#include "etna/core/xtensor_interop.hpp"
#include "etna/expr/operators.hpp"
#include "etna/ops/indexing.hpp"
#include "etna/ops/join.hpp"
#include "etna/ops/matmul.hpp"
#include "etna/ops/pad.hpp"
#include "etna/ops/reduce.hpp"
#include "etna/ops/softmax.hpp"
#include "etna/autograd.hpp"
#include "etna/nn.hpp"
#include "etna/optim.hpp"
#include "etna/data.hpp"
#include "etna/train.hpp"
#include "etna/io.hpp"
#include "etna/prune.hpp"
