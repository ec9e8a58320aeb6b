// How etna walks a network: ETNA_MODULE registration, the Layer concept, and ModuleRef, a
// non-owning type-erased handle through which every module tree is traversed by name.
#pragma once

#include <any>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cxxabi.h>
#include <memory>
#include <optional>
#include <unordered_map>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <typeinfo>
#include <utility>
#include <vector>

#include "etna/autograd/var.hpp"
#include "etna/nn/named_parameters.hpp"

namespace etna::nn {

template <class Derived>
class Module;

// Registers a module's parameters (Var), buffers (Tensor), child modules and std::vectors of
// those under their member names, in order: `ETNA_MODULE(fc1, fc2)` gives `fc1.weight`...
// A stateless module writes `ETNA_MODULE()`.
#define ETNA_MODULE(...)                                                \
  auto etna_children() { return std::tie(__VA_ARGS__); }               \
  static std::string etna_child_name(std::size_t index) {               \
    return ::etna::nn::detail::nth_child_name(#__VA_ARGS__, index);     \
  }

// A module etna can traverse: derived from Module<M> (CRTP) and registering its members with
// ETNA_MODULE (or providing etna_children() / etna_child_name(i) itself, as Sequential does).
template <class M>
concept Layer = std::is_base_of_v<Module<M>, M> && requires(M& m, std::size_t i) {
  m.etna_children();
  { M::etna_child_name(i) } -> std::convertible_to<std::string>;
};

template <class T, class D>
class ModuleRef;

// Receives what a traversal finds; every callback has a do-nothing default. module() returns
// whether to descend into that module's own members.
template <class T, class D>
struct StateVisitor {
  virtual ~StateVisitor() = default;
  virtual void parameter(const std::string& /*name*/, Var<T, D>& /*p*/) {}
  virtual void buffer(const std::string& /*name*/, Tensor<T, D>& /*b*/) {}
  // Integer buffers (BatchNorm's num_batches_tracked).
  virtual void index_buffer(const std::string& /*name*/, Tensor<std::int64_t, D>& /*b*/) {}
  virtual bool module(const std::string& /*name*/, const ModuleRef<T, D>& /*m*/) { return true; }
};

namespace detail {

using etna::detail::str;

template <class>
inline constexpr bool always_false = false;

template <class X>
struct is_std_vector : std::false_type {};
template <class X, class A>
struct is_std_vector<std::vector<X, A>> : std::true_type {};

// std::optional<Module> members: an absent module is not registered at all (PyTorch's
// `self.norm = None`), a present one is registered as the module itself.
template <class X>
struct is_std_optional : std::false_type {};
template <class X>
struct is_std_optional<std::optional<X>> : std::true_type {};

// The index-th comma-separated name of ETNA_MODULE's stringized argument list.
inline std::string nth_child_name(std::string_view list, std::size_t index) {
  std::size_t start = 0;
  for (std::size_t n = 0;; ++n) {
    const std::size_t comma = list.find(',', start);
    if (n == index) {
      std::string_view name = list.substr(start, comma == std::string_view::npos
                                                     ? std::string_view::npos
                                                     : comma - start);
      while (!name.empty() && (name.front() == ' ' || name.front() == '\n')) name.remove_prefix(1);
      while (!name.empty() && (name.back() == ' ' || name.back() == '\n')) name.remove_suffix(1);
      return std::string(name);
    }
    if (comma == std::string_view::npos) return std::to_string(index);
    start = comma + 1;
  }
}

// "etna::nn::Linear<784l, 256l, float, etna::cpu>" -> "Linear": the name PyTorch would print.
inline std::string short_type_name(const char* mangled) {
  int status = 0;
  std::unique_ptr<char, void (*)(void*)> full(abi::__cxa_demangle(mangled, nullptr, nullptr, &status),
                                              std::free);
  std::string name = status == 0 && full ? std::string(full.get()) : std::string(mangled);
  if (const auto lt = name.find('<'); lt != std::string::npos) name.resize(lt);
  if (const auto colon = name.rfind("::"); colon != std::string::npos) name.erase(0, colon + 2);
  return name;
}

template <class M>
std::string type_name_of() {
  if constexpr (requires { M::etna_type_name(); }) return std::string(M::etna_type_name());
  else return short_type_name(typeid(M).name());
}

// ---- the element type and device of a module tree's parameters ---------------------------
struct no_parameters {};

template <class A, class B>
struct join_param {
  static_assert(std::is_same_v<A, B>,
                "etna::nn: all parameters of one module tree must have the same element type and "
                "device (see the two Var types in this instantiation)");
  using type = A;
};
template <class B>
struct join_param<no_parameters, B> { using type = B; };
template <class A>
struct join_param<A, no_parameters> { using type = A; };
template <>
struct join_param<no_parameters, no_parameters> { using type = no_parameters; };

template <class C>
struct param_of;

template <class Tuple>
struct params_of_tuple;
template <class... C>
struct params_of_tuple<std::tuple<C...>> {
  using type = no_parameters;
};
template <class C0, class... C>
struct params_of_tuple<std::tuple<C0, C...>> {
  using type = typename join_param<typename param_of<std::remove_cvref_t<C0>>::type,
                                   typename params_of_tuple<std::tuple<C...>>::type>::type;
};

template <class C>
struct param_of {
  using type = no_parameters;  // buffers and anything else do not decide the type
};
template <class T, class D>
struct param_of<Var<T, D>> {
  using type = Var<T, D>;
};
template <class X, class A>
struct param_of<std::vector<X, A>> : param_of<X> {};
template <class X>
struct param_of<std::optional<X>> : param_of<X> {};
template <class M>
  requires requires { typename M::etna_param_type; }
struct param_of<M> {
  using type = typename M::etna_param_type;  // type-erased containers state theirs
};
template <class M>
  requires(!requires { typename M::etna_param_type; } &&
           requires(M& m) { m.etna_children(); })
struct param_of<M> {
  using type = typename params_of_tuple<decltype(std::declval<M&>().etna_children())>::type;
};

// The Var type of M's parameters; Var<float> for a module without any.
template <class M>
using param_var_t =
    std::conditional_t<std::is_same_v<typename param_of<M>::type, no_parameters>, Var<float>,
                       typename param_of<M>::type>;

template <class T, class D, class C>
void visit_child(C& child, const std::string& name, StateVisitor<T, D>& visitor);

template <class M, class T, class D>
void visit_members(M& m, const std::string& prefix, StateVisitor<T, D>& visitor) {
  auto children = m.etna_children();
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    (visit_child<T, D>(std::get<I>(children), prefix + M::etna_child_name(I), visitor), ...);
  }(std::make_index_sequence<std::tuple_size_v<decltype(children)>>{});
}

// Lets ModuleRef reach Module's protected training flag.
struct ModuleAccess {
  template <class M>
  static bool& training(M& m) {
    return m.Module<M>::training_;
  }
};

}  // namespace detail

// A non-owning handle to any module of element type T on device D: what named_modules()
// returns and what traversals pass around. Valid while the module lives.
template <class T, class D>
class ModuleRef {
 public:
  template <Layer M>
  explicit ModuleRef(M& m) : self_(&m), ops_(&ops_for<M>) {}

