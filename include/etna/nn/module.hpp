// nn::Module<Derived>: the CRTP base of every layer and network. It gives a module PyTorch's
// nn.Module interface (parameters by name, buffers, train/eval, freezing, summary, printing).
#pragma once

#include <cstdint>
#include <ostream>
#include <sstream>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "etna/autograd/grad_mode.hpp"
#include "etna/nn/freeze.hpp"
#include "etna/nn/module_ref.hpp"
#include "etna/nn/module_summary.hpp"

namespace etna::nn {

// The parameters' element type and device, computed where Derived is complete (inside member
// functions; Derived is still incomplete where Module<Derived> itself is instantiated).
#define ETNA_MODULE_TYPES_                                                  \
  using T_ [[maybe_unused]] = typename detail::param_var_t<Derived>::value_type; \
  using D_ [[maybe_unused]] = typename detail::param_var_t<Derived>::device_type

// Derive `struct Net : et::nn::Module<Net>`, register members with ETNA_MODULE(...) and write
// `forward(...)`; `net(x)` calls it. Modules are handles like tensors: a copy shares the
// parameters (use clone() for an independent copy).
template <class Derived>
class Module {
 public:
  // ---- calling ---------------------------------------------------------------------------
  template <class... Args>
  auto operator()(Args&&... args) {
    if (auto* recorder = detail::active_shape_recorder()) [[unlikely]] {
      auto out = derived().forward(std::forward<Args>(args)...);
      if constexpr (requires { out.shape(); }) recorder->record(&derived(), Shape(out.shape()));
      return out;
    }
    return derived().forward(std::forward<Args>(args)...);
  }

  // ---- training mode -------------------------------------------------------------------------
  // PyTorch's module.training: Dropout and BatchNorm read it.
  bool is_training() const { return training_; }
  // Sets training mode on this module and every module below it.
  Derived& train(bool on = true) {
    ETNA_MODULE_TYPES_;
    struct SetMode : StateVisitor<T_, D_> {
      bool on;
      explicit SetMode(bool o) : on(o) {}
      bool module(const std::string&, const ModuleRef<T_, D_>& m) override {
        m.set_training_flag(on);
        return true;
      }
    } visitor(on);
    training_ = on;
    root().visit("", visitor);
    return derived();
  }
  Derived& eval() { return train(false); }

  // ---- parameters, buffers, modules ------------------------------------------------------------
  // Parameters with PyTorch's state_dict names ("0.weight", "fc1.bias"), in registration order;
  // a parameter registered twice (tied weights) is listed once, under its first name.
  auto named_parameters(bool recurse = true) const {
    ETNA_MODULE_TYPES_;
    struct Collect : StateVisitor<T_, D_> {
      std::vector<std::pair<std::string, Var<T_, D_>>> out;
      std::vector<const void*> seen;
      bool recurse = true;
      void parameter(const std::string& name, Var<T_, D_>& p) override {
        const void* id = &p.value();
        for (const void* s : seen)
          if (s == id) return;
        seen.push_back(id);
        out.emplace_back(name, p);
      }
      bool module(const std::string&, const ModuleRef<T_, D_>&) override { return recurse; }
    } visitor;
    visitor.recurse = recurse;
    root().visit("", visitor);
    return std::move(visitor.out);
  }
  // What optimizers take: `et::optim::Adam opt(net.parameters());`.
  auto parameters(bool recurse = true) const {
    ETNA_MODULE_TYPES_;
    std::vector<Var<T_, D_>> out;
    for (auto& [name, p] : named_parameters(recurse)) out.push_back(p);
    return out;
  }
  // Buffers of the parameters' element type (BatchNorm's running_mean, running_var); integer
  // buffers (num_batches_tracked) come from named_index_buffers().
  auto named_buffers(bool recurse = true) const {
    ETNA_MODULE_TYPES_;
    struct Collect : StateVisitor<T_, D_> {
      std::vector<std::pair<std::string, Tensor<T_, D_>>> out;
      bool recurse = true;
      void buffer(const std::string& name, Tensor<T_, D_>& b) override { out.emplace_back(name, b); }
      bool module(const std::string&, const ModuleRef<T_, D_>&) override { return recurse; }
    } visitor;
    visitor.recurse = recurse;
    root().visit("", visitor);
    return std::move(visitor.out);
  }
  auto buffers(bool recurse = true) const {
    ETNA_MODULE_TYPES_;
    std::vector<Tensor<T_, D_>> out;
    for (auto& [name, b] : named_buffers(recurse)) out.push_back(b);
    return out;
  }
  auto named_index_buffers() const {
    ETNA_MODULE_TYPES_;
    struct Collect : StateVisitor<T_, D_> {
      std::vector<std::pair<std::string, Tensor<std::int64_t, D_>>> out;
      void index_buffer(const std::string& name, Tensor<std::int64_t, D_>& b) override {
        out.emplace_back(name, b);
      }
    } visitor;
    root().visit("", visitor);
    return std::move(visitor.out);
  }
  // Every module in the tree, this one first under the name "", then depth-first in
  // registration order ("0", "block", "block.0"...), as PyTorch's named_modules().
  auto named_modules() const {
    ETNA_MODULE_TYPES_;
    struct Collect : StateVisitor<T_, D_> {
      std::vector<std::pair<std::string, ModuleRef<T_, D_>>> out;
      bool module(const std::string& name, const ModuleRef<T_, D_>& m) override {
        out.emplace_back(name, m);
        return true;
      }
    } visitor;
    visitor.out.emplace_back("", root());
    root().visit("", visitor);
    return std::move(visitor.out);
  }
  // The direct child modules only.
  auto named_children() const {
    return detail::direct_children(root());
  }

