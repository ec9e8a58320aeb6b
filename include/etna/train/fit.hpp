// The high-level training loop: fit (epochs of forward / loss / backward / step with metrics,
// validation, callbacks and a progress display), evaluate and predict.
#pragma once

#include <cstdint>
#include <functional>
#include <iostream>
#include <iterator>
#include <ostream>
#include <string>
#include <tuple>
#include <type_traits>
#include <typeinfo>
#include <utility>
#include <vector>

#include "etna/autograd/grad_mode.hpp"
#include "etna/core/error.hpp"
#include "etna/nn/loss.hpp"
#include "etna/ops/join.hpp"
#include "etna/train/callback.hpp"
#include "etna/train/epoch_metrics.hpp"
#include "etna/train/progress.hpp"

namespace etna::train {

// A loader: anything range-for can walk whose elements are batches. A batch is an Example-like
// aggregate with fields `data` (the input) and `target`, or a pair / tuple (input, target).
template <class L>
concept BatchRange = requires(L& l) {
  std::begin(l) != std::end(l);
  *std::begin(l);
};
template <class L>
using batch_t = std::remove_cvref_t<decltype(*std::begin(std::declval<L&>()))>;

namespace detail {
template <class B>
const auto& batch_input(const B& b) {
  if constexpr (requires { b.data; b.target; }) return b.data;
  else return std::get<0>(b);
}
template <class B>
const auto& batch_target(const B& b) {
  if constexpr (requires { b.data; b.target; }) return b.target;
  else return std::get<1>(b);
}
// Batches per epoch, or 0 when the loader cannot tell.
template <class L>
std::int64_t batches_in(L& loader) {
  if constexpr (requires { loader.size(); }) return static_cast<std::int64_t>(loader.size());
  else return 0;
}
// A network's output as a tensor (a Var gives its value).
template <class X>
auto output_tensor(const X& x) {
  if constexpr (requires { x.value(); x.impl_ptr(); }) return x.value();
  else return x;
}
template <class X>
std::int64_t leading_size(const X& x) {
  return x.dim() > 0 ? x.size(0) : 1;
}
// Puts the net back in the mode it had when the scope began.
template <class Net>
struct ModeRestorer {
  Net& net;
  bool training;
  explicit ModeRestorer(Net& n) : net(n), training(n.is_training()) {}
  ~ModeRestorer() { net.train(training); }
  ModeRestorer(const ModeRestorer&) = delete;
  ModeRestorer& operator=(const ModeRestorer&) = delete;
};
// One evaluation batch: forward without recording, loss, metrics.
template <class Net, class LossFn, class B>
void evaluate_batch(Net& net, const LossFn& loss_fn, const B& batch, EpochMetrics& metrics) {
  const auto& x = batch_input(batch);
  const auto& y = batch_target(batch);
  auto out = net(x);
  auto loss = loss_fn(out, y);
  metrics.update(out, y, static_cast<double>(loss.item()), leading_size(y));
}
}  // namespace detail

// The validation loader of FitOptions, held by pointer with its type erased (FitOptions is not a
// template, so `{.val = &val_loader}` works). Its batches must have the training batches' type;
// fit checks that and recovers the type.
class ValidationData {
 public:
  ValidationData() = default;
  ValidationData(std::nullptr_t) {}  // NOLINT: `.val = nullptr`
  template <BatchRange L>
  ValidationData(L* loader)  // NOLINT: implicit, for `.val = &val_loader`
      : type_(&typeid(batch_t<L>)),
        size_([loader] { return detail::batches_in(*loader); }),
        for_each_([loader](const std::function<void(const void*)>& visit) {
          for (auto&& batch : *loader) {
            const batch_t<L>& b = batch;
            visit(&b);
          }
        }) {
    if (!loader) *this = ValidationData();
  }
  explicit operator bool() const { return type_ != nullptr; }
  std::int64_t size() const { return size_ ? size_() : 0; }

  // Calls f(batch) for every batch, typed as B (the training batch type).
  template <class B, class F>
  void for_each(F&& f) const {
    if (!type_) return;
    if (*type_ != typeid(B))
      throw value_error(std::string("fit: the validation loader's batches (") + type_->name() +
                        ") are not of the training batches' type (" + typeid(B).name() + ")");
    for_each_([&](const void* b) { f(*static_cast<const B*>(b)); });
  }

