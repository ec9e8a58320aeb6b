// tf.data-style lazy pipelines for etna::data: from_dataset(ds) or from_range(r), then stages
// `| map | filter | shuffle | batch | prefetch | take | skip | repeat | cache`.
#pragma once

#include "etna/data/pipeline/basic.hpp"
#include "etna/data/pipeline/buffered.hpp"
#include "etna/data/pipeline/prefetch.hpp"
#include "etna/data/pipeline/sources.hpp"
#include "etna/data/pipeline/stage.hpp"
