// Image transforms and augmentation for etna::data: the Transform protocol and `|` composition,
// per-pixel and geometric transforms, RandomErasing, and transformed(dataset, transform, seed).
#pragma once

#include "etna/data/transforms/erasing.hpp"
#include "etna/data/transforms/geometric.hpp"
#include "etna/data/transforms/pixel.hpp"
#include "etna/data/transforms/transform.hpp"
#include "etna/data/transforms/transformed.hpp"
