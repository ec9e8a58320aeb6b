// TensorFlow-style GradientTape over the same define-by-run graph: gradients of a target with
// respect to chosen sources, returned as tensors, leaving every Var's .grad untouched.
#pragma once

#include <initializer_list>
#include <unordered_map>
#include <vector>

#include "etna/autograd/function.hpp"

namespace etna {

class GradientTape {
 public:
  // Records while alive (grad mode is on inside the tape's lifetime, even within a
  // NoGradGuard). A persistent tape allows several gradient() calls.
  explicit GradientTape(bool persistent = false)
      : persistent_(persistent), previous_mode_(is_grad_enabled()) {
    set_grad_enabled(true);
  }
  ~GradientTape() { set_grad_enabled(previous_mode_); }
  GradientTape(const GradientTape&) = delete;
  GradientTape& operator=(const GradientTape&) = delete;

  // Trainable Vars (requires_grad) are watched automatically; watch() makes a constant leaf
  // trainable for this tape's computations. Watch before using the Var.
  template <class T, class D>
  void watch(Var<T, D>& v) {
    if (v.is_leaf()) v.requires_grad(true);
  }

  // Scope in which nothing is recorded: { auto pause = tape.stop_recording(); ... }.
  NoGradGuard stop_recording() const { return {}; }

  // d(target)/d(source) for each source. A non-scalar target is summed first (as TensorFlow
  // does), unless output_gradient gives the target's gradient. Sources the target does not
  // depend on get an undefined tensor (TensorFlow's None), or zeros with unconnected_zero.
  template <class X, class T, class D>
  std::vector<Tensor<T, D>> gradient(const X& target, const std::vector<Var<T, D>>& sources,
                                     const Tensor<T, D>& output_gradient = {},
                                     bool unconnected_zero = false) {
    if (used_ && !persistent_)
      throw error("GradientTape.gradient can only be called once on non-persistent tapes; "
                  "construct GradientTape(true) to call it several times");
    used_ = true;
    const auto t = as_var(target);
    std::vector<Tensor<T, D>> grads(sources.size());
    if (t.requires_grad()) {
      const Tensor<T, D> seed = output_gradient.defined() ? output_gradient : ones<T, D>(t.shape());
      if (!(seed.shape() == t.shape()))
        throw shape_error(etna::detail::str("GradientTape.gradient: output_gradient of shape ",
                                            seed.shape(), " does not match the target's shape ",
                                            t.shape()));
      Capture<T, D> capture(sources, grads);
      autograd::run_backward(t.impl_ptr(), seed, persistent_);
    }
    for (std::size_t i = 0; i < grads.size(); ++i)
      if (!grads[i].defined() && unconnected_zero) grads[i] = zeros<T, D>(sources[i].shape());
    return grads;
  }
  template <class X, class T, class D>
  std::vector<Tensor<T, D>> gradient(const X& target, std::initializer_list<Var<T, D>> sources,
                                     const Tensor<T, D>& output_gradient = {},
                                     bool unconnected_zero = false) {
    return gradient(target, std::vector<Var<T, D>>(sources), output_gradient, unconnected_zero);
  }

 private:
  // Points each source at its output slot for the duration of one backward (restored even
  // when backward throws); a Var listed twice gets its gradient in both slots.
  template <class T, class D>
  class Capture {
   public:
    Capture(const std::vector<Var<T, D>>& sources, std::vector<Tensor<T, D>>& grads)
        : sources_(sources), grads_(grads), previous_(autograd::detail::capturing) {
      autograd::detail::capturing = true;
      for (std::size_t i = 0; i < sources.size(); ++i) {
        auto* impl = sources[i].impl_ptr().get();
        if (first_.emplace(impl, i).second) impl->capture_slot = &grads[i];
      }
    }
    ~Capture() {
      autograd::detail::capturing = previous_;
      for (std::size_t i = 0; i < sources_.size(); ++i) {
        auto* impl = sources_[i].impl_ptr().get();
        impl->capture_slot = nullptr;
        grads_[i] = grads_[first_.at(impl)];
      }
    }

   private:
    const std::vector<Var<T, D>>& sources_;
    std::vector<Tensor<T, D>>& grads_;
    std::unordered_map<const void*, std::size_t> first_;
    bool previous_;
  };

  bool persistent_;
  bool previous_mode_;
  bool used_ = false;
};

}  // namespace etna
