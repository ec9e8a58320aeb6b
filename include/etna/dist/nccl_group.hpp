// The NCCL process group: collectives on device memory (cuda tensors) between one process per
// GPU, on a CUDA stream of its own that is ordered after etna's stream and before its later work.
// NCCL is the transport (no home-made one); the unique id that joins the ranks travels over any
// host group (normally the MPI world of dist::init()). Compile with nvcc and link -lnccl.
#pragma once

#if !defined(__CUDACC__)
#error "etna/dist/nccl_group.hpp: the NCCL process group is CUDA code: include it from a .cu \
file compiled by nvcc (with <etna/cuda.hpp>) and link -lnccl; CPU-only programs use the MPI \
group of <etna/dist.hpp>"
#endif

#include <cuda_runtime.h>
#include <nccl.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <thread>

#include "etna/cuda.hpp"
#include "etna/dist/process_group.hpp"

#if NCCL_VERSION_CODE < NCCL_VERSION(2, 10, 0)
#error "etna/dist/nccl_group.hpp needs NCCL 2.10 or newer (ncclAvg, ncclCommGetAsyncError)"
#endif

namespace etna::dist {

struct NcclOptions {
  // A collective that has not completed after this long aborts the communicator and throws
  // dist_error (torch.distributed's timeout; same default as dist::InitOptions).
  std::chrono::milliseconds timeout{300000};
};

namespace nccl_detail {

inline void check(ncclResult_t status, const char* call, ncclComm_t comm = nullptr) {
  if (status == ncclSuccess) return;
  const char* last = comm ? ncclGetLastError(comm) : nullptr;
  throw dist_error(etna::detail::str("nccl: ", call, " failed: ", ncclGetErrorString(status),
                                     last && *last ? " (" : "", last ? last : "",
                                     last && *last ? ")" : ""));
}

inline ncclDataType_t datatype(DType t) {
  switch (t) {
    case DType::float32: return ncclFloat32;
    case DType::float64: return ncclFloat64;
    case DType::int32: return ncclInt32;
    case DType::int64: return ncclInt64;
    case DType::boolean: return ncclUint8;
  }
  throw dist_error("nccl: unknown dtype");
}

// Bool buffers reduce as PyTorch's NCCL backend does: sum is a logical or (max), so the bytes
// stay 0/1; an average of booleans has no meaning and is refused.
inline ncclRedOp_t reduction(ReduceOp op, DType t, const char* what) {
  if (t == DType::boolean) {
    if (op == ReduceOp::avg)
      throw dist_error(etna::detail::str("nccl: ", what, ": ReduceOp::avg is not defined for bool "
                                         "tensors (use sum, max or min)"));
    return op == ReduceOp::min ? ncclMin : ncclMax;
  }
  switch (op) {
    case ReduceOp::sum: return ncclSum;
    case ReduceOp::avg: return ncclAvg;  // integers: the sum divided by the size, truncated
    case ReduceOp::max: return ncclMax;
    case ReduceOp::min: return ncclMin;
  }
  throw dist_error("nccl: unknown reduce op");
}

// What the group and its pending Work share, so that a Work may outlive the group object.
struct State {
  int rank = 0, size = 1, device = 0;
  std::chrono::milliseconds timeout{300000};
  ncclComm_t comm = nullptr;
  cudaStream_t stream = nullptr;
  void* scratch = nullptr;  // one int32 on the device, for barrier()
  std::string aborted;      // why the communicator was aborted ("" while usable)

  ~State() {
    // A group destroyed after main returned (a static, the default group) may find the CUDA
    // runtime already unloaded: then the process is ending and the OS reclaims everything.
    if (stream) {
      const cudaError_t alive = cudaStreamQuery(stream);
      if (alive == cudaErrorCudartUnloading || alive == cudaErrorContextIsDestroyed) return;
    }
    // Other errors are ignored: a destructor must not throw.
    if (comm) (void)ncclCommDestroy(comm);
    if (scratch) (void)cudaFree(scratch);
    if (stream) (void)cudaStreamDestroy(stream);
  }

