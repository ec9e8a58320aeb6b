// The pooling kernels shared by the CPU and CUDA backends (max, average and adaptive pooling,
// forward and input gradient) as host-device functors over contiguous [planes, H, W] data.
// Each functor computes one element in operator()(i) (a CUDA thread) and one row in row(r) (the
// CPU's inner loop over columns). Backward functors gather per input element on the GPU (no
// atomics); on the CPU, plane(p) scatters one plane's outputs in ascending order instead, which
// adds, for every input, the same terms in the same order as the gather: the same sums, faster.
#pragma once

#include <cstdint>
#include <limits>
#include <type_traits>

#include "etna/core/macros.hpp"

namespace etna::pooling_kernels {

using i64 = std::int64_t;

ETNA_HD inline i64 min_i(i64 a, i64 b) { return a < b ? a : b; }
ETNA_HD inline i64 max_i(i64 a, i64 b) { return a < b ? b : a; }
// Division rounding toward minus / plus infinity, b > 0, any sign of a.
ETNA_HD inline i64 floor_div(i64 a, i64 b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }
ETNA_HD inline i64 ceil_div(i64 a, i64 b) { return a >= 0 ? (a + b - 1) / b : -((-a) / b); }

// The sizes of a [planes, ih, iw] -> [planes, oh, ow] map (planes = N * C).
struct Planes {
  i64 planes = 0, ih = 0, iw = 0, oh = 0, ow = 0;
};

// One dimension of a fixed-kernel pooling: output o reads inputs o*s - p + j*d, j < k.
struct WindowAxis {
  i64 in = 0, out = 0, k = 1, s = 1, p = 0, d = 1;
  // The inputs of output o inside [0, in): b, b + step, ... < e (padding is skipped).
  ETNA_HD void window(i64 o, i64& b, i64& e, i64& step) const {
    b = o * s - p;
    e = min_i(b + (k - 1) * d + 1, in);
    if (b < 0) b += ceil_div(-b, d) * d;
    step = d;
  }
  // The outputs [lo, hi] whose window spans input y (with dilation it may skip y).
  ETNA_HD void covering(i64 y, i64& lo, i64& hi) const {
    lo = max_i(ceil_div(y + p - (k - 1) * d, s), 0);
    hi = min_i(floor_div(y + p, s), out - 1);
  }
};

// One dimension of an adaptive pooling (PyTorch's windows): [floor(o in / out), ceil((o+1) in /
// out)).
struct AdaptiveAxis {
  i64 in = 0, out = 0;
  ETNA_HD void window(i64 o, i64& b, i64& e, i64& step) const {
    b = o * in / out;
    e = ((o + 1) * in + out - 1) / out;
    step = 1;
  }
  ETNA_HD void covering(i64 y, i64& lo, i64& hi) const {
    lo = y * out / in;
    hi = min_i(((y + 1) * out + in - 1) / in - 1, out - 1);
  }
};

// Max pooling: PyTorch's scan (row-major in the window, a larger value or a NaN takes over, so
// ties keep the first maximum and the last NaN wins); idx (may be null) gets the flat h*iw + w
// position in the input plane.
template <class T, class Axis>
struct MaxForward {
  const T* x;
  T* y;
  i64* idx;
  Planes g;
  Axis ah, aw;

