// Reductions on Vars with their backward: sum, mean, prod, max/min, amax/amin, var, std,
// logsumexp and norm; argmax/argmin of a Var give plain int64 index tensors (no gradient).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <type_traits>
#include <utility>
#include <vector>

#include "etna/autograd/function.hpp"
#include "etna/backend/cpu/reduce.hpp"
#include "etna/backend/cpu/thread_pool.hpp"
#include "etna/backend/cuda/fwd_reduce.hpp"
#include "etna/ops/reduce.hpp"

namespace etna::autograd {

// Backward of sum/mean: g (shaped like the result) spread over the input's shape * scale.
template <class T, class D>
class BroadcastBackNode final : public Node<T, D> {
 public:
  BroadcastBackNode(const char* name, std::shared_ptr<VarImpl<T, D>> input, Shape keep_shape,
                    double scale)
      : name_(name), input_(std::move(input)), keep_shape_(keep_shape), scale_(scale) {}
  const char* name() const override { return name_; }
  void next_nodes(std::vector<std::shared_ptr<NodeBase>>& out) const override {
    add_next(out, input_);
  }

 protected:
  void backward(const Tensor<T, D>& g) override {
    const Tensor<T, D> spread = g.reshape(keep_shape_).expand(input_->value.shape());
    if (scale_ == 1)
      propagate(input_, spread.contiguous());
    else
      propagate(input_, Tensor<T, D>(spread * static_cast<T>(scale_)));
  }
  void release_saved() override { input_.reset(); }

 private:
  const char* name_;
  std::shared_ptr<VarImpl<T, D>> input_;
  Shape keep_shape_;
  double scale_;
};

// Backward of the other reductions: a rule maps g, reshaped to the keepdim shape, to the
// input's gradient. The rule owns the tensors it saved at forward time, so dropping it
// (release_saved) frees them.
template <class T, class D>
class ReductionNode final : public Node<T, D> {
 public:
  using Rule = std::function<Tensor<T, D>(const Tensor<T, D>& g_keep)>;
  ReductionNode(const char* name, std::shared_ptr<VarImpl<T, D>> input, Shape keep_shape, Rule rule)
      : name_(name),
        input_(std::move(input)),
        keep_shape_(std::move(keep_shape)),
        rule_(std::move(rule)) {}
  const char* name() const override { return name_; }
  void next_nodes(std::vector<std::shared_ptr<NodeBase>>& out) const override {
    add_next(out, input_);
  }

 protected:
  void backward(const Tensor<T, D>& g) override {
    propagate(input_, rule_(g.contiguous().reshape(keep_shape_)));
  }
  void release_saved() override {
    input_.reset();
    rule_ = nullptr;
  }

 private:
  const char* name_;
  std::shared_ptr<VarImpl<T, D>> input_;
  Shape keep_shape_;
  Rule rule_;
};

using ReductionPlan = etna::detail::ReductionPlan;

// The reduced dimensions of a plan as a list for the tensor reductions ({} means all).
inline std::vector<std::int64_t> reduced_dims(const ReductionPlan& p) {
  std::vector<std::int64_t> dims;
  for (std::size_t d = 0; d < p.reduced.size(); ++d)
    if (p.reduced[d]) dims.push_back(static_cast<std::int64_t>(d));
  return dims;
}

// A reduction's input seen as [outputs, count] rows: the kept dimensions first (in the order
// of the result's elements), the reduced ones last, so each output's elements are one row.
struct RowLayout {
  std::vector<std::int64_t> perm, inverse;
  Shape permuted;
  std::int64_t outputs = 1, count = 1;

