// The optimizer contract: OptimizerBase (parameter groups, per-parameter state, zero_grad,
// state_dict/load_state_dict), the StateDict layout a checkpoint saves, and the concept.
#pragma once

#include <concepts>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

#include "etna/autograd/var.hpp"
#include "etna/backend/cuda/fwd_optim.hpp"
#include "etna/core/error.hpp"
#include "etna/core/factory.hpp"

namespace etna::optim {

// A snapshot of an optimizer, laid out as PyTorch's optimizer.state_dict():
// - param_groups[g].options: every hyper-parameter of group g by name ("lr", "beta1",
//   "amsgrad", ...; booleans as 0/1), param_groups[g].params: the indices of its parameters
//   in the optimizer's order (group 0's parameters first, then group 1's, ...);
// - state[i]: the state tensors of parameter i by name ("step" is a 0-d tensor; "exp_avg",
//   "exp_avg_sq", "max_exp_avg_sq", "momentum_buffer", "square_avg", "grad_avg", "sum" have
//   the parameter's shape). A parameter that has not been stepped yet has no entry.
// Tensors are copies: the optimizer may keep stepping without changing a saved snapshot. They
// are host tensors whatever the optimizer's device (a checkpoint is written from the host).
template <class T>
struct StateDict {
  struct Group {
    std::map<std::string, double> options;
    std::vector<std::int64_t> params;
  };
  std::vector<Group> param_groups;
  std::map<std::int64_t, std::map<std::string, Tensor<T>>> state;
};

// One parameter group: its parameters and its own copy of every hyper-parameter
// (opt.param_groups()[0].lr = 0.01 is how a scheduler or a user changes the learning rate).
template <class T, class Options, class D = cpu>
struct ParamGroup : Options {
  std::vector<Var<T, D>> params;
};

namespace detail {
inline void check_non_negative(const std::string& who, const char* what, double v) {
  if (!(v >= 0))
    throw value_error(etna::detail::str(who, ": invalid ", what, ": ", v, " (must be >= 0)"));
}
inline void check_unit_interval(const std::string& who, const char* what, double v) {
  if (!(v >= 0 && v < 1))
    throw value_error(etna::detail::str(who, ": invalid ", what, ": ", v, " (must be in [0, 1))"));
}

// Per-parameter state: named tensors on the parameters' device.
template <class T, class D = cpu>
using ParamState = std::map<std::string, Tensor<T, D>>;

// A state buffer shaped like the parameter, created on first use filled with `init`.
template <class T, class D>
T* state_buffer(ParamState<T, D>& st, const char* key, const Shape& shape, T init) {
  auto it = st.find(key);
  if (it == st.end()) it = st.emplace(key, full<T, D>(shape, init)).first;
  return it->second.data();
}
// Increments and returns the step count, kept as a 0-d tensor as in PyTorch (host only: on
// cuda the count stays on the device and the kernels increment it, see device_step).
template <class T>
double next_step(ParamState<T, cpu>& st) {
  auto it = st.find("step");
  if (it == st.end()) it = st.emplace("step", zeros<T>(Shape())).first;
  return static_cast<double>(++*it->second.data());
}
// A state buffer the rule of a device step uses: its name and the value it starts at (a null
// name leaves that slot of the kernel's table unused).
template <class T>
struct StateSpec {
  const char* name;
  T init;
};
}  // namespace detail

// What every optimizer provides. Options is an aggregate with `lr`, a validate(who) that
// throws value_error on a bad value, and fields(self, f) that calls f(name, member) for each
// hyper-parameter (double or bool), which state_dict and load_state_dict walk.
template <FloatingScalar T, class Options, Device D = cpu>
class OptimizerBase {
 public:
  using value_type = T;
  using device_type = D;
  using options_type = Options;
  using group_type = ParamGroup<T, Options, D>;

  // Adds a group with the optimizer's default options (those given to the constructor).
  void add_param_group(std::vector<Var<T, D>> params) {
    add_param_group(std::move(params), defaults_);
  }
  // Adds a group with exactly `options` (fields left out take the Options struct's defaults).
  void add_param_group(std::vector<Var<T, D>> params, Options options) {
    options.validate(name_);
    for (std::size_t i = 0; i < params.size(); ++i) {
      const auto& p = params[i];
      if (!p.defined()) throw value_error(name_ + ": a parameter is an undefined Var");
      if (!p.is_leaf()) throw value_error(name_ + ": can't optimize a non-leaf Var");
      for (std::size_t j = 0; j < i; ++j)
        if (params[j].impl_ptr() == p.impl_ptr())
          throw value_error(name_ + ": a parameter group holds the same parameter twice");
      for (const auto& g : groups_)
        for (const auto& q : g.params)
          if (q.impl_ptr() == p.impl_ptr())
            throw value_error(name_ + ": some parameters appear in more than one parameter group");
    }
    group_type group;
    static_cast<Options&>(group) = options;
    group.params = std::move(params);
    groups_.push_back(std::move(group));
  }

