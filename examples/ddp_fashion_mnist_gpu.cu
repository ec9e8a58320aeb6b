// The data-parallel demo built by nvcc: the same program as ddp_fashion_mnist.cpp, where
// `--device cuda` trains each rank on the GPU of its local rank and reduces gradients with NCCL.
//   mpirun -np <GPUs> ddp_fashion_mnist_gpu --device cuda [--epochs 3] ...
#define ETNA_DEMO_WITH_CUDA
#include <etna/cuda.hpp>
#include <etna/dist/nccl_group.hpp>

#include "ddp_fashion_mnist.cpp"
