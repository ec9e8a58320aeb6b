// The callback protocol of fit: TrainState (what a callback sees and the stop flag), the
// type-erased model access (WeightSnapshot, ModelHandle), Callback, AnyCallback and History.
#pragma once

#include <concepts>
#include <cstdint>
#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "etna/core/error.hpp"
#include "etna/core/tensor.hpp"
#include "etna/io/module_io.hpp"
#include "etna/nn/module.hpp"
#include "etna/train/logs.hpp"

namespace etna::train {

// Copies of every parameter and buffer of a model, taken at one moment. restore() writes them
// back, in place, into the tensors they were taken from, so optimizers that hold the
// parameters keep working on the restored values.
class WeightSnapshot {
 public:
  WeightSnapshot() = default;
  // Clones net.named_parameters(), named_buffers() and named_index_buffers().
  template <class M>
    requires requires(const M& m) { m.named_parameters(); m.named_buffers(); }
  explicit WeightSnapshot(const M& net) {
    using P = std::remove_cvref_t<decltype(net.named_parameters().front().second.value())>;
    using I = std::remove_cvref_t<decltype(net.named_index_buffers().front().second)>;
    struct Saved {
      std::vector<std::pair<P, P>> values;  // (live tensor, copy)
      std::vector<std::pair<I, I>> indices;
    };
    auto saved = std::make_shared<Saved>();
    for (const auto& [name, p] : net.named_parameters())
      saved->values.emplace_back(p.value(), p.value().clone());
    for (const auto& [name, b] : net.named_buffers()) saved->values.emplace_back(b, b.clone());
    for (const auto& [name, b] : net.named_index_buffers())
      saved->indices.emplace_back(b, b.clone());
    size_ = saved->values.size() + saved->indices.size();
    restore_ = [saved] {
      for (const auto& [live, copy] : saved->values) live.assign(copy);
      for (const auto& [live, copy] : saved->indices) live.assign(copy);
    };
  }
  bool empty() const { return !restore_; }
  std::size_t size() const { return size_; }  // number of tensors saved
  void restore() const {
    if (!restore_) throw value_error("WeightSnapshot::restore: the snapshot is empty");
    restore_();
  }

 private:
  std::function<void()> restore_;
  std::size_t size_ = 0;
};

// The model being trained, seen by callbacks without its type: fit builds one from the net.
class ModelHandle {
 public:
  // A parameter's PyTorch name ("1.weight") and its values on the host as float.
  using NamedHostTensor = std::pair<std::string, Tensor<float, cpu>>;

  ModelHandle() = default;
  template <class M>
    requires requires(const M& m) { WeightSnapshot(m); }
  explicit ModelHandle(M& net)
      : snapshot_([&net] { return WeightSnapshot(net); }),
        parameters_([&net] {
          // A float CPU model's tensors are shared, not copied (to<> is then the identity);
          // others are copied to the host and converted, for callbacks that only read them.
          std::vector<NamedHostTensor> out;
          for (const auto& [name, p] : net.named_parameters())
            out.emplace_back(name, p.value().template to<cpu>().template to<float>());
          return out;
        }) {
    if constexpr (nn::Layer<M>) save_ = [&net](const std::string& path) { io::save(net, path); };
  }
  bool defined() const { return static_cast<bool>(snapshot_); }
  WeightSnapshot snapshot() const {
    if (!snapshot_) throw value_error("ModelHandle::snapshot: no model (TrainState::model unset)");
    return snapshot_();
  }
  // net.named_parameters() as host float tensors, for reading (TensorBoard's weight histograms).
  std::vector<NamedHostTensor> named_parameters() const {
    if (!parameters_)
      throw value_error("ModelHandle::named_parameters: no model (TrainState::model unset)");
    return parameters_();
  }
  // Writes the model's state_dict to `path` with et::io::save (safetensors, PyTorch's names):
  // what ModelCheckpoint does when it has no save function of its own.
  void save(const std::string& path) const {
    if (!snapshot_) throw value_error("ModelHandle::save: no model (TrainState::model unset)");
    if (!save_)
      throw value_error("ModelHandle::save: '" + path + "': the model is not an et::nn module "
                        "(et::io::save needs one); give ModelCheckpoint a .save function");
    save_(path);
  }

