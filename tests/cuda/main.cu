// Test runner of the CUDA backend's tests. Built by nvcc (test_cuda) it needs a GPU: without one
// every case reports "skipped: no CUDA device" and exits with 77, which ctest counts as skipped.
// Built by g++ with ETNA_CUDA_EMULATION (test_cuda_emulated) the emulated device always exists.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <cstdio>
#include <cstring>

#include <etna/cuda.hpp>

int main(int argc, char** argv) {
  bool listing = false;
  for (int i = 1; i < argc; ++i)
    if (std::strncmp(argv[i], "--list", 6) == 0) listing = true;
  if (!listing && !etna::cuda::is_available()) {
    std::printf("skipped: no CUDA device\n");
    return 77;
  }
  return Catch::Session().run(argc, argv);
}
