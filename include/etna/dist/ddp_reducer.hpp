// The gradient reducer behind DistributedDataParallel (PyTorch's Reducer): parameters grouped
// into size-capped buckets, each bucket flattened into one buffer and all-reduced (averaged)
// asynchronously as soon as all its gradients are complete, while backward goes on.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "etna/autograd/engine.hpp"
#include "etna/autograd/var.hpp"
#include "etna/dist/collectives.hpp"
#include "etna/dist/process_group.hpp"

namespace etna::dist::detail {

// When is a parameter's gradient complete? A parameter used k times in the graph receives k
// contributions per backward (one post_accumulate_hook call each). The reducer learns k per
// parameter on the first synchronised backward (which therefore reduces everything at its
// end) and afterwards launches a bucket when each of its parameters has received its k.
// Buckets launch strictly in index order on every rank, so the MPI/NCCL calls match across
// ranks even when ranks' graphs differ (a parameter unused on one rank only delays its
// bucket to the end of backward, where a missing gradient counts as zeros).
// A gradient arriving after its bucket launched (a parameter used more often than on the
// first backward) sets a flag; the ranks agree on it with one 4-byte all-reduce at the end of
// backward and then reduce every bucket again, so the result stays exact.
template <class T, class D>
class Reducer {
 public:
  Reducer(std::vector<std::pair<std::string, Var<T, D>>> params, ProcessGroup& group,
          std::int64_t bucket_cap_bytes)
      : group_(group) {
    // Reverse registration order: backward produces the last layers' gradients first.
    std::int64_t bucket_bytes = 0;
    for (auto it = params.rbegin(); it != params.rend(); ++it) {
      const std::int64_t bytes = it->second.value().numel() * std::int64_t(sizeof(T));
      if (buckets_.empty() || (bucket_bytes > 0 && bucket_bytes + bytes > bucket_cap_bytes)) {
        buckets_.emplace_back();
        bucket_bytes = 0;
      }
      Bucket& b = buckets_.back();
      params_.push_back({it->first, it->second, static_cast<int>(buckets_.size() - 1), b.numel});
      b.params.push_back(static_cast<int>(params_.size() - 1));
      b.numel += it->second.value().numel();
      bucket_bytes += bytes;
    }
    for (Bucket& b : buckets_) b.buffer = Tensor<T, D>::allocate(Shape({b.numel}));
    for (std::size_t i = 0; i < params_.size(); ++i)
      params_[i].var.impl_ptr()->post_accumulate_hook = [this, i](auto&) { on_gradient(i); };
  }
  Reducer(const Reducer&) = delete;
  Reducer& operator=(const Reducer&) = delete;
  ~Reducer() {
    for (auto& p : params_) p.var.impl_ptr()->post_accumulate_hook = nullptr;
  }

  void enter_no_sync() { ++no_sync_depth_; }
  void leave_no_sync() { --no_sync_depth_; }
  std::int64_t bytes_communicated() const { return bytes_; }
  std::size_t bucket_count() const { return buckets_.size(); }
  // Parameter names per bucket, in launch order (for tests and the docs' explanations).
  std::vector<std::vector<std::string>> bucket_names() const {
    std::vector<std::vector<std::string>> out;
    for (const Bucket& b : buckets_) {
      out.emplace_back();
      for (int i : b.params) out.back().push_back(params_[i].name);
    }
    return out;
  }

 private:
  struct Param {
    std::string name;
    Var<T, D> var;
    int bucket;
    std::int64_t offset;  // in the bucket's buffer
    int expected = 0;     // contributions per backward, learned on the first one
    int count = 0;        // contributions in the backward in progress
  };
  struct Bucket {
    std::vector<int> params;
    std::int64_t numel = 0;
    Tensor<T, D> buffer;
    int pending = 0;  // parameters with expected > 0 still incomplete
    bool launched = false;
    Work work;
  };

  Tensor<T, D> slot(const Param& p) const {
    return buckets_[p.bucket]
        .buffer.narrow(0, p.offset, p.var.value().numel())
        .view(p.var.value().shape());
  }

  void on_gradient(std::size_t i) {
    if (no_sync_depth_ > 0) return;
    if (!finish_queued_) {
      finish_queued_ = true;
      autograd::queue_callback([this] { finish(); });
    }
    Param& p = params_[i];
    ++p.count;
    if (!learned_) return;
    Bucket& b = buckets_[p.bucket];
    if (b.launched) {
      late_ = true;
    } else if (p.count == p.expected && --b.pending == 0) {
      while (next_ < buckets_.size() && buckets_[next_].pending == 0) launch(next_++);
    }
  }

  void launch(std::size_t index) {
    Bucket& b = buckets_[index];
    for (int i : b.params) {
      const Tensor<T, D>& g = params_[i].var.grad();
      if (g.defined())
        slot(params_[i]).assign(g);
      else
        slot(params_[i]).fill(T(0));  // unused on this rank: contributes zeros
    }
    b.work = all_reduce_async(b.buffer, ReduceOp::avg, group_);
    b.launched = true;
    bytes_ += b.numel * std::int64_t(sizeof(T));
  }

  // Runs once the backward has finished (autograd::queue_callback).
  void finish() {
    finish_queued_ = false;
    try {
      while (next_ < buckets_.size()) launch(next_++);
      for (Bucket& b : buckets_) b.work.wait();
      if (learned_) {
        Tensor<std::int32_t, D> flag = Tensor<std::int32_t, D>::allocate(Shape({1}));
        flag.fill(late_ ? 1 : 0);
        all_reduce(flag, ReduceOp::max, group_);
        if (flag.item() != 0) {
          for (std::size_t i = 0; i < buckets_.size(); ++i) {
            launch(i);
            buckets_[i].work.wait();
          }
          learned_ = false;  // learn the new counts below
        }
      }
      for (Param& p : params_) {
        auto& impl = *p.var.impl_ptr();
        // In place only when the gradient is this parameter's own buffer: a leaf's first
        // gradient may share storage with another tensor of the graph (accumulate_into).
        const bool own = impl.grad.defined() && impl.grad.is_contiguous() &&
                         impl.grad.storage().use_count() == 1;
        if (own)
          impl.grad.assign(slot(p));
        else
          impl.grad = slot(p).clone();
      }
      if (!learned_) {
        for (Param& p : params_) p.expected = p.count;
        learned_ = true;
      }
    } catch (...) {
      reset();
      throw;
    }
    reset();
  }

  void reset() {
    for (Param& p : params_) p.count = 0;
    for (Bucket& b : buckets_) {
      b.launched = false;
      b.work = Work();
      b.pending = 0;
      for (int i : b.params) b.pending += params_[i].expected > 0 ? 1 : 0;
    }
    next_ = 0;
    late_ = false;
  }

  ProcessGroup& group_;
  std::vector<Param> params_;
  std::vector<Bucket> buckets_;
  std::size_t next_ = 0;  // the next bucket to launch
  bool learned_ = false;
  bool late_ = false;
  bool finish_queued_ = false;
  int no_sync_depth_ = 0;
  std::int64_t bytes_ = 0;
};

}  // namespace etna::dist::detail
