// nn::functional::conv2d / conv1d on Vars, with torch.nn.functional's semantics (stride,
// padding incl. "same" / "valid", dilation, groups, unbatched inputs). One materialising node:
// forward runs the backend's im2col + GEMM (or direct depthwise) kernel; backward recomputes the
// columns for dW and computes only the gradients that are needed. conv1d is conv2d with H = 1;
// conv_transpose2d (conv_transpose.hpp) reuses the node and kernels with the roles swapped.
#pragma once

#include <cstdint>
#include <memory>
#include <type_traits>
#include <utility>
#include <vector>

#include "etna/autograd/function.hpp"
#include "etna/backend/cpu/conv.hpp"
#include "etna/backend/cpu/conv_geometry.hpp"
#include "etna/backend/cuda/fwd_conv.hpp"
#include "etna/nn/functional/conv_options.hpp"

namespace etna::nn::functional {
namespace detail {

using etna::detail::ConvGeometry;

// ---- backend dispatch (identical signatures on both devices) -----------------------------------
template <class T, class D>
void conv_forward_kernel(const ConvGeometry& g, const T* x, const T* w, const T* b, T* y) {
  if constexpr (std::is_same_v<D, cpu>)
    cpu_backend::conv2d_forward(g, x, w, b, y);
  else
    cuda_backend::conv2d_forward(g, x, w, b, y);
}
template <class T, class D>
void conv_backward_kernel(const ConvGeometry& g, const T* x, const T* dy, const T* w, T* dx, T* dw,
                          T* db) {
  if constexpr (std::is_same_v<D, cpu>)
    cpu_backend::conv2d_backward(g, x, dy, w, dx, dw, db);
  else
    cuda_backend::conv2d_backward(g, x, dy, w, dx, dw, db);
}
template <class T, class D>
void add_bias_kernel(T* y, const T* b, std::int64_t n, std::int64_t c, std::int64_t plane) {
  if constexpr (std::is_same_v<D, cpu>)
    cpu_backend::add_channel_bias(y, b, n, c, plane);
  else
    cuda_backend::add_channel_bias(y, b, n, c, plane);
}

// The per-channel sum of g [n, c, plane] (a bias gradient), through the kernels' db path.
template <class T, class D>
Tensor<T, D> channel_sum(const Tensor<T, D>& g, std::int64_t n, std::int64_t c,
                         std::int64_t plane) {
  ConvGeometry s;
  s.n = n, s.o = c, s.ho = 1, s.wo = plane;
  auto out = Tensor<T, D>::allocate({c});
  conv_backward_kernel<T, D>(s, nullptr, g.data(), nullptr, nullptr, nullptr, out.data());
  return out;
}

// Backward of a convolution (transposed == false) or of a transposed convolution, whose
// geometry is that of the convolution it inverts: its input is that convolution's output.
template <class T, class D>
class ConvNode final : public autograd::Node<T, D> {
 public:
  ConvNode(std::shared_ptr<autograd::VarImpl<T, D>> x, std::shared_ptr<autograd::VarImpl<T, D>> w,
           std::shared_ptr<autograd::VarImpl<T, D>> b, Tensor<T, D> xv, Tensor<T, D> wv,
           const ConvGeometry& g, bool transposed, Shape x_shape, Shape w_shape)
      : x_(std::move(x)),
        w_(std::move(w)),
        b_(std::move(b)),
        xv_(std::move(xv)),
        wv_(std::move(wv)),
        g_(g),
        transposed_(transposed),
        x_shape_(std::move(x_shape)),
        w_shape_(std::move(w_shape)) {}
  const char* name() const override {
    return transposed_ ? "ConvTranspose2dBackward" : "Conv2dBackward";
  }
  void next_nodes(std::vector<std::shared_ptr<autograd::NodeBase>>& out) const override {
    autograd::add_next(out, x_);
    autograd::add_next(out, w_);
    autograd::add_next(out, b_);
  }

