// MpiProcessGroup: the ProcessGroup on MPI (host memory; collectives.hpp stages cuda tensors
// through the host), and init()/finalize(), which make an MPI world group the default one.
// Every operation is non-blocking underneath and polled against a deadline, so a rank whose
// peer never arrives gets a dist_error instead of hanging. The only etna header with <mpi.h>.
#pragma once

// MPI's C API only: the deprecated C++ bindings do not compile warning-free.
#ifndef OMPI_SKIP_MPICXX
#define OMPI_SKIP_MPICXX 1
#endif
#ifndef MPICH_SKIP_MPICXX
#define MPICH_SKIP_MPICXX 1
#endif
#include <mpi.h>

#include <chrono>
#include <climits>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <thread>

#include "etna/dist/collectives.hpp"
#include "etna/dist/process_group.hpp"

namespace etna::dist {

struct InitOptions {
  // How long any collective may wait for the other ranks before throwing dist_error
  // (torch.distributed's init_process_group(timeout=...)); PyTorch's default is 30 minutes.
  std::chrono::milliseconds timeout{300000};
};

namespace detail {

inline MPI_Datatype mpi_type(DType t) {
  switch (t) {
    case DType::float32:
      return MPI_FLOAT;
    case DType::float64:
      return MPI_DOUBLE;
    case DType::int32:
      return MPI_INT32_T;
    case DType::int64:
      return MPI_INT64_T;
    case DType::boolean:
      return MPI_C_BOOL;
  }
  return MPI_DATATYPE_NULL;
}

// MPI has no average: avg is a sum divided afterwards. bool reduces logically (sum and max =
// or, min = and), as a mask would.
inline MPI_Op mpi_op(ReduceOp op, DType t) {
  if (t == DType::boolean) {
    if (op == ReduceOp::avg) throw value_error("dist: ReduceOp::avg is not defined for bool");
    return op == ReduceOp::min ? MPI_LAND : MPI_LOR;
  }
  switch (op) {
    case ReduceOp::sum:
    case ReduceOp::avg:
      return MPI_SUM;
    case ReduceOp::max:
      return MPI_MAX;
    case ReduceOp::min:
      return MPI_MIN;
  }
  return MPI_OP_NULL;
}

template <class T>
void divide(void* data, std::int64_t count, int by) {
  T* p = static_cast<T*>(data);
  for (std::int64_t i = 0; i < count; ++i) p[i] = static_cast<T>(p[i] / static_cast<T>(by));
}
// Integer averages truncate toward zero, as torch's integer division of a sum would.
inline void divide(void* data, std::int64_t count, DType t, int by) {
  switch (t) {
    case DType::float32:
      divide<float>(data, count, by);
      break;
    case DType::float64:
      divide<double>(data, count, by);
      break;
    case DType::int32:
      divide<std::int32_t>(data, count, by);
      break;
    case DType::int64:
      divide<std::int64_t>(data, count, by);
      break;
    case DType::boolean:
      break;
  }
}

inline std::string mpi_error_text(int code) {
  char text[MPI_MAX_ERROR_STRING];
  int len = 0;
  MPI_Error_string(code, text, &len);
  return std::string(text, static_cast<std::size_t>(len));
}

inline void check_mpi(int code, std::string_view op, int rank) {
  if (code != MPI_SUCCESS)
    throw dist_error(
        etna::detail::str(op, " on rank ", rank, ": MPI error: ", mpi_error_text(code)));
}

inline int mpi_count(std::int64_t count, std::string_view op) {
  if (count < 0 || count > INT_MAX)
    throw value_error(etna::detail::str("dist::", op, ": ", count, " elements; MPI takes at most ",
                                        INT_MAX, " per call"));
  return static_cast<int>(count);
}

// Polls an MPI request until it completes or the deadline passes. Polling (MPI_Test) rather
// than MPI_Wait is what makes the timeout possible: MPI_Wait cannot be interrupted.
inline void wait_request(MPI_Request& request, std::chrono::steady_clock::time_point deadline,
                         std::chrono::milliseconds timeout, std::string_view op, int rank) {
  for (int spins = 0;; ++spins) {
    int done = 0;
    check_mpi(MPI_Test(&request, &done, MPI_STATUS_IGNORE), op, rank);
    if (done) return;
    if (std::chrono::steady_clock::now() > deadline)
      throw dist_error(etna::detail::str(op, " on rank ", rank, ": timed out after ",
                                         timeout.count(),
                                         " ms waiting for the other ranks (a rank failed, "
                                         "stopped, or called a different collective)"));
    if (spins > 64) std::this_thread::yield();  // let an oversubscribed peer run
  }
}

// An MPI_Iallreduce in flight; avg divides once the sum has arrived.
struct MpiWork : WorkImpl {
  MPI_Request request = MPI_REQUEST_NULL;
  std::chrono::steady_clock::time_point deadline;
  std::chrono::milliseconds timeout;
  int rank = 0, size = 1;
  void* data = nullptr;
  std::int64_t count = 0;
  DType dtype = DType::float32;
  bool average = false;
  bool finished = false;