  RowLayout(const Shape& in, const std::vector<bool>& reduced) {
    const int rank = in.size();
    for (int pass = 0; pass < 2; ++pass)
      for (int d = 0; d < rank; ++d)
        if (reduced[d] == (pass == 1)) {
          perm.push_back(d);
          permuted.push_back(in[d]);
          (pass == 1 ? count : outputs) *= in[d];
        }
    inverse.assign(rank, 0);
    for (int i = 0; i < rank; ++i) inverse[perm[i]] = i;
  }
  template <class T, class D>
  Tensor<T, D> rows(const Tensor<T, D>& x) const {
    return x.permute(perm).contiguous();
  }
  template <class T, class D>
  Tensor<T, D> unrows(const Tensor<T, D>& r) const {
    return r.permute(inverse).contiguous();
  }
};

// Gradient rules that look at a whole row of an output's elements (their order is the rule
// number cuda_backend::row_backward takes).
enum class RowRule {
  product,         // d prod / d x_i = product of the others (exact with zeros)
  first_extreme,   // all of g to the first element equal to the result (argmax's choice)
  split_ties,      // g shared evenly among the elements equal to the result
  split_abs_ties,  // the same on |x| (infinity norm), times sign(x)
};

template <class T>
bool same_value(T a, T b) {
  return a == b || (std::isnan(a) && std::isnan(b));  // a NaN result came from a NaN element
}

template <class T>
void row_backward(RowRule rule, const T* x, T* out, std::int64_t n, T g, T y) {
  switch (rule) {
    case RowRule::product: {  // prefix products forward, then suffix products (seeded by g)
      T acc = T(1);
      for (std::int64_t i = 0; i < n; ++i) {
        out[i] = acc;
        acc *= x[i];
      }
      acc = g;
      for (std::int64_t i = n - 1; i >= 0; --i) {
        out[i] *= acc;
        acc *= x[i];
      }
      return;
    }
    case RowRule::first_extreme: {
      std::fill_n(out, n, T(0));
      for (std::int64_t i = 0; i < n; ++i)
        if (same_value(x[i], y)) {
          out[i] = g;
          return;
        }
      return;
    }
    case RowRule::split_ties:
    case RowRule::split_abs_ties: {
      const bool abs = rule == RowRule::split_abs_ties;
      std::int64_t ties = 0;
      for (std::int64_t i = 0; i < n; ++i) ties += same_value(abs ? std::abs(x[i]) : x[i], y);
      const T share = g / static_cast<T>(std::max<std::int64_t>(ties, 1));
      for (std::int64_t i = 0; i < n; ++i) {
        const bool hit = same_value(abs ? std::abs(x[i]) : x[i], y);
        const T sign = abs ? static_cast<T>((x[i] > 0) - (x[i] < 0)) : T(1);
        out[i] = hit ? share * sign : T(0);
      }
      return;
    }
  }
}

// The input gradient of a row rule: x is the forward input, y the result (keepdim shape or
// not: one value per output, in order), g_keep the output gradient.
template <class T, class D>
Tensor<T, D> rowwise_gradient(RowRule rule, const Tensor<T, D>& x, const Tensor<T, D>& y,
                              const Tensor<T, D>& g_keep, const std::vector<bool>& reduced) {
  const RowLayout layout(x.shape(), reduced);
  const Tensor<T, D> xr = layout.rows(x), yc = y.contiguous();
  auto gr = Tensor<T, D>::allocate(layout.permuted);
  const T *xp = xr.data(), *yp = yc.data(), *gp = g_keep.data();
  T* op = gr.data();
  const std::int64_t n = layout.count;
  if constexpr (std::is_same_v<D, cpu>) {
    const std::int64_t grain =
        std::max<std::int64_t>(1, cpu_backend::kReduceGrain / std::max<std::int64_t>(n, 1));
    cpu_backend::parallel_for(0, layout.outputs, grain, [&](std::int64_t k0, std::int64_t k1) {
      for (std::int64_t k = k0; k < k1; ++k)
        row_backward(rule, xp + k * n, op + k * n, n, gp[k], yp[k]);
    });
  } else {  // the same rules, one device thread per row
    cuda_backend::row_backward(static_cast<int>(rule), xp, yp, gp, op, layout.outputs, n);
  }
  return layout.unrows(gr);
}

// The result as a Var, with a ReductionNode when recording; make_rule runs only then.
template <class T, class D, class MakeRule>
Var<T, D> record_reduction(const Var<T, D>& x, const char* name, const ReductionPlan& plan,
                           Tensor<T, D> out, MakeRule&& make_rule) {
  std::shared_ptr<Node<T, D>> node;
  if (should_record(x))
    node = std::make_shared<ReductionNode<T, D>>(name, x.impl_ptr(), plan.keep_shape, make_rule());
  return make_result(std::move(out), std::move(node));
}

template <class T>
constexpr void require_floating_var() {
  static_assert(FloatingScalar<T>,
                "etna: this reduction of a Var needs float or double (an integer Var cannot "
                "require grad; reduce its .value() instead)");
}

template <class T, class D>
Var<T, D> reduce_var(const Var<T, D>& x, const std::vector<std::int64_t>& dims, bool keepdim,
                     bool mean) {
  const auto plan = etna::detail::plan_reduction(x.shape(), dims, keepdim, mean ? "mean" : "sum");
  Tensor<T, D> out = mean ? Tensor<T, D>(etna::mean(x.value(), dims, keepdim))
                          : Tensor<T, D>(etna::sum(x.value(), dims, keepdim));
  std::shared_ptr<Node<T, D>> node;
  if (should_record(x))
    node = std::make_shared<BroadcastBackNode<T, D>>(
        mean ? "MeanBackward" : "SumBackward", x.impl_ptr(), plan.keep_shape,
        mean ? 1.0 / static_cast<double>(plan.count) : 1.0);
  return make_result(std::move(out), std::move(node));
}

template <class T, class D>
Var<T, D> prod_var(const Var<T, D>& x, const std::vector<std::int64_t>& dims, bool keepdim) {
  require_floating_var<T>();
  const auto plan = etna::detail::plan_reduction(x.shape(), dims, keepdim, "prod");
  Tensor<T, D> out = etna::prod(x.value(), dims, keepdim);
  return record_reduction(x, "ProdBackward", plan, out, [&] {
    return [x = x.value(), y = out, reduced = plan.reduced](const Tensor<T, D>& g) {
      return rowwise_gradient(RowRule::product, x, y, g, reduced);
    };
  });
}

// max/min: `split` (amax/amin) or no dims (all elements) shares g among ties; otherwise the
// first extremum takes it all (a dim or a list of dims, as torch.max(dim) and argmax).
template <class T, class D>
Var<T, D> extreme_var(const Var<T, D>& x, const std::vector<std::int64_t>& dims, bool keepdim,
                      bool largest, bool split, const char* name) {
  const auto plan = etna::detail::plan_reduction(x.shape(), dims, keepdim, largest ? "max" : "min");
  Tensor<T, D> out = largest ? Tensor<T, D>(etna::max(x.value(), dims, keepdim))
                             : Tensor<T, D>(etna::min(x.value(), dims, keepdim));
  const RowRule rule = split || dims.empty() ? RowRule::split_ties : RowRule::first_extreme;
  return record_reduction(x, name, plan, out, [&] {
    return [x = x.value(), y = out, reduced = plan.reduced, rule](const Tensor<T, D>& g) {
      return rowwise_gradient(rule, x, y, g, reduced);
    };
  });
}

// var and std: d var / d x = 2 (x - mean) / (n - correction); d std = d var / (2 std), taken
// as 0 where std is 0 (as PyTorch).
template <class T, class D>
Var<T, D> var_var(const Var<T, D>& x, const std::vector<std::int64_t>& dims, bool keepdim,
                  double correction, bool std_dev) {
  require_floating_var<T>();
  const auto plan = etna::detail::plan_reduction(x.shape(), dims, keepdim, std_dev ? "std" : "var");
  Tensor<T, D> out = std_dev ? Tensor<T, D>(etna::std(x.value(), dims, keepdim, correction))
                             : Tensor<T, D>(etna::var(x.value(), dims, keepdim, correction));
  const T divisor = static_cast<T>(std::max(0.0, static_cast<double>(plan.count) - correction));
  return record_reduction(x, std_dev ? "StdBackward" : "VarBackward", plan, out, [&] {
    return [x = x.value(), s = out.reshape(plan.keep_shape), dims = reduced_dims(plan), divisor,
            std_dev](const Tensor<T, D>& g) {
      const Tensor<T, D> m = etna::mean(x, dims, true);
      if (!std_dev) return Tensor<T, D>((x - m) * (g * (T(2) / divisor)));
      return Tensor<T, D>((x - m) * where(s == T(0), T(0), g / (s * divisor)));
    };
  });
}

// d logsumexp / d x = exp(x - logsumexp): the softmax, never overflowing.
template <class T, class D>
Var<T, D> logsumexp_var(const Var<T, D>& x, const std::vector<std::int64_t>& dims, bool keepdim) {
  require_floating_var<T>();
  const auto plan = etna::detail::plan_reduction(x.shape(), dims, keepdim, "logsumexp");
  Tensor<T, D> out = etna::logsumexp(x.value(), dims, keepdim);
  return record_reduction(x, "LogsumexpBackward", plan, out, [&] {
    return [x = x.value(), l = out.reshape(plan.keep_shape)](const Tensor<T, D>& g) {
      return Tensor<T, D>(g * exp(x - l));
    };
  });
}

// d ||x||_p / d x_i = sign(x_i) |x_i|^(p-1) / ||x||^(p-1); 0 where x_i = 0 or the norm is 0
// (the subgradient PyTorch picks). p = inf shares g among the tied max |x_i|.
template <class T, class D>
Var<T, D> norm_var(const Var<T, D>& x, double p, const std::vector<std::int64_t>& dims,
                   bool keepdim) {
  require_floating_var<T>();
  const auto plan = etna::detail::plan_reduction(x.shape(), dims, keepdim, "norm");
  Tensor<T, D> out = etna::norm(x.value(), p, dims, keepdim);
  return record_reduction(
      x, "NormBackward", plan, out, [&]() -> typename ReductionNode<T, D>::Rule {
        const Tensor<T, D> n = out.reshape(plan.keep_shape);
        if (std::isinf(p))
          return [x = x.value(), n, reduced = plan.reduced](const Tensor<T, D>& g) {
            return rowwise_gradient(RowRule::split_abs_ties, x, n, g, reduced);
          };
        if (p == 1)
          return [x = x.value()](const Tensor<T, D>& g) {
            return Tensor<T, D>(expr::make_unary(etna::detail::SignOf<T>{}, x) * g);
          };
        if (p == 2)
          return [x = x.value(), n](const Tensor<T, D>& g) {
            return Tensor<T, D>(x * where(n == T(0), T(0), g / n));
          };
        return [x = x.value(), n, q = static_cast<T>(p - 1)](const Tensor<T, D>& g) {
          const auto pow_q = [q](const auto& t) {
            return expr::make_unary(etna::detail::AbsPow<T>{q}, t);
          };
          const Tensor<T, D> scale = where(n == T(0), T(0), g / pow_q(n));
          const auto sign_x = expr::make_unary(etna::detail::SignOf<T>{}, x);
          return Tensor<T, D>(where(x == T(0), T(0), sign_x * pow_q(x)) * scale);
        };
      });
}

// The value of an argument without recording anything: argmax/argmin have no gradient.
template <class X>
auto value_without_grad(const X& x) {
  if constexpr (is_var<std::remove_cvref_t<X>>::value)
    return x.value();
  else
    return eval(x);
}

}  // namespace etna::autograd

