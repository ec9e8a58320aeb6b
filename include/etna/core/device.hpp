// Device tags (`cpu`, `cuda`) and the traits that name them. The device is part of a tensor's
// type, so mixing devices is a compile error and moving data is always explicit.
#pragma once

#include <concepts>
#include <cstddef>
#include <string_view>
#include <type_traits>

namespace etna {

struct cpu {
  static constexpr std::string_view name = "cpu";
};

// The GPU. Its run-time functions are defined by the CUDA backend (<etna/cuda.hpp>, included
// from .cu files compiled by nvcc); a CPU-only program never calls them.
struct cuda {
  static constexpr std::string_view name = "cuda";

  // Whether a CUDA device can be used, and how many there are (0 without a driver or GPU).
  static bool is_available();
  static int device_count();
  // Waits for all work etna queued on the GPU (kernels run asynchronously on etna's stream).
  static void synchronize();
  // Lets cuBLAS use TF32 tensor cores for float32 matmuls (off by default, as in PyTorch >= 1.12:
  // results then differ from the CPU by ~1e-3 relative).
  static void set_allow_tf32(bool allow);
  static bool allow_tf32();
  // Bytes held by tensors on the GPU, and bytes the caching allocator keeps for reuse.
  static std::size_t memory_allocated();
  static std::size_t memory_reserved();
  // Returns cached, unused GPU memory to the driver (torch.cuda.empty_cache()).
  static void empty_cache();

  // Static-graph mode: `et::cuda::Graph g = et::cuda::capture([&] { step(); }); g.replay();`
  class Graph;
  template <class F>
  static Graph capture(F&& body);
};

template <class D>
concept Device = std::same_as<D, cpu> || std::same_as<D, cuda>;

// Whether the backend of device D is compiled into this translation unit: always for cpu; for
// cuda once <etna/cuda.hpp> is included (it specialises this trait).
template <class D>
struct backend_available : std::is_same<D, cpu> {};

}  // namespace etna
