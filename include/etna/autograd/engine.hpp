// The backward engine: orders the nodes reachable from a root topologically and runs each
// once, after every node that feeds gradient into it.
#pragma once

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

// Backpropagates grad (shaped like root's value) from root through its graph.
template <class T, class D>
void run_backward(const std::shared_ptr<VarImpl<T, D>>& root, const Tensor<T, D>& grad,
                  bool retain_graph) {
  if (!root->grad_fn) {
    root->receive(grad);
    return;
  }
  const auto order = topological_order(root->grad_fn);
  root->grad_fn->add_out_grad(grad);
  for (const auto& node : order) node->run_backward(retain_graph);
}

}  // namespace etna::autograd