namespace etna {

// Each reduction takes a Var or a Var expression (evaluated and recorded as one fused node
// first): name(x) over all elements, name(x, dim, keepdim), name(x, {dims...}, keepdim).
#define ETNA_VAR_REDUCTION(name, call)                                                    \
  template <VarLike X>                                                                    \
  auto name(const X& x_in) {                                                              \
    const auto x = as_var(x_in);                                                          \
    const std::vector<std::int64_t> dims;                                                 \
    const bool keepdim = false;                                                           \
    return call;                                                                          \
  }                                                                                       \
  template <VarLike X, DimIndex I>                                                        \
  auto name(const X& x_in, I dim, bool keepdim = false) {                                 \
    const auto x = as_var(x_in);                                                          \
    const std::vector<std::int64_t> dims{static_cast<std::int64_t>(dim)};                 \
    return call;                                                                          \
  }                                                                                       \
  template <VarLike X>                                                                    \
  auto name(const X& x_in, const std::vector<std::int64_t>& dims, bool keepdim = false) { \
    const auto x = as_var(x_in);                                                          \
    return call;                                                                          \
  }

ETNA_VAR_REDUCTION(sum, autograd::reduce_var(x, dims, keepdim, false))
ETNA_VAR_REDUCTION(mean, autograd::reduce_var(x, dims, keepdim, true))
ETNA_VAR_REDUCTION(prod, autograd::prod_var(x, dims, keepdim))
// max/min: over all elements the gradient is shared among tied extrema (torch.max()); over
// dims it goes to the first extremum, the element argmax/argmin picks (torch.max(dim)).
ETNA_VAR_REDUCTION(max, autograd::extreme_var(x, dims, keepdim, true, false, "MaxBackward"))
ETNA_VAR_REDUCTION(min, autograd::extreme_var(x, dims, keepdim, false, false, "MinBackward"))
// amax/amin: the same values; the gradient is shared among ties for any dims (torch.amax).
ETNA_VAR_REDUCTION(amax, autograd::extreme_var(x, dims, keepdim, true, true, "AmaxBackward"))
ETNA_VAR_REDUCTION(amin, autograd::extreme_var(x, dims, keepdim, false, true, "AminBackward"))
#undef ETNA_VAR_REDUCTION

// var/std with a correction (1: unbiased, 0: population), divisor max(0, n - correction).
template <VarLike X>
auto var(const X& x) {
  return autograd::var_var(as_var(x), {}, false, 1.0, false);
}
template <VarLike X, DimIndex I>
auto var(const X& x, I dim, bool keepdim = false, double correction = 1) {
  return autograd::var_var(as_var(x), {static_cast<std::int64_t>(dim)}, keepdim, correction, false);
}
template <VarLike X>
auto var(const X& x, const std::vector<std::int64_t>& dims, bool keepdim = false,
         double correction = 1) {
  return autograd::var_var(as_var(x), dims, keepdim, correction, false);
}
template <VarLike X>
auto std(const X& x) {
  return autograd::var_var(as_var(x), {}, false, 1.0, true);
}
template <VarLike X, DimIndex I>
auto std(const X& x, I dim, bool keepdim = false, double correction = 1) {
  return autograd::var_var(as_var(x), {static_cast<std::int64_t>(dim)}, keepdim, correction, true);
}
template <VarLike X>
auto std(const X& x, const std::vector<std::int64_t>& dims, bool keepdim = false,
         double correction = 1) {
  return autograd::var_var(as_var(x), dims, keepdim, correction, true);
}

// logsumexp over dims ({} = all elements), stable for any magnitude.
template <VarLike X, DimIndex I>
auto logsumexp(const X& x, I dim, bool keepdim = false) {
  return autograd::logsumexp_var(as_var(x), {static_cast<std::int64_t>(dim)}, keepdim);
}
template <VarLike X>
auto logsumexp(const X& x, const std::vector<std::int64_t>& dims, bool keepdim = false) {
  return autograd::logsumexp_var(as_var(x), dims, keepdim);
}

// The vector p-norm (p > 0, or infinity).
template <VarLike X>
auto norm(const X& x, double p = 2) {
  return autograd::norm_var(as_var(x), p, {}, false);
}
template <VarLike X, DimIndex I>
auto norm(const X& x, double p, I dim, bool keepdim = false) {
  return autograd::norm_var(as_var(x), p, {static_cast<std::int64_t>(dim)}, keepdim);
}
template <VarLike X>
auto norm(const X& x, double p, const std::vector<std::int64_t>& dims, bool keepdim = false) {
  return autograd::norm_var(as_var(x), p, dims, keepdim);
}

// argmax/argmin of a Var's value (nothing is recorded): int64 indices, first occurrence wins.
template <VarLike X>
auto argmax(const X& x) {
  return etna::argmax(autograd::value_without_grad(x));
}
template <VarLike X, DimIndex I>
auto argmax(const X& x, I dim, bool keepdim = false) {
  return etna::argmax(autograd::value_without_grad(x), dim, keepdim);
}
template <VarLike X>
auto argmin(const X& x) {
  return etna::argmin(autograd::value_without_grad(x));
}
template <VarLike X, DimIndex I>
auto argmin(const X& x, I dim, bool keepdim = false) {
  return etna::argmin(autograd::value_without_grad(x), dim, keepdim);
}

}  // namespace etna
