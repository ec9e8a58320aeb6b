// The CPU reduction driver: binds a tensor or expression once (no materialisation), collapses
// its dimensions into kept and reduced groups, and runs the row kernels over them in parallel.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <vector>

#include "etna/backend/cpu/evaluate.hpp"
#include "etna/backend/cpu/reduce_policies.hpp"
#include "etna/backend/cpu/reduce_rows.hpp"
#include "etna/backend/cpu/thread_pool.hpp"
#include "etna/core/shape.hpp"

namespace etna::cpu_backend {

// Minimum elements read per thread before a reduction is split across threads.
inline constexpr std::int64_t kReduceGrain = 1 << 15;

namespace detail {

// Columns of a reduction over an outer dimension handled together: the row of states stays
// in L1 while the rows stream past it.
inline constexpr std::int64_t kReduceTile = 2048;

// The iteration space after collapsing: the leading dimensions split into kept ones (one
// output each) and reduced ones, and the last (inner) dimension, itself kept or reduced.
struct ReduceSpace {
  Shape shape;
  std::vector<int> kept, reduced;  // positions of leading dimensions in `shape`
  std::int64_t outputs = 1;        // product of the kept leading extents
  std::int64_t rows = 1;           // product of the reduced leading extents
  std::int64_t inner = 1;          // extent of the inner dimension
  bool inner_reduced = true;
  bool contiguous = false;  // every leaf has unit stride along the inner dimension

