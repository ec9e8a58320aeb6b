// Row kernels of the CPU reductions: fold one bound evaluator row into a single state (SIMD
// blocks combined pairwise) or into a row of states (SIMD across the kept inner dimension).
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <type_traits>
#include <vector>

#include <xsimd/xsimd.hpp>

#include "etna/backend/cpu/evaluate.hpp"
#include "etna/backend/cpu/reduce_policies.hpp"

namespace etna::cpu_backend::detail {

// Elements per SIMD block: each lane of the four accumulators adds at most
// kReduceBlock / (4 * lanes) values before the block joins the pairwise cascade.
inline constexpr std::int64_t kReduceBlock = 1024;
// Rows folded one after another into a row of states before that row joins the cascade.
inline constexpr std::int64_t kReduceRowBlock = 32;

// A policy runs on SIMD batches when the bound expression does and their types agree.
template <class P, class E>
inline constexpr bool reduce_simd =
    P::vectorized && simd_eligible<E> &&
    std::is_same_v<typename simd_type<E>::type, typename P::input_type>;

template <class P>
auto state_combiner() {
  return [](const typename P::state_type& a, const typename P::state_type& b) {
    return P::combine(a, b);
  };
}

// argmax/argmin of elements [j0, j1) of the current row; `base` is the reduced index of j = 0.
// SIMD: find each block's extreme with the value policy, and only when it beats the best so
// far scan that (cache-resident) block again for its first position. A NaN ends the search.
template <class P, class E, bool Contiguous>
typename P::state_type reduce_row_indexed(const Evaluator<E>& ev, std::int64_t j0,
                                          std::int64_t j1, std::int64_t base) {
  using T = typename P::input_type;
  typename P::state_type best = P::identity();
  std::int64_t j = j0;
  if constexpr (reduce_simd<typename P::extreme, E>) {
    using X = typename P::extreme;
    using B = xsimd::batch<T>;
    constexpr std::int64_t W = B::size;
    while (j + W <= j1) {
      const std::int64_t start = j, end = j + std::min(kReduceBlock, (j1 - j) / W * W);
      B m0(X::identity()), m1 = m0, m2 = m0, m3 = m0;  // independent chains, as in reduce_row
      for (; j + 4 * W <= end; j += 4 * W) {
        m0 = X::batch_step(m0, ev.template batch<B, Contiguous>(j));
        m1 = X::batch_step(m1, ev.template batch<B, Contiguous>(j + W));
        m2 = X::batch_step(m2, ev.template batch<B, Contiguous>(j + 2 * W));
        m3 = X::batch_step(m3, ev.template batch<B, Contiguous>(j + 3 * W));
      }
      for (; j < end; j += W) m0 = X::batch_step(m0, ev.template batch<B, Contiguous>(j));
      const T block_best =
          horizontal<X>(X::batch_step(X::batch_step(m0, m1), X::batch_step(m2, m3)));
      if (best.index >= 0 && !P::better(block_best, best.value)) continue;
      // The scan evaluates batches exactly as above, so the extreme is found bit for bit.
      for (std::int64_t i = start; i < end; i += W) {
        alignas(64) T lanes[W];
        ev.template batch<B, Contiguous>(i).store_aligned(lanes);
        const auto hit = std::find_if(lanes, lanes + W, [&](T x) {
          return detail::is_nan(block_best) ? detail::is_nan(x) : x == block_best;
        });
        if (hit != lanes + W) {
          best = {*hit, base + i + (hit - lanes)};
          break;
        }
      }
      if (best.index >= 0 && detail::is_nan(best.value)) return best;
    }
  }
  for (; j < j1; ++j) best = P::step(best, ev.scalar(j), base + j);
  return best;
}

// Reduces elements [j0, j1) of the current row to one state.
template <class P, class E, bool Contiguous>
typename P::state_type reduce_row(const Evaluator<E>& ev, std::int64_t j0, std::int64_t j1,
                                  std::int64_t base) {
  using S = typename P::state_type;
  if constexpr (P::indexed) {
    return reduce_row_indexed<P, E, Contiguous>(ev, j0, j1, base);
  } else if constexpr (reduce_simd<P, E>) {
    using B = xsimd::batch<S>;
    constexpr std::int64_t W = B::size;
    std::int64_t j = j0;
    S s = P::identity();
    if (j1 - j0 >= W) {
      const B id(P::identity());
      auto combine = [](const B& a, const B& b) { return P::batch_step(a, b); };
      Cascade<B, decltype(combine)> cascade(combine);
      while (j + W <= j1) {
        const std::int64_t end = std::min(j1, j + kReduceBlock);
        // Four independent accumulators hide the add latency.
        B a0 = id, a1 = id, a2 = id, a3 = id;
        for (; j + 4 * W <= end; j += 4 * W) {
          a0 = P::batch_step(a0, ev.template batch<B, Contiguous>(j));
          a1 = P::batch_step(a1, ev.template batch<B, Contiguous>(j + W));
          a2 = P::batch_step(a2, ev.template batch<B, Contiguous>(j + 2 * W));
          a3 = P::batch_step(a3, ev.template batch<B, Contiguous>(j + 3 * W));
        }
        for (; j + W <= end; j += W) a0 = P::batch_step(a0, ev.template batch<B, Contiguous>(j));
        cascade.push(P::batch_step(P::batch_step(a0, a1), P::batch_step(a2, a3)));
      }
      s = horizontal<P>(cascade.result(id));
    }
    for (; j < j1; ++j) s = P::step(s, ev.scalar(j));
    return s;
  } else {
    Cascade<S, decltype(state_combiner<P>())> cascade(state_combiner<P>());
    for (std::int64_t j = j0; j < j1;) {
      const std::int64_t end = std::min(j1, j + kReduceBlock);
      S s = P::identity();
      for (; j < end; ++j) s = P::step(s, ev.scalar(j));
      cascade.push(s);
    }
    return cascade.result(P::identity());
  }
}

// acc[c - c0] = step(acc[c - c0], row[c]) for c in [c0, c1): one row of a reduction over an
// outer dimension, vectorised across the kept inner dimension instead of gathering columns.
template <class P, class E, bool Contiguous>
void accumulate_row(const Evaluator<E>& ev, std::int64_t c0, std::int64_t c1,
                    typename P::state_type* acc, std::int64_t index) {
  using S = typename P::state_type;
  std::int64_t c = c0;
  if constexpr (!P::indexed && reduce_simd<P, E>) {
    using B = xsimd::batch<S>;
    constexpr std::int64_t W = B::size;
    for (; c + W <= c1; c += W) {
      S* a = acc + (c - c0);
      P::batch_step(B::load_unaligned(a), ev.template batch<B, Contiguous>(c)).store_unaligned(a);
    }
  }
  for (; c < c1; ++c) {
    if constexpr (P::indexed) acc[c - c0] = P::step(acc[c - c0], ev.scalar(c), index);
    else acc[c - c0] = P::step(acc[c - c0], ev.scalar(c));
  }
}

// The same for four consecutive rows (evaluators bound to rows index .. index + 3): each
// batch of states is loaded and stored once per four rows, and four streams are in flight.
template <class P, class E, bool Contiguous>
void accumulate_rows4(const Evaluator<E>* ev, std::int64_t c0, std::int64_t c1,
                      typename P::state_type* acc, std::int64_t index) {
  if constexpr (!P::indexed && reduce_simd<P, E>) {
    using S = typename P::state_type;
    using B = xsimd::batch<S>;
    constexpr std::int64_t W = B::size;
    std::int64_t c = c0;
    for (; c + W <= c1; c += W) {
      S* a = acc + (c - c0);
      B v = B::load_unaligned(a);
      v = P::batch_step(v, ev[0].template batch<B, Contiguous>(c));
      v = P::batch_step(v, ev[1].template batch<B, Contiguous>(c));
      v = P::batch_step(v, ev[2].template batch<B, Contiguous>(c));
      v = P::batch_step(v, ev[3].template batch<B, Contiguous>(c));
      v.store_unaligned(a);
    }
    for (int i = 0; i < 4; ++i)
      for (std::int64_t t = c; t < c1; ++t) acc[t - c0] = P::step(acc[t - c0], ev[i].scalar(t));
  } else {
    for (int i = 0; i < 4; ++i) accumulate_row<P, E, Contiguous>(ev[i], c0, c1, acc, index + i);
  }
}

// A buffer of n states initialised to the identity. (Not std::vector: vector<bool> packs bits,
// and threads write neighbouring bool states.)
template <class P>
std::unique_ptr<typename P::state_type[]> identity_states(std::int64_t n) {
  auto buf = std::make_unique<typename P::state_type[]>(static_cast<std::size_t>(n));
  std::fill_n(buf.get(), n, P::identity());
  return buf;
}

// Cascade over rows of states: blocks of rows are combined pairwise, element by element.
template <class P>
class RowCascade {
  using S = typename P::state_type;

