// nn::functional's pooling on Vars: max, average and adaptive pooling over [N, C, H, W] /
// [C, H, W] (and the 1-d forms over [N, C, L] / [C, L], run as H = 1), with PyTorch's semantics.
// Each op is one kernel forward and one gathering kernel backward (backend/pooling_kernels.hpp).
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>
#include <vector>
#include <xsimd/xsimd.hpp>

#include "etna/autograd/function.hpp"
#include "etna/backend/cpu/thread_pool.hpp"
#include "etna/backend/cuda/fwd_pooling.hpp"
#include "etna/backend/pooling_kernels.hpp"
#include "etna/nn/functional/conv_options.hpp"

namespace etna::nn::functional {
namespace detail {

using pooling_kernels::i64;

// Max pooling 2x2 / stride 2 of output row r on the CPU, vectorised (the scalar row_2x2 compiles
// to a branch per comparison: ~4 ns an output on random data). Every column position c gets the
// scan of its window r0[c], r0[c+1], r1[c], r1[c+1] (take: larger or NaN) and the winner's
// offset as a T (0, 1, iw or iw + 1: exact); outputs keep the even positions. Positions go S at
// a time while the load at c + 1 stays inside the rows' 2n columns, then one vector ending at
// the last column recomputes the rest (the same values), or, for rows of at most S columns, a
// zero-padded copy. Returns false where the row is not of that form (the caller runs row()).
template <class T>
requires std::is_floating_point_v<T>
bool max_row_2x2_simd(const pooling_kernels::MaxForward<T, pooling_kernels::WindowAxis>& k, i64 r) {
  using B = xsimd::batch<T>;
  constexpr i64 S = static_cast<i64>(B::size);
  constexpr i64 kMaxCols = 1024;  // the stack buffers' positions
  const auto& g = k.g;
  const i64 oh = r % g.oh, n = g.ow, iw = g.iw, cols = 2 * n;
  if (!k.is_2x2(k.ah) || !k.is_2x2(k.aw) || cols > iw || 2 * oh + 1 >= g.ih || cols > kMaxCols)
    return false;
  const T* r0 = k.x + (r / g.oh) * g.ih * iw + 2 * oh * iw;
  const T* r1 = r0 + iw;
  const B one(T(1)), w0(static_cast<T>(iw)), w1(static_cast<T>(iw + 1)), zero(T(0));
  alignas(64) T m_buf[kMaxCols + S], k_buf[kMaxCols + S];
  alignas(64) T t0[S + 1] = {}, t1[S + 1] = {};
  i64 p = 0;
  for (bool last = false; !last && p < cols; p += S) {
    const T* a0 = r0 + p;
    const T* a1 = r1 + p;
    if (p + S >= cols) {  // the last vector
      last = true;
      if (cols > S) {
        p = cols - 1 - S;
        a0 = r0 + p;
        a1 = r1 + p;
      } else {
        std::copy_n(r0, cols, t0);
        std::copy_n(r1, cols, t1);
        a0 = t0;
        a1 = t1;
      }
    }
    B m = B::load_unaligned(a0);
    B v = B::load_unaligned(a0 + 1);
    auto t = (v > m) | xsimd::isnan(v);  // not v != v: xsimd's != is the ordered compare
    m = xsimd::select(t, v, m);
    B off = xsimd::select(t, one, zero);
    v = B::load_unaligned(a1);
    t = (v > m) | xsimd::isnan(v);
    m = xsimd::select(t, v, m);
    off = xsimd::select(t, w0, off);
    v = B::load_unaligned(a1 + 1);
    t = (v > m) | xsimd::isnan(v);
    m = xsimd::select(t, v, m);
    off = xsimd::select(t, w1, off);
    m.store_unaligned(m_buf + p);
    off.store_unaligned(k_buf + p);
  }
  T* yr = k.y + r * n;
  for (i64 j = 0; j < n; ++j) yr[j] = m_buf[2 * j];
  if (k.idx) {
    i64* ir = k.idx + r * n;
    const i64 base = 2 * oh * iw;
    for (i64 j = 0; j < n; ++j) ir[j] = base + 2 * j + static_cast<i64>(k_buf[2 * j]);
  }
  return true;
}

// Runs a kernel functor over rows x cols items: CPU threads take whole rows (the functor's
// contiguous row loop; 2x2 max pooling of float / double its vectorised form), the GPU one
// thread per item.
template <class D, class K>
void run_pooling(const K& kernel, i64 rows, i64 cols) {
  if (rows <= 0 || cols <= 0) return;
  if constexpr (std::is_same_v<D, cpu>) {
    const i64 grain = std::max<i64>(1, (i64{1} << 13) / cols);
    cpu_backend::parallel_for(0, rows, grain, [&](i64 r0, i64 r1) {
      for (i64 r = r0; r < r1; ++r) {
        if constexpr (requires { max_row_2x2_simd(kernel, r); }) {
          if (max_row_2x2_simd(kernel, r)) continue;
        }
        kernel.row(r);
      }
    });
  } else {
    cuda_backend::run_pooling_kernel(rows * cols, kernel);
  }
}

// Runs a backward functor over the input's planes x ih x iw elements: the CPU scatters whole
// planes (the functor's plane(p)) where the functor has that form, else gathers row by row.
template <class D, class K>
void run_pooling_backward(const K& kernel, i64 planes, i64 ih, i64 iw) {
  if constexpr (std::is_same_v<D, cpu> && requires { kernel.plane(i64{0}); }) {
    if (planes <= 0 || ih * iw <= 0) return;
    cpu_backend::parallel_for(0, planes, std::max<i64>(1, (i64{1} << 13) / (ih * iw)),
                              [&](i64 p0, i64 p1) {
                                for (i64 p = p0; p < p1; ++p) kernel.plane(p);
                              });
  } else {
    run_pooling<D>(kernel, planes * ih, iw);
  }
}

// The backward node of every pooling and resampling op: backward_(g, dx) fills the input
// gradient (contiguous, the input's shape) from the contiguous output gradient; it holds what
// the op saved (indices, tables) by value.
template <class T, class D, class Backward>
class PoolNode final : public autograd::Node<T, D> {
 public:
  PoolNode(const char* name, std::shared_ptr<autograd::VarImpl<T, D>> x, Shape x_shape,
           Backward backward)
      : name_(name),
        x_(std::move(x)),
        x_shape_(std::move(x_shape)),
        backward_(std::move(backward)) {}
  const char* name() const override { return name_; }
  void next_nodes(std::vector<std::shared_ptr<autograd::NodeBase>>& out) const override {
    autograd::add_next(out, x_);
  }

