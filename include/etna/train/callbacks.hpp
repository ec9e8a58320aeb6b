// Every training callback in one include: the protocol (Callback, AnyCallback, TrainState,
// History) and EarlyStopping, ModelCheckpoint, LRSchedulerCallback, CSVLogger, TensorBoard.
#pragma once

#include "etna/train/callback.hpp"
#include "etna/train/csv_logger.hpp"
#include "etna/train/early_stopping.hpp"
#include "etna/train/lr_scheduler_callback.hpp"
#include "etna/train/model_checkpoint.hpp"
#include "etna/train/tensorboard.hpp"