  bool is_completed() override {
    if (finished) return true;
    int done = 0;
    check_mpi(MPI_Test(&request, &done, MPI_STATUS_IGNORE), "all_reduce", rank);
    if (done) finish();
    return done != 0;
  }
  void wait() override {
    if (finished) return;
    wait_request(request, deadline, timeout, "all_reduce", rank);
    finish();
  }
  void finish() {
    finished = true;
    if (average) divide(data, count, dtype, size);
  }
  // An abandoned request (wait() never called, or it timed out) is left alone: MPI forbids
  // freeing or cancelling a nonblocking collective's request.
};

}  // namespace detail

// A process group over an MPI communicator (a private duplicate of `comm`, so etna's traffic
// never matches a user's own MPI calls). Errors come back as dist_error, not MPI aborts.
class MpiProcessGroup : public ProcessGroup {
 public:
  explicit MpiProcessGroup(MPI_Comm comm = MPI_COMM_WORLD,
                           std::chrono::milliseconds timeout = InitOptions{}.timeout)
      : timeout_(timeout) {
    int initialized = 0;
    MPI_Initialized(&initialized);
    if (!initialized)
      throw dist_error("MpiProcessGroup: MPI is not initialized (call etna::dist::init())");
    detail::check_mpi(MPI_Comm_dup(comm, &comm_), "MPI_Comm_dup", -1);
    MPI_Comm_set_errhandler(comm_, MPI_ERRORS_RETURN);
    MPI_Comm_rank(comm_, &rank_);
    MPI_Comm_size(comm_, &size_);
  }
  MpiProcessGroup(const MpiProcessGroup&) = delete;
  MpiProcessGroup& operator=(const MpiProcessGroup&) = delete;
  ~MpiProcessGroup() override {
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (!finalized && comm_ != MPI_COMM_NULL) MPI_Comm_free(&comm_);
  }

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  std::string backend() const override { return "mpi"; }
  MPI_Comm comm() const { return comm_; }
  std::chrono::milliseconds timeout() const { return timeout_; }
  void set_timeout(std::chrono::milliseconds timeout) { timeout_ = timeout; }

  void barrier() override {
    MPI_Request request;
    check(MPI_Ibarrier(comm_, &request), "barrier");
    wait(request, "barrier");
  }

  Work all_reduce(void* data, std::int64_t count, DType dtype, ReduceOp op,
                  DeviceKind kind) override {
    host_only(kind, "all_reduce");
    auto work = std::make_shared<detail::MpiWork>();
    work->deadline = std::chrono::steady_clock::now() + timeout_;
    work->timeout = timeout_;
    work->rank = rank_;
    work->size = size_;
    work->data = data;
    work->count = count;
    work->dtype = dtype;
    work->average = op == ReduceOp::avg;
    check(MPI_Iallreduce(MPI_IN_PLACE, data, detail::mpi_count(count, "all_reduce"),
                         detail::mpi_type(dtype), detail::mpi_op(op, dtype), comm_, &work->request),
          "all_reduce");
    return Work(std::move(work));
  }

