// Static-graph mode on the GPU: capture everything a callable queues on etna's stream (kernels,
// cuBLAS calls, stream-ordered allocations) into a CUDA graph, then replay it with one launch.
//
//   step();                                             // once eagerly: warms caches, handles
//   et::cuda::Graph g = et::cuda::capture([&] { step(); });
//   for (...) { copy the next batch into the captured input tensors; g.replay(); }
//
// A replay repeats the captured work on the same device addresses: inputs are refreshed in place
// (x.assign(next)), parameters are updated in place by the optimizer, host-side values (the
// learning rate, Python-style control flow) are frozen at capture time. Nothing in the body may
// wait for the GPU (item(), to<cpu>()): that raises a device_error naming the call.
#pragma once

#include <functional>
#include <utility>

#include "etna/backend/cuda/runtime.hpp"

namespace etna {

class cuda::Graph {
 public:
  Graph() = default;
  Graph(const Graph&) = delete;
  Graph& operator=(const Graph&) = delete;
  Graph(Graph&& o) noexcept { swap(o); }
  Graph& operator=(Graph&& o) noexcept {
    Graph tmp(std::move(o));
    swap(tmp);
    return *this;
  }
  ~Graph() { reset(); }

  bool empty() const {
#if ETNA_CUDA_REAL
    return exec_ == nullptr;
#else
    return !body_;
#endif
  }

  // Queues the captured work on etna's stream (asynchronous, like any kernel launch).
  void replay() const {
    if (empty()) throw value_error("cuda::Graph::replay: the graph is empty (capture one first)");
#if ETNA_CUDA_REAL
    ETNA_CUDA_CHECK(cudaGraphLaunch(exec_, cuda_backend::stream()));
#else
    struct Raise {  // the body runs as it would during a real capture (runtime.hpp)
      bool previous = cuda_backend::emulated_capture_flag();
      Raise() { cuda_backend::emulated_capture_flag() = true; }
      ~Raise() { cuda_backend::emulated_capture_flag() = previous; }
    } raise;
    body_();
#endif
  }

 private:
  friend struct etna::cuda;  // cuda::capture fills in a captured graph

  void reset() noexcept {
#if ETNA_CUDA_REAL
    if (exec_) (void)cudaGraphExecDestroy(exec_);
    if (graph_) (void)cudaGraphDestroy(graph_);
    exec_ = nullptr;
    graph_ = nullptr;
#else
    body_ = nullptr;
#endif
  }
  void swap(Graph& o) noexcept {
#if ETNA_CUDA_REAL
    std::swap(graph_, o.graph_);
    std::swap(exec_, o.exec_);
#else
    std::swap(body_, o.body_);
#endif
  }

#if ETNA_CUDA_REAL
  cudaGraph_t graph_ = nullptr;
  cudaGraphExec_t exec_ = nullptr;
#else
  std::function<void()> body_;  // the emulated device replays by calling the body again
#endif
};

template <class F>
cuda::Graph cuda::capture(F&& body) {
  Graph g;
#if ETNA_CUDA_REAL
  const cudaStream_t s = cuda_backend::stream();
  if (cuda_backend::capturing())
    throw value_error("cuda::capture: a capture is already in progress (captures do not nest)");
  ETNA_CUDA_CHECK(cudaStreamBeginCapture(s, cudaStreamCaptureModeThreadLocal));
  try {
    body();
  } catch (...) {
    cudaGraph_t broken = nullptr;
    (void)cudaStreamEndCapture(s, &broken);
    if (broken) (void)cudaGraphDestroy(broken);
    (void)cudaGetLastError();
    throw;
  }
  ETNA_CUDA_CHECK(cudaStreamEndCapture(s, &g.graph_));
  // Allocations the graph makes and that outlive it (tensors the body returns or stores) are
  // freed automatically before the next replay re-creates them at the same addresses.
  ETNA_CUDA_CHECK(cudaGraphInstantiateWithFlags(&g.exec_, g.graph_,
                                                cudaGraphInstantiateFlagAutoFreeOnLaunch));
#else
  // As on a GPU, capturing runs nothing on the device: the emulated graph is the body itself.
  g.body_ = std::function<void()>(std::forward<F>(body));
#endif
  return g;
}

}  // namespace etna
