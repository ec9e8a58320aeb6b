// LeNet-5 (LeCun et al., 1998) for 1x28x28 images, as a typed network: the layout PyTorch's
// tutorials and benchmarks use (padding 2 on the first convolution so 28x28 inputs keep the
// original 32x32 geometry; ReLU and max pooling instead of scaled tanh and subsampling). Every
// sample shape is known at compile time: 6x28x28, 6x14x14, 16x10x10, 16x5x5, 400, 120, 84, 10.
#pragma once

#include "etna/nn/activation.hpp"
#include "etna/nn/conv.hpp"
#include "etna/nn/flatten.hpp"
#include "etna/nn/linear.hpp"
#include "etna/nn/pooling.hpp"
#include "etna/nn/sequential.hpp"
#include "etna/nn/static_shape.hpp"

namespace etna::nn::models {

template <FloatingScalar T = float, Device D = cpu>
using LeNet5 = Sequential<Input<1, 28, 28>,                                       //
                          Conv2d<1, 6, 5, Conv2dOptions{.padding = 2}, T, D>,     // 6x28x28
                          ReLU, MaxPool2d<2>,                                     // 6x14x14
                          Conv2d<6, 16, 5, Conv2dOptions{}, T, D>,                // 16x10x10
                          ReLU, MaxPool2d<2>,                                     // 16x5x5
                          Flatten,                                                // 400
                          Linear<400, 120, T, D>, ReLU,                           //
                          Linear<120, 84, T, D>, ReLU,                            //
                          Linear<84, 10, T, D>>;

}  // namespace etna::nn::models