  // ---- gradients and freezing ------------------------------------------------------------------
  // Clears every parameter's gradient (set_to_none, PyTorch 2's default) or fills it with 0.
  void zero_grad(bool set_to_none = true) {
    ETNA_MODULE_TYPES_;
    for (auto& p : parameters()) {
      if (set_to_none) p.zero_grad();
      else if (p.grad().defined()) p.grad().fill(T_(0));
    }
  }
  // Whether the optimizer trains these parameters: requires_grad(false) freezes the module
  // (its parameters get no gradient, and optimizers skip parameters without one; a gradient
  // they already hold is dropped, so it cannot move them either).
  Derived& requires_grad(bool on = true) {
    for (auto& p : parameters()) detail::set_trainable(p, on);
    return derived();
  }
  Derived& freeze() { return requires_grad(false); }
  Derived& unfreeze() { return requires_grad(true); }
  // The parameters whose names match a glob (`*` any characters, `?` one; see freeze.hpp):
  // net.freeze("features.*"), net.freeze().unfreeze("fc.*"). value_error when none matches.
  Derived& freeze(std::string_view pattern) {
    detail::set_trainable_matching(root(), pattern, false);
    return derived();
  }
  Derived& unfreeze(std::string_view pattern) {
    detail::set_trainable_matching(root(), pattern, true);
    return derived();
  }
  // Number of scalar parameters (trainable ones only, if asked).
  std::int64_t num_parameters(bool trainable_only = false) const {
    std::int64_t n = 0;
    for (auto& p : parameters())
      if (!trainable_only || p.requires_grad()) n += p.numel();
    return n;
  }

  // Calls fn(module) on every typed module below this one and then on this one (PyTorch's
  // apply order); fn usually is a generic lambda that tests the type with if constexpr.
  template <class F>
  Derived& apply(F&& fn) {
    auto children = derived().etna_children();
    std::apply([&](auto&... child) { (apply_to_child(child, fn), ...); }, children);
    fn(derived());
    return derived();
  }

  // An independent deep copy: new parameter and buffer storage, ties between parameters kept.
  Derived clone() const {
    ETNA_MODULE_TYPES_;
    Derived copy = derived();
    struct Deep : StateVisitor<T_, D_> {
      std::unordered_map<const void*, Var<T_, D_>> copies;
      void parameter(const std::string&, Var<T_, D_>& p) override {
        auto [it, fresh] = copies.try_emplace(&p.value());
        if (fresh) {
          it->second = Var<T_, D_>(p.value().clone(), p.requires_grad());
          // The pruning mask: cloned again as the "<name>_mask" buffer visited next.
          it->second.impl_ptr()->mask = p.impl_ptr()->mask;
        }
        p = it->second;
      }
      void buffer(const std::string&, Tensor<T_, D_>& b) override { b = b.clone(); }
      void index_buffer(const std::string&, Tensor<std::int64_t, D_>& b) override {
        b = b.clone();
      }
    } visitor;
    ModuleRef<T_, D_>(copy).visit("", visitor);
    return copy;
  }

