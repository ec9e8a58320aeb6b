// et::prune: pruning masks on parameters (unstructured, structured, global), schedules for
// gradual pruning, and sparsity reports. Masks live in the parameters (VarImpl::mask) and show
// in the module tree as "<param>_mask" buffers, so training, saving and to<D2>() keep them;
// prune::compress gives sparse enough Linear weights a CSR inference path.
#pragma once

#include "etna/prune/amount.hpp"
#include "etna/prune/compress.hpp"
#include "etna/prune/global.hpp"
#include "etna/prune/parameter.hpp"
#include "etna/prune/report.hpp"
#include "etna/prune/schedule.hpp"
#include "etna/prune/structured.hpp"
#include "etna/prune/unstructured.hpp"
