// Feeding the GPU from a CPU loader: `et::data::to_device<et::cuda>(loader)` walks the loader
// and hands out each batch's tensors on the GPU. Batch k+1 is copied while the GPU computes on
// batch k: its host tensors go through a pinned buffer and an asynchronous copy on a separate
// copy stream, and etna's stream waits for that copy with an event (the host never blocks on
// the GPU for it). `fit(net, opt, loss, gpu_loader, ...)` then trains on the GPU unchanged.
#pragma once

#include <cstring>
#include <iterator>
#include <optional>
#include <tuple>
#include <type_traits>
#include <utility>

#include "etna/backend/cuda/memory.hpp"
#include "etna/data/dataset.hpp"

namespace etna::cuda_backend {

// Uploads host tensors to the GPU on a copy stream through double-buffered pinned memory.
class Uploader {
 public:
#if ETNA_CUDA_REAL
  Uploader() {
    require_device();
    ETNA_CUDA_CHECK(cudaStreamCreateWithFlags(&copy_stream_, cudaStreamNonBlocking));
    for (Slot& s : slots_) {
      ETNA_CUDA_CHECK(cudaEventCreateWithFlags(&s.done, cudaEventDisableTiming));
      ETNA_CUDA_CHECK(cudaEventCreateWithFlags(&s.ready, cudaEventDisableTiming));
    }
    ETNA_CUDA_CHECK(cudaEventCreateWithFlags(&allocated_, cudaEventDisableTiming));
  }
  ~Uploader() {
    (void)cudaStreamSynchronize(copy_stream_);
    for (Slot& s : slots_) {
      if (s.pinned) (void)cudaFreeHost(s.pinned);
      (void)cudaEventDestroy(s.done);
      (void)cudaEventDestroy(s.ready);
    }
    (void)cudaEventDestroy(allocated_);
    (void)cudaStreamDestroy(copy_stream_);
  }
#endif
  Uploader(const Uploader&) = delete;
  Uploader& operator=(const Uploader&) = delete;

  // Queues the copy of one batch (all its tensors share a slot); the returned tensors may be
  // used on etna's stream after wait(slot).
  template <class Batch>
  auto upload(const Batch& batch, int slot) {
#if ETNA_CUDA_REAL
    Slot& s = slots_[slot];
    ETNA_CUDA_CHECK(cudaEventSynchronize(s.done));  // the slot's previous copy has finished
    offset_ = 0;
    reserve(s, bytes_of(batch));
    auto out = map(batch, s);
    ETNA_CUDA_CHECK(cudaEventRecord(s.ready, copy_stream_));
    ETNA_CUDA_CHECK(cudaEventRecord(s.done, copy_stream_));
    return out;
#else
    (void)slot;
    return map(batch);
#endif
  }
  // Makes etna's stream wait for a slot's copy (no host synchronisation).
  void wait(int slot) const {
#if ETNA_CUDA_REAL
    ETNA_CUDA_CHECK(cudaStreamWaitEvent(stream(), slots_[slot].ready, 0));
#else
    (void)slot;
#endif
  }

 private:
#if ETNA_CUDA_REAL
  struct Slot {
    void* pinned = nullptr;
    std::size_t capacity = 0;
    cudaEvent_t done{}, ready{};
  };
  void reserve(Slot& s, std::size_t bytes) {
    if (bytes <= s.capacity) return;
    if (s.pinned) ETNA_CUDA_CHECK(cudaFreeHost(s.pinned));
    s.pinned = nullptr;
    s.capacity = 0;
    ETNA_CUDA_CHECK(cudaMallocHost(&s.pinned, bytes));
    s.capacity = bytes;
  }
  static constexpr std::size_t kAlign = 256;
  template <class T>
  static std::size_t bytes_of(const Tensor<T, cpu>& t) {
    return (static_cast<std::size_t>(t.numel()) * sizeof(T) + kAlign - 1) / kAlign * kAlign;
  }
  template <class B>
  static std::size_t bytes_of(const B& b) {
    if constexpr (requires { b.data; b.target; }) return bytes_of(b.data) + bytes_of(b.target);
    else return std::apply([](const auto&... t) { return (bytes_of(t) + ...); }, b);
  }
  template <class T>
  Tensor<T, cuda> map(const Tensor<T, cpu>& host, Slot& s) {
    const Tensor<T, cpu> src = host.contiguous();
    auto out = Tensor<T, cuda>::allocate(src.shape());
    const std::size_t bytes = static_cast<std::size_t>(src.numel()) * sizeof(T);
    if (bytes == 0) return out;
    // The block comes from etna's stream: the copy stream must not write it before that point.
    ETNA_CUDA_CHECK(cudaEventRecord(allocated_, stream()));
    ETNA_CUDA_CHECK(cudaStreamWaitEvent(copy_stream_, allocated_, 0));
    char* staging = static_cast<char*>(s.pinned) + offset_;
    std::memcpy(staging, src.data(), bytes);
    ETNA_CUDA_CHECK(cudaMemcpyAsync(out.data(), staging, bytes, cudaMemcpyHostToDevice, copy_stream_));
    offset_ += bytes_of(src);
    return out;
  }
  template <class B>
  auto map(const B& b, Slot& s) {
    if constexpr (requires { b.data; b.target; }) {
      auto data = map(b.data, s);
      auto target = map(b.target, s);
      return data::Example<decltype(data), decltype(target)>{std::move(data), std::move(target)};
    } else {
      return std::apply([&](const auto&... t) { return std::make_tuple(map(t, s)...); }, b);
    }
  }
  cudaStream_t copy_stream_{};
  cudaEvent_t allocated_{};
  Slot slots_[2];
  std::size_t offset_ = 0;
#else
 public:
  Uploader() = default;