  // Points the evaluator at row (k, r): kept combination k and reduced combination r, each
  // decoded row-major over its own dimensions.
  template <class Ev>
  void seek(Ev& ev, std::int64_t k, std::int64_t r, Shape& idx) const {
    for (int i = static_cast<int>(kept.size()) - 1; i >= 0; --i) {
      idx[kept[i]] = k % shape[kept[i]];
      k /= shape[kept[i]];
    }
    for (int i = static_cast<int>(reduced.size()) - 1; i >= 0; --i) {
      idx[reduced[i]] = r % shape[reduced[i]];
      r /= shape[reduced[i]];
    }
    ev.seek(idx.data(), shape.size());
  }
  Shape index_buffer() const { return Shape(std::max(shape.size() - 1, 0), 0); }
};

// Collapses the evaluator's strides. The output is laid out over the kept dimensions only
// (stride 0 on reduced ones), so collapse_dims never merges a kept with a reduced dimension.
// Precondition: no extent is 0.
template <class E>
ReduceSpace plan_reduction(Evaluator<E>& ev, const Shape& in_shape,
                           const std::vector<bool>& reduced) {
  StrideList strides;
  ev.collect(strides);
  const std::size_t leaves = strides.size();
  Shape out_strides(in_shape.size(), 0);
  std::int64_t s = 1;
  for (int d = in_shape.size() - 1; d >= 0; --d)
    if (!reduced[d]) {
      out_strides[d] = s;
      s *= in_shape[d];
    }
  strides.push_back(&out_strides);
  ReduceSpace sp;
  sp.shape = in_shape;
  collapse_dims(sp.shape, strides);
  const int rank = sp.shape.size();
  if (rank == 0) return sp;
  sp.inner = sp.shape[rank - 1];
  sp.inner_reduced = out_strides[rank - 1] == 0;
  for (int d = 0; d + 1 < rank; ++d) {
    if (out_strides[d] == 0) {
      sp.reduced.push_back(d);
      sp.rows *= sp.shape[d];
    } else {
      sp.kept.push_back(d);
      sp.outputs *= sp.shape[d];
    }
  }
  sp.contiguous = true;
  for (std::size_t k = 0; k < leaves; ++k)
    if ((*strides[k])[rank - 1] != 1) sp.contiguous = false;
  return sp;
}

// Reduces the flat range [f0, f1) of output k's reduced elements (rows * inner, row-major).
template <class P, class E, bool Contiguous>
typename P::state_type reduce_span(Evaluator<E>& ev, const ReduceSpace& sp, std::int64_t k,
                                   std::int64_t f0, std::int64_t f1) {
  Shape idx = sp.index_buffer();
  Cascade<typename P::state_type, decltype(state_combiner<P>())> cascade(state_combiner<P>());
  std::int64_t r = f0 / sp.inner, j = f0 % sp.inner;
  for (std::int64_t f = f0; f < f1; ++r, j = 0) {
    sp.seek(ev, k, r, idx);
    const std::int64_t end = std::min(sp.inner, j + (f1 - f));
    cascade.push(reduce_row<P, E, Contiguous>(ev, j, end, r * sp.inner));
    f += end - j;
  }
  return cascade.result(P::identity());
}

// Folds rows [r0, r1) of output k, columns [c0, c1), into dst (c1 - c0 states).
template <class P, class E, bool Contiguous>
void reduce_columns(Evaluator<E>& ev, const ReduceSpace& sp, std::int64_t k, std::int64_t c0,
                    std::int64_t c1, std::int64_t r0, std::int64_t r1,
                    typename P::state_type* dst) {
  const std::int64_t width = c1 - c0;
  Shape idx = sp.index_buffer();
  auto block = identity_states<P>(width);
  RowCascade<P> cascade(width);
  std::array<Evaluator<E>, 4> four{ev, ev, ev, ev};
  for (std::int64_t r = r0; r < r1;) {
    const std::int64_t end = std::min(r1, r + kReduceRowBlock);
    for (; r + 4 <= end; r += 4) {
      for (int i = 0; i < 4; ++i) sp.seek(four[i], k, r + i, idx);
      accumulate_rows4<P, E, Contiguous>(four.data(), c0, c1, block.get(), r);
    }
    for (; r < end; ++r) {
      sp.seek(ev, k, r, idx);
      accumulate_row<P, E, Contiguous>(ev, c0, c1, block.get(), r);
    }
    cascade.push(block.get());
    std::fill_n(block.get(), width, P::identity());
  }
  cascade.result(dst);
}

// Every output reduces a run of whole rows along the inner dimension.
template <class P, class E, bool Contiguous>
void reduce_inner(Evaluator<E>& ev, const ReduceSpace& sp, typename P::output_type* out) {
  using S = typename P::state_type;
  const int threads = get_num_threads();
  const std::int64_t per_out = sp.rows * sp.inner;
  if (sp.outputs >= 4 * threads || per_out < 2 * kReduceGrain) {
    const std::int64_t grain = std::max<std::int64_t>(1, kReduceGrain / per_out);
    parallel_for(0, sp.outputs, grain, [&](std::int64_t k0, std::int64_t k1) {
      Evaluator<E> local = ev;
      for (std::int64_t k = k0; k < k1; ++k)
        out[k] = P::finish(reduce_span<P, E, Contiguous>(local, sp, k, 0, per_out));
    });
    return;
  }
  // Few long outputs (a full reduction above all): split each one and combine the partials.
  const std::int64_t chunks = std::clamp<std::int64_t>(per_out / kReduceGrain, 1, threads);
  auto partial = identity_states<P>(chunks);
  for (std::int64_t k = 0; k < sp.outputs; ++k) {
    parallel_for(0, chunks, 1, [&](std::int64_t c0, std::int64_t c1) {
      Evaluator<E> local = ev;
      for (std::int64_t c = c0; c < c1; ++c)
        partial[c] = reduce_span<P, E, Contiguous>(local, sp, k, per_out * c / chunks,
                                                   per_out * (c + 1) / chunks);
    });
    S s = partial[0];
    for (std::int64_t c = 1; c < chunks; ++c) s = P::combine(s, partial[c]);
    out[k] = P::finish(s);
  }
}

// Every output row accumulates rows of the reduced dimensions across the kept inner one.
template <class P, class E, bool Contiguous>
void reduce_outer(Evaluator<E>& ev, const ReduceSpace& sp, typename P::output_type* out) {
  const int threads = get_num_threads();
  const std::int64_t n = sp.inner, tiles = (n + kReduceTile - 1) / kReduceTile;
  const std::int64_t items = sp.outputs * tiles, per_item = sp.rows * std::min(n, kReduceTile);
  if (items >= 4 * threads || per_item * items < 2 * kReduceGrain) {
    const std::int64_t grain = std::max<std::int64_t>(1, kReduceGrain / per_item);
    parallel_for(0, items, grain, [&](std::int64_t i0, std::int64_t i1) {
      Evaluator<E> local = ev;
      auto states = identity_states<P>(std::min(n, kReduceTile));
      for (std::int64_t i = i0; i < i1; ++i) {
        const std::int64_t k = i / tiles, c0 = i % tiles * kReduceTile;
        const std::int64_t c1 = std::min(n, c0 + kReduceTile);
        reduce_columns<P, E, Contiguous>(local, sp, k, c0, c1, 0, sp.rows, states.get());
        for (std::int64_t c = c0; c < c1; ++c) out[k * n + c] = P::finish(states[c - c0]);
      }
    });
    return;
  }
  // Few columns, many rows: split the rows, then combine each chunk's row of partials.
  const std::int64_t width = sp.outputs * n;
  const std::int64_t chunks =
      std::clamp<std::int64_t>(sp.rows * width / kReduceGrain, 1, std::min<std::int64_t>(threads, sp.rows));
  auto partial = identity_states<P>(chunks * width);
  parallel_for(0, chunks, 1, [&](std::int64_t ch0, std::int64_t ch1) {
    Evaluator<E> local = ev;
    for (std::int64_t ch = ch0; ch < ch1; ++ch)
      for (std::int64_t k = 0; k < sp.outputs; ++k)
        for (std::int64_t c0 = 0; c0 < n; c0 += kReduceTile)
          reduce_columns<P, E, Contiguous>(local, sp, k, c0, std::min(n, c0 + kReduceTile),
                                           sp.rows * ch / chunks, sp.rows * (ch + 1) / chunks,
                                           partial.get() + ch * width + k * n + c0);
  });
  for (std::int64_t i = 0; i < width; ++i) {
    auto s = partial[i];
    for (std::int64_t ch = 1; ch < chunks; ++ch) s = P::combine(s, partial[ch * width + i]);
    out[i] = P::finish(s);
  }
}

}  // namespace detail

// Reduces expression e over the dimensions marked in `reduced` (one flag per dimension of
// e.shape()) with policy P, writing one output per combination of the kept dimensions,
// contiguous and in their order. An expression is evaluated inside the reduction's loops.
template <class P, class E>
void reduce(const E& e, const std::vector<bool>& reduced, typename P::output_type* out) {
  const Shape& shape = e.shape();
  std::int64_t outputs = 1, count = 1;
  for (int d = 0; d < shape.size(); ++d) (reduced[d] ? count : outputs) *= shape[d];
  if (outputs == 0) return;
  if (count == 0) {
    std::fill_n(out, outputs, P::finish(P::identity()));
    return;
  }
  Evaluator<E> ev(e, shape);
  const detail::ReduceSpace sp = detail::plan_reduction(ev, shape, reduced);
  if (sp.inner_reduced) {
    if (sp.contiguous) detail::reduce_inner<P, E, true>(ev, sp, out);
    else detail::reduce_inner<P, E, false>(ev, sp, out);
  } else {
    if (sp.contiguous) detail::reduce_outer<P, E, true>(ev, sp, out);
    else detail::reduce_outer<P, E, false>(ev, sp, out);
  }
}

}  // namespace etna::cpu_backend
