// The CUDA runtime as etna uses it: one device, one non-blocking stream that every kernel,
// copy and cuBLAS call is queued on (so a whole training step can be captured as a graph),
// errors turned into etna::device_error, and the emulated device used by CI.
//
// Two builds of the same code: with nvcc (__CUDACC__) the backend drives a real GPU; with a
// plain C++ compiler and ETNA_CUDA_EMULATION defined, "device" memory is host memory and every
// kernel runs through Thrust's CPP device system, so the GPU code paths (indexing, functors,
// reductions, autograd sweeps) are exercised and tested on machines without a GPU.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "etna/core/device.hpp"
#include "etna/core/error.hpp"

#if defined(__CUDACC__)
#define ETNA_CUDA_REAL 1
#include <cuda_runtime.h>
#elif defined(ETNA_CUDA_EMULATION)
#define ETNA_CUDA_REAL 0
#else
#error "etna/cuda.hpp: compile this file with nvcc (a .cu file), or define ETNA_CUDA_EMULATION \
to run the CUDA backend on the host for testing"
#endif

namespace etna::cuda_backend {

#if ETNA_CUDA_REAL
// Throws device_error naming the CUDA call and CUDA's own message.
inline void check(cudaError_t status, const char* call) {
  if (status == cudaSuccess) return;
  (void)cudaGetLastError();  // clear the sticky-free error so later calls can proceed
  throw device_error(etna::detail::str("cuda: ", call, " failed: ", cudaGetErrorName(status), " (",
                                       cudaGetErrorString(status), ")"));
}
#define ETNA_CUDA_CHECK(call) ::etna::cuda_backend::check((call), #call)
#endif

// Number of usable devices; 0 when there is no driver or no GPU (never throws).
inline int device_count() {
#if ETNA_CUDA_REAL
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) {
    (void)cudaGetLastError();
    return 0;
  }
  return n;
#else
  return 1;  // the emulated device
#endif
}

// Throws a readable device_error when no GPU can be used; called before the first device work.
inline void require_device() {
#if ETNA_CUDA_REAL
  static const int count = device_count();
  if (count == 0) {
    int n = 0;
    const cudaError_t status = cudaGetDeviceCount(&n);
    (void)cudaGetLastError();
    throw device_error(etna::detail::str(
        "cuda: no CUDA device is available (cudaGetDeviceCount: ", cudaGetErrorString(status),
        "); run on a machine with an NVIDIA GPU and driver, or use etna::cpu tensors"));
  }
#endif
}

#if ETNA_CUDA_REAL
// etna's stream: created once, non-blocking (it does not serialise with the legacy stream).
inline cudaStream_t stream() {
  static const cudaStream_t s = [] {
    require_device();
    cudaStream_t created;
    ETNA_CUDA_CHECK(cudaStreamCreateWithFlags(&created, cudaStreamNonBlocking));
    return created;
  }();
  return s;
}

// Whether etna's stream is being captured into a CUDA graph (no synchronisation allowed then).
inline bool capturing() {
  cudaStreamCaptureStatus status = cudaStreamCaptureStatusNone;
  ETNA_CUDA_CHECK(cudaStreamIsCapturing(stream(), &status));
  return status != cudaStreamCaptureStatusNone;
}

// Reports errors of asynchronous kernel launches at the launch site.
inline void check_launch(const char* kernel) {
  const cudaError_t status = cudaPeekAtLastError();
  if (status != cudaSuccess) {
    (void)cudaGetLastError();
    throw device_error(etna::detail::str("cuda: launching ", kernel, " failed: ",
                                         cudaGetErrorString(status)));
  }
}
#endif

#if !ETNA_CUDA_REAL
// The emulated graph is the captured body itself, called again by each replay (graph.hpp). The
// replay raises this flag, so the body's host code sees what it sees while a real GPU captures
// it: capturing() is true, and copies between host and device fail as they would there. An
// emulated test of a captured step thus catches a step that a GPU could not capture.
inline bool& emulated_capture_flag() {
  thread_local bool flag = false;
  return flag;
}
inline bool capturing() { return emulated_capture_flag(); }
#endif

// Fails with a clear message instead of CUDA's "operation not permitted when stream is capturing".
inline void require_not_capturing(const char* what) {
  if (capturing())
    throw device_error(etna::detail::str(
        "cuda: ", what, " waits for the GPU, which is not allowed while a CUDA graph is being "
        "captured; read results (item(), to<cpu>()) after capture, or after g.replay()"));
}

inline void synchronize() {
  require_not_capturing("synchronize()");
#if ETNA_CUDA_REAL
  ETNA_CUDA_CHECK(cudaStreamSynchronize(stream()));
#endif
}

inline std::atomic<bool>& allow_tf32_flag() {
  static std::atomic<bool> flag{false};
  return flag;
}

}  // namespace etna::cuda_backend

namespace etna {

template <>
struct backend_available<cuda> : std::true_type {};

inline bool cuda::is_available() { return cuda_backend::device_count() > 0; }
inline int cuda::device_count() { return cuda_backend::device_count(); }
inline void cuda::synchronize() { cuda_backend::synchronize(); }
inline void cuda::set_allow_tf32(bool allow) { cuda_backend::allow_tf32_flag() = allow; }
inline bool cuda::allow_tf32() { return cuda_backend::allow_tf32_flag(); }

}  // namespace etna