  std::vector<group_type>& param_groups() { return groups_; }
  const std::vector<group_type>& param_groups() const { return groups_; }
  const Options& defaults() const { return defaults_; }
  const std::string& name() const { return name_; }

  // Clears every parameter's gradient: undefined (set_to_none, PyTorch 2's default), so the
  // step skips parameters that get no gradient, or filled with zeros in place.
  void zero_grad(bool set_to_none = true) {
    for (auto& g : groups_)
      for (auto& p : g.params) {
        if (set_to_none)
          p.zero_grad();
        else if (p.grad().defined())
          p.grad().fill(T(0));
      }
  }

  StateDict<T> state_dict() const {
    StateDict<T> out;
    std::int64_t index = 0;
    for (const auto& g : groups_) {
      typename StateDict<T>::Group entry;
      Options::fields(static_cast<const Options&>(g), [&](const char* key, auto value) {
        entry.options[key] = static_cast<double>(value);
      });
      for (const auto& p : g.params) {
        auto it = state_.find(p.impl_ptr().get());
        if (it != state_.end()) {
          auto& saved = out.state[index];
          for (const auto& [key, t] : it->second) saved[key] = to_host(t);
        }
        entry.params.push_back(index++);
      }
      out.param_groups.push_back(std::move(entry));
    }
    return out;
  }

  // Restores hyper-parameters and state saved by state_dict() of an optimizer of the same
  // kind over parameters of the same shapes. Checks everything before changing anything.
  void load_state_dict(const StateDict<T>& sd) {
    const std::string who = name_ + ".load_state_dict";
    if (sd.param_groups.size() != groups_.size())
      throw value_error(etna::detail::str(who, ": loaded state dict has ", sd.param_groups.size(),
                                          " parameter groups, the optimizer has ", groups_.size()));
    std::vector<Var<T, D>> all;
    std::vector<Options> options(groups_.size());
    for (std::size_t g = 0; g < groups_.size(); ++g) {
      const auto& entry = sd.param_groups[g];
      if (entry.params.size() != groups_[g].params.size())
        throw value_error(etna::detail::str(who, ": parameter group ", g, " has ",
                                            entry.params.size(),
                                            " parameters in the loaded state dict, ",
                                            groups_[g].params.size(), " in the optimizer"));
      std::set<std::string> known;
      options[g] = static_cast<const Options&>(groups_[g]);
      Options::fields(options[g], [&](const char* key, auto& member) {
        known.insert(key);
        auto it = entry.options.find(key);
        if (it == entry.options.end())
          throw value_error(
              etna::detail::str(who, ": parameter group ", g, " lacks option '", key, "'"));
        member = static_cast<std::remove_reference_t<decltype(member)>>(it->second);
      });
      for (const auto& [key, value] : entry.options)
        if (!known.count(key))
          throw value_error(etna::detail::str(who, ": unknown option '", key,
                                              "' in parameter group ", g, " of ", name_));
      options[g].validate(who);
      for (const auto& p : groups_[g].params) all.push_back(p);
    }
    for (const auto& [index, entries] : sd.state) {
      if (index < 0 || index >= static_cast<std::int64_t>(all.size()))
        throw value_error(etna::detail::str(who, ": state for parameter ", index,
                                            ", the optimizer has ", all.size(), " parameters"));
      for (const auto& [key, t] : entries) {
        if (!state_names_.count(key))
          throw value_error(etna::detail::str(who, ": unknown state '", key, "' for parameter ",
                                              index, " of ", name_));
        const Shape expected = key == "step" ? Shape() : all[index].shape();
        if (!(t.shape() == expected))
          throw shape_error(etna::detail::str(who, ": state '", key, "' of parameter ", index,
                                              " has shape ", t.shape(), ", expected ", expected));
      }
    }
    for (std::size_t g = 0; g < groups_.size(); ++g) static_cast<Options&>(groups_[g]) = options[g];
    state_.clear();
    for (const auto& [index, entries] : sd.state) {
      auto& st = state_[all[index].impl_ptr().get()];
      for (const auto& [key, t] : entries) {
        if constexpr (std::is_same_v<D, cpu>)
          st[key] = t.clone();
        else
          st[key] = t.template to<D>();  // a new device copy
      }
    }
  }

 protected:
  using State = detail::ParamState<T, D>;

