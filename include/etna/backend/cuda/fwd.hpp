// Declarations of the CUDA backend's entry points that device-generic code calls. They are
// defined by the headers under backend/cuda/, which <etna/cuda.hpp> includes; a CPU-only
// translation unit never instantiates a call to them (Tensor<T, cuda> refuses to exist there).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "etna/core/device.hpp"
#include "etna/core/dtype.hpp"
#include "etna/core/shape.hpp"

namespace etna {
template <Scalar T, Device D>
class Tensor;
}  // namespace etna

namespace etna::cuda_backend {

// Uninitialised device memory for n elements of T, from the caching allocator.
template <class T>
std::shared_ptr<T> allocate(std::int64_t n);

// Copies between host and device memory (both ranges contiguous); they return when done.
inline void copy_to_device(void* dst, const void* src, std::size_t bytes);
inline void copy_to_host(void* dst, const void* src, std::size_t bytes);
inline void copy_on_device(void* dst, const void* src, std::size_t bytes);

// Writes the element-wise expression e into the strided device tensor at `out`.
template <class T, class E>
void evaluate(T* out, Shape out_strides, const Shape& out_shape, const E& e);

// Element-type conversion of a device tensor (t.to<double>() on cuda), on the device.
template <class U, class T>
Tensor<U, cuda> convert(const Tensor<T, cuda>& t);

}  // namespace etna::cuda_backend
