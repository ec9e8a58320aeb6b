// Optimizers, learning-rate schedules, gradient clipping and weight penalties in one include:
// et::optim::SGD/Adam/AdamW/RMSprop/Adagrad, StepLR ... ReduceLROnPlateau, clip_grad_norm_.
#pragma once

#include "etna/optim/adagrad.hpp"
#include "etna/optim/adam.hpp"
#include "etna/optim/clip_grad.hpp"
#include "etna/optim/lr_scheduler.hpp"
#include "etna/optim/one_cycle_lr.hpp"
#include "etna/optim/optimizer.hpp"
#include "etna/optim/reduce_lr_on_plateau.hpp"
#include "etna/optim/regularization.hpp"
#include "etna/optim/rmsprop.hpp"
#include "etna/optim/sgd.hpp"