 private:
  std::function<WeightSnapshot()> snapshot_;
  std::function<std::vector<NamedHostTensor>()> parameters_;
  std::function<void(const std::string&)> save_;
};

// What fit shares with every callback. A callback ends training by setting stop_training
// (Keras's model.stop_training): fit finishes the current epoch's callbacks and returns.
struct TrainState {
  ModelHandle model = {};
  int epoch = 0;                      // the current epoch, 0-based
  int epochs = 0;                     // the epochs fit was asked for
  std::int64_t steps_per_epoch = 0;   // 0 when the loader has no size
  std::int64_t global_step = 0;       // optimizer steps taken so far
  bool stop_training = false;
  std::ostream* out = nullptr;        // where verbose callbacks print (fit's output stream)
};

// The optional base of a user's callback: every hook, doing nothing, virtual so that a callback
// can also be held as Callback&. Deriving is not required: AnyCallback calls whichever of these
// members a type has, and also accepts the shorter forms without the TrainState argument.
struct Callback {
  virtual ~Callback() = default;
  virtual void on_train_begin(TrainState&) {}
  virtual void on_train_end(TrainState&) {}
  virtual void on_epoch_begin(int /*epoch*/, TrainState&) {}
  // logs may be extended (a value added here reaches the callbacks after this one).
  virtual void on_epoch_end(int /*epoch*/, Logs& /*logs*/, TrainState&) {}
  // batch: 0-based index within the epoch; logs: running loss and metrics of the epoch.
  virtual void on_batch_end(std::int64_t /*batch*/, const Logs& /*logs*/, TrainState&) {}
};

namespace detail {
template <class C>
concept has_train_begin = requires(C& c, TrainState& s) { c.on_train_begin(s); } ||
                          requires(C& c) { c.on_train_begin(); };
template <class C>
concept has_train_end = requires(C& c, TrainState& s) { c.on_train_end(s); } ||
                        requires(C& c) { c.on_train_end(); };
template <class C>
concept has_epoch_begin = requires(C& c, TrainState& s) { c.on_epoch_begin(0, s); } ||
                          requires(C& c) { c.on_epoch_begin(0); };
template <class C>
concept has_epoch_end = requires(C& c, Logs& l, TrainState& s) { c.on_epoch_end(0, l, s); } ||
                        requires(C& c, Logs& l) { c.on_epoch_end(0, l); };
template <class C>
concept has_batch_end =
    requires(C& c, const Logs& l, TrainState& s) { c.on_batch_end(std::int64_t{0}, l, s); } ||
    requires(C& c, const Logs& l) { c.on_batch_end(std::int64_t{0}, l); };
template <class C>
struct unwrap_ref {
  using type = C;
};
template <class C>
struct unwrap_ref<std::reference_wrapper<C>> {
  using type = C;
};
}  // namespace detail

// A callback: a type with at least one of Callback's hooks (with or without the TrainState
// argument). std::ref(cb) passes a callback by reference, to read its state after fit.
// (A plain expression, not an immediately invoked lambda: nvcc's front end does not evaluate a
// lambda in a concept's definition reliably.)
template <class C>
using callback_target_t = typename detail::unwrap_ref<std::remove_cvref_t<C>>::type;
template <class C>
concept CallbackType =
    detail::has_train_begin<callback_target_t<C>> || detail::has_train_end<callback_target_t<C>> ||
    detail::has_epoch_begin<callback_target_t<C>> || detail::has_epoch_end<callback_target_t<C>> ||
    detail::has_batch_end<callback_target_t<C>>;

// Any callback as one value type, so that FitOptions::callbacks is a plain vector built from a
// braced list of different callback types. The callback is moved into shared storage once:
// copies of an AnyCallback share it (one state), and std::ref(cb) refers to the caller's cb.
class AnyCallback {
 public:
  template <CallbackType C>
    requires(!std::same_as<std::remove_cvref_t<C>, AnyCallback>)
  AnyCallback(C&& callback)  // NOLINT: implicit, for braced lists of callbacks
      : self_(std::make_shared<Model<std::remove_cvref_t<C>>>(std::forward<C>(callback))) {}