  // ---- devices ---------------------------------------------------------------------------------
  // The same network on device D2 (net.to<et::cuda>(), net.to<et::cpu>()): a new module of type
  // on_device_t<Derived, D2> (see module_ref.hpp) whose parameters, buffers and gradients are
  // copies on D2 under the same names, with the same requires_grad and train/eval flags. On the
  // device it already is on, it returns a handle that shares the parameters (as PyTorch's
  // module.to returns the module itself). A user network works when it is a template on the
  // device, with a default constructor, its members registered with ETNA_MODULE:
  //   template <class D = et::cpu>
  //   struct Net : et::nn::Module<Net<D>> {
  //     et::nn::Linear<4, 8, float, D> fc1;
  //     et::nn::Linear<8, 2, float, D> fc2;
  //     auto forward(const auto& x) { return fc2(et::relu(fc1(x))); }
  //     ETNA_MODULE(fc1, fc2)
  //   };
  //   auto gpu_net = Net<>().to<et::cuda>();   // a Net<et::cuda>
  // (a layer whose template arguments are not all types declares
  // `template <class D2> using on_device = ...;`, as Linear does).
  template <Device D2>
  auto to() const {
    detail::DeviceCopy<D2> copy;
    auto out = copy.module(derived());
    if constexpr (!std::is_same_v<decltype(out), Derived>) {
      // The same names on both sides: what a checkpoint or an optimizer's state relies on.
      std::vector<std::string> before, after;
      for (auto& [name, p] : named_parameters()) before.push_back(name);
      for (auto& [name, b] : named_buffers()) before.push_back(name);
      for (auto& [name, p] : out.named_parameters()) after.push_back(name);
      for (auto& [name, b] : out.named_buffers()) after.push_back(name);
      if (before != after)
        throw value_error(detail::str("net.to<Device>(): the copy of ", root().type_name(),
                                      " has ", after.size(), " parameters and buffers, ",
                                      before.size(), " in the original, or other names (a "
                                      "layer's device-copy constructor misses a member)"));
    }
    return out;
  }

  // ---- description ---------------------------------------------------------------------------
  // Keras-style table: every module, its output shape for `example_input` (run once in eval
  // mode without recording gradients) and its parameter count.
  template <class X>
  std::string summary(const X& example_input) {
    std::vector<std::pair<const void*, bool>> modes;
    for (auto& [name, m] : named_modules()) modes.emplace_back(m.address(), m.is_training());
    eval();
    detail::ShapeRecorder recorder;
    {
      NoGradGuard no_grad;
      detail::ShapeRecorderScope scope(recorder);
      (void)(*this)(example_input);
    }
    for (auto& [name, m] : named_modules())
      for (auto& [address, on] : modes)
        if (address == m.address()) m.set_training_flag(on);
    return detail::summary_table(root(), named_modules(), &recorder);
  }
  // Runs the summary on zeros of `input_shape` (batch dimension included).
  std::string summary(const Shape& input_shape) {
    ETNA_MODULE_TYPES_; return summary(zeros<T_, D_>(input_shape)); }
  // The table without output shapes.
  std::string summary() const { return detail::summary_table(root(), named_modules(), nullptr); }
  // PyTorch's repr: "Sequential(\n  (0): Linear(in_features=784, ...)\n ...)".
  std::string repr() const {
    std::ostringstream os;
    detail::print_module(os, root(), 0);
    return os.str();
  }
  auto module_ref() const { return root(); }

 private:
  friend struct detail::ModuleAccess;

  Derived& derived() { return static_cast<Derived&>(*this); }
  const Derived& derived() const { return static_cast<const Derived&>(*this); }
  auto root() const {
    ETNA_MODULE_TYPES_;
    static_assert(Layer<Derived>,
                  "et::nn::Module<Net>: Net must register its members with ETNA_MODULE(...) "
                  "(ETNA_MODULE() when it has none)");
    return ModuleRef<T_, D_>(const_cast<Derived&>(derived()));
  }
  template <class C, class F>
  static void apply_to_child(C& child, F& fn) {
    if constexpr (Layer<C>) child.apply(fn);
    else if constexpr (detail::is_std_vector<C>::value)
      for (auto& c : child) apply_to_child(c, fn);
    else if constexpr (detail::is_std_optional<C>::value) {
      if (child.has_value()) apply_to_child(*child, fn);
    }
  }

  bool training_ = true;
};

// `std::cout << net` prints the module as PyTorch does.
template <Layer M>
std::ostream& operator<<(std::ostream& os, const M& m) {
  return os << m.repr();
}

#undef ETNA_MODULE_TYPES_

}  // namespace etna::nn