 public:
  explicit RowCascade(std::int64_t width) : width_(width) {}

  // Merges `row` (used as scratch) into the cascade.
  void push(S* row) {
    std::size_t level = 0;
    for (; level < used_.size() && used_[level]; ++level) {
      const S* slot = slots_[level].get();
      for (std::int64_t i = 0; i < width_; ++i) row[i] = P::combine(slot[i], row[i]);
      used_[level] = false;
    }
    if (level == slots_.size()) {
      slots_.push_back(std::make_unique<S[]>(static_cast<std::size_t>(width_)));
      used_.push_back(false);
    }
    std::copy_n(row, width_, slots_[level].get());
    used_[level] = true;
  }

  // Writes the combination of everything pushed (identity if nothing) into dst.
  void result(S* dst) const {
    std::fill_n(dst, width_, P::identity());
    for (std::size_t level = slots_.size(); level-- > 0;) {
      if (!used_[level]) continue;
      const S* slot = slots_[level].get();
      for (std::int64_t i = 0; i < width_; ++i) dst[i] = P::combine(dst[i], slot[i]);
    }
  }

 private:
  std::int64_t width_;
  std::vector<std::unique_ptr<S[]>> slots_;
  std::vector<char> used_;
};

}  // namespace etna::cpu_backend::detail
