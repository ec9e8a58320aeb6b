// The optimizers' CUDA kernels: multi-tensor updates (every parameter of a group in one launch,
// through a by-value table of pointers) and gradient-norm clipping computed on the device.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "etna/backend/cuda/fwd_optim.hpp"
#include "etna/backend/cuda/launch.hpp"
#include "etna/backend/cuda/runtime.hpp"
#include "etna/core/macros.hpp"

namespace etna::cuda_backend {
namespace optim_detail {

ETNA_HD inline float root(float x) { return ::sqrtf(x); }
ETNA_HD inline double root(double x) { return ::sqrt(x); }

// Up to kTableSize tensors per launch, passed by value as the kernel's argument (about 3 KB of
// the 4 KB a kernel parameter may take); larger groups are split into chunks of this size.
inline constexpr int kTableSize = 48;

template <class T>
struct Table {
  T* param[kTableSize];
  const T* grad[kTableSize];
  T* s0[kTableSize];
  T* s1[kTableSize];
  T* s2[kTableSize];
  T* step[kTableSize];
  std::int64_t end[kTableSize];  // running element counts: tensor k holds [end[k-1], end[k])
  unsigned char first[kTableSize];
  int count;

  // The tensor that holds flat element i (binary search over end[]), and i's offset in it.
  ETNA_HD int find(std::int64_t i, std::int64_t& offset) const {
    int lo = 0, hi = count - 1;
    while (lo < hi) {
      const int mid = (lo + hi) / 2;
      if (end[mid] > i)
        hi = mid;
      else
        lo = mid + 1;
    }
    offset = i - (lo > 0 ? end[lo - 1] : 0);
    return lo;
  }
};

// f(i) over every element of every tensor in the table: one kernel for the whole table.
template <class T, class Rule>
struct MultiTensor {
  Table<T> t;
  Rule rule;
  ETNA_HD void operator()(std::int64_t i) const {
    std::int64_t j = 0;
    const int k = t.find(i, j);
    rule(t, k, j);
  }
};

template <class T>
struct IncrementSteps {
  Table<T> t;
  ETNA_HD void operator()(std::int64_t k) const { *t.step[k] += T(1); }
};

// Splits `count` tensors into tables of up to kTableSize: fill(t, k, s) puts tensor s in slot k,
// numel(s) is its size; then launch(t, total elements) runs once per table.
template <class T, class Fill, class Numel, class Launch>
void for_each_table(std::size_t count, const Fill& fill, const Numel& numel, const Launch& launch) {
  for (std::size_t start = 0; start < count; start += kTableSize) {
    Table<T> t;
    std::memset(static_cast<void*>(&t), 0, sizeof t);
    std::int64_t total = 0;
    const std::size_t stop = std::min(count, start + kTableSize);
    for (std::size_t s = start; s < stop; ++s) {
      const int k = static_cast<int>(s - start);
      fill(t, k, s);
      total += numel(s);
      t.end[k] = total;
    }
    t.count = static_cast<int>(stop - start);
    launch(t, total);
  }
}

// Launches (the step increment, then) the update, one table at a time.
template <class T, class Rule>
void launch_chunks(const std::vector<OptimSlot<T>>& slots, const Rule& rule, bool has_step) {
  for_each_table<T>(
      slots.size(),
      [&](Table<T>& t, int k, std::size_t s) {
        const OptimSlot<T>& slot = slots[s];
        t.param[k] = slot.param;
        t.grad[k] = slot.grad;
        t.s0[k] = slot.state[0];
        t.s1[k] = slot.state[1];
        t.s2[k] = slot.state[2];
        t.step[k] = slot.step;
        t.first[k] = slot.first ? 1 : 0;
      },
      [&](std::size_t s) { return slots[s].numel; },
      [&](const Table<T>& t, std::int64_t total) {
        if (has_step) for_each_index(t.count, IncrementSteps<T>{t});
        for_each_index(total, MultiTensor<T, Rule>{t, rule});
      });
}

// The update rules: the same arithmetic as the CPU kernels in optim/*.hpp, one element each.
template <class T>
struct SgdRule {
  T lr, wd, mu, keep;
  bool maximize, nesterov, momentum;
  ETNA_HD void operator()(const Table<T>& t, int k, std::int64_t j) const {
    const T g = t.grad[k][j];
    T p = t.param[k][j];
    T d = maximize ? -g : g;
    if (wd != T(0)) d = d + wd * p;
    if (!momentum) {
      t.param[k][j] = p - lr * d;
      return;
    }
    T b = t.first[k] ? d : mu * t.s0[k][j] + keep * d;
    t.s0[k][j] = b;
    t.param[k][j] = p - lr * (nesterov ? d + mu * b : b);
  }
};

// The bias corrections come from the step count on the device, so a captured step replays
// with the right step number.
template <class T>
struct AdamRule {
  double lr, beta1, beta2;
  T b1, b2, eps, wd, shrink;
  bool maximize, amsgrad;
  ETNA_HD void operator()(const Table<T>& t, int k, std::int64_t j) const {
    const double s = static_cast<double>(*t.step[k]);
    const T step_size = T(lr / (1 - ::pow(beta1, s)));
    const T bc2_sqrt = T(::sqrt(1 - ::pow(beta2, s)));
    const T g = t.grad[k][j];
    T p = t.param[k][j], m = t.s0[k][j], v = t.s1[k][j];
    T d = maximize ? -g : g;
    if (wd != T(0)) d = d + wd * p;
    if (shrink != T(1)) p = p * shrink;
    m = m * b1 + d * (T(1) - b1);
    v = v * b2 + d * d * (T(1) - b2);
    T denom = v;
    if (amsgrad) {
      const T old = t.s2[k][j];
      denom = old < v ? v : old;
      t.s2[k][j] = denom;
    }
    t.s0[k][j] = m;
    t.s1[k][j] = v;
    t.param[k][j] = p - step_size * m / (root(denom) / bc2_sqrt + eps);
  }
};

template <class T>
struct RmspropRule {
  T lr, alpha, eps, wd, mu;
  bool maximize, centered, momentum;
  ETNA_HD void operator()(const Table<T>& t, int k, std::int64_t j) const {
    const T g = t.grad[k][j];
    const T p = t.param[k][j];
    T d = maximize ? -g : g;
    if (wd != T(0)) d = d + wd * p;
    T sq = t.s0[k][j] * alpha + d * d * (T(1) - alpha);
    t.s0[k][j] = sq;
    T avg;
    if (centered) {
      const T ga = t.s1[k][j] * alpha + d * (T(1) - alpha);
      t.s1[k][j] = ga;
      avg = root(sq - ga * ga) + eps;
    } else {
      avg = root(sq) + eps;
    }
    if (momentum) {
      const T b = t.s2[k][j] * mu + d / avg;
      t.s2[k][j] = b;
      t.param[k][j] = p - lr * b;
    } else {
      t.param[k][j] = p - lr * (d / avg);
    }
  }
};

template <class T>
struct AdagradRule {
  double lr, lr_decay;
  T eps, wd;
  bool maximize;
  ETNA_HD void operator()(const Table<T>& t, int k, std::int64_t j) const {
    const double s = static_cast<double>(*t.step[k]);
    const T clr = T(lr / (1 + (s - 1) * lr_decay));
    const T g = t.grad[k][j];
    const T p = t.param[k][j];
    T d = maximize ? -g : g;
    if (wd != T(0)) d = d + wd * p;
    const T sum = t.s0[k][j] + d * d;
    t.s0[k][j] = sum;
    t.param[k][j] = p - clr * (d / (root(sum) + eps));
  }
};

}  // namespace optim_detail

template <class T>
void sgd_step(const SgdHyper& h, const std::vector<OptimSlot<T>>& slots) {
  const optim_detail::SgdRule<T> rule{
      T(h.lr),    T(h.weight_decay), T(h.momentum),  T(1 - h.dampening),
      h.maximize, h.nesterov,        h.momentum != 0};
  optim_detail::launch_chunks(slots, rule, false);
}

template <class T>
void adam_step(const AdamHyper& h, const std::vector<OptimSlot<T>>& slots) {
  const optim_detail::AdamRule<T> rule{h.lr,
                                       h.beta1,
                                       h.beta2,
                                       T(h.beta1),
                                       T(h.beta2),
                                       T(h.eps),
                                       h.decoupled ? T(0) : T(h.weight_decay),
                                       h.decoupled ? T(1 - h.lr * h.weight_decay) : T(1),
                                       h.maximize,
                                       h.amsgrad};
  optim_detail::launch_chunks(slots, rule, true);
}

template <class T>
void rmsprop_step(const RmspropHyper& h, const std::vector<OptimSlot<T>>& slots) {
  const optim_detail::RmspropRule<T> rule{T(h.lr),       T(h.alpha), T(h.eps),   T(h.weight_decay),
                                          T(h.momentum), h.maximize, h.centered, h.momentum > 0};
  optim_detail::launch_chunks(slots, rule, true);
}

template <class T>
void adagrad_step(const AdagradHyper& h, const std::vector<OptimSlot<T>>& slots) {
  const optim_detail::AdagradRule<T> rule{h.lr, h.lr_decay, T(h.eps), T(h.weight_decay),
                                          h.maximize};
  optim_detail::launch_chunks(slots, rule, true);
}

// ---- gradient norms ---------------------------------------------------------------------------
namespace optim_detail {

// How |x| enters the total: 0 = squares (p = 2), 1 = max (p = inf), 2 = |x|^p.
ETNA_HD inline double norm_term(double a, int mode, double p) {
  return mode == 0 ? a * a : (mode == 1 ? a : ::pow(a, p));
}

#if ETNA_CUDA_REAL
// Block-wide partial sums (or maxima) of the terms, then one atomic per block into *total.
// Non-negative doubles order like their bit patterns, so max is an integer atomicMax (a NaN
// term, 0x7ff8..., wins over everything, as on the CPU).
template <class T>
__global__ void total_norm_kernel(Table<T> t, std::int64_t n, int mode, double p, double* total) {
  __shared__ double partial[kBlock];
  double acc = 0;
  const std::int64_t stride = static_cast<std::int64_t>(gridDim.x) * blockDim.x;
  for (std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += stride) {
    std::int64_t j = 0;
    const int k = t.find(i, j);
    const double term = norm_term(::fabs(static_cast<double>(t.grad[k][j])), mode, p);
    acc = mode == 1 ? (acc < term || term != term ? term : acc) : acc + term;
  }
  partial[threadIdx.x] = acc;
  __syncthreads();
  for (int half = blockDim.x / 2; half > 0; half /= 2) {
    if (static_cast<int>(threadIdx.x) < half) {
      const double a = partial[threadIdx.x], b = partial[threadIdx.x + half];
      partial[threadIdx.x] = mode == 1 ? (a < b || b != b ? b : a) : a + b;
    }
    __syncthreads();
  }
  if (threadIdx.x == 0) {
    if (mode == 1)
      atomicMax(reinterpret_cast<unsigned long long*>(total),
                static_cast<unsigned long long>(__double_as_longlong(partial[0])));
    else
      atomicAdd(total, partial[0]);
  }
}
#endif

// The accumulated terms become the norm: sqrt for p = 2, ^(1/p) for other finite p.
struct FinishNorm {
  double* total;
  int mode;
  double p;
  ETNA_HD void operator()(std::int64_t) const {
    if (mode == 0)
      *total = ::sqrt(*total);
    else if (mode == 2)
      *total = ::pow(*total, 1 / p);
  }
};

template <class T>
struct ScaleByNorm {
  Table<T> t;
  double max_norm;
  const double* total;
  ETNA_HD void operator()(std::int64_t i) const {
    const double coef = max_norm / (*total + 1e-6);
    if (!(coef < 1)) return;
    std::int64_t j = 0;
    const int k = t.find(i, j);
    t.param[k][j] = t.param[k][j] * static_cast<T>(coef);
  }
};

struct ZeroDouble {
  double* x;
  ETNA_HD void operator()(std::int64_t) const { *x = 0; }
};

}  // namespace optim_detail

template <class T>
void total_norm(const std::vector<const T*>& xs, const std::vector<std::int64_t>& ns,
                double norm_type, double* total) {
  using namespace optim_detail;
  const int mode = std::isinf(norm_type) ? 1 : (norm_type == 2 ? 0 : 2);
  for_each_index(1, ZeroDouble{total});
  for_each_table<T>(
      xs.size(), [&](Table<T>& t, int k, std::size_t s) { t.grad[k] = xs[s]; },
      [&](std::size_t s) { return ns[s]; },
      [&](const Table<T>& t, std::int64_t n) {
        if (n == 0) return;
#if ETNA_CUDA_REAL
        const int blocks = static_cast<int>(std::min<std::int64_t>((n + kBlock - 1) / kBlock, 1024));
        total_norm_kernel<T><<<blocks, kBlock, 0, stream()>>>(t, n, mode, norm_type, total);
        check_launch("total_norm_kernel");
#else
        // Emulated device memory is host memory: the same sum, computed in order.
        double acc = *total;
        for (std::int64_t i = 0; i < n; ++i) {
          std::int64_t j = 0;
          const int k = t.find(i, j);
          const double term = norm_term(std::fabs(static_cast<double>(t.grad[k][j])), mode, norm_type);
          acc = mode == 1 ? (acc < term || std::isnan(term) ? term : acc) : acc + term;
        }
        *total = acc;
#endif
      });
  for_each_index(1, FinishNorm{total, mode, norm_type});
}

template <class T>
void scale_by_norm(const std::vector<T*>& xs, const std::vector<std::int64_t>& ns, double max_norm,
                   const double* total) {
  using namespace optim_detail;
  for_each_table<T>(
      xs.size(), [&](Table<T>& t, int k, std::size_t s) { t.param[k] = xs[s]; },
      [&](std::size_t s) { return ns[s]; },
      [&](const Table<T>& t, std::int64_t n) {
        for_each_index(n, ScaleByNorm<T>{t, max_norm, total});
      });
}

}  // namespace etna::cuda_backend
