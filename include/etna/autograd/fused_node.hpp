// The fused element-wise node: a Var expression is evaluated in one pass and recorded as one
// node whose backward is one multi-output pass, a per-element local reverse sweep over the
// expression type (linear in tree depth) that yields every leaf's gradient at once.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "etna/autograd/var_expr.hpp"
#include "etna/backend/cuda/fwd_autograd.hpp"
#include "etna/ops/reduce.hpp"

namespace etna::autograd {

// Sums a broadcast gradient back to the shape of the operand it belongs to.
template <class T, class D>
Tensor<T, D> sum_to(const Tensor<T, D>& g, const Shape& shape) {
  if (g.shape() == shape) return g;
  std::vector<std::int64_t> dims;
  const int lead = g.dim() - shape.size();
  for (int i = 0; i < g.dim(); ++i)
    if (i < lead || (shape[i - lead] == 1 && g.shape()[i] != 1)) dims.push_back(i);
  Tensor<T, D> reduced = dims.empty() ? g : Tensor<T, D>(etna::sum(g, dims, true));
  return reduced.reshape(shape);
}

namespace sweep {

// How a leaf is read: one element, or one SIMD batch (contiguous or strided rows). The forward
// functions below are host code (nvcc rejects xsimd batches in host-device instantiations); the
// device sweep (backend/cuda/autograd.hpp) mirrors them for scalars at a cuda_backend::Pos and
// shares the reverse functions, which are host-device.
struct ScalarMode {
  template <class Ev>
  static auto load(const Ev& ev, std::int64_t j) {
    return ev.scalar(j);
  }
};
template <class B, bool Contiguous>
struct BatchMode {
  template <class Ev>
  static B load(const Ev& ev, std::int64_t j) {
    return ev.template batch<B, Contiguous>(j);
  }
};

// Forward records keep every node's value for the reverse sweep (in registers).
template <class V>
struct LeafRecord {
  V v;
};
template <class V, class Children>
struct ApplyRecord {
  V v;
  Children children;
};

// Writes leaf gradients of the current row: out[Pos] is null for leaves that need none.
template <class T, int N>
struct Sink {
  std::array<T*, N> out{};
  std::int64_t j = 0;
  template <int Pos, class V>
  void put(const V& g) {
    if (!out[Pos]) return;
    if constexpr (std::is_arithmetic_v<V>) out[Pos][j] = g;
    else g.store_unaligned(out[Pos] + j);
  }
};

template <class Mode, class T, class D, class Ev>
auto forward(const expr::Leaf<T, D>*, const Ev& ev, std::int64_t j) {
  return LeafRecord<decltype(Mode::load(ev, j))>{Mode::load(ev, j)};
}
template <class Mode, class T, class D, class Ev>
auto forward(const VarLeaf<T, D>*, const Ev& ev, std::int64_t j) {
  return LeafRecord<decltype(Mode::load(ev, j))>{Mode::load(ev, j)};
}
template <class Mode, class T, class Ev>
auto forward(const expr::Const<T>*, const Ev& ev, std::int64_t j) {
  return LeafRecord<decltype(Mode::load(ev, j))>{Mode::load(ev, j)};
}
template <class Mode, class Op, class... Args, class Ev>
auto forward(const expr::Apply<Op, Args...>*, const Ev& ev, std::int64_t j) {
  auto children = [&]<std::size_t... I>(std::index_sequence<I...>) {
    return std::make_tuple(
        forward<Mode>(static_cast<const Args*>(nullptr), std::get<I>(ev.args), j)...);
  }(std::index_sequence_for<Args...>{});
  auto y = std::apply([&](const auto&... c) { return ev.op(c.v...); }, children);
  return ApplyRecord<decltype(y), decltype(children)>{y, children};
}

// The root of an expression whose functor is marked partial_from_output: its backward reads the
// saved output rather than recomputing it (see functors.hpp).
template <class E>
struct root_uses_output : std::false_type {};
template <class Op, class... Args>
  requires requires { requires Op::partial_from_output; }
struct root_uses_output<expr::Apply<Op, Args...>> : std::true_type {};

// forward() for the root with its value y loaded from the saved output (yev).
template <class Mode, class Op, class... Args, class Ev, class YEv>
auto forward_root(const expr::Apply<Op, Args...>*, const Ev& ev, const YEv& yev, std::int64_t j) {
  auto children = [&]<std::size_t... I>(std::index_sequence<I...>) {
    return std::make_tuple(
        forward<Mode>(static_cast<const Args*>(nullptr), std::get<I>(ev.args), j)...);
  }(std::index_sequence_for<Args...>{});
  auto y = Mode::load(yev, j);
  return ApplyRecord<decltype(y), decltype(children)>{y, children};
}

// A functor states d out / d arg I (comparisons, logical ops and casts do not).
template <int I, class Op, class V, class... Args>
concept HasPartial = requires(const Op& op, V y, Args... args) { op.template partial<I>(y, args...); };

// Gradients flow into operand I of an Apply node only when it holds leaves, has the node's own
// element type (not a mask, not across a cast) and the functor states a partial derivative.
template <std::size_t I, class Op, class... Args>
constexpr bool flows_into() {
  using T = typename expr::Apply<Op, Args...>::value_type;
  using Child = std::tuple_element_t<I, std::tuple<Args...>>;
  return leaf_count<Child>::value > 0 && std::is_same_v<typename Child::value_type, T> &&
         HasPartial<int(I), Op, T, typename Args::value_type...>;
}

// Which leaf positions a gradient can reach. The others (Vars inside a where() mask or a cast)
// get no gradient buffer and no edge, so nothing uninitialised is ever propagated.
template <class E>
struct ReachableLeaves {
  static constexpr std::array<bool, leaf_count<E>::value> get() {
    std::array<bool, leaf_count<E>::value> out{};
    for (auto& b : out) b = true;
    return out;
  }
};
template <class Op, class... Args>
struct ReachableLeaves<expr::Apply<Op, Args...>> {
  static constexpr std::array<bool, leaf_count<expr::Apply<Op, Args...>>::value> get() {
    std::array<bool, leaf_count<expr::Apply<Op, Args...>>::value> out{};
    [&]<std::size_t... I>(std::index_sequence<I...>) {
      (
          [&] {
            using Child = std::tuple_element_t<I, std::tuple<Args...>>;
            if constexpr (flows_into<I, Op, Args...>()) {
              constexpr auto sub = ReachableLeaves<Child>::get();
              for (std::size_t k = 0; k < sub.size(); ++k)
                out[leaf_offset<I, Args...>() + k] = sub[k];
            }
          }(),
          ...);
    }(std::index_sequence_for<Args...>{});
    return out;
  }
};

template <int Pos, class Node, class Ev, class R, class V, class S>
ETNA_HD void reverse(const Node*, const Ev&, const R&, const V& adj, S& sink) {
  if constexpr (leaf_count<Node>::value == 1) sink.template put<Pos>(adj);  // a leaf
}
template <int Pos, class Op, class... Args, class Ev, class R, class V, class S>
ETNA_HD void reverse(const expr::Apply<Op, Args...>*, const Ev& ev, const R& rec, const V& adj,
                     S& sink);
// The share of adjoint `adj` that flows into operand I of an Apply node. A named function
// rather than a lambda inside reverse(): nvcc's front end rejects a pack used inside a nested
// generic lambda of a pack expansion.
template <std::size_t I, class Op, class Rec, class Children, std::size_t... C>
ETNA_HD auto local_partial(const Op& op, const Rec& rec, const Children& children,
                           std::index_sequence<C...>) {
  return op.template partial<int(I)>(rec.v, std::get<C>(children).v...);
}

template <int Pos, std::size_t I, class Op, class... Args, class Ev, class R, class V, class S>
ETNA_HD void reverse_into(const Ev& ev, const R& rec, const V& adj, S& sink) {
  using Child = std::tuple_element_t<I, std::tuple<Args...>>;
  if constexpr (flows_into<I, Op, Args...>()) {
    const auto local = local_partial<I>(ev.op, rec, rec.children, std::index_sequence_for<Args...>{});
    reverse<Pos + leaf_offset<I, Args...>()>(static_cast<const Child*>(nullptr),
                                             std::get<I>(ev.args), std::get<I>(rec.children),
                                             adj * local, sink);
  }
}

template <int Pos, class Op, class... Args, class Ev, class R, class V, class S, std::size_t... I>
ETNA_HD void reverse_children(const Ev& ev, const R& rec, const V& adj, S& sink,
                              std::index_sequence<I...>) {
  (reverse_into<Pos, I, Op, Args...>(ev, rec, adj, sink), ...);
}

template <int Pos, class Op, class... Args, class Ev, class R, class V, class S>
ETNA_HD void reverse(const expr::Apply<Op, Args...>*, const Ev& ev, const R& rec, const V& adj,
                     S& sink) {
  reverse_children<Pos, Op, Args...>(ev, rec, adj, sink, std::index_sequence_for<Args...>{});
}

}  // namespace sweep

template <class T, class D, class E>
class FusedElementwiseNode final : public Node<T, D> {
  static constexpr int kLeaves = leaf_count<E>::value;
  static constexpr bool kSavesOutput = sweep::root_uses_output<E>::value;
  using Inputs = std::array<std::shared_ptr<VarImpl<T, D>>, kLeaves>;

