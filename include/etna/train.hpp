// The training layer in one include: fit / evaluate / predict, callbacks (EarlyStopping,
// ModelCheckpoint, LRSchedulerCallback, CSVLogger, TensorBoard, History), metrics and the
// progress bar.
#pragma once

#include "etna/train/callbacks.hpp"
#include "etna/train/epoch_metrics.hpp"
#include "etna/train/fit.hpp"
#include "etna/train/logs.hpp"
#include "etna/train/metrics.hpp"
#include "etna/train/progress.hpp"
