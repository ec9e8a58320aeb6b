// DistributedDataParallel: data-parallel training of one model replica per rank (PyTorch's
// nn.parallel.DistributedDataParallel). Parameters and buffers start equal (broadcast from
// rank 0); every backward leaves each parameter's gradient averaged over the ranks, so the
// same optimizer step keeps the replicas identical.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "etna/autograd/grad_mode.hpp"
#include "etna/dist/collectives.hpp"
#include "etna/dist/ddp_reducer.hpp"
#include "etna/dist/process_group.hpp"
#include "etna/nn/module.hpp"

namespace etna::dist {

struct DdpOptions {
  // Gradients are all-reduced in buckets of at most this many MiB (a larger parameter gets a
  // bucket of its own): bigger buckets mean fewer, larger messages, smaller ones start sooner.
  double bucket_cap_mb = 25;
  // Re-broadcast rank 0's buffers (BatchNorm running statistics) before every forward in
  // training mode, as PyTorch does; off, each rank keeps its own statistics.
  bool broadcast_buffers = true;
  // The group to reduce over; null = the default group (dist::init()).
  std::shared_ptr<ProcessGroup> group = nullptr;
};

template <class Model>
class DistributedDataParallel;

// While alive, backward passes through the DistributedDataParallel do not communicate: the
// gradients accumulate locally and the next backward outside the guard averages the total
// (PyTorch's `with ddp.no_sync():`).
class NoSyncGuard {
 public:
  NoSyncGuard(NoSyncGuard&& other) noexcept : leave_(std::exchange(other.leave_, nullptr)) {}
  NoSyncGuard(const NoSyncGuard&) = delete;
  NoSyncGuard& operator=(const NoSyncGuard&) = delete;
  NoSyncGuard& operator=(NoSyncGuard&&) = delete;
  ~NoSyncGuard() {
    if (leave_) leave_();
  }

 private:
  template <class Model>
  friend class DistributedDataParallel;
  explicit NoSyncGuard(std::function<void()> leave) : leave_(std::move(leave)) {}
  std::function<void()> leave_;
};

// Wraps `model` (held by reference: it must outlive the wrapper). Its traversal is the
// model's own, under the model's names (no "module." prefix), so optimizers, io::save and
// state dicts see the same parameters and a checkpoint loads into a plain model.
// forward(args...) is model(args...). Parameters with requires_grad = false are not reduced.
template <class Model>
class DistributedDataParallel : public nn::Module<DistributedDataParallel<Model>> {
  using Base = nn::Module<DistributedDataParallel<Model>>;
  using ParamVar = nn::detail::param_var_t<Model>;
  using T = typename ParamVar::value_type;
  using D = typename ParamVar::device_type;

 public:
  explicit DistributedDataParallel(Model& model, DdpOptions options = {})
      : model_(&model), options_(std::move(options)) {
    group_ = options_.group ? options_.group : default_group();
    if (!group_)
      throw dist_error(
          "DistributedDataParallel: no process group; call etna::dist::init() "
          "first or pass DdpOptions::group");
    if (!(options_.bucket_cap_mb > 0))
      throw value_error(
          etna::detail::str("DistributedDataParallel: bucket_cap_mb must be "
                            "positive, got ",
                            options_.bucket_cap_mb));
    Base::train(model.is_training());
    sync_module_states();
    std::vector<std::pair<std::string, Var<T, D>>> trainable;
    for (auto& [name, p] : model.named_parameters())
      if (p.requires_grad()) trainable.emplace_back(name, p);
    if (!trainable.empty())  // a world of 1 too, as PyTorch (the 1-GPU NCCL test relies on it)
      reducer_ = std::make_shared<detail::Reducer<T, D>>(
          std::move(trainable), *group_,
          static_cast<std::int64_t>(options_.bucket_cap_mb * 1024 * 1024));
  }
  // A deep copy would not be registered with the reducer: clone module() instead.
  DistributedDataParallel clone() const = delete;

  template <class... Args>
  auto forward(Args&&... args) {
    if (options_.broadcast_buffers && model_->is_training() && group_->size() > 1 &&
        autograd::recording())
      sync_buffers();
    return (*model_)(std::forward<Args>(args)...);
  }

  Model& module() const { return *model_; }
  ProcessGroup& process_group() const { return *group_; }

  NoSyncGuard no_sync() {
    if (!reducer_) return NoSyncGuard(nullptr);
    reducer_->enter_no_sync();
    return NoSyncGuard([r = reducer_] { r->leave_no_sync(); });
  }
  // Gradient bytes this rank has handed to all-reduce so far (payload, not wire traffic).
  std::int64_t bytes_communicated() const { return reducer_ ? reducer_->bytes_communicated() : 0; }
  // Parameter names per gradient bucket, in the order buckets are reduced.
  std::vector<std::vector<std::string>> bucket_names() const {
    return reducer_ ? reducer_->bucket_names() : std::vector<std::vector<std::string>>{};
  }

  // Train/eval switch the wrapped model too (its own flag, not only its children's).
  DistributedDataParallel& train(bool on = true) {
    model_->train(on);
    Base::train(on);
    return *this;
  }
  DistributedDataParallel& eval() { return train(false); }

  // The model's members, under the model's names.
  auto etna_children() { return model_->etna_children(); }
  static std::string etna_child_name(std::size_t index) { return Model::etna_child_name(index); }
  static std::string etna_type_name() { return "DistributedDataParallel"; }

 private:
  // Rank 0's parameters and buffers everywhere (construction), as PyTorch's
  // _sync_module_states.
  void sync_module_states() {
    if (group_->size() == 1) return;
    NoGradGuard no_grad;
    for (auto& [name, p] : model_->named_parameters()) {
      Tensor<T, D> value = p.value();
      broadcast(value, 0, *group_);
    }
    sync_buffers();
  }
  void sync_buffers() {
    for (auto& [name, b] : model_->named_buffers()) broadcast(b, 0, *group_);
    for (auto& [name, b] : model_->named_index_buffers()) broadcast(b, 0, *group_);
  }

  Model* model_;
  DdpOptions options_;
  std::shared_ptr<ProcessGroup> group_;
  std::shared_ptr<detail::Reducer<T, D>> reducer_;
};

}  // namespace etna::dist
