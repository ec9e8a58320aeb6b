// Reductions users call: sum, prod, mean, min, max, argmin, argmax, var, std, logsumexp and
// norm, over all elements or chosen dims. A lazy expression argument is fused into the pass.
// The device is the argument's: cuda tensors and expressions reduce on the GPU.
#pragma once

#include <cmath>
#include <concepts>
#include <cstdint>
#include <limits>
#include <string_view>
#include <type_traits>
#include <vector>

#include <xsimd/xsimd.hpp>

#include "etna/backend/cpu/reduce.hpp"
#include "etna/backend/cuda/fwd_reduce.hpp"
#include "etna/core/error.hpp"
#include "etna/core/shape.hpp"
#include "etna/core/tensor.hpp"
#include "etna/expr/operators.hpp"

namespace etna {

// A single dimension index (any integer but bool). Being a template, it does not bind to a
// braced list, so sum(x, {}) and sum(x, {0, 2}) always mean a list of dims.
template <class I>
concept DimIndex = std::integral<I> && !std::same_as<I, bool>;

namespace detail {

// Which dimensions a reduction folds and the shape of its result.
struct ReductionPlan {
  std::vector<bool> reduced;  // one flag per input dimension
  Shape out_shape;            // the result's shape (keepdim applied)
  Shape keep_shape;           // the result's shape with keepdim = true (for broadcasting back)
  std::int64_t count = 1;     // input elements folded into each output
  int empty_dim = -1;         // a reduced dimension of extent 0, if any
  bool all = false;           // every dimension is reduced
};

// dims empty means every dimension (PyTorch's dim=None / dim=[]).
inline ReductionPlan plan_reduction(const Shape& in, const std::vector<std::int64_t>& dims,
                                    bool keepdim, std::string_view op) {
  ReductionPlan p;
  const int rank = in.size();
  p.reduced.assign(rank, dims.empty());
  std::vector<bool> named(std::max(rank, 1), false);
  for (std::int64_t d : dims) {
    const int n = normalize_dim(d, rank, op);
    if (named[n])
      throw value_error(str(op, ": dimension ", d, " appears more than once in the list of dims"));
    named[n] = true;
    if (rank > 0) p.reduced[n] = true;
  }
  p.all = true;
  for (int d = 0; d < rank; ++d) {
    if (p.reduced[d]) {
      p.count *= in[d];
      if (in[d] == 0 && p.empty_dim < 0) p.empty_dim = d;
      p.keep_shape.push_back(1);
      if (keepdim) p.out_shape.push_back(1);
    } else {
      p.all = false;
      p.keep_shape.push_back(in[d]);
      p.out_shape.push_back(in[d]);
    }
  }
  return p;
}

inline ReductionPlan plan_all(const Shape& in, std::string_view op) {
  return plan_reduction(in, {}, false, op);
}

// min, max, argmin and argmax have no value for zero elements.
inline void require_elements(const ReductionPlan& p, const Shape& in, std::string_view op) {
  if (p.count != 0) return;
  if (p.all && in.numel() == 0)
    throw value_error(str(op, ": cannot reduce an empty tensor (shape ", in, ")"));
  throw value_error(str(op, ": cannot reduce over dimension ", p.empty_dim, " of size 0 (shape ",
                        in, ")"));
}

// The device a reduction runs on: its argument's.
template <class X>
using reduce_device_t = typename expr_t<X>::device_type;

template <template <class> class Policy, class X>
auto run_reduction(const X& x, const ReductionPlan& p, const Shape& out_shape) {
  using P = Policy<value_type_of<X>>;
  using D = reduce_device_t<X>;
  auto out = Tensor<typename P::output_type, D>::allocate(out_shape);
  if constexpr (std::is_same_v<D, cpu>)
    cpu_backend::reduce<P>(as_expr(x), p.reduced, out.data());
  else
    cuda_backend::reduce<P>(as_expr(x), p.reduced, out.data());
  return out;
}
template <template <class> class Policy, class X>
auto run_reduction(const X& x, const ReductionPlan& p) {
  return run_reduction<Policy>(x, p, p.out_shape);
}

// The finishing element-wise steps: host loops on the CPU, one kernel each on a device.
template <class T, class D>
void scale_in_place(const Tensor<T, D>& t, double factor) {
  if constexpr (std::is_same_v<D, cpu>)
    for (T* v = t.data(); v != t.data() + t.numel(); ++v) *v = static_cast<T>(*v * factor);
  else
    t.assign(t * static_cast<T>(factor));
}

template <class T, class D>
Tensor<T, D> sqrt_in_place(Tensor<T, D> t) {
  if constexpr (std::is_same_v<D, cpu>)
    for (T* v = t.data(); v != t.data() + t.numel(); ++v) *v = std::sqrt(*v);
  else
    t.assign(sqrt(t));
  return t;
}

template <class X>
constexpr void require_floating_reduction() {
  static_assert(FloatingScalar<value_type_of<X>>,
                "etna: mean, var, std, logsumexp and norm need a floating-point tensor (float or "
                "double); convert with .to<float>() or etna::cast<float>(x)");
}

template <class X>
auto mean_impl(const X& x, const ReductionPlan& p, const Shape& out_shape) {
  require_floating_reduction<X>();
  auto out = run_reduction<cpu_backend::SumReduce>(x, p, out_shape);
  scale_in_place(out, 1.0 / static_cast<double>(p.count));  // 0 elements: 0 * inf = NaN
  return out;
}

// Two passes: the mean, then the sum of squared deviations from it (an expression fused into
// the second reduction), which avoids the cancellation of sum(x^2) - n * mean^2.
template <class X>
auto var_impl(const X& x, const ReductionPlan& p, double correction) {
  require_floating_reduction<X>();
  const auto m = mean_impl(x, p, p.keep_shape);
  auto out = run_reduction<cpu_backend::SumReduce>(square(x - m), p);
  scale_in_place(out, 1.0 / std::max(0.0, static_cast<double>(p.count) - correction));
  return out;
}

template <class X>
auto logsumexp_impl(const X& x, const ReductionPlan& p) {
  require_floating_reduction<X>();
  using T = value_type_of<X>;
  using D = reduce_device_t<X>;
  const auto shift = run_reduction<cpu_backend::MaxReduce>(x, p, p.keep_shape);
  // An infinite maximum would turn x - max into NaN; shifting by 0 gives the right +-inf.
  if constexpr (std::is_same_v<D, cpu>) {
    for (T* v = shift.data(); v != shift.data() + shift.numel(); ++v)
      if (std::isinf(*v)) *v = T(0);
  } else {
    shift.assign(where(abs(shift) == std::numeric_limits<T>::infinity(), T(0), shift));
  }
  auto out = run_reduction<cpu_backend::SumReduce>(exp(x - shift), p);
  if constexpr (std::is_same_v<D, cpu>) {
    for (std::int64_t i = 0; i < out.numel(); ++i)
      out.data()[i] = std::log(out.data()[i]) + shift.data()[i];
  } else {
    out.assign(log(out) + shift.reshape(out.shape()));
  }
  return out;
}

// |x|^p for the general p-norm. The batch form loops std::pow over the lanes: GCC 12 rejects
// xsimd's AVX-512 pow under -Werror (-Wuninitialized inside its intrinsics), and this keeps
// the p-norm exact to the last bit of std::pow too.
template <class T>
struct AbsPow {
  static constexpr const char* name = "norm";
  T p;
  ETNA_HD T operator()(T x) const { return std::pow(std::abs(x), p); }
  template <class B>
  B operator()(const B& x) const {
    alignas(64) T lanes[B::size];
    x.store_aligned(lanes);
    for (T& v : lanes) v = std::pow(std::abs(v), p);
    return B::load_aligned(lanes);
  }
};

// sign(x) (0 at 0) for the norms' gradients, with the same values as etna::sign. op::Sign keeps
// a SIMD batch in a local of a host-device function, which nvcc rejects when a .cu file
// instantiates the CPU path; here the batch form is a host-only overload.
template <class T>
struct SignOf {
  static constexpr const char* name = "sign";
  ETNA_HD T operator()(T x) const { return static_cast<T>((x > T(0)) - (x < T(0))); }
  template <class B>
  B operator()(const B& x) const {
    return xsimd::select(x > B(T(0)), B(T(1)), xsimd::select(x < B(T(0)), B(T(-1)), B(T(0))));
  }
};

// The final root of the p-norm on a device, in double as the CPU's host loop.
template <class T>
struct RootP {
  static constexpr const char* name = "norm";
  double inv_p;
  ETNA_HD T operator()(T x) const { return static_cast<T>(math::pow(static_cast<double>(x), inv_p)); }
};

template <class X>
auto norm_impl(const X& x, double p, const ReductionPlan& plan) {
  require_floating_reduction<X>();
  using T = value_type_of<X>;
  if (!(p > 0))
    throw value_error(str("norm: p must be positive (or infinity), got ", p));
  if (std::isinf(p)) {
    require_elements(plan, x.shape(), "norm");  // max |x| of nothing is undefined
    return run_reduction<cpu_backend::MaxReduce>(abs(x), plan);
  }
  if (p == 1) return run_reduction<cpu_backend::SumReduce>(abs(x), plan);
  auto out = p == 2 ? run_reduction<cpu_backend::SumReduce>(square(x), plan)
                    : run_reduction<cpu_backend::SumReduce>(
                          expr::make_unary(AbsPow<T>{static_cast<T>(p)}, x), plan);
  if constexpr (std::is_same_v<reduce_device_t<X>, cpu>) {
    for (T* v = out.data(); v != out.data() + out.numel(); ++v)
      *v = p == 2 ? std::sqrt(*v) : static_cast<T>(std::pow(*v, 1.0 / p));
  } else if (p == 2) {
    out.assign(sqrt(out));
  } else {
    out.assign(expr::make_unary(RootP<T>{1.0 / p}, out));
  }
  return out;
}

}  // namespace detail

// ---- sum, prod, mean, min, max ---------------------------------------------------------------
// name(x) reduces every element to a 0-d tensor; name(x, dim, keepdim) and name(x, {dims...},
// keepdim) reduce the given dimensions (negative ones count from the end; {} means all).
// sum and prod of integral or bool tensors give int64, as in PyTorch.
#define ETNA_REDUCTION(name, impl)                                                         \
  template <TensorLike X>                                                                  \
  auto name(const X& x) {                                                                  \
    const auto plan = detail::plan_all(x.shape(), #name);                                  \
    return impl;                                                                           \
  }                                                                                        \
  template <TensorLike X, DimIndex I>                                                      \
  auto name(const X& x, I dim, bool keepdim = false) {                                     \
    const auto plan = detail::plan_reduction(x.shape(), {static_cast<std::int64_t>(dim)},  \
                                             keepdim, #name);                              \
    return impl;                                                                           \
  }                                                                                        \
  template <TensorLike X>                                                                  \
  auto name(const X& x, const std::vector<std::int64_t>& dims, bool keepdim = false) {     \
    const auto plan = detail::plan_reduction(x.shape(), dims, keepdim, #name);             \
    return impl;                                                                           \
  }

ETNA_REDUCTION(sum, detail::run_reduction<cpu_backend::SumReduce>(x, plan))
ETNA_REDUCTION(prod, detail::run_reduction<cpu_backend::ProdReduce>(x, plan))
ETNA_REDUCTION(mean, detail::mean_impl(x, plan, plan.out_shape))
ETNA_REDUCTION(max, (detail::require_elements(plan, x.shape(), "max"),
                     detail::run_reduction<cpu_backend::MaxReduce>(x, plan)))
ETNA_REDUCTION(min, (detail::require_elements(plan, x.shape(), "min"),
                     detail::run_reduction<cpu_backend::MinReduce>(x, plan)))
#undef ETNA_REDUCTION

// ---- argmax, argmin: int64 indices; the first occurrence wins ties; NaN counts as the extreme.
// argmax(x) is the flat (row-major) index of the maximum, as a 0-d tensor.
#define ETNA_ARG_REDUCTION(name, Policy)                                                   \
  template <TensorLike X>                                                                  \
  Tensor<std::int64_t, detail::reduce_device_t<X>> name(const X& x) {                      \
    const auto plan = detail::plan_all(x.shape(), #name);                                  \
    detail::require_elements(plan, x.shape(), #name);                                      \
    return detail::run_reduction<cpu_backend::Policy>(x, plan);                            \
  }                                                                                        \
  template <TensorLike X, DimIndex I>                                                      \
  Tensor<std::int64_t, detail::reduce_device_t<X>> name(const X& x, I dim,                \
                                                         bool keepdim = false) {          \
    const auto plan = detail::plan_reduction(x.shape(), {static_cast<std::int64_t>(dim)},  \
                                             keepdim, #name);                              \
    detail::require_elements(plan, x.shape(), #name);                                      \
    return detail::run_reduction<cpu_backend::Policy>(x, plan);                            \
  }
ETNA_ARG_REDUCTION(argmax, ArgMaxReduce)
ETNA_ARG_REDUCTION(argmin, ArgMinReduce)
#undef ETNA_ARG_REDUCTION

// ---- var, std: correction 1 (default) is the unbiased estimator, 0 the population one; the
// divisor is max(0, n - correction) as in PyTorch. All elements with a correction: var(x, {}, false, 0).
template <TensorLike X>
auto var(const X& x) {
  return detail::var_impl(x, detail::plan_all(x.shape(), "var"), 1.0);
}
template <TensorLike X, DimIndex I>
auto var(const X& x, I dim, bool keepdim = false, double correction = 1) {
  return detail::var_impl(
      x, detail::plan_reduction(x.shape(), {static_cast<std::int64_t>(dim)}, keepdim, "var"),
      correction);
}
template <TensorLike X>
auto var(const X& x, const std::vector<std::int64_t>& dims, bool keepdim = false,
         double correction = 1) {
  return detail::var_impl(x, detail::plan_reduction(x.shape(), dims, keepdim, "var"), correction);
}

// Standard deviation: sqrt(var) with the same arguments.
template <TensorLike X>
auto std(const X& x) {
  return detail::sqrt_in_place(var(x));
}
template <TensorLike X, DimIndex I>
auto std(const X& x, I dim, bool keepdim = false, double correction = 1) {
  return detail::sqrt_in_place(var(x, dim, keepdim, correction));
}
template <TensorLike X>
auto std(const X& x, const std::vector<std::int64_t>& dims, bool keepdim = false,
         double correction = 1) {
  return detail::sqrt_in_place(var(x, dims, keepdim, correction));
}

// ---- logsumexp: log(sum(exp(x))) over dims, computed as max + log(sum(exp(x - max))).
template <TensorLike X, DimIndex I>
auto logsumexp(const X& x, I dim, bool keepdim = false) {
  return detail::logsumexp_impl(
      x, detail::plan_reduction(x.shape(), {static_cast<std::int64_t>(dim)}, keepdim,
                                "logsumexp"));
}
template <TensorLike X>
auto logsumexp(const X& x, const std::vector<std::int64_t>& dims, bool keepdim = false) {
  return detail::logsumexp_impl(x, detail::plan_reduction(x.shape(), dims, keepdim, "logsumexp"));
}

// ---- norm: the vector p-norm (sum |x|^p)^(1/p); p = infinity gives max |x|.
template <TensorLike X>
auto norm(const X& x, double p = 2) {
  return detail::norm_impl(x, p, detail::plan_all(x.shape(), "norm"));
}
template <TensorLike X, DimIndex I>
auto norm(const X& x, double p, I dim, bool keepdim = false) {
  return detail::norm_impl(
      x, p, detail::plan_reduction(x.shape(), {static_cast<std::int64_t>(dim)}, keepdim, "norm"));
}
template <TensorLike X>
auto norm(const X& x, double p, const std::vector<std::int64_t>& dims, bool keepdim = false) {
  return detail::norm_impl(x, p, detail::plan_reduction(x.shape(), dims, keepdim, "norm"));
}

}  // namespace etna
