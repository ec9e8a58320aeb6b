// Declarations of the CUDA optimizer kernels that the device-generic optimizers (optim/*.hpp)
// call: multi-tensor update steps and gradient-norm clipping. Defined in backend/cuda/optim.hpp.
#pragma once

#include <cstdint>
#include <vector>

namespace etna::cuda_backend {

// One parameter's device buffers in a multi-tensor optimizer step. state[] are the rule's state
// buffers in the rule's order (null when unused); step is the parameter's 0-d step count on the
// device (null for SGD); first says that the state buffers were just created (SGD momentum).
template <class T>
struct OptimSlot {
  T* param = nullptr;
  const T* grad = nullptr;
  T* state[3] = {nullptr, nullptr, nullptr};
  T* step = nullptr;
  std::int64_t numel = 0;
  bool first = false;
};

// Hyper-parameters as the kernels read them (the options structs of optim/, flattened).
struct SgdHyper {
  double lr, momentum, dampening, weight_decay;
  bool nesterov, maximize;
};
// state: exp_avg, exp_avg_sq, max_exp_avg_sq (amsgrad).
struct AdamHyper {
  double lr, beta1, beta2, eps, weight_decay;
  bool decoupled, amsgrad, maximize;
};
// state: square_avg, grad_avg (centered), momentum_buffer (momentum > 0).
struct RmspropHyper {
  double lr, alpha, eps, weight_decay, momentum;
  bool centered, maximize;
};
// state: sum.
struct AdagradHyper {
  double lr, lr_decay, weight_decay, eps;
  bool maximize;
};

// One optimizer step over all slots: the step counts (if any) are incremented on the device,
// then every parameter is updated by one multi-tensor kernel (one launch per chunk of tensors).
// Nothing waits for the GPU, so a step can be captured into a CUDA graph.
template <class T>
void sgd_step(const SgdHyper& h, const std::vector<OptimSlot<T>>& slots);
template <class T>
void adam_step(const AdamHyper& h, const std::vector<OptimSlot<T>>& slots);
template <class T>
void rmsprop_step(const RmspropHyper& h, const std::vector<OptimSlot<T>>& slots);
template <class T>
void adagrad_step(const AdagradHyper& h, const std::vector<OptimSlot<T>>& slots);

// The p-norm (p = inf: max |x|) of all the contiguous device buffers xs[i] of ns[i] elements
// taken together, written to the device double *total (accumulated in double).
template <class T>
void total_norm(const std::vector<const T*>& xs, const std::vector<std::int64_t>& ns,
                double norm_type, double* total);
// Scales every buffer by max_norm / (*total + 1e-6) when that is below 1, reading *total on
// the device (no synchronisation).
template <class T>
void scale_by_norm(const std::vector<T*>& xs, const std::vector<std::int64_t>& ns, double max_norm,
                   const double* total);

}  // namespace etna::cuda_backend