  ETNA_HD void at(i64 plane, i64 oh, i64 ow, i64 o) const {
    i64 hb, he, hs, wb, we, ws;
    ah.window(oh, hb, he, hs);
    aw.window(ow, wb, we, ws);
    const i64 iw = g.iw;
    const T* xp = x + plane * g.ih * iw;
    i64 best = hb * iw + wb;
    T m = -std::numeric_limits<T>::infinity();
    for (i64 h = hb; h < he; h += hs)
      for (i64 w = wb; w < we; w += ws) {
        const T v = xp[h * iw + w];
        const bool t = take(v, m);  // selects rather than a branch on random data
        m = t ? v : m;
        best = t ? h * iw + w : best;
      }
    y[o] = m;
    if (idx) idx[o] = best;
  }
  ETNA_HD void operator()(i64 o) const {
    const i64 r = o / g.ow;
    at(r / g.oh, r % g.oh, o % g.ow, o);
  }
  // One output row r = plane * oh + row (the CPU's form): the 2x2 stride-2 case is a tight loop
  // over two rows; otherwise the columns whose window lies inside the input run window offset
  // by window offset (the same row-major scan per output) with contiguous loops over them.
  void row(i64 r) const {
    const i64 plane = r / g.oh, oh = r % g.oh, o0 = r * g.ow;
    i64 lo = 0, hi = 0;  // the interior columns
    if constexpr (std::is_same_v<Axis, WindowAxis>) {
      const T* xp = x + plane * g.ih * g.iw;
      if (is_2x2(ah) && is_2x2(aw) && 2 * g.ow <= g.iw && 2 * oh + 1 < g.ih) {
        const T* r0 = xp + 2 * oh * g.iw;
        row_2x2(r0, r0 + g.iw, y + o0, idx ? idx + o0 : nullptr, 2 * oh * g.iw, g.iw, g.ow);
        return;
      }
      lo = min_i(ceil_div(aw.p, aw.s), g.ow);
      hi = max_i(lo, min_i(g.ow, floor_div(g.iw - 1 - (aw.k - 1) * aw.d + aw.p, aw.s) + 1));
      if (hi > lo) {
        i64 hb, he, hs;
        ah.window(oh, hb, he, hs);
        row_interior(xp, y + o0, idx ? idx + o0 : nullptr, lo, hi, hb, he, hs, g.iw, aw);
      }
    }
    for (i64 ow = 0; ow < lo; ++ow) at(plane, oh, ow, o0 + ow);
    for (i64 ow = hi; ow < g.ow; ++ow) at(plane, oh, ow, o0 + ow);
  }
  static void row_interior(const T* __restrict__ xp, T* __restrict__ yr, i64* __restrict__ ir,
                           i64 lo, i64 hi, i64 hb, i64 he, i64 hs, i64 iw, WindowAxis a) {
    for (i64 ow = lo; ow < hi; ++ow) yr[ow] = -std::numeric_limits<T>::infinity();
    if (ir)
      for (i64 ow = lo; ow < hi; ++ow) ir[ow] = hb * iw + ow * a.s - a.p;
    for (i64 h = hb; h < he; h += hs)
      for (i64 j = 0; j < a.k; ++j) {
        const i64 first = h * iw - a.p + j * a.d;  // the input column of output 0, offset j
        const T* xc = xp + first;
        if (!ir) {
          for (i64 ow = lo; ow < hi; ++ow) {
            const T v = xc[ow * a.s];
            yr[ow] = take(v, yr[ow]) ? v : yr[ow];
          }
          continue;
        }
        for (i64 ow = lo; ow < hi; ++ow) {
          const T v = xc[ow * a.s];
          const bool t = take(v, yr[ow]);
          yr[ow] = t ? v : yr[ow];
          ir[ow] = t ? first + ow * a.s : ir[ow];
        }
      }
  }
  // A static function of locals: the stores cannot alias the functor's members, so the loops
  // stay tight (and the one without indices vectorises).
  static void row_2x2(const T* r0, const T* r1, T* yr, i64* ir, i64 base, i64 iw, i64 n) {
    if (!ir) {
      for (i64 ow = 0; ow < n; ++ow) {
        const i64 c = 2 * ow;
        T m = r0[c];
        m = take(r0[c + 1], m) ? r0[c + 1] : m;
        m = take(r1[c], m) ? r1[c] : m;
        m = take(r1[c + 1], m) ? r1[c + 1] : m;
        yr[ow] = m;
      }
      return;
    }
    for (i64 ow = 0; ow < n; ++ow) {
      const i64 c = 2 * ow;
      T m = r0[c];
      i64 k = 0;  // the offset of the maximum from the window's top-left element
      bool t = take(r0[c + 1], m);
      m = t ? r0[c + 1] : m;
      k = t ? 1 : k;
      t = take(r1[c], m);
      m = t ? r1[c] : m;
      k = t ? iw : k;
      t = take(r1[c + 1], m);
      m = t ? r1[c + 1] : m;
      k = t ? iw + 1 : k;
      yr[ow] = m;
      ir[ow] = base + c + k;
    }
  }
  // A larger value or a NaN takes over (`|`, not `||`: no branch).
  ETNA_HD static bool take(T v, T m) { return (v > m) | (v != v); }
  ETNA_HD static bool is_2x2(const WindowAxis& a) {
    return a.k == 2 && a.s == 2 && a.p == 0 && a.d == 1;
  }
};

// Max pooling's input gradient: each input element sums the upstream gradients of the outputs
// whose saved index is its own position.
template <class T, class Axis>
struct MaxBackward {
  const T* gy;
  const i64* idx;
  T* dx;
  Planes g;
  Axis ah, aw;

