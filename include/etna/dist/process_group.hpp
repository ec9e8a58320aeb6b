// The interface every communication backend implements (MPI on host memory, NCCL on the GPU),
// the handle of an asynchronous collective (Work), and the process-wide default group.
// Deliberately free of <mpi.h> and <nccl.h>: DistributedDataParallel and the NCCL group are
// written against this header alone, so they compile without MPI.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "etna/core/device.hpp"
#include "etna/core/dtype.hpp"
#include "etna/core/error.hpp"

namespace etna::dist {

// Timeouts, failed peers, a collective that never completes: always a dist_error whose message
// names the operation and the rank ("all_reduce on rank 1: timed out after 300000 ms").
struct dist_error : etna::error {
  using etna::error::error;
};

// torch.distributed.ReduceOp's SUM / AVG / MAX / MIN.
enum class ReduceOp { sum, avg, max, min };

// Element type of the buffer handed to a ProcessGroup (the interface is type-erased so that a
// backend is one class, not a template; each backend maps DType to its own datatype enum).
enum class DType { float32, float64, int32, int64, boolean };

// Where the buffer handed to a ProcessGroup lives.
enum class DeviceKind { cpu, cuda };

template <Scalar T>
constexpr DType dtype_of() {
  if constexpr (std::is_same_v<T, float>)
    return DType::float32;
  else if constexpr (std::is_same_v<T, double>)
    return DType::float64;
  else if constexpr (std::is_same_v<T, std::int32_t>)
    return DType::int32;
  else if constexpr (std::is_same_v<T, std::int64_t>)
    return DType::int64;
  else
    return DType::boolean;
}

constexpr std::size_t dtype_size(DType t) {
  switch (t) {
    case DType::float32:
      return sizeof(float);
    case DType::float64:
      return sizeof(double);
    case DType::int32:
      return sizeof(std::int32_t);
    case DType::int64:
      return sizeof(std::int64_t);
    case DType::boolean:
      return sizeof(bool);
  }
  return 0;
}

constexpr std::string_view to_string(DType t) {
  switch (t) {
    case DType::float32:
      return "float32";
    case DType::float64:
      return "float64";
    case DType::int32:
      return "int32";
    case DType::int64:
      return "int64";
    case DType::boolean:
      return "bool";
  }
  return "?";
}

constexpr std::string_view to_string(ReduceOp op) {
  switch (op) {
    case ReduceOp::sum:
      return "sum";
    case ReduceOp::avg:
      return "avg";
    case ReduceOp::max:
      return "max";
    case ReduceOp::min:
      return "min";
  }
  return "?";
}

template <Device D>
constexpr DeviceKind device_kind_of() {
  if constexpr (std::is_same_v<D, cpu>)
    return DeviceKind::cpu;
  else
    return DeviceKind::cuda;
}

constexpr std::string_view to_string(DeviceKind k) { return k == DeviceKind::cpu ? "cpu" : "cuda"; }

// What a backend's asynchronous operation implements (an MPI request, a CUDA event...).
// wait() must throw dist_error when the operation cannot finish within the group's timeout.
struct WorkImpl {
  virtual ~WorkImpl() = default;
  virtual bool is_completed() = 0;
  virtual void wait() = 0;
};

// Handle of an asynchronous collective (torch.distributed's Work). A default-constructed Work
// is already complete. wait() blocks until the result is in the caller's buffer (for NCCL:
// until the result is ordered before etna's stream); it may be called more than once.
class Work {
 public:
  Work() = default;
  explicit Work(std::shared_ptr<WorkImpl> impl) : impl_(std::move(impl)) {}

  void wait() {
    if (!impl_) return;
    auto impl = std::move(impl_);  // a second wait() (or one after a throw) returns at once
    impl->wait();
  }
  bool is_completed() {
    if (!impl_) return true;
    if (!impl_->is_completed()) return false;
    wait();  // finish the post-processing (avg division, copy back) exactly once
    return true;
  }

 private:
  std::shared_ptr<WorkImpl> impl_;
};

// A set of processes that communicate (torch.distributed.ProcessGroup). All calls are
// collective: every rank of the group must make the same calls in the same order with the
// same count and dtype. Pointers are host memory for DeviceKind::cpu and device memory for
// DeviceKind::cuda; a backend accepts the kinds supports() says (the free functions in
// dist/collectives.hpp stage cuda tensors through the host for a host-only backend).
// In-place where PyTorch is: all_reduce and broadcast overwrite `data`.
class ProcessGroup {
 public:
  virtual ~ProcessGroup() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  virtual std::string backend() const = 0;  // "mpi", "nccl"
  virtual bool supports(DeviceKind kind) const { return kind == DeviceKind::cpu; }

  virtual void barrier() = 0;
  // Starts an in-place all-reduce of count elements; the result is in `data` after wait().
  virtual Work all_reduce(void* data, std::int64_t count, DType dtype, ReduceOp op,
                          DeviceKind kind) = 0;
  virtual void broadcast(void* data, std::int64_t count, DType dtype, int root,
                         DeviceKind kind) = 0;
  // out holds size() * count elements: rank r's `in` lands at out + r * count.
  virtual void all_gather(const void* in, void* out, std::int64_t count, DType dtype,
                          DeviceKind kind) = 0;
  // in holds size() * count_per_rank elements; rank r receives the reduction of every rank's
  // r-th chunk in out (count_per_rank elements).
  virtual void reduce_scatter(const void* in, void* out, std::int64_t count_per_rank, DType dtype,
                              ReduceOp op, DeviceKind kind) = 0;
};

namespace detail {
inline std::shared_ptr<ProcessGroup>& default_group_slot() {
  static std::shared_ptr<ProcessGroup> group;
  return group;
}
}  // namespace detail

// The group the free functions use when none is given: set by dist::init() (an MPI world
// group); replace it with e.g. an NcclProcessGroup to run the collectives on the GPU.
// Null before init().
inline std::shared_ptr<ProcessGroup> default_group() { return detail::default_group_slot(); }
inline void set_default_group(std::shared_ptr<ProcessGroup> group) {
  detail::default_group_slot() = std::move(group);
}

// The default group, or a readable error when init() was not called.
inline ProcessGroup& require_default_group(std::string_view op) {
  auto& g = detail::default_group_slot();
  if (!g)
    throw dist_error(
        etna::detail::str("dist::", op, ": no process group; call etna::dist::init() first"));
  return *g;
}

// Rank and size of the default group; 0 and 1 before init() (a single process is a world of
// one, so code written for several ranks runs unchanged in a plain process).
inline int rank() {
  auto& g = detail::default_group_slot();
  return g ? g->rank() : 0;
}
inline int world_size() {
  auto& g = detail::default_group_slot();
  return g ? g->size() : 1;
}
inline bool is_main_process() { return rank() == 0; }

}  // namespace etna::dist
