// Declarations of the CUDA kernels behind concat/stack, index_select, gather, scatter_add,
// index_add, pad and embedding, called by the device-generic headers under ops/ and nn/. They
// mirror the CPU kernels' signatures (backend/cpu/indexing.hpp, pad.hpp) and are defined in
// backend/cuda/shape_ops.hpp, which <etna/cuda.hpp> includes.
#pragma once

#include <cstdint>
#include <vector>

#include "etna/backend/cuda/fwd.hpp"

namespace etna::cuda_backend {

// Copies the parts into the contiguous `out` side by side along dimension d.
template <class T>
void concat_into(const Tensor<T, cuda>& out, const std::vector<Tensor<T, cuda>>& parts, int d);

// Position of the first of the n contiguous indices outside [0, size), or -1 when all are in
// range. The check runs on the device; one integer comes back (so it synchronises). During
// CUDA graph capture nothing may be copied back: it returns -1 there and the kernels below
// skip out-of-range indices instead of faulting.
inline std::int64_t first_bad_index(const std::int64_t* idx, std::int64_t n, std::int64_t size);
// The same for class labels, where ignore_index is also accepted (cross_entropy, nll_loss).
inline std::int64_t first_bad_label(const std::int64_t* idx, std::int64_t n, std::int64_t size,
                                    std::int64_t ignore_index);
// idx[pos], read from device memory.
inline std::int64_t index_at(const std::int64_t* idx, std::int64_t pos);

// index_select on a contiguous input viewed as [outer, n, inner]: out is [outer, K, inner].
template <class T>
void index_select(const T* in, std::int64_t outer, std::int64_t n, std::int64_t inner,
                  const std::int64_t* idx, std::int64_t K, T* out);

// out[i...] = in[i... with coordinate dim replaced by idx[i...]]; idx and out contiguous.
template <class T>
void gather(const T* in, const Shape& in_shape, const Shape& in_strides, int dim,
            const std::int64_t* idx, const Shape& idx_shape, T* out);

// out[i... with coordinate dim replaced by idx[i...]] += src[i...] (atomic adds); out
// contiguous of out_shape, idx contiguous, src strided.
template <class T>
void scatter_add(T* out, const Shape& out_shape, int dim, const std::int64_t* idx,
                 const Shape& idx_shape, const T* src, const Shape& src_strides);

// index_add on a contiguous output viewed as [outer, n, inner] from a contiguous src
// [outer, K, inner] (atomic adds).
template <class T>
void index_add(T* out, std::int64_t outer, std::int64_t n, std::int64_t inner,
               const std::int64_t* idx, std::int64_t K, const T* src, T alpha);

// pad(): out (contiguous, out_shape) reads the strided input through detail::pad_source per
// dimension with the given mode (a detail::PadMode) and (before, after) sizes.
template <class T>
void pad(const Tensor<T, cuda>& in, const Tensor<T, cuda>& out, int mode,
         const std::vector<std::int64_t>& before, const std::vector<std::int64_t>& after, T fill);

// Embedding backward: gw[idx[i], :] += g[i, :] for the n rows whose index is not padding_idx
// (atomic adds); gw is [num, dim] and g [n, dim], both contiguous.
template <class T>
void embedding_backward(T* gw, std::int64_t num, std::int64_t dim, const std::int64_t* idx,
                        std::int64_t n, const T* g, std::int64_t padding_idx);

}  // namespace etna::cuda_backend
