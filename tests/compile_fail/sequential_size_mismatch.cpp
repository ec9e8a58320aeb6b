// Must not compile: Linear<784, 256> feeds Linear<128, 10>. The build's compile_fail test checks
// that the error names both layers and both sizes (sequential_layer_sizes_must_match<...>).
#include "etna/nn/activation.hpp"
#include "etna/nn/linear.hpp"
#include "etna/nn/sequential.hpp"

namespace nn = etna::nn;

int main() {
  nn::Sequential<nn::Linear<784, 256>, nn::ReLU, nn::Linear<128, 10>> net;
  (void)net;
}
