// Everything in etna::data: datasets and readers (IDX/MNIST/Fashion-MNIST, CSV), samplers, the
// DataLoader, transforms and tf.data-style pipelines.
#pragma once

#include "etna/data/collate.hpp"
#include "etna/data/csv.hpp"
#include "etna/data/data_loader.hpp"
#include "etna/data/dataset.hpp"
#include "etna/data/idx.hpp"
#include "etna/data/mnist.hpp"
#include "etna/data/pipeline.hpp"
#include "etna/data/sampler.hpp"
#include "etna/data/tensor_dataset.hpp"
#include "etna/data/transforms.hpp"