 private:
  const std::type_info* type_ = nullptr;
  std::function<std::int64_t()> size_;
  std::function<void(const std::function<void(const void*)>&)> for_each_;
};

struct FitOptions {
  int epochs = 1;
  ValidationData val = {};                     // evaluated after every epoch ("val_*" logs)
  std::vector<AnyCallback> callbacks = {};     // called in order; fit's History runs last
  // 0: silent; 1: a progress bar on a terminal, one line per epoch elsewhere; 2: one line per
  // epoch always (Keras's verbose).
  int verbose = 1;
  std::vector<std::string> metrics = {"accuracy"};  // see EpochMetrics; the loss is always in
  std::ostream* out = nullptr;                 // progress and verbose callbacks; default std::cout
};

// Evaluates net on every batch of loader in eval mode without recording gradients; returns
// {"loss": per-sample mean of the batch losses, "accuracy": ..., ...}. The net's training mode
// is restored afterwards.
template <class Net, class LossFn, BatchRange Loader>
Logs evaluate(Net& net, const LossFn& loss_fn, Loader&& loader,
              const std::vector<std::string>& metrics = {"accuracy"}) {
  EpochMetrics m(metrics);
  detail::ModeRestorer<Net> mode(net);
  net.eval();
  NoGradGuard no_grad;
  for (auto&& batch : loader) detail::evaluate_batch(net, loss_fn, batch, m);
  return m.logs();
}

// Trains net: for every epoch, every batch runs net(x), loss_fn(out, y), opt.zero_grad(),
// loss.backward(), opt.step() in training mode; then options.val (if any) is evaluated; then the
// epoch's logs ("loss", metrics, "val_" twins, "lr" = group 0's lr during the epoch) are printed
// and passed to the callbacks. Stops after options.epochs epochs, or as soon as a callback sets
// TrainState::stop_training (checked after every batch and every epoch). Returns every epoch's
// logs. The net's training mode is restored at the end.
template <class Net, class Opt, class LossFn, BatchRange Loader>
  requires requires(Opt& o) {
    o.zero_grad();
    o.step();
  }
History fit(Net& net, Opt& opt, const LossFn& loss_fn, Loader&& train, FitOptions options = {}) {
  using B = batch_t<Loader>;
  using X = std::remove_cvref_t<decltype(detail::batch_input(std::declval<const B&>()))>;
  using Y = std::remove_cvref_t<decltype(detail::batch_target(std::declval<const B&>()))>;
  using Out = std::remove_cvref_t<decltype(net(std::declval<const X&>()))>;
  static_assert(nn::Loss<LossFn, Out, Y>,
                "et::train::fit: the loss must be callable as loss(net(batch.data), batch.target) "
                "and return a Var (et::nn::Loss)");
  if (options.epochs < 0)
    throw value_error(etna::detail::str("fit: epochs must be >= 0, got ", options.epochs));

  std::ostream& out = options.out ? *options.out : std::cout;
  EpochMetrics train_metrics(options.metrics), val_metrics(options.metrics);
  History history;
  std::vector<AnyCallback> callbacks = options.callbacks;
  callbacks.emplace_back(std::ref(history));
  ProgressBar bar(out, options.verbose == 1 && is_terminal(out));
  TrainState state{.model = ModelHandle(net),
                   .epochs = options.epochs,
                   .steps_per_epoch = detail::batches_in(train),
                   .out = &out};
  detail::ModeRestorer<Net> mode(net);

  for (auto& cb : callbacks) cb.on_train_begin(state);
  for (int epoch = 0; epoch < options.epochs && !state.stop_training; ++epoch) {
    state.epoch = epoch;
    for (auto& cb : callbacks) cb.on_epoch_begin(epoch, state);
    net.train();
    train_metrics.reset();
    if (options.verbose) bar.begin_epoch(epoch, options.epochs, state.steps_per_epoch);
    std::int64_t step = 0;
    for (auto&& batch : train) {
      const auto& x = detail::batch_input(batch);
      const auto& y = detail::batch_target(batch);
      auto output = net(x);
      auto loss = loss_fn(output, y);
      opt.zero_grad();
      loss.backward();
      opt.step();
      ++state.global_step;
      train_metrics.update(output, y, static_cast<double>(loss.item()), detail::leading_size(y));
      const Logs running = train_metrics.logs();
      if (options.verbose) bar.update(++step, running);
      else ++step;
      for (auto& cb : callbacks) cb.on_batch_end(step - 1, running, state);
      if (state.stop_training) break;
    }
    Logs logs = train_metrics.logs();
    if (options.val) {
      val_metrics.reset();
      net.eval();
      NoGradGuard no_grad;
      options.val.for_each<B>(
          [&](const B& batch) { detail::evaluate_batch(net, loss_fn, batch, val_metrics); });
      for (const auto& [key, value] : val_metrics.logs("val_")) logs[key] = value;
    }
    if constexpr (requires { static_cast<double>(opt.param_groups().at(0).lr); })
      if (!opt.param_groups().empty()) logs["lr"] = static_cast<double>(opt.param_groups()[0].lr);
    if (options.verbose) bar.end_epoch(logs);
    for (auto& cb : callbacks) cb.on_epoch_end(epoch, logs, state);
  }
  for (auto& cb : callbacks) cb.on_train_end(state);
  return history;
}

// The net's outputs in eval mode without recording gradients: for one input tensor, net(x); for
// a loader, the outputs of every batch's input concatenated along dimension 0 (a loader's
// elements may be batches with .data or bare input tensors). Logits for a classifier: apply
// et::softmax(p, -1) for probabilities, et::train::predicted_classes(p) for classes.
template <class Net, class Input>
auto predict(Net& net, Input&& input) {
  detail::ModeRestorer<Net> mode(net);
  net.eval();
  NoGradGuard no_grad;
  using I = std::remove_cvref_t<Input>;
  if constexpr (requires { input.shape(); input.dim(); }) {
    return detail::output_tensor(net(input));
  } else {
    static_assert(BatchRange<I>, "et::train::predict: pass an input tensor or a loader");
    auto one = [&](const auto& element) {
      if constexpr (requires { element.shape(); element.dim(); })
        return detail::output_tensor(net(element));
      else return detail::output_tensor(net(detail::batch_input(element)));
    };
    using T = decltype(one(*std::begin(input)));
    std::vector<T> parts;
    for (auto&& element : input) parts.push_back(one(element));
    if (parts.empty()) throw value_error("predict: the loader yielded no batches");
    return concat(parts, 0);
  }
}

}  // namespace etna::train
