// The backward engine: orders the nodes reachable from a root topologically and runs each
// once, after every node that feeds gradient into it.
#pragma once

#include <exception>
#include <functional>
#include <unordered_set>
#include <utility>
#include <vector>

#include "etna/autograd/node.hpp"

namespace etna::autograd {

// Nodes reachable from root, each after all nodes that consume its output (reverse
// post-order of an iterative depth-first search, so deep graphs do not recurse). Holding
// them by shared_ptr keeps every node alive while backward frees saved tensors.
inline std::vector<std::shared_ptr<NodeBase>> topological_order(std::shared_ptr<NodeBase> root) {
  using NodePtr = std::shared_ptr<NodeBase>;
  std::vector<NodePtr> post_order;
  std::unordered_set<NodeBase*> visited{root.get()};
  std::vector<std::pair<NodePtr, std::vector<NodePtr>>> stack;
  auto push = [&](NodePtr n) {
    std::vector<NodePtr> next;
    n->next_nodes(next);
    stack.emplace_back(std::move(n), std::move(next));
  };
  push(std::move(root));
  while (!stack.empty()) {
    auto& [node, next] = stack.back();
    if (next.empty()) {
      post_order.push_back(node);
      stack.pop_back();
      continue;
    }
    NodePtr child = std::move(next.back());
    next.pop_back();
    if (visited.insert(child.get()).second) push(std::move(child));
  }
  return {post_order.rbegin(), post_order.rend()};
}

namespace detail {
inline thread_local std::vector<std::function<void()>> backward_callbacks;
inline thread_local int backward_depth = 0;

// Runs the callbacks queued during a backward once its last node has run (also when a node
// throws, so a half-finished backward leaves no callback behind for the next one).
struct BackwardScope {
  BackwardScope() { ++backward_depth; }
  ~BackwardScope() noexcept(false) {
    if (--backward_depth > 0) return;
    auto callbacks = std::move(backward_callbacks);
    backward_callbacks.clear();
    if (std::uncaught_exceptions() > 0) return;
    for (auto& f : callbacks) f();
  }
};
}  // namespace detail

// Queues f to run when the backward in progress on this thread has finished (PyTorch's
// Variable._execution_engine.queue_callback): how DistributedDataParallel waits for the
// gradient all-reduces it started during backward. Outside a backward, f runs at once.
inline void queue_callback(std::function<void()> f) {
  if (detail::backward_depth == 0) f();
  else detail::backward_callbacks.push_back(std::move(f));
}

// Backpropagates grad (shaped like root's value) from root through its graph.
template <class T, class D>
void run_backward(const std::shared_ptr<VarImpl<T, D>>& root, const Tensor<T, D>& grad,
                  bool retain_graph) {
  detail::BackwardScope scope;
  if (!root->grad_fn) {
    root->receive(grad);
    return;
  }
  const auto order = topological_order(root->grad_fn);
  root->grad_fn->add_out_grad(grad);
  for (const auto& node : order) node->run_backward(retain_graph);
}

}  // namespace etna::autograd