 protected:
  void backward(const Tensor<T, D>& g_in) override {
    const Tensor<T, D> g = g_in.contiguous();
    Tensor<T, D> dx, dw, db;
    if (x_) dx = Tensor<T, D>::allocate(x_shape_);
    if (w_) dw = Tensor<T, D>::allocate(w_shape_);
    if (!transposed_) {
      if (b_) db = Tensor<T, D>::allocate({g_.o});
      conv_backward_kernel<T, D>(g_, w_ ? xv_.data() : nullptr, g.data(), x_ ? wv_.data() : nullptr,
                                 x_ ? dx.data() : nullptr, w_ ? dw.data() : nullptr,
                                 b_ ? db.data() : nullptr);
    } else {
      // y = conv^T(x): dx = conv(dy), dW = the convolution's weight gradient with dy as its
      // input and x as its output gradient, db = channel sums of dy.
      if (x_) conv_forward_kernel<T, D>(g_, g.data(), wv_.data(), nullptr, dx.data());
      if (w_)
        conv_backward_kernel<T, D>(g_, g.data(), xv_.data(), nullptr, nullptr, dw.data(), nullptr);
      if (b_) db = channel_sum(g, g_.n, g_.c, g_.in_plane());
    }
    if (x_) autograd::propagate(x_, dx);
    if (w_) autograd::propagate(w_, dw);
    if (b_) autograd::propagate(b_, db);
  }
  void release_saved() override {
    x_.reset();
    w_.reset();
    b_.reset();
    xv_ = Tensor<T, D>();
    wv_ = Tensor<T, D>();
  }