 public:
  // `output` is the expression's value; kept only when the backward reads it (kSavesOutput).
  FusedElementwiseNode(const E& e, Inputs inputs, const Tensor<T, D>& output)
      : expression_(e), inputs_(std::move(inputs)) {
    if constexpr (kSavesOutput) output_value_ = output;
  }

  const char* name() const override {
    static const std::string n = "FusedBackward[" + expression_name(static_cast<const E*>(nullptr)) + "]";
    return n.c_str();
  }
  void next_nodes(std::vector<std::shared_ptr<NodeBase>>& out) const override {
    for (const auto& in : inputs_) add_next(out, in);
  }

 protected:
  void backward(const Tensor<T, D>& g_in) override {
    const Tensor<T, D> g = g_in.contiguous();
    const Shape& shape = g.shape();
    // When nothing else holds the incoming gradient (only the engine's handle and this one, or
    // a fresh contiguous copy), its buffer becomes the first operand's gradient: the sweep reads
    // each element of g before writing that element's gradients, and a fresh large buffer costs
    // page faults and kernel zeroing, the main cost of this node on big tensors.
    bool reuse_g = g.storage().use_count() == (g.storage() == g_in.storage() ? 2 : 1);
    std::array<Tensor<T, D>, kLeaves> grads;
    sweep::Sink<T, kLeaves> sink_template;
    bool any = false;
    for (int k = 0; k < kLeaves; ++k)
      if (needs_grad(inputs_[k])) {
        grads[k] = reuse_g ? g : Tensor<T, D>::allocate(shape);
        reuse_g = false;
        sink_template.out[k] = grads[k].data();
        any = true;
      }
    if (!any) return;
    if (g.numel() > 0) {  // an empty row would divide by zero
      if constexpr (std::is_same_v<D, cpu>)
        run_sweep(g, sink_template);
      else  // the same sweep, one device thread per element (backend/cuda/autograd.hpp)
        cuda_backend::fused_backward<T, E, kLeaves>(*expression_, g,
                                                    kSavesOutput ? output_value_ : g,
                                                    sink_template.out);
    }
    for (int k = 0; k < kLeaves; ++k)
      if (grads[k].defined()) propagate(inputs_[k], sum_to(grads[k], inputs_[k]->value.shape()));
  }
  void release_saved() override {
    expression_.reset();
    for (auto& in : inputs_) in.reset();
    output_value_ = Tensor<T, D>();
  }

