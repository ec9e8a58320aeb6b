// The CUDA backend's nn kernels: batch/layer norm statistics and gradients, the fused
// cross-entropy / nll rows, dropout masks from the Philox stream. A channel or row is one team
// of threads (a block or a warp) on the GPU and one host thread in the emulated build: the same
// functors run in both.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

#include "etna/backend/cuda/column_reduce.hpp"
#include "etna/backend/cuda/fwd_nn.hpp"
#include "etna/backend/cuda/launch.hpp"
#include "etna/backend/cuda/memory.hpp"
#include "etna/core/macros.hpp"

namespace etna::cuda_backend {
namespace nn_kernels {

// ---- teams: the threads that share one row or channel ---------------------------------------
// A reduction kernel is written once, as f(i, team) over items i: its loops stride by
// team.width() from team.lane(), and team.sum / team.max combine the lanes' partial results
// (every lane receives the total). On the GPU a team is a warp (Width 32) or a whole block
// (Width kBlock); in the emulated build it is one host thread that walks the items in order.

struct HostTeam {
  ETNA_HD int lane() const { return 0; }
  ETNA_HD int width() const { return 1; }
  template <class V>
  ETNA_HD V sum(V v) const {
    return v;
  }
  template <class V>
  ETNA_HD V max(V v) const {
    return v;
  }
};

template <bool Max, class V>
ETNA_HD V combine(V a, V b) {
  if constexpr (Max)
    return a < b ? b : a;
  else
    return a + b;
}

template <int Width>
struct DeviceTeam {
  double* scratch;  // one slot per warp of the block, in shared memory
  ETNA_HD int lane() const {
#ifdef __CUDA_ARCH__
    return static_cast<int>(threadIdx.x) % Width;
#else
    return 0;
#endif
  }
  ETNA_HD int width() const { return Width; }
  template <class V>
  ETNA_HD V sum(V v) const {
    return reduce<false>(v);
  }
  template <class V>
  ETNA_HD V max(V v) const {
    return reduce<true>(v);
  }
  // Every lane of the team calls it (the callers' loops are uniform across a team).
  template <bool Max, class V>
  ETNA_HD V reduce(V v) const {
#ifdef __CUDA_ARCH__
    for (int o = 16; o > 0; o /= 2) v = combine<Max>(v, __shfl_xor_sync(0xffffffffu, v, o));
    if constexpr (Width > 32) {
      __syncthreads();  // the previous reduction has read scratch
      if (threadIdx.x % 32 == 0) scratch[threadIdx.x / 32] = static_cast<double>(v);
      __syncthreads();
      v = static_cast<V>(scratch[0]);
      for (int w = 1; w < Width / 32; ++w) v = combine<Max>(v, static_cast<V>(scratch[w]));
    }
#endif
    return v;
  }
};

#if ETNA_CUDA_REAL
template <int Width, class F>
__global__ void team_kernel(std::int64_t n, F f) {
  __shared__ double scratch[kBlock / 32];
  const DeviceTeam<Width> team{scratch};
  constexpr int per_block = kBlock / Width;
  const std::int64_t stride = static_cast<std::int64_t>(gridDim.x) * per_block;
  for (std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * per_block + threadIdx.x / Width;
       i < n; i += stride)
    f(i, team);
}
#endif

// f(i, team) for i in [0, n): one team of Width threads per item on the GPU.
template <int Width, class F>
void for_each_team(std::int64_t n, const F& f) {
  static_assert(Width % 32 == 0 && kBlock % Width == 0, "a team is whole warps of one block");
  if (n <= 0) return;
#if ETNA_CUDA_REAL
  constexpr int per_block = kBlock / Width;
  const auto blocks = static_cast<int>(
      std::min<std::int64_t>((n + per_block - 1) / per_block, std::int64_t{1} << 16));
  team_kernel<Width><<<blocks, kBlock, 0, stream()>>>(n, f);
  check_launch("nn team_kernel");
#else
  const HostTeam team;
  for (std::int64_t i = 0; i < n; ++i) f(i, team);
#endif
}

// ---- normalisation (the CPU's arithmetic: statistics and sums in double) --------------------

// Element k in [0, N L) of channel c of x viewed as [N, C, L].
ETNA_HD inline std::int64_t channel_index(std::int64_t c, std::int64_t k, std::int64_t C,
                                          std::int64_t L) {
  return (k / L * C + c) * L + k % L;
}

template <class T>
struct BatchNormStats {
  const T* x;
  T *xhat, *rstd, *rm, *rv;
  std::int64_t rms, rvs, N, C, L;
  bool training;
  double momentum, eps;
  template <class Team>
  ETNA_HD void operator()(std::int64_t c, const Team& team) const {
    const std::int64_t n = N * L;
    T mean, r;
    if (training) {  // two passes in double: exact enough for large, offset batches
      double s = 0, ss = 0;
      for (std::int64_t k = team.lane(); k < n; k += team.width())
        s += x[channel_index(c, k, C, L)];
      const double m = team.sum(s) / n;
      for (std::int64_t k = team.lane(); k < n; k += team.width()) {
        const T v = x[channel_index(c, k, C, L)];
        ss += (v - m) * (v - m);
      }
      ss = team.sum(ss);
      mean = static_cast<T>(m);
      r = static_cast<T>(1.0 / std::sqrt(ss / n + eps));
      if (team.lane() == 0) {
        if (rm) rm[c * rms] = static_cast<T>((1 - momentum) * rm[c * rms] + momentum * m);
        if (rv)
          rv[c * rvs] = static_cast<T>((1 - momentum) * rv[c * rvs] + momentum * ss / (n - 1));
      }
    } else {
      mean = rm[c * rms];
      r = static_cast<T>(1.0 / std::sqrt(static_cast<double>(rv[c * rvs]) + eps));
    }
    if (team.lane() == 0) rstd[c] = r;
    for (std::int64_t k = team.lane(); k < n; k += team.width()) {
      const std::int64_t i = channel_index(c, k, C, L);
      xhat[i] = (x[i] - mean) * r;
    }
  }
};

template <class T>
struct LayerNormStats {
  const T* x;
  T *xhat, *rstd;
  std::int64_t K;
  double eps;
  template <class Team>
  ETNA_HD void operator()(std::int64_t row, const Team& team) const {
    const T* xr = x + row * K;
    double s = 0, ss = 0;
    for (std::int64_t i = team.lane(); i < K; i += team.width()) s += xr[i];
    const double m = team.sum(s) / K;
    for (std::int64_t i = team.lane(); i < K; i += team.width()) ss += (xr[i] - m) * (xr[i] - m);
    const double rs = 1.0 / std::sqrt(team.sum(ss) / K + eps);
    if (team.lane() == 0) rstd[row] = static_cast<T>(rs);
    T* hr = xhat + row * K;
    for (std::int64_t i = team.lane(); i < K; i += team.width())
      hr[i] = static_cast<T>((xr[i] - m) * rs);
  }
};

template <class T>
struct NormAffine {
  const T *xhat, *w, *b;
  T* y;
  std::int64_t groups, inner;
  bool batch;
  ETNA_HD void operator()(std::int64_t i) const {
    const std::int64_t a = batch ? (i / inner) % groups : i % inner;
    y[i] = (w ? xhat[i] * w[a] : xhat[i]) + (b ? b[a] : T(0));
  }
};

template <class T>
struct BatchNormGrad {
  const T *g, *xh, *rstd, *w;
  T *dx, *sg, *sgx;
  std::int64_t N, C, L;
  bool batch_stats;
  template <class Team>
  ETNA_HD void operator()(std::int64_t c, const Team& team) const {
    const std::int64_t n = N * L;
    double s = 0, sx = 0;
    for (std::int64_t k = team.lane(); k < n; k += team.width()) {
      const std::int64_t i = channel_index(c, k, C, L);
      s += g[i];
      sx += static_cast<double>(g[i]) * xh[i];
    }
    s = team.sum(s);
    sx = team.sum(sx);
    if (team.lane() == 0) {
      sg[c] = static_cast<T>(s);
      sgx[c] = static_cast<T>(sx);
    }
    if (!dx) return;
    const T k = (w ? w[c] : T(1)) * rstd[c];
    const T mg = static_cast<T>(s / n), mgx = static_cast<T>(sx / n);
    for (std::int64_t e = team.lane(); e < n; e += team.width()) {
      const std::int64_t i = channel_index(c, e, C, L);
      dx[i] = batch_stats ? k * (g[i] - mg - xh[i] * mgx) : k * g[i];
    }
  }
};

template <class T>
struct LayerNormInputGrad {
  const T *g, *xh, *rstd, *w;
  T* dx;
  std::int64_t K;
  template <class Team>
  ETNA_HD void operator()(std::int64_t r, const Team& team) const {
    const T* gr = g + r * K;
    const T* xr = xh + r * K;
    double a = 0, b = 0;
    for (std::int64_t k = team.lane(); k < K; k += team.width()) {
      const double gw = w ? static_cast<double>(gr[k]) * w[k] : gr[k];
      a += gw;
      b += gw * xr[k];
    }
    T* p = dx + r * K;
    const double ma = team.sum(a) / K, mb = team.sum(b) / K;
    for (std::int64_t k = team.lane(); k < K; k += team.width()) {
      const double gw = w ? static_cast<double>(gr[k]) * w[k] : gr[k];
      p[k] = static_cast<T>(rstd[r] * (gw - ma - xr[k] * mb));
    }
  }
};

// The layer-norm affine gradients' terms g and g * xhat of [rows, K], for column_reduce.
template <class T>
struct GradTerm {
  const T* g;
  std::int64_t K;
  ETNA_HD double operator()(std::int64_t r, std::int64_t k) const { return g[r * K + k]; }
};
template <class T>
struct GradXhatTerm {
  const T *g, *xh;
  std::int64_t K;
  ETNA_HD double operator()(std::int64_t r, std::int64_t k) const {
    return static_cast<double>(g[r * K + k]) * xh[r * K + k];
  }
};

// ---- class rows: the CPU's RowTarget, one thread per row ----------------------------------

template <class T>
ETNA_HD T class_weight(const ClassRows<T>& r, std::int64_t j) {
  return r.weight ? r.weight[j] : T(1);
}
// A label outside [0, c) that is not ignore_index: the range check is skipped while a CUDA
// graph is captured, so the kernels turn such a row into NaNs instead of reading past it.
template <class T>
ETNA_HD bool bad_label(const ClassRows<T>& r, std::int64_t y) {
  return y != r.ignore_index && (y < 0 || y >= r.c);
}
template <class T>
ETNA_HD T quiet_nan() {
  return std::numeric_limits<T>::quiet_NaN();
}
template <class T>
ETNA_HD T prob_target(const ClassRows<T>& r, std::int64_t i, std::int64_t j) {
  return class_weight(r, j) * ((1 - r.eps) * r.probs[i * r.c + j] + r.eps_c);
}

template <class T>
struct CrossEntropyRow {
  ClassRows<T> r;
  T *lse, *loss;
  template <class Team>
  ETNA_HD void operator()(std::int64_t i, const Team& team) const {
    const T* x = r.x + i * r.c;
    T m = x[0];
    for (std::int64_t j = team.lane(); j < r.c; j += team.width()) m = x[j] > m ? x[j] : m;
    m = team.max(m);
    double s = 0;
    for (std::int64_t j = team.lane(); j < r.c; j += team.width()) s += std::exp(x[j] - m);
    const T z = m + static_cast<T>(std::log(team.sum(s)));
    double l = 0;
    if (!r.labels) {
      for (std::int64_t j = team.lane(); j < r.c; j += team.width())
        if (const T q = prob_target(r, i, j); q != T(0)) l += q * (z - x[j]);  // no 0 * inf
      l = team.sum(l);
    } else if (const std::int64_t y = r.labels[i]; bad_label(r, y)) {
      l = quiet_nan<double>();
    } else if (y != r.ignore_index) {
      l = (1 - r.eps) * class_weight(r, y) * (z - x[y]);
      if (r.eps != T(0)) {
        double dot = 0;
        for (std::int64_t j = team.lane(); j < r.c; j += team.width())
          dot += class_weight(r, j) * x[j];
        l += r.eps_c * (z * r.wsum - team.sum(dot));
      }
    }
    if (team.lane() == 0) {
      lse[i] = z;
      loss[i] = static_cast<T>(l);
    }
  }
};

template <class T>
struct CrossEntropyRowGrad {
  ClassRows<T> r;
  const T *lse, *g;
  const double* norm;
  bool per_row;
  T *dx, *dt;
  template <class Team>
  ETNA_HD void operator()(std::int64_t i, const Team& team) const {
    const T s = per_row ? g[i] : g[0] * static_cast<T>(norm[0]);
    const T* x = r.x + i * r.c;
    T* out = dx + i * r.c;
    const T z = lse[i];
    if (dt)  // d loss / d t_j = -(1 - eps) w_j log softmax_j
      for (std::int64_t j = team.lane(); j < r.c; j += team.width())
        dt[i * r.c + j] = -s * (1 - r.eps) * class_weight(r, j) * (x[j] - z);
    if (!r.labels) {
      double qsum = 0;
      for (std::int64_t j = team.lane(); j < r.c; j += team.width()) qsum += prob_target(r, i, j);
      const T scale = s * static_cast<T>(team.sum(qsum));
      for (std::int64_t j = team.lane(); j < r.c; j += team.width())
        out[j] = scale * std::exp(x[j] - z) - s * prob_target(r, i, j);
      return;
    }
    const std::int64_t y = r.labels[i];
    if (bad_label(r, y)) {
      for (std::int64_t j = team.lane(); j < r.c; j += team.width()) out[j] = quiet_nan<T>();
      return;
    }
    const bool ignored = y == r.ignore_index;
    const T scale = ignored ? T(0) : s * ((1 - r.eps) * class_weight(r, y) + r.eps_c * r.wsum);
    const T hit = ignored ? T(0) : s * (1 - r.eps) * class_weight(r, y);
    for (std::int64_t j = team.lane(); j < r.c; j += team.width())
      out[j] = ignored ? T(0)
                       : scale * std::exp(x[j] - z) - s * r.eps_c * class_weight(r, j) -
                             (j == y ? hit : T(0));
  }
};

template <class T>
struct NllRow {
  ClassRows<T> r;
  T* loss;
  ETNA_HD void operator()(std::int64_t i) const {
    const std::int64_t y = r.labels[i];
    loss[i] = bad_label(r, y)            ? quiet_nan<T>()
              : y == r.ignore_index ? T(0)
                                    : -class_weight(r, y) * r.x[i * r.c + y];
  }
};

// One thread per element of dx: -w_y g at each row's label, 0 elsewhere.
template <class T>
struct NllGrad {
  ClassRows<T> r;
  const T* g;
  const double* norm;
  bool per_row;
  T* dx;
  ETNA_HD void operator()(std::int64_t e) const {
    const std::int64_t i = e / r.c, j = e % r.c, y = r.labels[i];
    if (bad_label(r, y)) {
      dx[e] = quiet_nan<T>();
      return;
    }
    dx[e] = y == r.ignore_index || j != y
                ? T(0)
                : -(per_row ? g[i] : g[0] * static_cast<T>(norm[0])) * class_weight(r, y);
  }
};

// The mean's factor 1 / (sum of the row weights), one block, in double as on the CPU.
template <class T>
struct ClassNorm {
  ClassRows<T> r;
  bool mean;
  double* norm;
  template <class Team>
  ETNA_HD void operator()(std::int64_t, const Team& team) const {
    if (!mean || !r.labels) {  // sum: 1; probability targets: every row counts once
      if (team.lane() == 0) norm[0] = mean ? 1.0 / static_cast<double>(r.n) : 1.0;
      return;
    }
    double denom = 0;
    for (std::int64_t i = team.lane(); i < r.n; i += team.width()) {
      const std::int64_t y = r.labels[i];
      if (bad_label(r, y))
        denom += quiet_nan<double>();
      else if (y != r.ignore_index)
        denom += static_cast<double>(class_weight(r, y));
    }
    denom = team.sum(denom);
    if (team.lane() == 0) norm[0] = 1.0 / denom;  // all rows ignored: inf, then 0 * inf = NaN
  }
};

// The class losses' reduction of one value per row: one block, in double as on the CPU.
template <class T>
struct SumScaled {
  const T* v;
  std::int64_t n;
  const double* scale;
  T* out;
  template <class Team>
  ETNA_HD void operator()(std::int64_t, const Team& team) const {
    double total = 0;
    for (std::int64_t i = team.lane(); i < n; i += team.width()) total += v[i];
    total = team.sum(total);
    if (team.lane() == 0) out[0] = static_cast<T>(total * scale[0]);
  }
};

template <class T>
struct KeepMask {
  T* out;
  RandomStream stream;
  T threshold, keep, drop;
  ETNA_HD void operator()(std::int64_t i) const {
    out[i] = random_detail::uniform_at<T>(stream, static_cast<std::uint64_t>(i)) < threshold ? drop
                                                                                             : keep;
  }
};

// Every offending thread stores its value: any one of them is a fine example for the message.
template <class T>
struct OutsideUnit {
  const T* x;
  T* bad;
  ETNA_HD void operator()(std::int64_t i) const {
    if (!(x[i] >= T(0) && x[i] <= T(1))) *bad = x[i];
  }
};

}  // namespace nn_kernels

template <class T>
void batch_norm_forward(const T* x, T* xhat, T* rstd, T* running_mean, std::int64_t rm_stride,
                        T* running_var, std::int64_t rv_stride, std::int64_t N, std::int64_t C,
                        std::int64_t L, bool training, double momentum, double eps) {
  nn_kernels::for_each_team<kBlock>(
      C, nn_kernels::BatchNormStats<T>{x, xhat, rstd, running_mean, running_var, rm_stride,
                                       rv_stride, N, C, L, training, momentum, eps});
}

template <class T>
void layer_norm_forward(const T* x, T* xhat, T* rstd, std::int64_t rows, std::int64_t K,
                        double eps) {
  nn_kernels::for_each_team<kBlock>(rows, nn_kernels::LayerNormStats<T>{x, xhat, rstd, K, eps});
}

template <class T>
void norm_affine(const T* xhat, const T* w, const T* b, T* y, std::int64_t outer,
                 std::int64_t groups, std::int64_t inner, bool batch) {
  for_each_index(outer * groups * inner,
                 nn_kernels::NormAffine<T>{xhat, w, b, y, groups, inner, batch});
}

template <class T>
void batch_norm_backward(const T* g, const T* xhat, const T* rstd, const T* w, T* dx, T* sum_g,
                         T* sum_gx, std::int64_t N, std::int64_t C, std::int64_t L,
                         bool batch_stats) {
  nn_kernels::for_each_team<kBlock>(
      C, nn_kernels::BatchNormGrad<T>{g, xhat, rstd, w, dx, sum_g, sum_gx, N, C, L, batch_stats});
}

template <class T>
void layer_norm_backward(const T* g, const T* xhat, const T* rstd, const T* w, T* dx, T* sum_g,
                         T* sum_gx, std::int64_t rows, std::int64_t K) {
  if (dx)
    nn_kernels::for_each_team<kBlock>(rows,
                                      nn_kernels::LayerNormInputGrad<T>{g, xhat, rstd, w, dx, K});
  if (sum_g) {  // column sums in double, block-wise for many rows (column_reduce.hpp)
    column_reduce<double, T>(nn_kernels::GradTerm<T>{g, K}, rows, K, sum_g);
    column_reduce<double, T>(nn_kernels::GradXhatTerm<T>{g, xhat, K}, rows, K, sum_gx);
  }
}

template <class T>
void cross_entropy_forward(const ClassRows<T>& rows, T* lse, T* loss) {
  nn_kernels::for_each_team<32>(rows.n, nn_kernels::CrossEntropyRow<T>{rows, lse, loss});
}

template <class T>
void cross_entropy_backward(const ClassRows<T>& rows, const T* lse, const T* g, const double* norm,
                            bool per_row, T* dx, T* dt) {
  nn_kernels::for_each_team<32>(
      rows.n, nn_kernels::CrossEntropyRowGrad<T>{rows, lse, g, norm, per_row, dx, dt});
}

template <class T>
void nll_forward(const ClassRows<T>& rows, T* loss) {
  for_each_index(rows.n, nn_kernels::NllRow<T>{rows, loss});
}

template <class T>
void nll_backward(const ClassRows<T>& rows, const T* g, const double* norm, bool per_row, T* dx) {
  for_each_index(rows.n * rows.c, nn_kernels::NllGrad<T>{rows, g, norm, per_row, dx});
}

template <class T>
void class_norm(const ClassRows<T>& rows, bool mean, double* norm) {
  nn_kernels::for_each_team<kBlock>(1, nn_kernels::ClassNorm<T>{rows, mean, norm});
}

template <class T>
void sum_scaled(const T* v, std::int64_t n, const double* scale, T* out) {
  nn_kernels::for_each_team<kBlock>(1, nn_kernels::SumScaled<T>{v, n, scale, out});
}

template <class T>
void keep_mask(T* out, std::int64_t n, RandomStream stream, T threshold, T keep, T drop) {
  for_each_index(n, nn_kernels::KeepMask<T>{out, stream, threshold, keep, drop});
}

template <class T>
bool find_outside_unit(const T* x, std::int64_t n, T& bad) {
  if (n == 0) return false;
  const auto slot = allocate<T>(1);
  const T inside = T(0.5);
  copy_to_device(slot.get(), &inside, sizeof(T));
  for_each_index(n, nn_kernels::OutsideUnit<T>{x, slot.get()});
  copy_to_host(&bad, slot.get(), sizeof(T));
  return !(bad == inside);
}

}  // namespace etna::cuda_backend