  std::string type_name() const { return ops_->type_name(); }
  // The layer's configuration as PyTorch prints it ("in_features=784, out_features=256, ...").
  std::string extra_repr() const { return ops_->extra_repr(self_); }
  bool is_training() const { return ops_->training(self_); }
  // Sets this module's own flag only; Module::train() walks the tree.
  void set_training_flag(bool on) const { ops_->set_training(self_, on); }
  // Visits this module's members with names prefixed by `prefix` ("fc1."), descending into
  // child modules whose visit returns true.
  void visit(const std::string& prefix, StateVisitor<T, D>& visitor) const {
    ops_->visit(self_, prefix, visitor);
  }
  const void* address() const { return self_; }

 private:
  struct Ops {
    std::string (*type_name)();
    std::string (*extra_repr)(void*);
    bool (*training)(void*);
    void (*set_training)(void*, bool);
    void (*visit)(void*, const std::string&, StateVisitor<T, D>&);
  };
  template <class M>
  static constexpr Ops ops_for{
      &detail::type_name_of<M>,
      [](void* p) -> std::string {
        if constexpr (requires(M& m) { m.extra_repr(); }) return static_cast<M*>(p)->extra_repr();
        else return {};
      },
      [](void* p) { return detail::ModuleAccess::training(*static_cast<M*>(p)); },
      [](void* p, bool on) { detail::ModuleAccess::training(*static_cast<M*>(p)) = on; },
      [](void* p, const std::string& prefix, StateVisitor<T, D>& v) {
        detail::visit_members<M, T, D>(*static_cast<M*>(p), prefix, v);
      }};