 private:
  // One pass over the output's elements, rows as in cpu_backend::evaluate.
  void run_sweep(const Tensor<T, D>& g, const sweep::Sink<T, kLeaves>& sink_template) {
    const Shape& out_shape = g.shape();
    cpu_backend::Evaluator<E> ev(*expression_, out_shape);
    cpu_backend::Evaluator<expr::Leaf<T, D>> gev(expr::Leaf<T, D>(g), out_shape);
    // The saved output (kSavesOutput), else an unused stand-in for g.
    cpu_backend::Evaluator<expr::Leaf<T, D>> yev(
        expr::Leaf<T, D>(kSavesOutput ? output_value_ : g), out_shape);
    Shape out_strides = contiguous_strides(out_shape);
    cpu_backend::StrideList strides;
    ev.collect(strides);
    gev.collect(strides);
    if constexpr (kSavesOutput) yev.collect(strides);
    strides.push_back(&out_strides);
    Shape shape = out_shape;
    cpu_backend::detail::collapse_dims(shape, strides);
    const int rank = shape.size();
    const std::int64_t inner_n = rank > 0 ? shape[rank - 1] : 1;
    const std::int64_t outer_n = g.numel() / inner_n;
    bool contiguous = true;
    for (Shape* s : strides)
      if (rank > 0 && (*s)[rank - 1] != 1) contiguous = false;

    auto run_rows = [&](std::int64_t r0, std::int64_t r1, std::int64_t j0, std::int64_t j1) {
      auto local = ev;
      auto glocal = gev;
      auto ylocal = yev;
      Shape idx(std::max(rank - 1, 0), 0);
      for (std::int64_t r = r0; r < r1; ++r) {
        std::int64_t rest = r, offset = 0;
        for (int d = rank - 2; d >= 0; --d) {
          idx[d] = rest % shape[d];
          rest /= shape[d];
          offset += idx[d] * out_strides[d];
        }
        local.seek(idx.data(), rank);
        glocal.seek(idx.data(), rank);
        if constexpr (kSavesOutput) ylocal.seek(idx.data(), rank);
        sweep::Sink<T, kLeaves> sink = sink_template;
        for (auto& p : sink.out)
          if (p) p += offset;
        if (contiguous) sweep_row<true>(local, glocal, ylocal, sink, j0, j1);
        else sweep_row<false>(local, glocal, ylocal, sink, j0, j1);
      }
    };
    if (outer_n == 1)
      cpu_backend::parallel_for(0, inner_n, cpu_backend::kParallelGrain / 4,
                                [&](std::int64_t b, std::int64_t e) { run_rows(0, 1, b, e); });
    else
      cpu_backend::parallel_for(
          0, outer_n, std::max<std::int64_t>(1, cpu_backend::kParallelGrain / 4 / inner_n),
          [&](std::int64_t b, std::int64_t e) { run_rows(b, e, 0, inner_n); });
  }

