// Must not compile: Linear<8, 4> cannot feed a copy of itself. The build's compile_fail test
// checks that the error names the block and both sizes.
#include "etna/nn/linear.hpp"
#include "etna/nn/repeat.hpp"

namespace nn = etna::nn;

int main() {
  nn::Repeat<3, nn::Linear<8, 4>> net;
  (void)net;
}
