// The CUDA reductions: the CPU's policies (reduce_policies.hpp) over an expression bound with
// bind() and evaluated inside the kernel, so sum(square(x - m)) is one pass over x.
// GPU: one block per (output, chunk) with a shared-memory tree when the reduced dimension is
// the innermost one and long; one thread per (output, chunk) otherwise, coalesced across the
// outputs (a leading-dim reduction such as a bias gradient). A second pass combines chunks,
// so a full sum of 64M elements spreads over the whole device. Emulation: host loops in the
// CPU's order (blocks of elements combined pairwise).
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "etna/backend/cpu/reduce_policies.hpp"
#include "etna/backend/cuda/evaluate.hpp"
#include "etna/backend/cuda/fwd_reduce.hpp"
#include "etna/backend/cuda/launch.hpp"
#include "etna/backend/cuda/memory.hpp"

namespace etna::cuda_backend {
namespace detail {

// Elements folded into one state before it joins the thread's running state: the rounding
// error of a long float sum then grows with kFoldBlock + n / kFoldBlock, not n.
inline constexpr std::int64_t kFoldBlock = 128;

// combine() for states that are not in element order (the block tree): equal extrema keep
// the smaller index, which is what the CPU's in-order combine yields (argmax's tie rule).
template <class P>
ETNA_HD typename P::state_type combine_any_order(const typename P::state_type& a,
                                                 const typename P::state_type& b) {
  if constexpr (P::indexed) {
    if (b.index < 0) return a;
    if (a.index < 0) return b;
    if (P::better(b.value, a.value)) return b;
    if (P::better(a.value, b.value)) return a;
    return b.index < a.index ? b : a;
  } else {
    return P::combine(a, b);
  }
}

// The reduced elements of each output, read through the bound expression. Element f of output
// k sits at kept coordinates decoded from k and reduced ones decoded from f, both row-major
// over their collapsed dimensions, so f is the index argmax reports (as on the CPU). Loops run
// over all kMaxDims with constant bounds so the coordinates stay in registers.
template <class P, class Ev, bool Flat>
struct ElementSource {
  using S = typename P::state_type;
  using Cursor = Pos<Flat>;
  Ev ev;
  int rank = 0;
  unsigned rmask = 0;  // bit d: collapsed dimension d is reduced
  int single = -1;     // the only reduced dimension, when there is exactly one
  std::int64_t shape[kMaxDims] = {};