  ETNA_HD void at(i64 plane, i64 h, i64 w, i64 i) const {
    i64 hl, hh, wl, wh;
    ah.covering(h, hl, hh);
    aw.covering(w, wl, wh);
    const i64 target = h * g.iw + w;
    T s = T(0);
    for (i64 oh = hl; oh <= hh; ++oh) {
      const i64 base = (plane * g.oh + oh) * g.ow;
      for (i64 ow = wl; ow <= wh; ++ow)
        if (idx[base + ow] == target) s += gy[base + ow];
    }
    dx[i] = s;
  }
  ETNA_HD void operator()(i64 i) const {
    const i64 r = i / g.iw;
    at(r / g.ih, r % g.ih, i % g.iw, i);
  }
  void plane(i64 p) const {
    T* d = dx + p * g.ih * g.iw;
    for (i64 i = 0; i < g.ih * g.iw; ++i) d[i] = T(0);
    const i64 n = g.oh * g.ow;
    const i64* ip = idx + p * n;
    const T* gp = gy + p * n;
    for (i64 o = 0; o < n; ++o) d[ip[o]] += gp[o];
  }
};

// Average pooling (PyTorch's divisor: the window clipped to the padded input when padding
// counts, else to the input; or divisor_override when not 0).
struct AvgGeometry {
  Planes g;
  WindowAxis ah, aw;  // dilation 1
  bool count_include_pad = true;
  i64 divisor_override = 0;

  // The window of output (oh, ow) inside the input, [h0, h1) x [w0, w1), and its divisor.
  ETNA_HD i64 window(i64 oh, i64 ow, i64& h0, i64& h1, i64& w0, i64& w1) const {
    h0 = oh * ah.s - ah.p;
    w0 = ow * aw.s - aw.p;
    h1 = min_i(h0 + ah.k, g.ih + ah.p);
    w1 = min_i(w0 + aw.k, g.iw + aw.p);
    const i64 padded = (h1 - h0) * (w1 - w0);
    h0 = max_i(h0, 0);
    w0 = max_i(w0, 0);
    h1 = min_i(h1, g.ih);
    w1 = min_i(w1, g.iw);
    if (divisor_override) return divisor_override;
    return count_include_pad ? padded : (h1 - h0) * (w1 - w0);
  }
};

template <class T>
struct AvgForward {
  const T* x;
  T* y;
  AvgGeometry a;

  ETNA_HD void at(i64 plane, i64 oh, i64 ow, i64 o) const {
    i64 h0, h1, w0, w1;
    const i64 div = a.window(oh, ow, h0, h1, w0, w1);
    if (h0 >= h1 || w0 >= w1) {
      y[o] = T(0);
      return;
    }
    const T* xp = x + plane * a.g.ih * a.g.iw;
    T s = T(0);
    for (i64 h = h0; h < h1; ++h)
      for (i64 w = w0; w < w1; ++w) s += xp[h * a.g.iw + w];
    y[o] = s / static_cast<T>(div);
  }
  ETNA_HD void operator()(i64 o) const {
    const i64 r = o / a.g.ow;
    at(r / a.g.oh, r % a.g.oh, o % a.g.ow, o);
  }
  ETNA_HD void row(i64 r) const {
    const i64 plane = r / a.g.oh, oh = r % a.g.oh;
    for (i64 ow = 0; ow < a.g.ow; ++ow) at(plane, oh, ow, r * a.g.ow + ow);
  }
};

template <class T>
struct AvgBackward {
  const T* gy;
  T* dx;
  AvgGeometry a;

