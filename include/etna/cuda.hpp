// The GPU backend: include this (instead of, or after, <etna/etna.hpp>) from .cu files compiled
// by nvcc, then use Tensor<float, etna::cuda>, net.to<etna::cuda>() and etna::cuda's functions.
// See docs/gpu.md. Tests also compile it with g++ and ETNA_CUDA_EMULATION (runtime.hpp).
#pragma once

#if defined(__CUDACC__)
// etna's functors are host-device templates that also run on xsimd batches in host code:
// nvcc's execution-space warnings about those host-only instantiations are expected.
#pragma nv_diag_suppress 20011, 20014, 1675
#endif

#include "etna/etna.hpp"

#include "etna/backend/cuda/runtime.hpp"
#include "etna/backend/cuda/memory.hpp"
#include "etna/backend/cuda/launch.hpp"
#include "etna/backend/cuda/evaluate.hpp"
#include "etna/backend/cuda/graph.hpp"
#include "etna/backend/cuda/random.hpp"
#include "etna/backend/cuda/reduce.hpp"
#include "etna/backend/cuda/softmax.hpp"
#include "etna/backend/cuda/attention.hpp"
#include "etna/backend/cuda/sparse.hpp"
#include "etna/backend/cuda/blas.hpp"
#include "etna/backend/cuda/shape_ops.hpp"
#include "etna/backend/cuda/autograd.hpp"
#include "etna/backend/cuda/nn.hpp"
#include "etna/backend/cuda/conv.hpp"
#include "etna/backend/cuda/pooling.hpp"
#include "etna/backend/cuda/optim.hpp"
#include "etna/backend/cuda/rnn.hpp"
#include "etna/backend/cuda/data_loader.hpp"