  void abort(const std::string& why) {
    if (comm) (void)ncclCommAbort(comm);
    comm = nullptr;
    aborted = why;
  }

  // Blocks the host until `done` has completed, watching NCCL's asynchronous errors and the
  // timeout: either aborts the communicator (so the kernels of every rank stop instead of
  // hanging) and throws dist_error naming the operation and the rank.
  void wait_for(cudaEvent_t done, const char* op) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (int spins = 0;; ++spins) {
      const cudaError_t status = cudaEventQuery(done);
      if (status == cudaSuccess) return;
      if (status != cudaErrorNotReady) {
        (void)cudaGetLastError();
        abort(cudaGetErrorString(status));
        throw dist_error(etna::detail::str(op, " on rank ", rank, ": CUDA error ",
                                           cudaGetErrorString(status), " (NCCL group aborted)"));
      }
      ncclResult_t async = ncclSuccess;
      if (comm) (void)ncclCommGetAsyncError(comm, &async);
      if (async != ncclSuccess && async != ncclInProgress) {
        const std::string detail = ncclGetLastError(comm);
        abort(ncclGetErrorString(async));
        throw dist_error(etna::detail::str(op, " on rank ", rank, ": NCCL error ",
                                           ncclGetErrorString(async), detail.empty() ? "" : ": ",
                                           detail, " (a peer failed or exited?)"));
      }
      if (std::chrono::steady_clock::now() > deadline) {
        abort("timeout");
        throw dist_error(etna::detail::str(op, " on rank ", rank, ": timed out after ",
                                           timeout.count(), " ms (NCCL group of ", size,
                                           " ranks aborted; did another rank fail or skip the "
                                           "call?)"));
      }
      if (spins > 1000) std::this_thread::sleep_for(std::chrono::microseconds(50));
    }
  }
};

// An NCCL operation in flight: its completion event on the group's stream.
class NcclWork : public WorkImpl {
 public:
  NcclWork(std::shared_ptr<State> state, cudaEvent_t done, const char* op)
      : state_(std::move(state)), done_(done), op_(op) {}
  ~NcclWork() override { (void)cudaEventDestroy(done_); }
  NcclWork(const NcclWork&) = delete;
  NcclWork& operator=(const NcclWork&) = delete;

  bool is_completed() override { return cudaEventQuery(done_) != cudaErrorNotReady; }
  // The host wait detects timeouts and failed peers; the stream wait orders etna's later
  // kernels (and its stream-ordered frees) after the collective.
  void wait() override {
    state_->wait_for(done_, op_);
    ETNA_CUDA_CHECK(cudaStreamWaitEvent(cuda_backend::stream(), done_, 0));
  }

 private:
  std::shared_ptr<State> state_;
  cudaEvent_t done_;
  const char* op_;
};

}  // namespace nccl_detail

class NcclProcessGroup : public ProcessGroup {
 public:
  // Joins the NCCL communicator `id` as `rank` of `size` on GPU `device` (no MPI needed: every
  // rank must get the same id some other way; a world of one makes its own with
  // ncclGetUniqueId). Selects `device` for this process: construct the group before the first
  // cuda tensor, so etna's stream and memory pool live on that GPU.
  NcclProcessGroup(int rank, int size, const ncclUniqueId& id, int device, NcclOptions options = {})
      : state_(std::make_shared<nccl_detail::State>()) {
    if (size < 1 || rank < 0 || rank >= size)
      throw dist_error(etna::detail::str("NcclProcessGroup: rank ", rank, " is not in [0, ", size,
                                         ")"));
    cuda_backend::require_device();  // "no CUDA device is available ..." on a GPU-less machine
    const int devices = cuda::device_count();
    if (device < 0 || device >= devices)
      throw dist_error(etna::detail::str("NcclProcessGroup: device ", device, " does not exist (",
                                         devices, " CUDA devices visible to rank ", rank, ")"));
    auto& s = *state_;
    s.rank = rank;
    s.size = size;
    s.device = device;
    s.timeout = options.timeout;
    ETNA_CUDA_CHECK(cudaSetDevice(device));
    require_etna_stream_on(device);
    ETNA_CUDA_CHECK(cudaStreamCreateWithFlags(&s.stream, cudaStreamNonBlocking));
    ETNA_CUDA_CHECK(cudaMalloc(&s.scratch, sizeof(std::int32_t)));
    ETNA_CUDA_CHECK(cudaMemset(s.scratch, 0, sizeof(std::int32_t)));
    nccl_detail::check(ncclCommInitRank(&s.comm, size, id, rank), "ncclCommInitRank");
  }

