// nn::AnyLayer<T, D>: an owning, type-erased holder of any layer that maps a Var<T, D> to a
// Var<T, D>; what AnySequential stores and what configuration-built networks are made of.
#pragma once

#include <concepts>
#include <memory>
#include <string>
#include <type_traits>
#include <typeinfo>
#include <utility>

#include "etna/autograd/function.hpp"
#include "etna/core/error.hpp"
#include "etna/nn/layer_traits.hpp"
#include "etna/nn/module.hpp"

namespace etna::nn {

template <class T, class D>
class AnyLayer;

// A layer AnyLayer<T, D> can hold: an etna layer whose forward accepts a Var<T, D> and returns
// a Var<T, D> or something that evaluates to one (a lazy element-wise expression).
template <class L, class T, class D>
concept ErasableLayer = Layer<L> && std::copy_constructible<L> &&
                        requires(L& layer, const Var<T, D>& x) {
                          { as_var(layer(x)) } -> std::convertible_to<Var<T, D>>;
                        };

// Copying an AnyLayer copies the held layer as copying the typed layer would: the copy is a new
// module object (its own training flag) sharing parameter storage, as etna modules are handles.
// clone() gives an independent deep copy; Module::clone() of a network holding AnyLayers deep-
// copies through them, keeping ties. Module::apply() does not descend into an AnyLayer (its
// function is a template and the held type is erased): use get_if<L>() or named_modules().
template <class T = float, class D = cpu>
class AnyLayer {
 public:
  template <class L>
    requires(!std::is_same_v<std::remove_cvref_t<L>, AnyLayer> &&
             ErasableLayer<std::remove_cvref_t<L>, T, D>)
  AnyLayer(L&& layer)  // NOLINT: implicit, so that push_back(Linear<>(784, 256)) reads naturally
      : held_(std::make_unique<Model<std::remove_cvref_t<L>>>(std::forward<L>(layer))) {
    using P = typename detail::param_of<std::remove_cvref_t<L>>::type;
    static_assert(std::is_same_v<P, detail::no_parameters> || std::is_same_v<P, Var<T, D>>,
                  "et::nn::AnyLayer<T, D>: the layer's parameters must be Var<T, D> (same element "
                  "type and device as the AnyLayer)");
  }

  AnyLayer(const AnyLayer& other) : held_(other.held_ ? other.held_->copy() : nullptr) {}
  AnyLayer(AnyLayer&&) noexcept = default;
  AnyLayer& operator=(const AnyLayer& other) {
    if (this != &other) held_ = other.held_ ? other.held_->copy() : nullptr;
    return *this;
  }
  AnyLayer& operator=(AnyLayer&&) noexcept = default;
  ~AnyLayer() = default;

  // Runs the held layer through its Module::operator() (so summary() sees it) and evaluates a
  // lazy result.
  Var<T, D> operator()(const Var<T, D>& x) { return held().forward(x); }
  Var<T, D> forward(const Var<T, D>& x) { return held().forward(x); }

  // The traversal handle: parameters, buffers, children, printing, training flag.
  ModuleRef<T, D> module_ref() const { return held().ref(); }
  std::string type_name() const { return module_ref().type_name(); }
  bool is_training() const { return module_ref().is_training(); }

  // The held layer when it is an L, else null: `if (auto* fc = layer.get_if<Linear<>>())`.
  template <class L>
  L* get_if() {
    return held().type() == typeid(L) ? static_cast<L*>(held().address()) : nullptr;
  }
  template <class L>
  const L* get_if() const {
    return held().type() == typeid(L) ? static_cast<const L*>(held().address()) : nullptr;
  }
  const std::type_info& type() const { return held().type(); }

  // An independent deep copy (the held layer's clone()).
  AnyLayer clone() const { return AnyLayer(held().deep_copy()); }

 private:
  struct Concept {
    virtual ~Concept() = default;
    virtual std::unique_ptr<Concept> copy() const = 0;
    virtual std::unique_ptr<Concept> deep_copy() const = 0;
    virtual Var<T, D> forward(const Var<T, D>& x) = 0;
    virtual ModuleRef<T, D> ref() const = 0;
    virtual const std::type_info& type() const = 0;
    virtual void* address() const = 0;
  };
  template <class L>
  struct Model final : Concept {
    mutable L layer;  // ModuleRef is a mutable view even from a const holder, like Module's own
    template <class U>
    explicit Model(U&& l) : layer(std::forward<U>(l)) {}
    std::unique_ptr<Concept> copy() const override { return std::make_unique<Model>(layer); }
    std::unique_ptr<Concept> deep_copy() const override {
      return std::make_unique<Model>(layer.clone());
    }
    Var<T, D> forward(const Var<T, D>& x) override { return as_var(layer(x)); }
    ModuleRef<T, D> ref() const override { return ModuleRef<T, D>(layer); }
    const std::type_info& type() const override { return typeid(L); }
    void* address() const override { return &layer; }
  };

  explicit AnyLayer(std::unique_ptr<Concept> held) : held_(std::move(held)) {}
  Concept& held() const {
    if (!held_) throw error("AnyLayer: use of a moved-from AnyLayer");
    return *held_;
  }

  std::unique_ptr<Concept> held_;
};

}  // namespace etna::nn