  ETNA_HD void at(i64 plane, i64 h, i64 w, i64 i) const {
    i64 hl, hh, wl, wh;
    a.ah.covering(h, hl, hh);
    a.aw.covering(w, wl, wh);
    T s = T(0);
    for (i64 oh = hl; oh <= hh; ++oh)
      for (i64 ow = wl; ow <= wh; ++ow) {
        i64 h0, h1, w0, w1;
        const i64 div = a.window(oh, ow, h0, h1, w0, w1);
        if (h < h0 || h >= h1 || w < w0 || w >= w1) continue;
        s += gy[(plane * a.g.oh + oh) * a.g.ow + ow] / static_cast<T>(div);
      }
    dx[i] = s;
  }
  ETNA_HD void operator()(i64 i) const {
    const i64 r = i / a.g.iw;
    at(r / a.g.ih, r % a.g.ih, i % a.g.iw, i);
  }
  void plane(i64 p) const {
    T* d = dx + p * a.g.ih * a.g.iw;
    for (i64 i = 0; i < a.g.ih * a.g.iw; ++i) d[i] = T(0);
    const T* gp = gy + p * a.g.oh * a.g.ow;
    for (i64 oh = 0; oh < a.g.oh; ++oh)
      for (i64 ow = 0; ow < a.g.ow; ++ow) {
        i64 h0, h1, w0, w1;
        const i64 div = a.window(oh, ow, h0, h1, w0, w1);
        const T v = gp[oh * a.g.ow + ow] / static_cast<T>(div);
        for (i64 h = h0; h < h1; ++h)
          for (i64 w = w0; w < w1; ++w) d[h * a.g.iw + w] += v;
      }
  }
};

// Adaptive average pooling: the window sum divided by its height, then its width (as PyTorch).
template <class T>
struct AdaptiveAvgForward {
  const T* x;
  T* y;
  Planes g;
  AdaptiveAxis ah, aw;

  ETNA_HD void at(i64 plane, i64 oh, i64 ow, i64 o) const {
    i64 hb, he, hs, wb, we, ws;
    ah.window(oh, hb, he, hs);
    aw.window(ow, wb, we, ws);
    const T* xp = x + plane * g.ih * g.iw;
    T s = T(0);
    for (i64 h = hb; h < he; ++h)
      for (i64 w = wb; w < we; ++w) s += xp[h * g.iw + w];
    y[o] = s / static_cast<T>(he - hb) / static_cast<T>(we - wb);
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
struct AdaptiveAvgBackward {
  const T* gy;
  T* dx;
  Planes g;
  AdaptiveAxis ah, aw;

  ETNA_HD void at(i64 plane, i64 h, i64 w, i64 i) const {
    i64 hl, hh, wl, wh;
    ah.covering(h, hl, hh);
    aw.covering(w, wl, wh);
    T s = T(0);
    for (i64 oh = hl; oh <= hh; ++oh) {
      i64 hb, he, hs;
      ah.window(oh, hb, he, hs);
      if (h < hb || h >= he) continue;
      for (i64 ow = wl; ow <= wh; ++ow) {
        i64 wb, we, ws;
        aw.window(ow, wb, we, ws);
        if (w < wb || w >= we) continue;
        s +=
            gy[(plane * g.oh + oh) * g.ow + ow] / static_cast<T>(he - hb) / static_cast<T>(we - wb);
      }
    }
    dx[i] = s;
  }
  ETNA_HD void operator()(i64 i) const {
    const i64 r = i / g.iw;
    at(r / g.ih, r % g.ih, i % g.iw, i);
  }
  void plane(i64 p) const {
    T* d = dx + p * g.ih * g.iw;
    for (i64 i = 0; i < g.ih * g.iw; ++i) d[i] = T(0);
    const T* gp = gy + p * g.oh * g.ow;
    for (i64 oh = 0; oh < g.oh; ++oh) {
      i64 hb, he, hs;
      ah.window(oh, hb, he, hs);
      for (i64 ow = 0; ow < g.ow; ++ow) {
        i64 wb, we, ws;
        aw.window(ow, wb, we, ws);
        const T v = gp[oh * g.ow + ow] / static_cast<T>(he - hb) / static_cast<T>(we - wb);
        for (i64 h = hb; h < he; ++h)
          for (i64 w = wb; w < we; ++w) d[h * g.iw + w] += v;
      }
    }
  }
};

}  // namespace etna::pooling_kernels