  void on_train_begin(TrainState& s) const { self_->train_begin(s); }
  void on_train_end(TrainState& s) const { self_->train_end(s); }
  void on_epoch_begin(int epoch, TrainState& s) const { self_->epoch_begin(epoch, s); }
  void on_epoch_end(int epoch, Logs& logs, TrainState& s) const {
    self_->epoch_end(epoch, logs, s);
  }
  void on_batch_end(std::int64_t batch, const Logs& logs, TrainState& s) const {
    self_->batch_end(batch, logs, s);
  }

 private:
  struct Concept {
    virtual ~Concept() = default;
    virtual void train_begin(TrainState&) = 0;
    virtual void train_end(TrainState&) = 0;
    virtual void epoch_begin(int, TrainState&) = 0;
    virtual void epoch_end(int, Logs&, TrainState&) = 0;
    virtual void batch_end(std::int64_t, const Logs&, TrainState&) = 0;
  };
  template <class C>
  struct Model final : Concept {
    template <class A>
    explicit Model(A&& c) : held(std::forward<A>(c)) {}
    auto& get() {
      if constexpr (std::is_same_v<typename detail::unwrap_ref<C>::type, C>) return held;
      else return held.get();
    }
    void train_begin(TrainState& s) override {
      auto& c = get();
      if constexpr (requires { c.on_train_begin(s); }) c.on_train_begin(s);
      else if constexpr (requires { c.on_train_begin(); }) c.on_train_begin();
    }
    void train_end(TrainState& s) override {
      auto& c = get();
      if constexpr (requires { c.on_train_end(s); }) c.on_train_end(s);
      else if constexpr (requires { c.on_train_end(); }) c.on_train_end();
    }
    void epoch_begin(int epoch, TrainState& s) override {
      auto& c = get();
      if constexpr (requires { c.on_epoch_begin(epoch, s); }) c.on_epoch_begin(epoch, s);
      else if constexpr (requires { c.on_epoch_begin(epoch); }) c.on_epoch_begin(epoch);
    }
    void epoch_end(int epoch, Logs& logs, TrainState& s) override {
      auto& c = get();
      if constexpr (requires { c.on_epoch_end(epoch, logs, s); }) c.on_epoch_end(epoch, logs, s);
      else if constexpr (requires { c.on_epoch_end(epoch, logs); }) c.on_epoch_end(epoch, logs);
    }
    void batch_end(std::int64_t batch, const Logs& logs, TrainState& s) override {
      auto& c = get();
      if constexpr (requires { c.on_batch_end(batch, logs, s); }) c.on_batch_end(batch, logs, s);
      else if constexpr (requires { c.on_batch_end(batch, logs); }) c.on_batch_end(batch, logs);
    }
    C held;
  };
  std::shared_ptr<Concept> self_;
};

// Every epoch's logs, in order (Keras's History; fit returns one).
class History {
 public:
  void on_train_begin() { epochs_.clear(); }
  void on_epoch_end(int /*epoch*/, const Logs& logs) { epochs_.push_back(logs); }

  const std::vector<Logs>& epochs() const { return epochs_; }
  std::size_t size() const { return epochs_.size(); }
  bool empty() const { return epochs_.empty(); }
  const Logs& operator[](std::size_t epoch) const { return epochs_.at(epoch); }
  const Logs& back() const {
    if (epochs_.empty()) throw value_error("History::back: no epoch recorded");
    return epochs_.back();
  }
  // One metric over the epochs (Keras's history.history["loss"]); epochs lacking it are skipped.
  std::vector<double> values(const std::string& key) const {
    std::vector<double> out;
    for (const auto& logs : epochs_)
      if (auto it = logs.find(key); it != logs.end()) out.push_back(it->second);
    return out;
  }

 private:
  std::vector<Logs> epochs_;
};

}  // namespace etna::train
