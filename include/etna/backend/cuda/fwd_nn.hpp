// Declarations of the CUDA backend's nn kernels (normalisation, class losses, dropout masks),
// called by the device-generic nn headers and defined in backend/cuda/nn.hpp. Pointers are
// device memory, contiguous; optional operands are nullptr.
#pragma once

#include <cstdint>

#include "etna/core/random.hpp"

namespace etna::cuda_backend {

// Batch norm over x viewed as [N, C, L]: per-channel statistics (training) or the running
// buffers (eval) give rstd[C] and xhat; training updates the running buffers (element stride
// rm_stride / rv_stride, either may be nullptr) in place with the unbiased variance.
template <class T>
void batch_norm_forward(const T* x, T* xhat, T* rstd, T* running_mean, std::int64_t rm_stride,
                        T* running_var, std::int64_t rv_stride, std::int64_t N, std::int64_t C,
                        std::int64_t L, bool training, double momentum, double eps);

// Layer norm of [rows, K]: xhat and rstd[rows].
template <class T>
void layer_norm_forward(const T* x, T* xhat, T* rstd, std::int64_t rows, std::int64_t K,
                        double eps);

// y = xhat * w + b over [outer, groups, inner]; the affine index is the group (batch norm) or
// the inner position (layer norm).
template <class T>
void norm_affine(const T* xhat, const T* w, const T* b, T* y, std::int64_t outer,
                 std::int64_t groups, std::int64_t inner, bool batch);

// Batch norm backward: per-channel sums of g and g * xhat, and dx (if not nullptr).
template <class T>
void batch_norm_backward(const T* g, const T* xhat, const T* rstd, const T* w, T* dx, T* sum_g,
                         T* sum_gx, std::int64_t N, std::int64_t C, std::int64_t L,
                         bool batch_stats);

// Layer norm backward: dx (if not nullptr) and the column sums of g and g * xhat (if not
// nullptr).
template <class T>
void layer_norm_backward(const T* g, const T* xhat, const T* rstd, const T* w, T* dx, T* sum_g,
                         T* sum_gx, std::int64_t rows, std::int64_t K);

// The operands of cross_entropy / nll_loss over [n, c] rows (device pointers, trivially
// copyable so that kernels take it by value).
template <class T>
struct ClassRows {
  const T* x = nullptr;                  // [n, c] logits or log-probabilities
  const std::int64_t* labels = nullptr;  // [n] class indices, or nullptr for probabilities
  const T* probs = nullptr;              // [n, c] class probabilities
  const T* weight = nullptr;             // [c] class weights, or nullptr
  std::int64_t n = 0, c = 0, ignore_index = -100;
  T eps = 0, eps_c = 0, wsum = 0;  // label smoothing, eps / c, sum of the weights
};

template <class T>
void cross_entropy_forward(const ClassRows<T>& rows, T* lse, T* loss);
// dx = d loss / d x and dt = d loss / d probs (if not nullptr); the upstream gradient is g[i]
// per row (per_row; norm unused) or g[0] * T(norm[0]), norm a device scalar (class_norm).
template <class T>
void cross_entropy_backward(const ClassRows<T>& rows, const T* lse, const T* g, const double* norm,
                            bool per_row, T* dx, T* dt);
template <class T>
void nll_forward(const ClassRows<T>& rows, T* loss);
template <class T>
void nll_backward(const ClassRows<T>& rows, const T* g, const double* norm, bool per_row, T* dx);

// norm[0] = the reduction's factor on the device: for mean, 1 / (the sum of w[y] over the rows
// not ignored, or the row count for probability targets), else 1. An out-of-range label
// (possible only while a CUDA graph is captured, when labels are not checked) makes it NaN.
template <class T>
void class_norm(const ClassRows<T>& rows, bool mean, double* norm);

// out[0] = scale[0] * sum(v[0 .. n)), accumulated in double; scale is a device scalar.
template <class T>
void sum_scaled(const T* v, std::int64_t n, const double* scale, T* out);

// out[i] = uniform_at(stream, i) < threshold ? drop : keep: the same values as the CPU's mask.
template <class T>
void keep_mask(T* out, std::int64_t n, RandomStream stream, T threshold, T keep, T drop);

// Whether some element of x lies outside [0, 1] (or is NaN); if so, one of them goes to bad.
template <class T>
bool find_outside_unit(const T* x, std::int64_t n, T& bad);

}  // namespace etna::cuda_backend
