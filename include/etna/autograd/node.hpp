// The recorded graph: VarImpl (a Var's value, gradient and creator) and Node, the backward
// step of one recorded operation. Nodes own their inputs by handle, so a graph lives exactly
// as long as some Var reaches it.
#pragma once

#include <functional>
#include <memory>
#include <vector>

#include "etna/autograd/grad_mode.hpp"
#include "etna/core/tensor.hpp"
#include "etna/expr/operators.hpp"

namespace etna::autograd {

// Adds g into acc: shares g when acc is empty, updates in place when acc is the only handle
// to its storage, otherwise rebinds acc to a new tensor (so no other handle sees a change).
template <class T, class D>
void accumulate_into(Tensor<T, D>& acc, const Tensor<T, D>& g) {
  if (!acc.defined()) {
    acc = g;
  } else if (acc.storage().use_count() == 1 && acc.is_contiguous()) {
    acc.assign(acc + g);
  } else {
    acc = Tensor<T, D>(acc + g);
  }
}

namespace detail {
// Set while GradientTape::gradient runs: leaves then receive gradients only through their
// capture slot, and .grad fields are left alone.
inline thread_local bool capturing = false;
}  // namespace detail

class NodeBase {
 public:
  virtual ~NodeBase() = default;
  virtual const char* name() const = 0;
  // The creator nodes of this node's inputs (edges of the graph, for the topological order).
  virtual void next_nodes(std::vector<std::shared_ptr<NodeBase>>& out) const = 0;
  // Propagates the accumulated output gradient to the inputs; frees saved tensors unless
  // keep_graph (retain_graph), after which a second backward raises.
  virtual void run_backward(bool keep_graph) = 0;
  bool released() const { return released_; }

 protected:
  bool released_ = false;
};

template <class T, class D>
class Node;

namespace detail {
// Drops one owner of a node. Destroying a node destroys its inputs, whose nodes it may destroy
// in turn: on a long chain (an RNN unrolled 1M steps) that recursion overflows the stack. The
// outermost release therefore runs a loop and nested ones only hand their node to it.
inline void release_node(std::shared_ptr<NodeBase> node) {
  if (node.use_count() != 1) return;  // another owner keeps it: a plain decrement
  thread_local std::vector<std::shared_ptr<NodeBase>>* pending = nullptr;
  if (pending) {
    pending->push_back(std::move(node));
    return;
  }
  std::vector<std::shared_ptr<NodeBase>> stack;
  stack.push_back(std::move(node));
  pending = &stack;
  while (!stack.empty()) {
    std::shared_ptr<NodeBase> last = std::move(stack.back());
    stack.pop_back();
    last.reset();  // may push the nodes of inputs it owned last
  }
  pending = nullptr;
}
}  // namespace detail

// The base of whatever a layer keeps in VarImpl::inference_cache; readers find their own entry
// type with dynamic_cast, so two kinds of entries can never be mistaken for each other.
struct InferenceCacheEntry {
  virtual ~InferenceCacheEntry() = default;
};

template <class T, class D>
struct VarImpl {
  Tensor<T, D> value;
  Tensor<T, D> grad;
  std::shared_ptr<Node<T, D>> grad_fn;
  bool requires_grad = false;
  bool retains_grad = false;
  Tensor<T, D>* capture_slot = nullptr;  // GradientTape::gradient's output for this Var
  // A pruning mask (et::prune): 1 keeps an element, 0 prunes it. Gradients reaching .grad are
  // multiplied by it and optimizers multiply the value by it after each step, so pruned
  // weights stay exactly zero while training goes on. Undefined when not pruned.
  Tensor<T, D> mask;
  // What a layer derived from the value for inference (a pruned Linear's compressed weight):
  // optimizers drop it after changing the value, so it is never used stale.
  std::shared_ptr<const InferenceCacheEntry> inference_cache;
  // Called after each gradient accumulated into .grad (not into a tape's capture slot):
  // DistributedDataParallel's signal that a parameter's gradient is (maybe) complete.
  std::function<void(VarImpl&)> post_accumulate_hook;

  ~VarImpl() {
    if (grad_fn) detail::release_node(std::move(grad_fn));
  }

  // Receives a gradient: into the tape's capture slot while capturing, else into .grad.
  void receive(const Tensor<T, D>& g) {
    if (capture_slot) {
      accumulate_into(*capture_slot, g);
    } else if (!detail::capturing) {
      if (mask.defined()) accumulate_into(grad, Tensor<T, D>(g * mask));
      else accumulate_into(grad, g);
      if (post_accumulate_hook) post_accumulate_hook(*this);
    }
  }
};

template <class T, class D>
class Node : public NodeBase {
 public:
  void add_out_grad(const Tensor<T, D>& g) { accumulate_into(out_grad_, g); }
  void set_output(const std::shared_ptr<VarImpl<T, D>>& out) { output_ = out; }

  void run_backward(bool keep_graph) final {
    if (released_)
      throw error(etna::detail::str(
          "backward: trying to backward through the graph a second time (", name(),
          "'s saved tensors were freed by the first backward); pass retain_graph = true to the "
          "first backward if you need to call it twice"));
    if (!out_grad_.defined()) return;  // no gradient reached this node
    Tensor<T, D> g = std::move(out_grad_);
    out_grad_ = Tensor<T, D>();
    if (auto out = output_.lock(); out && (out->retains_grad || out->capture_slot)) out->receive(g);
    backward(g);
    if (!keep_graph) {
      release_saved();
      released_ = true;
    }
  }

 protected:
  // d(loss)/d(inputs) from g = d(loss)/d(output); call propagate() for each input.
  virtual void backward(const Tensor<T, D>& g) = 0;
  // Drops the tensors saved for backward.
  virtual void release_saved() = 0;

 private:
  Tensor<T, D> out_grad_;
  std::weak_ptr<VarImpl<T, D>> output_;
};

// Sends gradient g to an input: to its creator node, or to the leaf's .grad.
template <class T, class D>
void propagate(const std::shared_ptr<VarImpl<T, D>>& input, const Tensor<T, D>& g) {
  if (!input) return;
  if (input->grad_fn) input->grad_fn->add_out_grad(g);
  else if (input->requires_grad) input->receive(g);
}

// Adds an input's creator node to a list of graph edges.
template <class T, class D>
void add_next(std::vector<std::shared_ptr<NodeBase>>& out,
              const std::shared_ptr<VarImpl<T, D>>& input) {
  if (input && input->grad_fn) out.push_back(input->grad_fn);
}

// An input worth recording: it requires grad (as a leaf or through its creator).
template <class T, class D>
bool needs_grad(const std::shared_ptr<VarImpl<T, D>>& impl) {
  return impl && impl->requires_grad;
}

}  // namespace etna::autograd