 private:
  template <class T>
  static Tensor<T, cuda> map(const Tensor<T, cpu>& host) {
    return host.template to<cuda>();
  }
  template <class B>
  static auto map(const B& b) {
    if constexpr (requires { b.data; b.target; }) {
      auto data = map(b.data);
      auto target = map(b.target);
      return data::Example<decltype(data), decltype(target)>{std::move(data), std::move(target)};
    } else {
      return std::apply([](const auto&... t) { return std::make_tuple(map(t)...); }, b);
    }
  }
#endif
};

}  // namespace etna::cuda_backend

namespace etna::data {

// A loader whose batches are on the GPU (see the top of this file). Holds the CPU loader by
// reference; like it, it may be walked once per epoch.
template <class Loader>
class DeviceLoader {
  using host_batch = std::remove_cvref_t<decltype(*std::begin(std::declval<Loader&>()))>;
  using device_batch =
      decltype(std::declval<cuda_backend::Uploader&>().upload(std::declval<const host_batch&>(), 0));

 public:
  explicit DeviceLoader(Loader& loader) : loader_(&loader) {}
  std::size_t size() const
    requires requires(const Loader& l) { l.size(); }
  {
    return loader_->size();
  }

  class iterator {
   public:
    using value_type = device_batch;
    using difference_type = std::ptrdiff_t;
    iterator() = default;
    iterator(DeviceLoader* owner, bool end) : owner_(owner), end_(end) {
      if (!end_) {
        it_.emplace(std::begin(*owner_->loader_));
        fetch_next();
        advance();
      }
    }
    iterator(const iterator&) = default;
    iterator(iterator&&) = default;
    iterator& operator=(const iterator&) = default;
    iterator& operator=(iterator&&) = default;
    // A prefetched batch still being copied must not be freed before its copy ends: its memory
    // is released in etna's stream order, so that stream waits for the copy first.
    ~iterator() {
      if (next_) owner_->uploader_.wait(next_slot_);
    }
    const device_batch& operator*() const { return *current_; }
    iterator& operator++() {
      advance();
      return *this;
    }
    friend bool operator==(const iterator& a, const iterator& b) { return a.done() == b.done(); }

   private:
    bool done() const { return end_ || !current_; }
    // Queues the copy of the loader's next batch into the other slot.
    void fetch_next() {
      next_.reset();
      if (*it_ == std::end(*owner_->loader_)) return;
      next_slot_ = 1 - next_slot_;
      next_.emplace(owner_->uploader_.upload(**it_, next_slot_));
      ++*it_;
    }
    // The prefetched batch becomes current (etna's stream waits for its copy); the one after
    // it starts copying.
    void advance() {
      current_.reset();
      if (!next_) return;
      owner_->uploader_.wait(next_slot_);
      current_ = std::move(next_);
      fetch_next();
    }
    DeviceLoader* owner_ = nullptr;
    bool end_ = true;
    std::optional<decltype(std::begin(std::declval<Loader&>()))> it_;
    std::optional<device_batch> current_, next_;
    int next_slot_ = 1;
  };

  iterator begin() { return iterator(this, false); }
  iterator end() { return iterator(this, true); }

 private:
  Loader* loader_;
  cuda_backend::Uploader uploader_;
};

// `for (auto& [x, y] : et::data::to_device<et::cuda>(loader))`: batches on the GPU.
template <class D, class Loader>
  requires std::is_same_v<D, cuda>
DeviceLoader<Loader> to_device(Loader& loader) {
  return DeviceLoader<Loader>(loader);
}

}  // namespace etna::data