  // The usual construction under mpirun: rank 0 makes the unique id, `bootstrap` (a host
  // group, e.g. the MpiProcessGroup of dist::init()) broadcasts it, every rank joins with its
  // own rank and size. Collective over `bootstrap`.
  static std::shared_ptr<NcclProcessGroup> create(ProcessGroup& bootstrap, int device,
                                                  NcclOptions options = {}) {
    static_assert(sizeof(ncclUniqueId) % sizeof(std::int32_t) == 0);
    if (!bootstrap.supports(DeviceKind::cpu))
      throw dist_error("NcclProcessGroup::create: the bootstrap group must carry host memory "
                       "(pass the MPI group of dist::init())");
    ncclUniqueId id;
    std::memset(&id, 0, sizeof id);
    if (bootstrap.rank() == 0) nccl_detail::check(ncclGetUniqueId(&id), "ncclGetUniqueId");
    bootstrap.broadcast(&id, sizeof id / sizeof(std::int32_t), DType::int32, 0, DeviceKind::cpu);
    return std::make_shared<NcclProcessGroup>(bootstrap.rank(), bootstrap.size(), id, device,
                                              options);
  }

  NcclProcessGroup(const NcclProcessGroup&) = delete;
  NcclProcessGroup& operator=(const NcclProcessGroup&) = delete;

  int rank() const override { return state_->rank; }
  int size() const override { return state_->size; }
  std::string backend() const override { return "nccl"; }
  bool supports(DeviceKind kind) const override { return kind == DeviceKind::cuda; }
  int device() const { return state_->device; }
  cudaStream_t stream() const { return state_->stream; }
  ncclComm_t comm() const { return state_->comm; }
  // Aborts the communicator (ncclCommAbort): pending kernels stop, later calls throw.
  void abort() { state_->abort("abort() was called"); }

  // NCCL has no barrier: an all-reduce of one value that the host waits for, as PyTorch does.
  void barrier() override {
    all_reduce(state_->scratch, 1, DType::int32, ReduceOp::sum, DeviceKind::cuda).wait();
  }

  Work all_reduce(void* data, std::int64_t count, DType dtype, ReduceOp op,
                  DeviceKind kind) override {
    const ncclRedOp_t red = nccl_detail::reduction(op, dtype, "all_reduce");
    return launch("all_reduce", kind, count, [&](ncclComm_t comm, cudaStream_t stream) {
      return ncclAllReduce(data, data, static_cast<std::size_t>(count),
                           nccl_detail::datatype(dtype), red, comm, stream);
    });
  }

  void broadcast(void* data, std::int64_t count, DType dtype, int root,
                 DeviceKind kind) override {
    if (root < 0 || root >= size())
      throw dist_error(etna::detail::str("broadcast on rank ", rank(), ": root ", root,
                                         " is not a rank of this group of ", size()));
    launch("broadcast", kind, count, [&](ncclComm_t comm, cudaStream_t stream) {
      return ncclBroadcast(data, data, static_cast<std::size_t>(count),
                           nccl_detail::datatype(dtype), root, comm, stream);
    }).wait();
  }

  void all_gather(const void* in, void* out, std::int64_t count, DType dtype,
                  DeviceKind kind) override {
    launch("all_gather", kind, count, [&](ncclComm_t comm, cudaStream_t stream) {
      return ncclAllGather(in, out, static_cast<std::size_t>(count), nccl_detail::datatype(dtype),
                           comm, stream);
    }).wait();
  }

