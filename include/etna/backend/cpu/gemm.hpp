// Public CPU GEMM of etna: C = alpha*A*B + beta*C on arbitrarily strided operands.
// Owns the GotoBLAS/BLIS blocking loops, per-thread packing buffers and the 2-thread split.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <new>
#include <type_traits>
#include <utility>

#include "etna/backend/cpu/gemm_kernel.hpp"
#include "etna/backend/cpu/gemm_pack.hpp"
#include "etna/backend/cpu/gemm_reference.hpp"
#include "etna/backend/cpu/gemm_small.hpp"
#include "etna/backend/cpu/thread_pool.hpp"

namespace etna::cpu_backend {
namespace gemm_detail {

inline std::int64_t ceil_div(std::int64_t a, std::int64_t b) { return (a + b - 1) / b; }
inline std::int64_t round_up(std::int64_t a, std::int64_t b) { return ceil_div(a, b) * b; }

// A 64-byte aligned buffer that only grows, so steady-state calls do not allocate.
template <class T>
class PackBuffer {
 public:
  PackBuffer() = default;
  PackBuffer(const PackBuffer&) = delete;
  PackBuffer& operator=(const PackBuffer&) = delete;
  ~PackBuffer() { std::free(data_); }

  T* get(std::int64_t n) {
    if (n > size_) {
      std::free(data_);
      data_ = nullptr;
      const auto bytes = static_cast<std::size_t>(round_up(n * std::int64_t{sizeof(T)}, 64));
      data_ = static_cast<T*>(std::aligned_alloc(64, bytes));
      if (data_ == nullptr) {
        size_ = 0;
        throw std::bad_alloc();
      }
      size_ = n;
    }
    return data_;
  }

