// torch.distributed's collectives on etna tensors (all_reduce, broadcast, all_gather,
// reduce_scatter, all_reduce_async), over any ProcessGroup (the default one unless given).
// A cuda tensor goes straight to a backend that takes device memory (NCCL) and is staged
// through the host for one that does not (MPI). No <mpi.h> here.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "etna/core/tensor.hpp"
#include "etna/dist/process_group.hpp"

namespace etna::dist {

namespace detail {

// What the backend is handed for tensor t: t itself when it is contiguous and the backend takes
// its device's memory, else a contiguous copy (on the host when the backend only takes host
// memory); write_back() puts the result into t.
template <class T, class D>
struct Staged {
  using Host = Tensor<T, cpu>;
  Tensor<T, D> target;
  Tensor<T, D> same_device;  // used when the backend takes D's memory
  Host host;                 // used when D is cuda and the backend does not take it
  bool on_host = false;

  Staged(const Tensor<T, D>& t, const ProcessGroup& group, std::string_view op) : target(t) {
    constexpr DeviceKind kind = device_kind_of<D>();
    if (group.supports(kind)) {
      same_device = t.contiguous();
    } else if (kind == DeviceKind::cuda && group.supports(DeviceKind::cpu)) {
      host = t.template to<cpu>().contiguous();
      on_host = true;
    } else {
      throw dist_error(etna::detail::str("dist::", op, ": the ", group.backend(),
                                         " process group does not take ", to_string(kind),
                                         " tensors (move the tensor to a device it supports)"));
    }
  }
  void* data() { return on_host ? static_cast<void*>(host.data()) : same_device.data(); }
  DeviceKind kind() const { return on_host ? DeviceKind::cpu : device_kind_of<D>(); }
  void write_back() {
    if (on_host) {
      if constexpr (std::is_same_v<D, cpu>)
        target.assign(host);
      else
        target.assign(host.template to<D>());
    } else if (same_device.data() != target.data()) {
      target.assign(same_device);
    }
  }
};

// A new contiguous tensor of `shape` for results, where the backend wants it.
template <class T, class D>
struct StagedOut {
  Tensor<T, D> device;
  Tensor<T, cpu> host;
  bool on_host;
  StagedOut(const Shape& shape, bool on_host_) : on_host(on_host_) {
    if (on_host)
      host = Tensor<T, cpu>::allocate(shape);
    else
      device = Tensor<T, D>::allocate(shape);
  }
  void* data() { return on_host ? static_cast<void*>(host.data()) : device.data(); }
  Tensor<T, D> result() const {
    if (!on_host) return device;
    if constexpr (std::is_same_v<D, cpu>)
      return host;
    else
      return host.template to<D>();
  }
};

// Finishes an all_reduce_async that went through a copy: waits, then writes the copy back.
template <class T, class D>
struct StagedWork : WorkImpl {
  Work inner;
  Staged<T, D> staged;
  StagedWork(Work w, Staged<T, D> s) : inner(std::move(w)), staged(std::move(s)) {}
  bool is_completed() override { return inner.is_completed(); }
  void wait() override {
    inner.wait();
    staged.write_back();
  }
};

inline Shape with_first_dim(const Shape& shape, std::int64_t first) {
  Shape out = shape;
  out[0] = first;
  return out;
}

}  // namespace detail

// Starts reducing t across the group in place (PyTorch's all_reduce(t, async_op=True)): t holds
// the result once the returned Work's wait() has returned. t must stay alive until then.
template <class T, class D>
Work all_reduce_async(Tensor<T, D>& t, ReduceOp op = ReduceOp::sum,
                      ProcessGroup& group = require_default_group("all_reduce_async")) {
  detail::Staged<T, D> staged(t, group, "all_reduce_async");
  Work work = group.all_reduce(staged.data(), t.numel(), dtype_of<T>(), op, staged.kind());
  const bool direct = !staged.on_host && staged.same_device.data() == t.data();
  if (direct) return work;
  return Work(std::make_shared<detail::StagedWork<T, D>>(std::move(work), std::move(staged)));
}

// Reduces t across the group in place: every rank ends with the sum (avg, max, min).
template <class T, class D>
void all_reduce(Tensor<T, D>& t, ReduceOp op = ReduceOp::sum,
                ProcessGroup& group = require_default_group("all_reduce")) {
  all_reduce_async(t, op, group).wait();
}

// Copies root's t into t on every rank (t must have the same shape everywhere).
template <class T, class D>
void broadcast(Tensor<T, D>& t, int root = 0,
               ProcessGroup& group = require_default_group("broadcast")) {
  if (root < 0 || root >= group.size())
    throw value_error(etna::detail::str("dist::broadcast: root ", root,
                                        " is out of range for a group of ", group.size()));
  detail::Staged<T, D> staged(t, group, "broadcast");
  group.broadcast(staged.data(), t.numel(), dtype_of<T>(), root, staged.kind());
  staged.write_back();
}

// Every rank's t, concatenated along dim 0 in rank order (t has the same shape on every rank;
// a 0-d tensor gives a 1-d result).
template <class T, class D>
Tensor<T, D> all_gather_into(const Tensor<T, D>& t,
                             ProcessGroup& group = require_default_group("all_gather")) {
  detail::Staged<T, D> staged(t, group, "all_gather");
  const Shape one = t.dim() == 0 ? Shape({1}) : t.shape();
  detail::StagedOut<T, D> out(detail::with_first_dim(one, one[0] * group.size()), staged.on_host);
  group.all_gather(staged.data(), out.data(), t.numel(), dtype_of<T>(), staged.kind());
  return out.result();
}

// Every rank's t as world_size tensors, rank r's at index r (PyTorch's all_gather list).
template <class T, class D>
std::vector<Tensor<T, D>> all_gather(const Tensor<T, D>& t,
                                     ProcessGroup& group = require_default_group("all_gather")) {
  const Tensor<T, D> all = all_gather_into(t, group);
  std::vector<Tensor<T, D>> out;
  const std::int64_t rows = t.dim() == 0 ? 1 : t.size(0);
  for (int r = 0; r < group.size(); ++r)
    out.push_back(all.narrow(0, r * rows, rows).view(t.shape()));
  return out;
}

// Splits t along dim 0 into world_size equal chunks and gives rank r the reduction of every
// rank's r-th chunk (PyTorch's reduce_scatter_tensor): shape [t.size(0) / world, ...].
template <class T, class D>
Tensor<T, D> reduce_scatter(const Tensor<T, D>& t, ReduceOp op = ReduceOp::sum,
                            ProcessGroup& group = require_default_group("reduce_scatter")) {
  if (t.dim() == 0 || t.size(0) % group.size() != 0)
    throw shape_error(etna::detail::str("dist::reduce_scatter: dim 0 of shape ", t.shape(),
                                        " must be a multiple of the world size ", group.size()));
  detail::Staged<T, D> staged(t, group, "reduce_scatter");
  const Shape out_shape = detail::with_first_dim(t.shape(), t.size(0) / group.size());
  detail::StagedOut<T, D> out(out_shape, staged.on_host);
  group.reduce_scatter(staged.data(), out.data(), out_shape.numel(), dtype_of<T>(), op,
                       staged.kind());
  return out.result();
}

// Waits until every rank of the group has reached this call.
inline void barrier(ProcessGroup& group = require_default_group("barrier")) { group.barrier(); }

}  // namespace etna::dist
