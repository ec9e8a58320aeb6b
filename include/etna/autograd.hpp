// Automatic differentiation: Var, the recorded graph, backward(), GradientTape, no_grad and
// gradcheck, with every tensor operation available on Vars.
#pragma once

#include "etna/autograd/engine.hpp"
#include "etna/autograd/fused_node.hpp"
#include "etna/autograd/grad_mode.hpp"
#include "etna/autograd/node.hpp"
#include "etna/autograd/var.hpp"
#include "etna/autograd/var_expr.hpp"
#include "etna/autograd/function.hpp"
#include "etna/autograd/ops/matmul.hpp"
#include "etna/autograd/ops/reduce.hpp"
#include "etna/autograd/ops/softmax.hpp"
#include "etna/autograd/ops/views.hpp"
#include "etna/autograd/ops/join.hpp"
#include "etna/autograd/ops/indexing.hpp"
#include "etna/autograd/ops/pad.hpp"
#include "etna/autograd/gradcheck.hpp"
#include "etna/autograd/gradient_tape.hpp"
