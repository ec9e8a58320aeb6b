// Must not compile: without padding on its first convolution this LeNet's feature maps end at
// 16x4x4 = 256 values, not the 400 its first Linear expects. The Input<1, 28, 28> at the front
// makes every sample shape known at compile time; the build's compile_fail test checks that the
// error names the Linear layer and both sizes (input_features_must_match<Linear<400, ...>, 400,
// 256>).
#include "etna/nn/activation.hpp"
#include "etna/nn/conv.hpp"
#include "etna/nn/flatten.hpp"
#include "etna/nn/linear.hpp"
#include "etna/nn/pooling.hpp"
#include "etna/nn/sequential.hpp"

namespace nn = etna::nn;

int main() {
  nn::Sequential<nn::Input<1, 28, 28>, nn::Conv2d<1, 6, 5>, nn::ReLU, nn::MaxPool2d<2>,
                 nn::Conv2d<6, 16, 5>, nn::ReLU, nn::MaxPool2d<2>, nn::Flatten,
                 nn::Linear<400, 120>, nn::ReLU, nn::Linear<120, 10>>
      net;
  (void)net;
}