  OptimizerBase(std::string name, std::set<std::string> state_names, std::vector<Var<T, D>> params,
                Options defaults)
      : name_(std::move(name)), state_names_(std::move(state_names)), defaults_(defaults) {
    defaults_.validate(name_);
    add_param_group(std::move(params), defaults_);
  }

  // Calls update(group, param_data, grad_data, shape, state) for every parameter with a
  // gradient, over contiguous buffers (a strided parameter is updated through a copy).
  template <class Update>
  void for_each_param(Update&& update) {
    static_assert(std::is_same_v<D, cpu>, "for_each_param runs host loops: cpu only");
    for (auto& group : groups_)
      for (auto& p : group.params) {
        const Tensor<T>& grad_any = p.grad();
        if (!grad_any.defined()) continue;
        const Tensor<T> grad = grad_any.contiguous();
        const Tensor<T>& value = p.value();
        const Tensor<T> work = value.is_contiguous() ? value : value.clone();
        update(static_cast<const Options&>(group), work.data(), grad.data(), value.shape(),
               state_[p.impl_ptr().get()]);
        if (!value.is_contiguous()) value.assign(work);
        after_update(p);
      }
  }

  // A stepped parameter: pruned elements back to zero (momentum or weight decay may have moved
  // them), and what layers derived from the old value for inference dropped.
  static void after_update(const Var<T, D>& p) {
    auto& impl = *p.impl_ptr();
    if (impl.mask.defined()) impl.value.assign(impl.value * impl.mask);
    impl.inference_cache.reset();
  }

  // The device step: for each group, the buffers of every parameter with a gradient (state
  // buffers named by specs(options), created on first use; the step count when with_step) are
  // handed to launch(options, slots), which updates them all in one multi-tensor kernel.
  // Strided parameters and gradients go through contiguous copies. No host synchronisation, so
  // step() can be captured into a CUDA graph; the options (lr...) are passed by value at launch,
  // so a captured step keeps the values it was captured with (step counts and bias corrections
  // live on the device and stay right).
  template <class Specs, class Launch>
  void device_step(Specs&& specs, bool with_step, Launch&& launch) {
    for (auto& group : groups_) {
      const Options& o = group;
      const auto list = specs(o);
      std::vector<cuda_backend::OptimSlot<T>> slots;
      std::vector<Tensor<T, D>> grads, works;  // keeps the copies alive until the launch
      std::vector<std::pair<Tensor<T, D>, Tensor<T, D>>> write_back;  // strided param, its copy
      for (auto& p : group.params) {
        const Tensor<T, D>& grad_any = p.grad();
        if (!grad_any.defined()) continue;
        grads.push_back(grad_any.contiguous());
        const Tensor<T, D>& value = p.value();
        works.push_back(value.is_contiguous() ? value : value.clone());
        if (!value.is_contiguous()) write_back.emplace_back(value, works.back());
        State& st = state_[p.impl_ptr().get()];
        cuda_backend::OptimSlot<T> slot;
        slot.first = st.empty();
        std::size_t i = 0;
        for (const detail::StateSpec<T>& spec : list)
          slot.state[i++] =
              spec.name ? detail::state_buffer(st, spec.name, value.shape(), spec.init) : nullptr;
        if (with_step) slot.step = detail::state_buffer(st, "step", Shape(), T(0));
        slot.param = works.back().data();
        slot.grad = grads.back().data();
        slot.numel = value.numel();
        slots.push_back(slot);
      }
      if (slots.empty()) continue;
      launch(o, slots);
      for (const auto& [target, work] : write_back) target.assign(work);
      for (auto& p : group.params)
        if (p.grad().defined()) after_update(p);
    }
  }

  static Tensor<T> to_host(const Tensor<T, D>& t) {
    if constexpr (std::is_same_v<D, cpu>)
      return t.clone();
    else
      return t.template to<cpu>();
  }

  std::string name_;
  std::set<std::string> state_names_;
  Options defaults_;
  std::vector<group_type> groups_;
  std::unordered_map<const void*, State> state_;
};

// What schedulers, clipping and training loops require of an optimizer: `step()`,
// `zero_grad()`, groups with a writable `lr`, and a state that round-trips.
template <class O>
concept Optimizer = requires(O& o, const O& co, const StateDict<typename O::value_type>& sd) {
  typename O::value_type;
  typename O::options_type;
  o.step();
  o.zero_grad();
  o.zero_grad(false);
  { o.param_groups()[0].lr } -> std::convertible_to<double>;
  o.param_groups()[0].lr = 0.1;
  { co.state_dict() } -> std::same_as<StateDict<typename O::value_type>>;
  o.load_state_dict(sd);
};

}  // namespace etna::optim