 private:
  std::shared_ptr<autograd::VarImpl<T, D>> x_, w_, b_;
  Tensor<T, D> xv_, wv_;
  ConvGeometry g_;
  bool transposed_;
  Shape x_shape_, w_shape_;
};

// Runs the forward kernel and records the node. Only what backward needs is saved: the input
// for the weight gradient, the weight for the input gradient.
template <class T, class D>
Var<T, D> conv_apply(const Var<T, D>& x, const Var<T, D>& w, const Var<T, D>* b,
                     const ConvGeometry& g, bool transposed, const Shape& out_shape) {
  const Tensor<T, D> xv = x.value().contiguous(), wv = w.value().contiguous();
  Tensor<T, D> bv;
  if (b) bv = b->value().contiguous();
  auto out = Tensor<T, D>::allocate(out_shape);
  if (!transposed) {
    conv_forward_kernel<T, D>(g, xv.data(), wv.data(), b ? bv.data() : nullptr, out.data());
  } else {
    conv_backward_kernel<T, D>(g, nullptr, xv.data(), wv.data(), out.data(), nullptr, nullptr);
    if (b) add_bias_kernel<T, D>(out.data(), bv.data(), g.n, g.c, g.in_plane());
  }
  std::shared_ptr<autograd::Node<T, D>> node;
  const bool record = b ? autograd::should_record(x, w, *b) : autograd::should_record(x, w);
  if (record) {
    auto xg = autograd::grad_input(x), wg = autograd::grad_input(w);
    node = std::make_shared<ConvNode<T, D>>(xg, wg, b ? autograd::grad_input(*b) : nullptr,
                                            wg ? xv : Tensor<T, D>(), xg ? wv : Tensor<T, D>(), g,
                                            transposed, x.shape(), w.shape());
  }
  return make_result(std::move(out), std::move(node));
}

// "[a, b]" for two spatial dimensions, "a" for one (conv1d's messages).
inline std::string sizes(int dims, Size2 s) {
  return dims == 2 ? etna::detail::str("[", s.h, ", ", s.w, "]") : etna::detail::str(s.w);
}

// Checks what every convolution shares: ranks, groups, stride, dilation and padding signs.
// x has dims + 1 (unbatched) or dims + 2 dimensions, the weight dims + 2.
inline void check_common(const char* op, int dims, const Shape& xs, const Shape& ws, Size2 stride,
                         Size2 padding, Size2 dilation, std::int64_t groups) {
  const auto xd = static_cast<int>(xs.size());
  if (xd != dims + 1 && xd != dims + 2)
    throw shape_error(etna::detail::str(op, ": expected a ", dims + 1, "-d (unbatched) or ",
                                        dims + 2, "-d (batched) input, got shape ", xs));
  if (static_cast<int>(ws.size()) != dims + 2)
    throw shape_error(etna::detail::str(op, ": weight must be ", dims + 2, "-d, got shape ", ws));
  if (groups <= 0)
    throw value_error(etna::detail::str(op, ": groups must be positive, got ", groups));
  if (stride.h <= 0 || stride.w <= 0)
    throw value_error(
        etna::detail::str(op, ": stride must be positive, got ", sizes(dims, stride)));
  if (dilation.h <= 0 || dilation.w <= 0)
    throw value_error(
        etna::detail::str(op, ": dilation must be positive, got ", sizes(dims, dilation)));
  if (padding.h < 0 || padding.w < 0)
    throw value_error(
        etna::detail::str(op, ": padding must be non-negative, got ", sizes(dims, padding)));
}

inline void check_bias(const char* op, const Shape* bs, std::int64_t channels) {
  if (bs && !(bs->size() == 1 && (*bs)[0] == channels))
    throw shape_error(etna::detail::str(op, ": bias of shape ", *bs, " does not match the ",
                                        channels, " output channels (expected [", channels, "])"));
}

// The geometry of conv2d / conv1d (dims = 1: the shapes without H, all H sizes 1).
inline ConvGeometry conv_geometry(const char* op, int dims, const Shape& xs, const Shape& ws,
                                  const Shape* bs, Size2 stride, Padding2 padding, Size2 dilation,
                                  std::int64_t groups) {
  check_common(op, dims, xs, ws, stride, padding.size, dilation, groups);
  const bool batched = static_cast<int>(xs.size()) == dims + 2;
  ConvGeometry g;
  g.n = batched ? xs[0] : 1;
  g.c = xs[batched ? 1 : 0];
  g.h = dims == 2 ? xs[xs.size() - 2] : 1;
  g.w = xs[xs.size() - 1];
  g.o = ws[0];
  g.kh = dims == 2 ? ws[2] : 1;
  g.kw = ws[ws.size() - 1];
  g.groups = groups;
  if (g.o % groups != 0)
    throw value_error(etna::detail::str(op, ": groups=", groups,
                                        " must divide the output channels, but the weight ", ws,
                                        " has ", g.o));
  if (g.c % groups != 0)
    throw value_error(etna::detail::str(
        op, ": groups=", groups, " must divide the input channels, but input", xs, " has ", g.c));
  if (ws[1] * groups != g.c)
    throw shape_error(etna::detail::str(op, ": expected input", xs, " to have ", ws[1] * groups,
                                        " channels (weight ", ws, ", groups=", groups,
                                        "), but got ", g.c, " channels"));
  check_bias(op, bs, g.o);
  g.sh = stride.h, g.sw = stride.w, g.dh = dilation.h, g.dw = dilation.w;
  std::int64_t pb = 0, pr = 0;  // bottom / right
  if (padding.kind == PaddingKind::same) {
    if (stride.h != 1 || stride.w != 1)
      throw value_error(etna::detail::str(op,
                                          ": padding='same' is not supported for strided "
                                          "convolutions (stride ",
                                          sizes(dims, stride), ")"));
    g.ph = same_padding_begin(g.kh, g.dh), pb = same_padding_end(g.kh, g.dh);
    g.pw = same_padding_begin(g.kw, g.dw), pr = same_padding_end(g.kw, g.dw);
  } else if (padding.kind == PaddingKind::explicit_sizes) {
    g.ph = pb = padding.size.h, g.pw = pr = padding.size.w;
  }
  g.ho = conv_output_size(g.h, g.kh, g.sh, g.ph, pb, g.dh);
  g.wo = conv_output_size(g.w, g.kw, g.sw, g.pw, pr, g.dw);
  if (g.ho <= 0 || g.wo <= 0)
    throw shape_error(etna::detail::str(
        op, ": input of spatial size ", sizes(dims, {g.h, g.w}), " (padded ",
        sizes(dims, {g.h + g.ph + pb, g.w + g.pw + pr}), ") is smaller than the kernel ",
        sizes(dims, {g.kh, g.kw}), " at dilation ", sizes(dims, {g.dh, g.dw}), " (effective size ",
        sizes(dims, {g.dh * (g.kh - 1) + 1, g.dw * (g.kw - 1) + 1}), ")"));
  return g;
}

template <class T, class D>
Var<T, D> conv_nd(const char* op, int dims, const Var<T, D>& x, const Var<T, D>& w,
                  const Var<T, D>* b, Size2 stride, Padding2 padding, Size2 dilation,
                  std::int64_t groups) {
  const Shape bs = b ? b->shape() : Shape{};
  const ConvGeometry g = conv_geometry(op, dims, x.shape(), w.shape(), b ? &bs : nullptr, stride,
                                       padding, dilation, groups);
  Shape out;
  if (x.dim() == dims + 2) out.push_back(g.n);
  out.push_back(g.o);
  if (dims == 2) out.push_back(g.ho);
  out.push_back(g.wo);
  return conv_apply(x, w, b, g, false, out);
}

// Calls f(x, w, bias pointer) on the operands as Vars; no bias for NoBias or an undefined Var.
template <class X, class W, class B, class F>
auto with_conv_operands(const X& x, const W& weight, const B& bias, F&& f) {
  const auto xv = as_var(x);
  const auto wv = as_var(weight);
  if constexpr (std::is_same_v<B, NoBias>) {
    return f(xv, wv, static_cast<const decltype(xv)*>(nullptr));
  } else {
    const decltype(xv) bv = as_var(bias);
    return f(xv, wv, bv.defined() ? &bv : nullptr);
  }
}

}  // namespace detail

// torch.nn.functional.conv2d: x [N, C_in, H, W] or [C_in, H, W]; weight [C_out, C_in / groups,
// kH, kW]; bias [C_out] or none (NoBias / {} / an undefined Var). Operands may be Vars, Var
// expressions or tensors (constants). padding = et::nn::same pads dilation * (k - 1) in total,
// the odd element at the bottom / right, and needs stride 1.
template <class X, class W, class B = NoBias>
auto conv2d(const X& x, const W& weight, const B& bias = {}, Size2 stride = 1, Padding2 padding = 0,
            Size2 dilation = 1, std::int64_t groups = 1) {
  return detail::with_conv_operands(x, weight, bias, [&](const auto& xv, const auto& wv, auto b) {
    return detail::conv_nd("conv2d", 2, xv, wv, b, stride, padding, dilation, groups);
  });
}

// torch.nn.functional.conv1d: x [N, C_in, L] or [C_in, L]; weight [C_out, C_in / groups, k].
template <class X, class W, class B = NoBias>
auto conv1d(const X& x, const W& weight, const B& bias = {}, std::int64_t stride = 1,
            Padding1 padding = 0, std::int64_t dilation = 1, std::int64_t groups = 1) {
  Padding2 p2 = Padding2(Size2(0, padding.size));
  p2.kind = padding.kind;
  return detail::with_conv_operands(x, weight, bias, [&](const auto& xv, const auto& wv, auto b) {
    return detail::conv_nd("conv1d", 1, xv, wv, b, Size2(1, stride), p2, Size2(1, dilation),
                           groups);
  });
}

}  // namespace etna::nn::functional
