// matmul on Vars: forward through the GEMM, backward as two more GEMMs
// (dA = dC B^T, dB = A^T dC) with broadcast batch dimensions summed back.
#pragma once

#include "etna/autograd/function.hpp"
#include "etna/ops/matmul.hpp"

namespace etna::autograd {

template <class T, class D>
class MatmulNode final : public Node<T, D> {
 public:
  MatmulNode(std::shared_ptr<VarImpl<T, D>> a, std::shared_ptr<VarImpl<T, D>> b, Tensor<T, D> av,
             Tensor<T, D> bv)
      : a_(std::move(a)), b_(std::move(b)), a_value_(std::move(av)), b_value_(std::move(bv)) {}
  const char* name() const override { return "MatmulBackward"; }
  void next_nodes(std::vector<std::shared_ptr<NodeBase>>& out) const override {
    add_next(out, a_);
    add_next(out, b_);
  }

 protected:
  void backward(const Tensor<T, D>& g) override {
    // Restore the dimensions matmul dropped for 1-D operands, then use the 2-D+ rules.
    const bool a_vec = a_value_.dim() == 1, b_vec = b_value_.dim() == 1;
    const Tensor<T, D> a2 = a_vec ? a_value_.unsqueeze(0) : a_value_;
    const Tensor<T, D> b2 = b_vec ? b_value_.unsqueeze(1) : b_value_;
    Tensor<T, D> g2 = g;
    if (a_vec) g2 = g2.unsqueeze(g2.dim() == 0 ? 0 : (b_vec ? 0 : g2.dim() - 1));
    if (b_vec) g2 = g2.unsqueeze(g2.dim());
    if (a_) {
      Tensor<T, D> ga = etna::matmul(g2, b2.transpose(-1, -2));
      propagate(a_, sum_to(ga, a2.shape()).reshape(a_value_.shape()));
    }
    if (b_) {
      Tensor<T, D> gb = etna::matmul(a2.transpose(-1, -2), g2);
      propagate(b_, sum_to(gb, b2.shape()).reshape(b_value_.shape()));
    }
  }
  void release_saved() override {
    a_.reset();
    b_.reset();
    a_value_ = Tensor<T, D>();
    b_value_ = Tensor<T, D>();
  }

 private:
  std::shared_ptr<VarImpl<T, D>> a_, b_;
  Tensor<T, D> a_value_, b_value_;
};

}  // namespace etna::autograd

namespace etna {

// matmul with at least one Var operand (the other may be a tensor), torch.matmul semantics.
template <class A, class B>
  requires((VarLike<A> && (VarLike<B> || TensorLike<B>)) || (TensorLike<A> && VarLike<B>))
auto matmul(const A& a_in, const B& b_in) {
  const auto a = as_var(a_in);
  const auto b = as_var(b_in);
  using T = typename decltype(a)::value_type;
  using D = typename decltype(a)::device_type;
  Tensor<T, D> out = etna::matmul(a.value(), b.value());
  std::shared_ptr<autograd::Node<T, D>> node;
  if (autograd::should_record(a, b))
    node = std::make_shared<autograd::MatmulNode<T, D>>(autograd::grad_input(a),
                                                        autograd::grad_input(b), a.value(),
                                                        b.value());
  return make_result(std::move(out), std::move(node));
}

}  // namespace etna
