// Grad mode (thread-local, as in PyTorch): whether operations on Vars record the graph.
// NoGradGuard / EnableGradGuard / InferenceModeGuard scopes and the no_grad(f) helper.
#pragma once

#include <utility>

namespace etna {
namespace autograd::detail {
inline thread_local bool grad_enabled = true;
inline thread_local bool inference_mode = false;
}  // namespace autograd::detail

inline bool is_grad_enabled() { return autograd::detail::grad_enabled; }
inline void set_grad_enabled(bool enabled) { autograd::detail::grad_enabled = enabled; }
inline bool is_inference_mode_enabled() { return autograd::detail::inference_mode; }

// Operations inside the scope record nothing (their results do not require grad).
class NoGradGuard {
 public:
  NoGradGuard() : previous_(is_grad_enabled()) { set_grad_enabled(false); }
  ~NoGradGuard() { set_grad_enabled(previous_); }
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool previous_;
};

// Re-enables recording inside a NoGradGuard scope.
class EnableGradGuard {
 public:
  EnableGradGuard() : previous_(is_grad_enabled()) { set_grad_enabled(true); }
  ~EnableGradGuard() { set_grad_enabled(previous_); }
  EnableGradGuard(const EnableGradGuard&) = delete;
  EnableGradGuard& operator=(const EnableGradGuard&) = delete;

 private:
  bool previous_;
};

// Inference: nothing is recorded and no graph node is allocated; EnableGradGuard inside it
// does not turn recording back on (as torch.inference_mode).
class InferenceModeGuard {
 public:
  InferenceModeGuard()
      : previous_grad_(is_grad_enabled()), previous_inference_(autograd::detail::inference_mode) {
    set_grad_enabled(false);
    autograd::detail::inference_mode = true;
  }
  ~InferenceModeGuard() {
    set_grad_enabled(previous_grad_);
    autograd::detail::inference_mode = previous_inference_;
  }
  InferenceModeGuard(const InferenceModeGuard&) = delete;
  InferenceModeGuard& operator=(const InferenceModeGuard&) = delete;

 private:
  bool previous_grad_, previous_inference_;
};

// Runs f with recording disabled and returns its result: et::no_grad([&] { return net(x); }).
template <class F>
decltype(auto) no_grad(F&& f) {
  NoGradGuard guard;
  return std::forward<F>(f)();
}

namespace autograd {
// True when an operation with an input requiring grad should record a node now.
inline bool recording() { return detail::grad_enabled && !detail::inference_mode; }
}  // namespace autograd

}  // namespace etna