  template <class Mode, class Ev, class GEv>
  static auto forward_record(const Ev& ev, const GEv& yev, std::int64_t j) {
    if constexpr (kSavesOutput)
      return sweep::forward_root<Mode>(static_cast<const E*>(nullptr), ev, yev, j);
    else
      return sweep::forward<Mode>(static_cast<const E*>(nullptr), ev, j);
  }

  template <bool Contiguous, class Ev, class GEv>
  static void sweep_row(const Ev& ev, const GEv& gev, const GEv& yev,
                        sweep::Sink<T, kLeaves>& sink, std::int64_t j0, std::int64_t j1) {
    std::int64_t j = j0;
    if constexpr (cpu_backend::simd_eligible<E>) {
      using B = xsimd::batch<T>;
      using Mode = sweep::BatchMode<B, Contiguous>;
      constexpr std::int64_t W = B::size;
      for (; j + W <= j1; j += W) {
        sink.j = j;
        const auto rec = forward_record<Mode>(ev, yev, j);
        sweep::reverse<0>(static_cast<const E*>(nullptr), ev, rec, Mode::load(gev, j), sink);
      }
    }
    for (; j < j1; ++j) {
      sink.j = j;
      const auto rec = forward_record<sweep::ScalarMode>(ev, yev, j);
      sweep::reverse<0>(static_cast<const E*>(nullptr), ev, rec, gev.scalar(j), sink);
    }
  }

  std::optional<E> expression_;
  Inputs inputs_;
  Tensor<T, D> output_value_;
};

namespace detail {

template <class T, class D, class E>
std::shared_ptr<VarImpl<T, D>> record_expression(const E& e) {
  auto impl = std::make_shared<VarImpl<T, D>>();
  impl->value = Tensor<T, D>::allocate(e.shape());
  etna::detail::assign_expression(impl->value, e);
  if (!recording()) return impl;
  std::array<std::shared_ptr<VarImpl<T, D>>, leaf_count<E>::value> inputs{};
  collect_var_leaves<0>(e, inputs);
  constexpr auto reachable = sweep::ReachableLeaves<E>::get();
  bool any = false;
  for (std::size_t k = 0; k < inputs.size(); ++k) {
    auto& in = inputs[k];
    if (in && (!in->requires_grad || !reachable[k])) in.reset();  // nothing to send it
    any = any || in;
  }
  if (!any) return impl;
  auto node = std::make_shared<FusedElementwiseNode<T, D, E>>(e, std::move(inputs), impl->value);
  impl->requires_grad = true;
  node->set_output(impl);
  impl->grad_fn = std::move(node);
  return impl;
}

}  // namespace detail
}  // namespace etna::autograd