 protected:
  void backward(const Tensor<T, D>& g_in) override {
    const Tensor<T, D> g = g_in.contiguous();
    auto dx = Tensor<T, D>::allocate(x_shape_);
    (*backward_)(g.data(), dx.data());
    autograd::propagate(x_, dx);
  }
  void release_saved() override {
    x_.reset();
    backward_.reset();
  }

 private:
  const char* name_;
  std::shared_ptr<autograd::VarImpl<T, D>> x_;
  Shape x_shape_;
  std::optional<Backward> backward_;
};

// y as the op's result, with a node calling backward when x needs a gradient.
template <class T, class D, class B>
Var<T, D> pool_result(const char* name, const Var<T, D>& x, Tensor<T, D> y, bool record,
                      B backward) {
  std::shared_ptr<autograd::Node<T, D>> node;
  if (record)
    node = std::make_shared<PoolNode<T, D, B>>(name, x.impl_ptr(), x.shape(), std::move(backward));
  return make_result(std::move(y), std::move(node));
}

// The input viewed as [N, C, H, W] planes; spatial is 2, or 1 for [N, C, L] / [C, L] (H = 1).
struct PoolInput {
  i64 n = 1, c = 1, h = 1, w = 1;
  int spatial = 2;
  i64 planes() const { return n * c; }
};

inline std::string size_text(Size2 s, int spatial) {
  return spatial == 1 ? etna::detail::str(s.w) : etna::detail::str("(", s.h, ", ", s.w, ")");
}

inline PoolInput pool_input(const Shape& shape, const char* op, int spatial) {
  const int d = shape.size();
  if (d != spatial + 1 && d != spatial + 2)
    throw shape_error(etna::detail::str(op, ": expected a ", spatial + 1, "-d ",
                                        spatial == 2 ? "[C, H, W]" : "[C, L]", " or ", spatial + 2,
                                        "-d ", spatial == 2 ? "[N, C, H, W]" : "[N, C, L]",
                                        " input, got shape ", shape));
  for (int i = d == spatial + 2 ? 1 : 0; i < d; ++i)
    if (shape[i] == 0)
      throw shape_error(etna::detail::str(
          op, ": expected non-zero sizes except the batch dimension, got shape ", shape));
  PoolInput q;
  q.spatial = spatial;
  q.n = d == spatial + 2 ? shape[0] : 1;
  q.c = shape[d - spatial - 1];
  q.h = spatial == 2 ? shape[d - 2] : 1;
  q.w = shape[d - 1];
  return q;
}

inline Shape pool_output_shape(Shape s, int spatial, i64 oh, i64 ow) {
  const int d = s.size();
  if (spatial == 2) s[d - 2] = oh;
  s[d - 1] = ow;
  return s;
}

// Kernel, stride (0 = the kernel), padding, dilation and ceil_mode; 1-d forms set h to 1 / 0.
struct PoolArgs {
  Size2 k, s, p, d{1};
  bool ceil = false;
};

// Checks the arguments as PyTorch does and returns the output size (both >= 1).
inline Size2 pool_geometry(const char* op, const Shape& shape, const PoolInput& q, PoolArgs& a) {
  const int sp = q.spatial;
  auto fail = [&](const char* what, Size2 v) {
    throw value_error(etna::detail::str(op, ": ", what, ", got ", size_text(v, sp)));
  };
  if (a.k.h <= 0 || a.k.w <= 0) fail("kernel_size must be positive", a.k);
  if (a.s.h == 0 && a.s.w == 0) a.s = a.k;
  if (a.s.h <= 0 || a.s.w <= 0) fail("stride must be positive", a.s);
  if (a.d.h <= 0 || a.d.w <= 0) fail("dilation must be positive", a.d);
  if (a.p.h < 0 || a.p.w < 0) fail("padding must be non-negative", a.p);
  if (a.p.h > a.k.h / 2 || a.p.w > a.k.w / 2)
    throw value_error(
        etna::detail::str(op, ": padding should be at most half of kernel_size, got padding ",
                          size_text(a.p, sp), " and kernel_size ", size_text(a.k, sp)));
  const Size2 out(pool_output_size(q.h, a.k.h, a.s.h, a.p.h, a.d.h, a.ceil),
                  pool_output_size(q.w, a.k.w, a.s.w, a.p.w, a.d.w, a.ceil));
  if (out.h < 1 || out.w < 1)
    throw shape_error(etna::detail::str(
        op, ": output size would be ",
        sp == 2 ? etna::detail::str(out.h, "x", out.w) : etna::detail::str(out.w),
        " for input of shape ", shape, " (kernel_size ", size_text(a.k, sp), ", stride ",
        size_text(a.s, sp), ", padding ", size_text(a.p, sp), ", dilation ", size_text(a.d, sp),
        "): the kernel is larger than the padded input"));
  return out;
}

template <class T, class D>
std::pair<Var<T, D>, Tensor<i64, D>> max_pool(const char* op, int spatial, const Var<T, D>& x,
                                              PoolArgs a, bool want_indices) {
  using namespace pooling_kernels;
  const PoolInput q = pool_input(x.shape(), op, spatial);
  const Size2 out = pool_geometry(op, x.shape(), q, a);
  const Shape out_shape = pool_output_shape(x.shape(), spatial, out.h, out.w);
  const Planes g{q.planes(), q.h, q.w, out.h, out.w};
  const WindowAxis ah{q.h, out.h, a.k.h, a.s.h, a.p.h, a.d.h};
  const WindowAxis aw{q.w, out.w, a.k.w, a.s.w, a.p.w, a.d.w};
  const Tensor<T, D> xc = x.value().contiguous();
  auto y = Tensor<T, D>::allocate(out_shape);
  const bool record = autograd::should_record(x);
  Tensor<i64, D> idx;
  if (record || want_indices) idx = Tensor<i64, D>::allocate(out_shape);
  run_pooling<D>(MaxForward<T, WindowAxis>{xc.data(), y.data(),
                                           idx.defined() ? idx.data() : nullptr, g, ah, aw},
                 g.planes * g.oh, g.ow);
  auto backward = [idx, g, ah, aw](const T* gy, T* dx) {
    run_pooling_backward<D>(MaxBackward<T, WindowAxis>{gy, idx.data(), dx, g, ah, aw}, g.planes,
                            g.ih, g.iw);
  };
  return {pool_result(spatial == 2 ? "MaxPool2DWithIndicesBackward0" : "MaxPool1DBackward", x,
                      std::move(y), record, std::move(backward)),
          idx};
}

template <class T, class D>
Var<T, D> avg_pool(const char* op, int spatial, const Var<T, D>& x, PoolArgs a,
                   bool count_include_pad, i64 divisor_override) {
  using namespace pooling_kernels;
  const PoolInput q = pool_input(x.shape(), op, spatial);
  const Size2 out = pool_geometry(op, x.shape(), q, a);
  const AvgGeometry geo{
      Planes{q.planes(), q.h, q.w, out.h, out.w}, WindowAxis{q.h, out.h, a.k.h, a.s.h, a.p.h, 1},
      WindowAxis{q.w, out.w, a.k.w, a.s.w, a.p.w, 1}, count_include_pad, divisor_override};
  const Tensor<T, D> xc = x.value().contiguous();
  auto y = Tensor<T, D>::allocate(pool_output_shape(x.shape(), spatial, out.h, out.w));
  run_pooling<D>(AvgForward<T>{xc.data(), y.data(), geo}, geo.g.planes * out.h, out.w);
  auto backward = [geo](const T* gy, T* dx) {
    run_pooling_backward<D>(AvgBackward<T>{gy, dx, geo}, geo.g.planes, geo.g.ih, geo.g.iw);
  };
  return pool_result(spatial == 2 ? "AvgPool2DBackward0" : "AvgPool1DBackward", x, std::move(y),
                     autograd::should_record(x), std::move(backward));
}

inline Size2 adaptive_size(const char* op, Size2 out, int spatial) {
  if (out.h <= 0 || out.w <= 0)
    throw value_error(
        etna::detail::str(op, ": output_size must be positive, got ", size_text(out, spatial)));
  return out;
}

template <class T, class D>
Var<T, D> adaptive_avg_pool(const char* op, int spatial, const Var<T, D>& x, Size2 out) {
  using namespace pooling_kernels;
  const PoolInput q = pool_input(x.shape(), op, spatial);
  out = adaptive_size(op, out, spatial);
  const Planes g{q.planes(), q.h, q.w, out.h, out.w};
  const AdaptiveAxis ah{q.h, out.h}, aw{q.w, out.w};
  const Tensor<T, D> xc = x.value().contiguous();
  auto y = Tensor<T, D>::allocate(pool_output_shape(x.shape(), spatial, out.h, out.w));
  run_pooling<D>(AdaptiveAvgForward<T>{xc.data(), y.data(), g, ah, aw}, g.planes * g.oh, g.ow);
  auto backward = [g, ah, aw](const T* gy, T* dx) {
    run_pooling_backward<D>(AdaptiveAvgBackward<T>{gy, dx, g, ah, aw}, g.planes, g.ih, g.iw);
  };
  return pool_result("AdaptiveAvgPool2DBackward0", x, std::move(y), autograd::should_record(x),
                     std::move(backward));
}

template <class T, class D>
Var<T, D> adaptive_max_pool(const char* op, int spatial, const Var<T, D>& x, Size2 out) {
  using namespace pooling_kernels;
  const PoolInput q = pool_input(x.shape(), op, spatial);
  out = adaptive_size(op, out, spatial);
  const Planes g{q.planes(), q.h, q.w, out.h, out.w};
  const AdaptiveAxis ah{q.h, out.h}, aw{q.w, out.w};
  const Tensor<T, D> xc = x.value().contiguous();
  const Shape out_shape = pool_output_shape(x.shape(), spatial, out.h, out.w);
  auto y = Tensor<T, D>::allocate(out_shape);
  const bool record = autograd::should_record(x);
  Tensor<i64, D> idx;
  if (record) idx = Tensor<i64, D>::allocate(out_shape);
  run_pooling<D>(
      MaxForward<T, AdaptiveAxis>{xc.data(), y.data(), record ? idx.data() : nullptr, g, ah, aw},
      g.planes * g.oh, g.ow);
  auto backward = [idx, g, ah, aw](const T* gy, T* dx) {
    run_pooling_backward<D>(MaxBackward<T, AdaptiveAxis>{gy, idx.data(), dx, g, ah, aw}, g.planes,
                            g.ih, g.iw);
  };
  return pool_result("AdaptiveMaxPool2DBackward0", x, std::move(y), record, std::move(backward));
}

}  // namespace detail

// Any operand: a Var, a Var expression (evaluated as one fused node first) or a tensor.
template <class X>
concept PoolOperand = VarLike<X> || TensorLike<X>;

// torch.nn.functional.max_pool2d on [N, C, H, W] or [C, H, W]; stride 0 means kernel_size.
// Padding reads as -inf; NaNs propagate; the gradient goes to the (first) maximum.
template <PoolOperand X>
auto max_pool2d(const X& x, Size2 kernel_size, Size2 stride = 0, Size2 padding = 0,
                Size2 dilation = 1, bool ceil_mode = false) {
  return detail::max_pool("max_pool2d", 2, as_var(x),
                          {kernel_size, stride, padding, dilation, ceil_mode}, false)
      .first;
}

// max_pool2d and PyTorch's indices: the flat position h * W + w of each maximum in its plane.
template <PoolOperand X>
auto max_pool2d_with_indices(const X& x, Size2 kernel_size, Size2 stride = 0, Size2 padding = 0,
                             Size2 dilation = 1, bool ceil_mode = false) {
  return detail::max_pool("max_pool2d_with_indices", 2, as_var(x),
                          {kernel_size, stride, padding, dilation, ceil_mode}, true);
}

// torch.nn.functional.avg_pool2d; divisor_override 0 means none.
template <PoolOperand X>
auto avg_pool2d(const X& x, Size2 kernel_size, Size2 stride = 0, Size2 padding = 0,
                bool ceil_mode = false, bool count_include_pad = true,
                std::int64_t divisor_override = 0) {
  return detail::avg_pool("avg_pool2d", 2, as_var(x), {kernel_size, stride, padding, 1, ceil_mode},
                          count_include_pad, divisor_override);
}

// torch.nn.functional.adaptive_avg_pool2d / adaptive_max_pool2d (windows [floor(i in / out),
// ceil((i + 1) in / out))).
template <PoolOperand X>
auto adaptive_avg_pool2d(const X& x, Size2 output_size) {
  return detail::adaptive_avg_pool("adaptive_avg_pool2d", 2, as_var(x), output_size);
}
template <PoolOperand X>
auto adaptive_max_pool2d(const X& x, Size2 output_size) {
  return detail::adaptive_max_pool("adaptive_max_pool2d", 2, as_var(x), output_size);
}

// The 1-d forms over [N, C, L] or [C, L].
template <PoolOperand X>
auto max_pool1d(const X& x, std::int64_t kernel_size, std::int64_t stride = 0,
                std::int64_t padding = 0, std::int64_t dilation = 1, bool ceil_mode = false) {
  return detail::max_pool("max_pool1d", 1, as_var(x),
                          {Size2(1, kernel_size), Size2(1, stride ? stride : kernel_size),
                           Size2(0, padding), Size2(1, dilation), ceil_mode},
                          false)
      .first;
}
template <PoolOperand X>
auto avg_pool1d(const X& x, std::int64_t kernel_size, std::int64_t stride = 0,
                std::int64_t padding = 0, bool ceil_mode = false, bool count_include_pad = true) {
  return detail::avg_pool("avg_pool1d", 1, as_var(x),
                          {Size2(1, kernel_size), Size2(1, stride ? stride : kernel_size),
                           Size2(0, padding), Size2(1, 1), ceil_mode},
                          count_include_pad, 0);
}
template <PoolOperand X>
auto adaptive_avg_pool1d(const X& x, std::int64_t output_size) {
  return detail::adaptive_avg_pool("adaptive_avg_pool1d", 1, as_var(x), Size2(1, output_size));
}

}  // namespace etna::nn::functional