  void* self_;
  const Ops* ops_;
};

namespace detail {

// A parameter, then its pruning mask (et::prune) as the buffer "<name>_mask", as PyTorch's
// pruned modules show "weight_mask": state_dict, io::save, clone and to<D2>() carry it. The
// mask is read after the visit, which may have replaced the Var (clone's deep copy).
template <class T, class D>
void visit_parameter(const std::string& name, Var<T, D>& p, StateVisitor<T, D>& visitor) {
  visitor.parameter(name, p);
  if (p.defined() && p.impl_ptr()->mask.defined())
    visitor.buffer(name + "_mask", p.impl_ptr()->mask);
}

template <class T, class D, class C>
void visit_child(C& child, const std::string& name, StateVisitor<T, D>& visitor) {
  using X = std::remove_cv_t<C>;
  if constexpr (is_var<X>::value) {
    static_assert(std::is_same_v<X, Var<T, D>>,
                  "etna::nn: all parameters of one module tree must have the same element type "
                  "and device");
    if (child.defined()) visit_parameter(name, child, visitor);  // an absent bias is undefined
  } else if constexpr (std::is_same_v<X, Tensor<T, D>>) {
    if (child.defined()) visitor.buffer(name, child);
  } else if constexpr (std::is_same_v<X, Tensor<std::int64_t, D>>) {
    if (child.defined()) visitor.index_buffer(name, child);
  } else if constexpr (is_named_parameters<X>::value) {
    // Runtime-named parameters sit directly under the parent's prefix ("lstm.weight_ih_l0"),
    // not under the member's own name.
    const auto dot = name.rfind('.');
    const std::string prefix = dot == std::string::npos ? std::string() : name.substr(0, dot + 1);
    for (auto& [pname, p] : child)
      if (p.defined()) visit_parameter(prefix + pname, p, visitor);
  } else if constexpr (is_std_vector<X>::value) {
    // A vector registered under the empty name (AnySequential's layers) names its elements
    // "0", "1"... directly under the parent's prefix, as PyTorch's nn.Sequential.
    const bool direct = name.empty() || name.back() == '.';
    for (std::size_t i = 0; i < child.size(); ++i)
      visit_child<T, D>(child[i], direct ? name + std::to_string(i)
                                         : name + "." + std::to_string(i), visitor);
  } else if constexpr (is_std_optional<X>::value) {
    if (child.has_value()) visit_child<T, D>(*child, name, visitor);
  } else if constexpr (Layer<X>) {
    const ModuleRef<T, D> ref(child);
    if (visitor.module(name, ref)) ref.visit(name + ".", visitor);
  } else if constexpr (requires { { child.module_ref() } -> std::same_as<ModuleRef<T, D>>; }) {
    const ModuleRef<T, D> ref = child.module_ref();  // a type-erased layer (AnySequential)
    if (visitor.module(name, ref)) ref.visit(name + ".", visitor);
  } else {
    static_assert(always_false<X>,
                  "ETNA_MODULE: a registered member must be a module (derived from "
                  "et::nn::Module and using ETNA_MODULE), a Var (parameter), a Tensor of the "
                  "parameters' type or of int64_t (buffer), or a std::vector of those, or a "
                  "std::optional module");
  }
}

}  // namespace detail
// ---- moving a module tree to another device ------------------------------------------------
// on_device_t<M, D2> is the type of module M with its parameters on device D2:
// - a type that declares `template <class D2> using on_device = ...;` says it itself (layers
//   with non-type template arguments must: Linear<In, Out, T, D>, Repeat<N, Block>);
// - a class template whose template arguments are all types is rebound argument by argument
//   (a device tag becomes D2, a layer its own on_device_t), so Sequential<L...>, Residual<B>,
//   Parallel<A, B> and a user's `template <class D> struct Net` need nothing;
// - anything else (ReLU, Flatten) does not depend on the device and stays as it is.
namespace detail {
template <class X, class D2>
struct rebind_device {
  using type = X;
};
template <class X, class D2>
  requires requires { typename X::template on_device<D2>; }
struct rebind_device<X, D2> {
  using type = typename X::template on_device<D2>;
};
template <class D2>
struct rebind_device<cpu, D2> {
  using type = D2;
};
template <class D2>
struct rebind_device<cuda, D2> {
  using type = D2;
};
template <template <class...> class Tmpl, class... A, class D2>
  requires(!requires { typename Tmpl<A...>::template on_device<D2>; })
struct rebind_device<Tmpl<A...>, D2> {
  using type = Tmpl<typename rebind_device<A, D2>::type...>;
};
}  // namespace detail

template <class M, class D2>
using on_device_t = typename detail::rebind_device<M, D2>::type;

namespace detail {

// The device of M's parameters, or void when it has none.
template <class M>
struct param_device {
  using type = void;
};
template <class M>
  requires(!std::is_same_v<typename param_of<M>::type, no_parameters>)
struct param_device<M> {
  using type = typename param_of<M>::type::device_type;
};

// Builds the device-D2 twin of a module tree (net.to<D2>()): parameters, buffers and gradients
// copied to D2 (tied parameters stay tied), requires_grad flags and train/eval flags kept.
// A module is built by, in order of preference:
// - its constructor `Layer(const Layer<..., D1>& other, DeviceCopy<D2>& copy)`, which builds
//   each member with copy.var(other.weight), copy.module(other.block)...: layers whose
//   configuration is not all registered (sizes, strides, eps...) or that have no default
//   constructor provide it;
// - default construction followed by copying every member registered with ETNA_MODULE: what a
//   user's `template <class D> struct Net : Module<Net<D>>` gets without writing anything
//   (configuration held in other members must be set by Net's default constructor).
template <class D2>
class DeviceCopy {
 public:
  template <class T, class D>
  Var<T, D2> var(const Var<T, D>& v) {
    if (!v.defined()) return Var<T, D2>();
    auto [it, fresh] = vars_.try_emplace(v.impl_ptr().get());
    if (!fresh) return std::any_cast<Var<T, D2>>(it->second);
    Var<T, D2> out(v.value().template to<D2>(), v.requires_grad());
    if (v.grad().defined()) out.set_grad(v.grad().template to<D2>());
    if (v.impl_ptr()->mask.defined()) out.impl_ptr()->mask = v.impl_ptr()->mask.template to<D2>();
    it->second = out;
    return out;
  }
  template <class T, class D>
  Tensor<T, D2> tensor(const Tensor<T, D>& t) {
    if (!t.defined()) return Tensor<T, D2>();
    if constexpr (std::is_same_v<D, D2>) return t.clone();
    else return t.template to<D2>();
  }
  template <class M>
  on_device_t<M, D2> module(const M& m) {
    using Target = on_device_t<M, D2>;
    static_assert(!requires { typename M::etna_param_type; } &&
                      !(!Layer<M> && requires(const M& x) { x.module_ref(); }),
                  "net.to<Device>(): runtime-typed networks (AnySequential, AnyLayer) are "
                  "CPU-only for now; build the network from typed layers (Sequential<...>) or "
                  "construct it on the target device");
    using Source = typename param_device<M>::type;
    static_assert(!std::is_same_v<Target, M> || std::is_void_v<Source> ||
                      std::is_same_v<Source, D2>,
                  "net.to<Device>(): this module's type does not name its device, so it cannot "
                  "hold parameters on another one: make it a template on the device "
                  "(template <class D> struct Net : Module<Net<D>> { Linear<4, 8, float, D> fc; "
                  "...}) or declare `template <class D2> using on_device = ...;` in it");
    Target out = build<Target>(m);
    ModuleAccess::training(out) = ModuleAccess::training(const_cast<M&>(m));
    return out;
  }
  // Any registered member: a Var, a Tensor, a module or a std::vector of those.
  template <class X>
  auto operator()(const X& x) {
    if constexpr (is_var<X>::value) return var(x);
    else if constexpr (is_named_parameters<X>::value) {
      NamedParameters<typename X::etna_param_type::value_type, D2> out;
      for (const auto& [name, p] : x) out.add(name, var(p));
      return out;
    } else if constexpr (is_std_vector<X>::value) {
      on_device_t<X, D2> out;
      out.reserve(x.size());
      for (const auto& e : x) out.push_back((*this)(e));
      return out;
    } else if constexpr (is_std_optional<X>::value) {
      on_device_t<X, D2> out;
      if (x.has_value()) out.emplace((*this)(*x));
      return out;
    } else if constexpr (requires { x.template to<D2>(); typename X::value_type; } && !Layer<X>)
      return tensor(x);
    else return module(x);
  }

