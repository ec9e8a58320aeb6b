// Image utilities in one include (namespace etna::utils): make_grid and save_image, as
// torchvision.utils; used for GAN progress images and TensorBoard's add_image.
#pragma once

#include "etna/utils/make_grid.hpp"
#include "etna/utils/save_image.hpp"
