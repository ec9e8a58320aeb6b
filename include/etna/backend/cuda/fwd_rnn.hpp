// Declarations of the CUDA backend's fused recurrent gate kernels (one launch per time step
// forward and one backward), called by nn/rnn/sequence.hpp and defined in backend/cuda/rnn.hpp.
// They mirror cpu_step_forward / cpu_step_backward (nn/rnn/cpu_gates.hpp) exactly: same
// buffers, same outputs. Pointers are device memory, contiguous rows; optional operands are
// nullptr.
#pragma once

#include <cstdint>

namespace etna::cuda_backend {

// Same order as nn::detail::RecurrentKind (kept separate so the backend needs no nn header).
enum class RnnGates : int { rnn_tanh, rnn_relu, lstm, gru };

// One time step's device views: p [N, G*H] pre-activations (LSTM / GRU overwrite them with the
// activated gates), hp [N, 3H] GRU's recurrent projection (else nullptr), h_prev / h_new
// [N, H], c_prev / c_new [N, H] (LSTM, else nullptr), m [N] validity mask (1 = inside the
// sequence) or nullptr when every row is valid.
template <class T>
struct RnnStep {
  T* p = nullptr;
  const T* hp = nullptr;
  const T* h_prev = nullptr;
  T* h_new = nullptr;
  const T* c_prev = nullptr;
  T* c_new = nullptr;
  const T* m = nullptr;
  std::int64_t N = 0, H = 0;
};

// Gates and new states of one step; a masked-out row copies its previous states.
template <class T>
void rnn_step_forward(RnnGates kind, const RnnStep<T>& s);

// Gradients of one step (the contract of nn::detail::step_backward): gy [N, H] dLoss/doutput
// (nullptr = 0), ds [N, H] in: dLoss/dh_new, out: the direct part of dLoss/dh_prev; dc [N, H]
// (LSTM) in/out likewise for the cell; dp [N, G*H] and dhp [N, 3H] (GRU, else nullptr) out.
// A masked-out row writes zeros to dp / dhp and leaves ds and dc as they are.
template <class T>
void rnn_step_backward(RnnGates kind, const RnnStep<T>& s, const T* gy, T* ds, T* dc, T* dp,
                       T* dhp);

}  // namespace etna::cuda_backend