 private:
  T* data_ = nullptr;
  std::int64_t size_ = 0;
};

// One pair of buffers per thread: pool workers are persistent, so they keep theirs.
template <class T>
struct PackBuffers {
  PackBuffer<T> a, b;
  static PackBuffers& local() {
    static thread_local PackBuffers buffers;
    return buffers;
  }
};

struct Blocking {
  std::int64_t mc, kc, nc;
};

template <class T>
constexpr Blocking default_blocking() {
  return {GemmConfig<T>::MC, GemmConfig<T>::KC, GemmConfig<T>::NC};
}

// Serial blocked GEMM (M, N, K > 0). Block sizes are evened out over each dimension so no
// block is a thin remainder, e.g. K = 784 runs as 4 x 196 instead of 3 x 256 + 16.
template <class T>
void gemm_blocked(std::int64_t M, std::int64_t N, std::int64_t K, T alpha, const T* A,
                  std::int64_t rsA, std::int64_t csA, const T* B, std::int64_t rsB,
                  std::int64_t csB, T beta, T* C, std::int64_t rsC, std::int64_t csC,
                  Blocking blk = default_blocking<T>()) {
  using Cfg = GemmConfig<T>;
  constexpr int MR = Cfg::MR, NR = Cfg::NR;
  const std::int64_t kc_max = std::min(K, round_up(ceil_div(K, ceil_div(K, blk.kc)), 8));
  const std::int64_t mc_max = round_up(ceil_div(M, ceil_div(M, blk.mc)), MR);
  const std::int64_t nc_max = round_up(ceil_div(N, ceil_div(N, blk.nc)), NR);
  auto& buffers = PackBuffers<T>::local();
  // Slack: the transposing pack may store up to one vector past a panel's end.
  constexpr std::int64_t kSlack = 64;
  T* const bp = buffers.b.get(kc_max * nc_max + kSlack);
  T* const ap = buffers.a.get(mc_max * kc_max + kSlack);

  for (std::int64_t jc = 0; jc < N; jc += nc_max) {
    const std::int64_t nc = std::min(nc_max, N - jc);
    for (std::int64_t pc = 0; pc < K; pc += kc_max) {
      const std::int64_t kc = std::min(kc_max, K - pc);
      const T beta_k = pc == 0 ? beta : T(1);  // later K blocks accumulate onto C
      pack_block<NR>(nc, kc, B + pc * rsB + jc * csB, csB, rsB, bp);
      for (std::int64_t ic = 0; ic < M; ic += mc_max) {
        const std::int64_t mc = std::min(mc_max, M - ic);
        pack_block<MR>(mc, kc, A + ic * rsA + pc * csA, rsA, csA, ap);
        for (std::int64_t jr = 0; jr < nc; jr += NR) {
          const int n = static_cast<int>(std::min<std::int64_t>(NR, nc - jr));
          for (std::int64_t ir = 0; ir < mc; ir += MR) {
            const int m = static_cast<int>(std::min<std::int64_t>(MR, mc - ir));
            micro_kernel<T, MR, Cfg::NV>(kc, ap + ir * kc, bp + jr * kc, alpha, beta_k,
                                         C + (ic + ir) * rsC + (jc + jr) * csC, rsC, csC, m, n);
          }
        }
      }
    }
  }
}

// C = beta * C for the degenerate cases (K == 0 or alpha == 0); beta == 0 writes zeros.
template <class T>
void scale_c(std::int64_t M, std::int64_t N, T beta, T* C, std::int64_t rsC, std::int64_t csC) {
  for (std::int64_t i = 0; i < M; ++i) {
    for (std::int64_t j = 0; j < N; ++j) {
      T& c = C[i * rsC + j * csC];
      c = beta == T(0) ? T(0) : beta * c;
    }
  }
}

// Fraction of a padded tile grid that holds real work.
inline double tile_use(std::int64_t M, std::int64_t N, int mr, int nr) {
  return static_cast<double>(M * N) / static_cast<double>(round_up(M, mr) * round_up(N, nr));
}

// Largest packed B (elements) the small path's fallback copies, and the fewest rows of C for
// which that beats the dot-product path.
inline constexpr std::int64_t kSmallPackB = std::int64_t{1} << 16;
inline constexpr std::int64_t kPackBMinRows = 8;

// Small problems (M*N*K <= kSmallMaxMacs) whose layout suits a path of gemm_small.hpp run
// there; returns false (nothing done) otherwise. M, N, K > 0.
template <class T>
bool gemm_small(std::int64_t M, std::int64_t N, std::int64_t K, T alpha, const T* A,
                std::int64_t rsA, std::int64_t csA, const T* B, std::int64_t rsB, std::int64_t csB,
                T beta, T* C, std::int64_t rsC, std::int64_t csC) {
  using Cfg = GemmConfig<T>;
  constexpr int W = Cfg::W;
  // Direct path: rows of B (or, for C^T = B^T A^T, columns of A) contiguous. It pads only
  // the last column tile, so it needs N to fill its NR-wide tiles reasonably.
  const bool direct = csB == 1 && tile_use(1, N, 1, Cfg::NR) >= 0.5;
  const bool direct_swapped = rsA == 1 && tile_use(1, M, 1, Cfg::NR) >= 0.5;
  if (direct || direct_swapped) {
    // Both fit: keep C's contiguous dimension along the kernel's vectors, else fill tiles best.
    const bool swap = !direct || (direct_swapped && ((rsC == 1 && csC != 1) ||
                                                     (csC != 1 && rsC != 1 && M > N)));
    if (swap) {
      std::swap(M, N);
      std::swap(A, B);
      std::swap(rsA, csB);
      std::swap(csA, rsB);
      std::swap(rsC, csC);
    }
    auto& buffers = PackBuffers<T>::local();
    constexpr std::int64_t kSlack = 64;
    T* const ap = buffers.a.get(round_up(M, Cfg::MR) * K + kSlack);
    T* const bp = buffers.b.get(K * Cfg::NR + kSlack);
    gemm_small_direct(M, N, K, alpha, A, rsA, csA, B, rsB, beta, C, rsC, csC, ap, bp);
    return true;
  }
  // B small enough to be packed by the fallback below.
  const bool pack_b = K * round_up(N, Cfg::NR) <= kSmallPackB;
  // Dot-product path: A rows and B columns contiguous along k (X * W^T). Its horizontal
  // reductions cost as much as the multiply-adds at K = 64, so with enough rows to amortise
  // packing B (and columns to fill the direct path's tiles) the fallback below is faster:
  // 32x64x64 X * W^T 2.4 -> 1.4 us.
  const bool dot_better = !pack_b || M < kPackBMinRows || tile_use(1, N, 1, Cfg::NR) < 0.5;
  if (csA == 1 && rsB == 1 && K >= 2 * W && dot_better) {
    gemm_small_dot(M, N, K, alpha, A, rsA, B, csB, beta, C, rsC, csC);
    return true;
  }
  // Any other layout (e.g. X * W^T with K = 2, the first layer of a small MLP, which the dot
  // path cannot vectorise): B, at most K * N <= 2^16 elements here, is packed into zero-padded
  // NR-column panels and the direct path runs on them, instead of the blocked path packing
  // both operands into 14 x 32 tiles.
  if (pack_b) {
    auto& buffers = PackBuffers<T>::local();
    constexpr std::int64_t kSlack = 64;
    T* const ap = buffers.a.get(round_up(M, Cfg::MR) * K + kSlack);
    T* const bp = buffers.b.get(K * round_up(N, Cfg::NR) + kSlack);
    pack_block<Cfg::NR>(N, K, B, csB, rsB, bp);
    gemm_small_direct(M, N, K, alpha, A, rsA, csA, bp, Cfg::NR, beta, C, rsC, csC, ap,
                      static_cast<T*>(nullptr), true);
    return true;
  }
  return false;
}

// Below this many multiply-adds (128^3) a second thread does not pay. The pool's workers spin
// 50 us before sleeping, so back-to-back calls wake them cheaply; measured with
// bench/gemm_bench.cpp on the 2-vCPU VM at load ~1, 2 threads cut most batch-64 MLP layers
// (64x256x256, 64x784x256) and 128^3 by 1.3-1.8x against one thread. With the other core
// busy (other processes) a split can lose, since the slower half gates the call; these
// figures are noisy, re-measure on a quiet machine.
inline constexpr std::int64_t kParallelMinMacs = std::int64_t{1} << 21;

}  // namespace gemm_detail

// C[i*rsC + j*csC] = alpha * sum_k A(i,k) * B(k,j) + beta * C(i,j), with
// A(i,k) = A[i*rsA + k*csA], B(k,j) = B[k*rsB + j*csB]. Arbitrary (non-negative) strides, so
// transposed operands need no copy (packing absorbs the layout). beta == 0 means C is not read
// (it may hold NaN). M, N or K may be 0 (K == 0: C = beta*C).
template <class T>
void gemm(std::int64_t M, std::int64_t N, std::int64_t K, T alpha, const T* A, std::int64_t rsA,
          std::int64_t csA, const T* B, std::int64_t rsB, std::int64_t csB, T beta, T* C,
          std::int64_t rsC, std::int64_t csC) {
  using namespace gemm_detail;
  if (M <= 0 || N <= 0) return;
  if (K <= 0 || alpha == T(0)) {
    scale_c(M, N, beta, C, rsC, csC);
    return;
  }
  if constexpr (!std::is_same_v<T, float> && !std::is_same_v<T, double>) {
    gemm_reference(M, N, K, alpha, A, rsA, csA, B, rsB, csB, beta, C, rsC, csC);
  } else {
    using Cfg = GemmConfig<T>;
    if (M * N * K <= kSmallMaxMacs &&
        gemm_small(M, N, K, alpha, A, rsA, csA, B, rsB, csB, beta, C, rsC, csC))
      return;
    // C^T = B^T A^T is the same GEMM with the operands' roles swapped. Take it when C is
    // column-major (the kernel writes rows of C as vectors) or when it wastes much less of
    // the padded MR x NR tiles (e.g. N = 10 against NR = 32).
    const bool c_col_major = csC != 1 && rsC == 1;
    const double use = tile_use(M, N, Cfg::MR, Cfg::NR);
    const double use_swapped = tile_use(N, M, Cfg::MR, Cfg::NR);
    if (c_col_major || (csC == 1 ? use_swapped > 1.5 * use : use_swapped > use)) {
      std::swap(M, N);
      std::swap(A, B);
      std::swap(rsA, csB);
      std::swap(csA, rsB);
      std::swap(rsC, csC);
      // Now A'(i,k) = B(k,i), B'(k,j) = A(j,k) and C'(i,j) = C(j,i), all through strides.
    }
    const int threads = get_num_threads();
    if (threads <= 1 || M * N * K < kParallelMinMacs) {
      gemm_blocked(M, N, K, alpha, A, rsA, csA, B, rsB, csB, beta, C, rsC, csC);
      return;
    }
    // Split C into column strips of whole NR panels when N has enough of them (each thread
    // packs its strip of B and its own copy of A, so nothing is shared but the read-only
    // inputs), otherwise into row strips of whole MR tiles.
    const std::int64_t n_panels = ceil_div(N, Cfg::NR);
    const std::int64_t m_panels = ceil_div(M, Cfg::MR);
    if (n_panels >= threads * 2 || n_panels >= m_panels) {
      parallel_for(0, n_panels, 1, [&](std::int64_t b, std::int64_t e) {
        const std::int64_t j0 = b * Cfg::NR, j1 = std::min(N, e * Cfg::NR);
        gemm_blocked(M, j1 - j0, K, alpha, A, rsA, csA, B + j0 * csB, rsB, csB, beta, C + j0 * csC,
                     rsC, csC);
      });
    } else {
      parallel_for(0, m_panels, 1, [&](std::int64_t b, std::int64_t e) {
        const std::int64_t i0 = b * Cfg::MR, i1 = std::min(M, e * Cfg::MR);
        gemm_blocked(i1 - i0, N, K, alpha, A + i0 * rsA, rsA, csA, B, rsB, csB, beta, C + i0 * rsC,
                     rsC, csC);
      });
    }
  }
}

}  // namespace etna::cpu_backend