 private:
  template <class Target, class M>
  Target build(const M& m) {
    if constexpr (std::is_same_v<Target, M>) {
      return m;  // nothing device-bound (ReLU), or already on D2: shares its state as M(m) does
    } else if constexpr (std::is_constructible_v<Target, const M&, DeviceCopy&>) {
      return Target(m, *this);
    } else {
      static_assert(std::default_initializable<Target>,
                    "net.to<Device>(): this module has no default constructor, so etna cannot "
                    "build its copy on the other device: give it one, or a constructor "
                    "`Net(const Net<D1>& other, et::nn::detail::DeviceCopy<D>& copy)` that "
                    "builds each member with copy(other.member)");
      Target out;
      auto dst = out.etna_children();
      auto src = const_cast<M&>(m).etna_children();
      [&]<std::size_t... I>(std::index_sequence<I...>) {
        ((std::get<I>(dst) = (*this)(std::get<I>(src))), ...);
      }(std::make_index_sequence<std::tuple_size_v<decltype(src)>>{});
      return out;
    }
  }

  std::unordered_map<const void*, std::any> vars_;  // source Var -> its copy (keeps ties)
};

template <class X>
inline constexpr bool is_device_copy = false;
template <class D2>
inline constexpr bool is_device_copy<DeviceCopy<D2>> = true;

}  // namespace detail
}  // namespace etna::nn
