// The main demo built by nvcc: the same program as fashion_mnist.cpp, with `--device cuda`
// training the network on the GPU (see docs/gpu.md).
//   fashion_mnist_gpu --device cuda [--epochs 5] [--batch-size 64] ...
#define ETNA_DEMO_WITH_CUDA
#include <etna/cuda.hpp>

#include "fashion_mnist.cpp"