  void broadcast(void* data, std::int64_t count, DType dtype, int root, DeviceKind kind) override {
    host_only(kind, "broadcast");
    MPI_Request request;
    check(MPI_Ibcast(data, detail::mpi_count(count, "broadcast"), detail::mpi_type(dtype), root,
                     comm_, &request),
          "broadcast");
    wait(request, "broadcast");
  }

  void all_gather(const void* in, void* out, std::int64_t count, DType dtype,
                  DeviceKind kind) override {
    host_only(kind, "all_gather");
    const int n = detail::mpi_count(count, "all_gather");
    MPI_Request request;
    check(MPI_Iallgather(in, n, detail::mpi_type(dtype), out, n, detail::mpi_type(dtype), comm_,
                         &request),
          "all_gather");
    wait(request, "all_gather");
  }

  void reduce_scatter(const void* in, void* out, std::int64_t count_per_rank, DType dtype,
                      ReduceOp op, DeviceKind kind) override {
    host_only(kind, "reduce_scatter");
    MPI_Request request;
    check(MPI_Ireduce_scatter_block(in, out, detail::mpi_count(count_per_rank, "reduce_scatter"),
                                    detail::mpi_type(dtype), detail::mpi_op(op, dtype), comm_,
                                    &request),
          "reduce_scatter");
    wait(request, "reduce_scatter");
    if (op == ReduceOp::avg) detail::divide(out, count_per_rank, dtype, size_);
  }

 private:
  void check(int code, std::string_view op) const { detail::check_mpi(code, op, rank_); }
  void wait(MPI_Request& request, std::string_view op) const {
    detail::wait_request(request, std::chrono::steady_clock::now() + timeout_, timeout_, op, rank_);
  }
  void host_only(DeviceKind kind, std::string_view op) const {
    if (kind != DeviceKind::cpu)
      throw dist_error(etna::detail::str(op, " on rank ", rank_,
                                         ": the mpi process group takes host memory only (the "
                                         "etna::dist free functions stage cuda tensors)"));
  }

  MPI_Comm comm_ = MPI_COMM_NULL;
  int rank_ = 0, size_ = 1;
  std::chrono::milliseconds timeout_;
};

namespace detail {
inline bool& etna_initialized_mpi() {
  static bool initialized = false;  // whether init() (not the user) called MPI_Init
  return initialized;
}
inline std::shared_ptr<MpiProcessGroup>& world_slot() {
  static std::shared_ptr<MpiProcessGroup> group;
  return group;
}
}  // namespace detail

// The MPI world group init() made, still there after set_default_group() replaced it (by an
// NcclProcessGroup): host-side collectives such as SyncLogs{.group = dist::world_group()}.
inline std::shared_ptr<MpiProcessGroup> world_group() { return detail::world_slot(); }

// Joins the job mpirun started (rank and size from its environment) or, in a plain process,
// a world of one. Idempotent; the default group becomes an MpiProcessGroup over MPI_COMM_WORLD.
inline void init(InitOptions options = {}) {
  if (detail::world_slot()) return;
  int initialized = 0, finalized = 0;
  MPI_Initialized(&initialized);
  MPI_Finalized(&finalized);
  if (finalized)
    throw dist_error("dist::init: MPI was already finalized (MPI cannot start twice in a process)");
  if (!initialized) {
    int provided = 0;
    // FUNNELED: etna calls MPI from the thread that called init (data loader workers never do).
    const int code = MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided);
    if (code != MPI_SUCCESS)
      throw dist_error("dist::init: MPI_Init_thread failed: " + detail::mpi_error_text(code));
    detail::etna_initialized_mpi() = true;
  }
  detail::world_slot() = std::make_shared<MpiProcessGroup>(MPI_COMM_WORLD, options.timeout);
  set_default_group(detail::world_slot());
}

inline bool is_initialized() { return default_group() != nullptr; }

// Drops the default group and ends MPI if init() started it. Groups still held elsewhere (a
// DistributedDataParallel) become unusable.
inline void finalize() {
  set_default_group(nullptr);
  detail::world_slot() = nullptr;
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (detail::etna_initialized_mpi() && !finalized) MPI_Finalize();
  detail::etna_initialized_mpi() = false;
}

}  // namespace etna::dist
