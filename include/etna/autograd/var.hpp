// Var<T, Device>: a tensor that takes part in automatic differentiation (PyTorch's tensor with
// requires_grad). A handle: copies share the value, the gradient and the recorded history.
#pragma once

#include <memory>
#include <sstream>
#include <string>

#include "etna/autograd/engine.hpp"
#include "etna/core/factory.hpp"
#include "etna/core/print.hpp"

namespace etna {

template <Scalar T, Device D = cpu>
class Var;

template <class T, class D>
struct is_var<Var<T, D>> : std::true_type {};

namespace autograd::detail {
// Defined in fused.hpp: evaluates a Var expression and records one fused node for it.
template <class T, class D, class E>
std::shared_ptr<VarImpl<T, D>> record_expression(const E& e);
}  // namespace autograd::detail

template <Scalar T, Device D>
class Var {
 public:
  using value_type = T;
  using device_type = D;
  using Impl = autograd::VarImpl<T, D>;

  // An undefined Var (no value).
  Var() = default;
  // A leaf holding `value`: a tensor is shared (a handle, as everywhere in etna, so an in-place
  // update of the tensor is an update of the Var); a tensor expression is evaluated now.
  template <TensorLike X>
    requires std::is_same_v<value_type_of<X>, T>
  Var(const X& value, bool requires_grad = false) : impl_(std::make_shared<Impl>()) {  // NOLINT
    if constexpr (TensorType<X>) impl_->value = value;
    else impl_->value = eval(value);
    set_requires_grad(requires_grad);
  }
  // The value of an expression over Vars: one fused pass, recorded as one graph node.
  template <class E>
    requires(ExpressionNode<E> && contains_var<E>::value &&
             std::is_same_v<typename E::value_type, T>)
  Var(const E& e) : impl_(autograd::detail::record_expression<T, D>(e)) {}  // NOLINT
  explicit Var(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

  // ---- value ---------------------------------------------------------------------------
  const Tensor<T, D>& value() const { return impl().value; }
  const Tensor<T, D>& data() const { return impl().value; }  // PyTorch's .data
  const Shape& shape() const { return value().shape(); }
  int dim() const { return value().dim(); }
  std::int64_t numel() const { return value().numel(); }
  std::int64_t size(std::int64_t d) const { return value().size(d); }
  T item() const { return value().item(); }
  bool defined() const { return impl_ != nullptr; }

  // ---- gradient ------------------------------------------------------------------------
  // The accumulated gradient (undefined until a backward reaches this Var).
  const Tensor<T, D>& grad() const { return impl().grad; }
  bool requires_grad() const { return impl().requires_grad; }
  // Only leaves may change requires_grad (a computed Var's flag follows its inputs).
  Var& requires_grad(bool flag) {
    if (impl().grad_fn)
      throw error(
          "requires_grad: you can only change requires_grad flags of leaf Vars; use detach() "
          "to get a leaf from a computed Var");
    set_requires_grad(flag);
    return *this;
  }
  bool is_leaf() const { return impl().grad_fn == nullptr; }
  // Keeps the gradient of a non-leaf Var in grad() after backward.
  void retain_grad() {
    if (!impl().requires_grad)
      throw error("retain_grad: cannot retain the gradient of a Var that does not require grad");
    impl_->retains_grad = true;
  }
  // Clears the gradient (the next backward starts from zero).
  void zero_grad() { impl().grad = Tensor<T, D>(); }
  void set_grad(const Tensor<T, D>& g) {
    if (g.defined() && !(g.shape() == shape()))
      throw shape_error(etna::detail::str("set_grad: gradient of shape ", g.shape(),
                                          " does not match the Var's shape ", shape()));
    impl().grad = g;
  }
  // A leaf sharing the value, cut from the graph (does not require grad).
  Var detach() const { return Var(value(), false); }
  // The Var on device U (PyTorch's .to(device)): a copy whose gradient flows back to this Var,
  // copied back to this device. The same device returns this Var itself.
  template <Device U>
  Var<T, U> to() const;
  // Name of the operation that created this Var ("" for a leaf).
  std::string grad_fn_name() const { return impl().grad_fn ? impl().grad_fn->name() : ""; }

  // Backpropagates from this Var. Without an argument it must hold one element (a loss);
  // otherwise pass the gradient of some scalar with respect to this Var.
  void backward(bool retain_graph = false) const {
    if (numel() != 1)
      throw error(etna::detail::str("backward: grad can be implicitly created only for outputs "
                                    "with one element, got shape ",
                                    shape(), "; pass the output gradient explicitly"));
    backward(ones<T, D>(shape()), retain_graph);
  }
  void backward(const Tensor<T, D>& grad, bool retain_graph = false) const {
    if (!impl().requires_grad)
      throw error("backward: this Var does not require grad and has no grad_fn (did any input "
                  "have requires_grad = true, and was grad mode enabled?)");
    if (!(grad.shape() == shape()))
      throw shape_error(etna::detail::str("backward: gradient of shape ", grad.shape(),
                                          " does not match the output's shape ", shape()));
    autograd::run_backward(impl_, grad, retain_graph);
  }

  const std::shared_ptr<Impl>& impl_ptr() const { return impl_; }

  // ---- views (autograd/ops/views.hpp) ----
  // Tensor's views on Vars: the result shares this Var's storage and its gradient flows back
  // here. Defined in etna/autograd/ops/views.hpp (included by etna/autograd.hpp), reached
  // through argument-dependent lookup of var_views so that this header need not include it.
  Var view(Shape shape) const { return var_views(*this).view(shape); }
  Var reshape(Shape shape) const { return var_views(*this).reshape(shape); }  // may copy
  Var flatten(std::int64_t start_dim = 0, std::int64_t end_dim = -1) const {
    return var_views(*this).flatten(start_dim, end_dim);
  }
  Var transpose(std::int64_t d0, std::int64_t d1) const {
    return var_views(*this).transpose(d0, d1);
  }
  Var transpose() const { return var_views(*this).transpose(); }  // at most 2 dimensions
  Var t() const { return var_views(*this).transpose(); }
  Var permute(std::initializer_list<std::int64_t> dims) const {
    return var_views(*this).permute(std::vector<std::int64_t>(dims));
  }
  Var permute(const std::vector<std::int64_t>& dims) const {
    return var_views(*this).permute(dims);
  }
  Var slice(std::int64_t dim, std::int64_t start, std::int64_t end, std::int64_t step = 1) const {
    return var_views(*this).slice(dim, start, end, step);
  }
  Var narrow(std::int64_t dim, std::int64_t start, std::int64_t length) const {
    return var_views(*this).narrow(dim, start, length);
  }
  Var select(std::int64_t dim, std::int64_t index) const {
    return var_views(*this).select(dim, index);
  }
  Var operator[](std::int64_t index) const { return var_views(*this).select(0, index); }
  Var squeeze() const { return var_views(*this).squeeze(); }
  Var squeeze(std::int64_t dim) const { return var_views(*this).squeeze(dim); }
  Var unsqueeze(std::int64_t dim) const { return var_views(*this).unsqueeze(dim); }
  Var expand(Shape shape) const { return var_views(*this).expand(shape); }
  Var broadcast_to(Shape shape) const { return var_views(*this).expand(shape); }
  Var contiguous() const { return var_views(*this).contiguous(); }  // copies only if needed
  Var clone() const { return var_views(*this).clone(); }

 private:
  Impl& impl() const {
    if (!impl_) throw error("Var: use of an undefined Var (default-constructed)");
    return *impl_;
  }
  void set_requires_grad(bool flag) {
    if (flag && !FloatingScalar<T>)
      throw error(etna::detail::str("requires_grad: only floating-point Vars can require grad, "
                                    "got ",
                                    dtype_name<T>()));
    impl_->requires_grad = flag;
  }

  std::shared_ptr<Impl> impl_;
};

// Deduction from a tensor or tensor expression: Var(et::randn<float>({3}), true).
template <TensorLike X>
Var(const X&, bool = false) -> Var<value_type_of<X>, typename expr_t<X>::device_type>;

// A Var as a new graph node's output: requires grad when recording and an input needs grad.
template <class T, class D>
Var<T, D> make_result(Tensor<T, D> value, std::shared_ptr<autograd::Node<T, D>> node) {
  auto impl = std::make_shared<autograd::VarImpl<T, D>>();
  impl->value = std::move(value);
  if (node) {
    impl->requires_grad = true;
    node->set_output(impl);
    impl->grad_fn = std::move(node);
  }
  return Var<T, D>(std::move(impl));
}

namespace autograd {
// Backward of Var::to<To>(): the gradient goes back to the source device.
template <class T, class To, class From>
class DeviceCopyNode final : public Node<T, To> {
 public:
  explicit DeviceCopyNode(std::shared_ptr<VarImpl<T, From>> input) : input_(std::move(input)) {}
  const char* name() const override { return "ToCopyBackward0"; }
  void next_nodes(std::vector<std::shared_ptr<NodeBase>>& out) const override {
    add_next(out, input_);
  }

 protected:
  void backward(const Tensor<T, To>& g) override { propagate(input_, g.template to<From>()); }
  void release_saved() override { input_.reset(); }

 private:
  std::shared_ptr<VarImpl<T, From>> input_;
};
}  // namespace autograd

template <Scalar T, Device D>
template <Device U>
Var<T, U> Var<T, D>::to() const {
  if constexpr (std::is_same_v<U, D>) {
    return *this;
  } else {
    Tensor<T, U> moved = value().template to<U>();
    std::shared_ptr<autograd::Node<T, U>> node;
    if (autograd::recording() && requires_grad())
      node = std::make_shared<autograd::DeviceCopyNode<T, U, D>>(impl_);
    return make_result(std::move(moved), std::move(node));
  }
}

template <class T, class D>
std::ostream& operator<<(std::ostream& out, const Var<T, D>& v) {
  std::ostringstream text;
  text << v.value();
  std::string s = text.str();
  if (v.requires_grad()) {  // PyTorch's suffixes inside the closing parenthesis
    s.pop_back();
    s += v.is_leaf() ? ", requires_grad=True)" : ", grad_fn=<" + v.grad_fn_name() + ">)";
  }
  return out << s;
}

}  // namespace etna