  void reduce_scatter(const void* in, void* out, std::int64_t count_per_rank, DType dtype,
                      ReduceOp op, DeviceKind kind) override {
    const ncclRedOp_t red = nccl_detail::reduction(op, dtype, "reduce_scatter");
    launch("reduce_scatter", kind, count_per_rank, [&](ncclComm_t comm, cudaStream_t stream) {
      return ncclReduceScatter(in, out, static_cast<std::size_t>(count_per_rank),
                               nccl_detail::datatype(dtype), red, comm, stream);
    }).wait();
  }

 private:
  // etna queues every kernel on one stream, created on the device current at its first use: a
  // group on another GPU would make NCCL and etna's kernels disagree about where memory lives.
  static void require_etna_stream_on(int device) {
#if CUDART_VERSION >= 12080
    int stream_device = device;
    ETNA_CUDA_CHECK(cudaStreamGetDevice(cuda_backend::stream(), &stream_device));
    if (stream_device != device)
      throw dist_error(etna::detail::str(
          "NcclProcessGroup: etna's CUDA stream already lives on device ", stream_device,
          ", not on device ", device, ": create the group (or call cudaSetDevice(local rank)) "
          "before the first cuda tensor of the process"));
#else
    (void)cuda_backend::stream();
    (void)device;
#endif
  }

  // Queues `call` on the group's stream after the work already on etna's stream (which
  // produced the inputs) and returns the Work that waits for it.
  template <class Call>
  Work launch(const char* op, DeviceKind kind, std::int64_t count, Call&& call) {
    auto& s = *state_;
    if (kind != DeviceKind::cuda)
      throw dist_error(etna::detail::str(
          op, " on rank ", s.rank, ": the NCCL group reduces device memory only; got a cpu "
          "buffer (move the tensor to etna::cuda, or use the MPI group for cpu tensors)"));
    if (count < 0)
      throw dist_error(etna::detail::str(op, " on rank ", s.rank, ": negative count ", count));
    if (!s.comm)
      throw dist_error(etna::detail::str(op, " on rank ", s.rank,
                                         ": the NCCL group was aborted (", s.aborted, ")"));
    cuda_backend::require_not_capturing("an NCCL collective");
    ETNA_CUDA_CHECK(cudaSetDevice(s.device));
    cudaEvent_t ready = nullptr, done = nullptr;
    ETNA_CUDA_CHECK(cudaEventCreateWithFlags(&ready, cudaEventDisableTiming));
    ETNA_CUDA_CHECK(cudaEventRecord(ready, cuda_backend::stream()));
    ETNA_CUDA_CHECK(cudaStreamWaitEvent(s.stream, ready, 0));
    ETNA_CUDA_CHECK(cudaEventDestroy(ready));  // released once it completes
    ETNA_CUDA_CHECK(cudaEventCreateWithFlags(&done, cudaEventDisableTiming));
    auto work = std::make_shared<nccl_detail::NcclWork>(state_, done, op);
    if (count > 0) nccl_detail::check(call(s.comm, s.stream), op, s.comm);
    ETNA_CUDA_CHECK(cudaEventRecord(done, s.stream));
    return Work(std::move(work));
  }

  std::shared_ptr<nccl_detail::State> state_;
};

// The GPU for this process when one process runs per GPU: the local rank that the launcher
// exports (Open MPI's OMPI_COMM_WORLD_LOCAL_RANK, MPICH's MPI_LOCALRANKID, torchrun's
// LOCAL_RANK), modulo the number of visible devices; 0 when none is set.
inline int local_device() {
  for (const char* name : {"OMPI_COMM_WORLD_LOCAL_RANK", "MPI_LOCALRANKID", "LOCAL_RANK"}) {
    if (const char* value = std::getenv(name)) {
      const int devices = cuda::device_count();
      return devices > 0 ? std::atoi(value) % devices : 0;
    }
  }
  return 0;
}

}  // namespace etna::dist