  ETNA_HD Cursor start(std::int64_t k) const {
    Cursor p{0, {}};
    if constexpr (!Flat) {
      for (int d = kMaxDims - 1; d >= 0; --d) {
        p.c[d] = 0;
        if (d < rank && !(rmask >> d & 1u)) {
          p.c[d] = k % shape[d];
          k /= shape[d];
        }
      }
    }
    return p;
  }
  ETNA_HD S fold(S s, Cursor& p, std::int64_t f) const {
    if constexpr (Flat) {
      p.i = f;
    } else if (single >= 0) {
      for (int d = 0; d < kMaxDims; ++d)
        if (d == single) p.c[d] = f;
    } else {
      std::int64_t r = f;
      for (int d = kMaxDims - 1; d >= 0; --d)
        if (d < rank && (rmask >> d & 1u)) {
          p.c[d] = r % shape[d];
          r /= shape[d];
        }
    }
    const auto x = static_cast<typename P::input_type>(ev.scalar(p));
    if constexpr (P::indexed) return P::step(s, x, f);
    else return P::step(s, x);
  }
};

// Partial states of a first pass: chunk f of output k at partial[k * k_stride + f * f_stride].
template <class P>
struct PartialSource {
  using S = typename P::state_type;
  using Cursor = std::int64_t;
  const S* partial;
  std::int64_t k_stride, f_stride;
  ETNA_HD Cursor start(std::int64_t k) const { return k; }
  ETNA_HD S fold(S s, Cursor& k, std::int64_t f) const {
    return combine_any_order<P>(s, partial[k * k_stride + f * f_stride]);
  }
};

// Folds elements f0, f0 + step, ... < f1 in order, in blocks of kFoldBlock.
template <class P, class Src>
ETNA_HD typename P::state_type fold_range(const Src& src, typename Src::Cursor& cur,
                                          std::int64_t f0, std::int64_t f1, std::int64_t step) {
  using S = typename P::state_type;
  S total = P::identity();
  for (std::int64_t f = f0; f < f1;) {
    S block = P::identity();
    for (std::int64_t n = 0; n < kFoldBlock && f < f1; ++n, f += step) block = src.fold(block, cur, f);
    total = P::combine(total, block);
  }
  return total;
}

// One thread per (chunk c, output k), i = c * outputs + k: adjacent threads take adjacent
// outputs, so a reduction over leading dimensions reads memory coalesced.
template <class P, class Src>
struct ThreadReduce {
  Src src;
  std::int64_t outputs, count, chunks;
  typename P::state_type* partial;  // chunks > 1: [chunks, outputs] states
  typename P::output_type* out;     // chunks == 1: the results
  ETNA_HD void operator()(std::int64_t i) const {
    const std::int64_t k = i % outputs, c = i / outputs;
    auto cur = src.start(k);
    const auto s = fold_range<P>(src, cur, count * c / chunks, count * (c + 1) / chunks, 1);
    if (chunks == 1) out[k] = P::finish(s);
    else partial[i] = s;
  }
};

template <class O>
struct FillKernel {
  O* out;
  O value;
  ETNA_HD void operator()(std::int64_t i) const { out[i] = value; }
};

#if ETNA_CUDA_REAL
inline std::int64_t sm_count() {
  static const int sms = [] {
    int device = 0, n = 0;
    ETNA_CUDA_CHECK(cudaGetDevice(&device));
    ETNA_CUDA_CHECK(cudaDeviceGetAttribute(&n, cudaDevAttrMultiProcessorCount, device));
    return n;
  }();
  return sms;
}

// Block b = k * chunks + c reduces chunk c of output k: threads stride over the chunk, then a
// shared-memory tree (raw bytes: an index state has a non-trivial default constructor).
template <class P, class Src>
__global__ void __launch_bounds__(kBlock)
    block_reduce_kernel(Src src, std::int64_t count, std::int64_t chunks,
                        typename P::state_type* partial, typename P::output_type* out) {
  using S = typename P::state_type;
  __shared__ alignas(16) unsigned char raw[kBlock * sizeof(S)];
  S* sh = reinterpret_cast<S*>(raw);
  const std::int64_t b = blockIdx.x, k = b / chunks, c = b % chunks;
  const int t = threadIdx.x;
  auto cur = src.start(k);
  sh[t] = fold_range<P>(src, cur, count * c / chunks + t, count * (c + 1) / chunks, kBlock);
  __syncthreads();
  for (int w = kBlock / 2; w > 0; w >>= 1) {
    if (t < w) sh[t] = combine_any_order<P>(sh[t], sh[t + w]);
    __syncthreads();
  }
  if (t == 0) {
    if (chunks == 1) out[k] = P::finish(sh[0]);
    else partial[b] = sh[0];
  }
}

template <class P, class Src>
void launch_blocks(const Src& src, std::int64_t outputs, std::int64_t count, std::int64_t chunks,
                   typename P::state_type* partial, typename P::output_type* out) {
  block_reduce_kernel<P, Src>
      <<<static_cast<unsigned>(outputs * chunks), kBlock, 0, stream()>>>(src, count, chunks,
                                                                         partial, out);
  check_launch("block_reduce_kernel");
}

// Picks the kernel shape; a chunked first pass writes partial states that a second pass folds.
template <class P, class Src>
void run_reduction(const Src& src, std::int64_t outputs, std::int64_t count, bool inner_reduced,
                   typename P::output_type* out) {
  using S = typename P::state_type;
  const std::int64_t sms = sm_count();
  const bool blocks = inner_reduced && count >= 4 * kBlock;
  const std::int64_t chunks =
      blocks ? std::clamp<std::int64_t>(
                   std::min((count + 16 * kBlock - 1) / (16 * kBlock), (8 * sms + outputs - 1) / outputs),
                   1, 65536)
             : std::clamp<std::int64_t>(std::min((count + 63) / 64, (2048 * sms + outputs - 1) / outputs),
                                        1, 65536);
  std::shared_ptr<unsigned char> scratch;
  S* partial = nullptr;
  if (chunks > 1) {
    scratch = allocate<unsigned char>(outputs * chunks * static_cast<std::int64_t>(sizeof(S)));
    partial = reinterpret_cast<S*>(scratch.get());
  }
  if (blocks) launch_blocks<P>(src, outputs, count, chunks, partial, out);
  else for_each_index(outputs * chunks, ThreadReduce<P, Src>{src, outputs, count, chunks, partial, out});
  if (chunks == 1) return;
  // Block path: partial is [outputs, chunks]; thread path: [chunks, outputs].
  const PartialSource<P> second{partial, blocks ? chunks : 1, blocks ? 1 : outputs};
  if (chunks >= 4 * kBlock && outputs < 64 * sms)
    launch_blocks<P>(second, outputs, chunks, 1, nullptr, out);
  else
    for_each_index(outputs, ThreadReduce<P, PartialSource<P>>{second, outputs, chunks, 1, nullptr, out});
}
#else
// Emulation: each output folds blocks of 1024 elements in order and combines the blocks
// pairwise, as the CPU kernels do.
template <class P, class Src>
void run_reduction(const Src& src, std::int64_t outputs, std::int64_t count, bool,
                   typename P::output_type* out) {
  using S = typename P::state_type;
  const auto combine = [](const S& a, const S& b) { return P::combine(a, b); };
  for (std::int64_t k = 0; k < outputs; ++k) {
    cpu_backend::Cascade<S, decltype(combine)> cascade(combine);
    auto cur = src.start(k);
    for (std::int64_t f = 0; f < count; f += 1024)
      cascade.push(fold_range<P>(src, cur, f, std::min(count, f + 1024), 1));
    out[k] = P::finish(cascade.result(P::identity()));
  }
}
#endif

// ---- the row rules of the reductions' backward (autograd/ops/reduce.hpp) --------------------
template <class T>
ETNA_HD bool same_value(T a, T b) {
  return a == b || (math::isnan(a) && math::isnan(b));
}

// One thread per row of n elements; the rules are the CPU's row_backward.
template <class T>
struct RowBackward {
  int rule;
  const T *x, *y, *g;
  T* out;
  std::int64_t n;
  ETNA_HD void operator()(std::int64_t k) const {
    const T* xr = x + k * n;
    T* o = out + k * n;
    const T gk = g[k], yk = y[k];
    if (rule == 0) {  // product of the others: prefix products, then suffix products
      T acc = T(1);
      for (std::int64_t i = 0; i < n; ++i) {
        o[i] = acc;
        acc *= xr[i];
      }
      acc = gk;
      for (std::int64_t i = n - 1; i >= 0; --i) {
        o[i] *= acc;
        acc *= xr[i];
      }
    } else if (rule == 1) {  // all to the first extreme
      bool found = false;
      for (std::int64_t i = 0; i < n; ++i) {
        const bool hit = !found && same_value(xr[i], yk);
        o[i] = hit ? gk : T(0);
        found = found || hit;
      }
    } else {  // shared among ties (of |x| for rule 3, times sign(x))
      const bool use_abs = rule == 3;
      std::int64_t ties = 0;
      for (std::int64_t i = 0; i < n; ++i) ties += same_value(use_abs ? math::abs(xr[i]) : xr[i], yk);
      const T share = gk / static_cast<T>(ties > 1 ? ties : 1);
      for (std::int64_t i = 0; i < n; ++i) {
        const bool hit = same_value(use_abs ? math::abs(xr[i]) : xr[i], yk);
        const T sign = use_abs ? static_cast<T>((xr[i] > 0) - (xr[i] < 0)) : T(1);
        o[i] = hit ? share * sign : T(0);
      }
    }
  }
};

}  // namespace detail

template <class P, class E>
void reduce(const E& e, const std::vector<bool>& reduced, typename P::output_type* out) {
  const Shape& shape = e.shape();
  std::int64_t outputs = 1, count = 1;
  for (int d = 0; d < shape.size(); ++d) (reduced[d] ? count : outputs) *= shape[d];
  if (outputs == 0) return;
  require_device();
  if (count == 0) {
    for_each_index(outputs, detail::FillKernel<typename P::output_type>{out, P::finish(P::identity())});
    return;
  }
  // The output is laid out over the kept dimensions only (stride 0 on reduced ones), so
  // collapsing never merges a kept with a reduced dimension (as on the CPU).
  Shape out_strides(shape.size(), 0);
  std::int64_t s = 1;
  for (int d = shape.size() - 1; d >= 0; --d)
    if (!reduced[d]) {
      out_strides[d] = s;
      s *= shape[d];
    }
  const auto b = bind(e, shape, out_strides);
  const int rank = b.space.rank;
  unsigned rmask = 0;
  int nr = 0, single = -1;
  for (int d = 0; d < rank; ++d)
    if (b.space.out_strides[d] == 0) {
      rmask |= 1u << d;
      ++nr;
      single = d;
    }
  const bool inner_reduced = rank == 0 || (rmask >> (rank - 1) & 1u);
  if (rank == 0 || (rank == 1 && rmask == 1u)) {  // a full reduction of a flat space
    const detail::ElementSource<P, DeviceEvaluator<E>, true> src{b.ev, rank, rmask, 0, {}};
    detail::run_reduction<P>(src, outputs, count, true, out);
    return;
  }
  detail::ElementSource<P, DeviceEvaluator<E>, false> src{b.ev, rank, rmask, nr == 1 ? single : -1, {}};
  for (int d = 0; d < rank; ++d) src.shape[d] = b.space.shape[d];
  detail::run_reduction<P>(src, outputs, count, inner_reduced, out);
}

template <class T>
void row_backward(int rule, const T* x, const T* y, const T* g, T* out, std::int64_t outputs,
                  std::int64_t n) {
  if (outputs * n == 0) return;
  require_device();
  for_each_index(outputs, detail::RowBackward<T>{rule, x, y, g, out, n});
}

}  // namespace etna::cuda_backend
