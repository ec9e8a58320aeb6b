// The resampling kernels of interpolate (nearest and bilinear), shared by the CPU and CUDA
// backends: forward per output element, input gradient gathered per input element. Both modes
// read per-axis tables built on the host (source indices and weights per output position, and
// per input position the range of outputs that read it), so the kernels hold no float logic of
// their own and the backward needs no atomics.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "etna/backend/pooling_kernels.hpp"
#include "etna/core/macros.hpp"

namespace etna::pooling_kernels {

// One axis: output o reads i0[o] (weight w0[o]) and i1[o] (w1[o], linear only; i1 may equal
// i0 at the border); input y is read by the outputs [lo[y], hi[y]). Device or host pointers,
// laid out as the int table [i0 | i1 | lo | hi] and the weight table [w0 | w1].
template <class T>
struct ResampleAxis {
  const i64* i0;
  const i64* i1;
  const i64* lo;
  const i64* hi;
  const T* w0;
  const T* w1;
  // The weight with which output o reads input y (0 when it does not).
  ETNA_HD T weight(i64 o, i64 y, bool linear) const {
    if (!linear) return i0[o] == y ? T(1) : T(0);
    return (i0[o] == y ? w0[o] : T(0)) + (i1[o] == y ? w1[o] : T(0));
  }
};

template <class T>
struct ResampleForward {
  const T* x;
  T* y;
  Planes g;
  ResampleAxis<T> ah, aw;
  bool linear;

  ETNA_HD void at(i64 plane, i64 oh, i64 ow, i64 o) const {
    const T* xp = x + plane * g.ih * g.iw;
    if (!linear) {
      y[o] = xp[ah.i0[oh] * g.iw + aw.i0[ow]];
      return;
    }
    const T* r0 = xp + ah.i0[oh] * g.iw;
    const T* r1 = xp + ah.i1[oh] * g.iw;
    const i64 c0 = aw.i0[ow], c1 = aw.i1[ow];
    const T a = aw.w0[ow], b = aw.w1[ow];
    y[o] = ah.w0[oh] * (a * r0[c0] + b * r0[c1]) + ah.w1[oh] * (a * r1[c0] + b * r1[c1]);
  }
  ETNA_HD void operator()(i64 o) const {
    const i64 r = o / g.ow;
    at(r / g.oh, r % g.oh, o % g.ow, o);
  }
  ETNA_HD void row(i64 r) const {
    const i64 plane = r / g.oh, oh = r % g.oh;
    for (i64 ow = 0; ow < g.ow; ++ow) at(plane, oh, ow, r * g.ow + ow);
  }
};

template <class T>
struct ResampleBackward {
  const T* gy;
  T* dx;
  Planes g;
  ResampleAxis<T> ah, aw;
  bool linear;

  ETNA_HD void at(i64 plane, i64 h, i64 w, i64 i) const {
    T s = T(0);
    for (i64 oh = ah.lo[h]; oh < ah.hi[h]; ++oh) {
      const T wy = ah.weight(oh, h, linear);
      const T* gr = gy + (plane * g.oh + oh) * g.ow;
      T t = T(0);
      for (i64 ow = aw.lo[w]; ow < aw.hi[w]; ++ow) t += aw.weight(ow, w, linear) * gr[ow];
      s += wy * t;
    }
    dx[i] = s;
  }
  ETNA_HD void operator()(i64 i) const {
    const i64 r = i / g.iw;
    at(r / g.ih, r % g.ih, i % g.iw, i);
  }
  // The CPU's form: the same sums in two separable passes over one plane, first along the
  // width (t[oh][w], the inner sum of at()), then along the height (contiguous, vectorised).
  void plane(i64 p) const {
    thread_local std::vector<T> scratch;
    scratch.resize(static_cast<std::size_t>(g.oh * g.iw));
    T* t = scratch.data();
    for (i64 oh = 0; oh < g.oh; ++oh) {
      const T* gr = gy + (p * g.oh + oh) * g.ow;
      for (i64 w = 0; w < g.iw; ++w) {
        T acc = T(0);
        if (linear)
          for (i64 ow = aw.lo[w]; ow < aw.hi[w]; ++ow) acc += aw.weight(ow, w, true) * gr[ow];
        else  // weight 1: the same sums without the multiplications
          for (i64 ow = aw.lo[w]; ow < aw.hi[w]; ++ow) acc += gr[ow];
        t[oh * g.iw + w] = acc;
      }
    }
    T* d = dx + p * g.ih * g.iw;
    for (i64 h = 0; h < g.ih; ++h) {
      T* dr = d + h * g.iw;
      for (i64 w = 0; w < g.iw; ++w) dr[w] = T(0);
      for (i64 oh = ah.lo[h]; oh < ah.hi[h]; ++oh) {
        const T* tr = t + oh * g.iw;
        if (!linear) {
          for (i64 w = 0; w < g.iw; ++w) dr[w] += tr[w];
          continue;
        }
        const T wy = ah.weight(oh, h, true);
        for (i64 w = 0; w < g.iw; ++w) dr[w] += wy * tr[w];
      }
    }
  }
};

}  // namespace etna::pooling_kernels
