// nn::Parallel<A, B, Merge>: two branches fed the same input, children "0" and "1", their
// outputs merged by a policy: Sum (a + b, equal shapes) or Concat (along the last dimension).
#pragma once

#include <cstdint>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "etna/autograd/function.hpp"
#include "etna/autograd/ops/join.hpp"
#include "etna/core/error.hpp"
#include "etna/nn/layer_traits.hpp"
#include "etna/nn/module.hpp"
#include "etna/ops/join.hpp"

namespace etna::nn {

// Merge policies. A policy states its name for printing, how it combines the two outputs and
// the merged feature size from the branches' sizes (0 = unknown, kSameFeatures = the input's).
struct Sum {
  static constexpr const char* name = "sum";
  template <class A, class B>
  static auto merge(const A& a, const B& b) {
    if (!(a.shape() == b.shape()))
      throw shape_error(detail::str("Parallel (merge=sum): the branches' output shapes differ: ",
                                    a.shape(), " and ", b.shape()));
    return a + b;  // lazy: fuses with a following element-wise layer
  }
  static constexpr std::int64_t out_features(std::int64_t a, std::int64_t b) {
    if (a > 0) return a;
    if (b > 0) return b;
    return a == kSameFeatures && b == kSameFeatures ? kSameFeatures : 0;
  }
};

struct Concat {
  static constexpr const char* name = "concat";
  template <class A, class B>
  static auto merge(const A& a, const B& b) {
    if constexpr (is_var<A>::value || is_var<B>::value)
      return etna::concat(std::vector{as_var(a), as_var(b)}, -1);
    else return etna::concat(std::vector{a, b}, -1);
  }
  static constexpr std::int64_t out_features(std::int64_t a, std::int64_t b) {
    return a > 0 && b > 0 ? a + b : 0;
  }
};

namespace detail {

// Instantiated when the branches' typed sizes disagree: on the input (both read x) or, for
// Sum, on the output (a + b needs equal shapes).
template <class BranchA, std::int64_t SizeA, class BranchB, std::int64_t SizeB>
struct parallel_branch_sizes_must_match {
  static_assert(SizeA == SizeB,
                "et::nn::Parallel<A, B>: the branches' sizes differ (the template arguments of "
                "parallel_branch_sizes_must_match above name both branches and their sizes: "
                "input sizes, or output sizes when merged by Sum)");
  static constexpr bool value = true;
};

// A branch's output size with kSameFeatures resolved against the known input size.
constexpr std::int64_t resolve_out(std::int64_t out, std::int64_t in) {
  return out == kSameFeatures && in > 0 ? in : out;
}

template <class A, class B, class Merge>
constexpr bool parallel_sizes_ok() {
  constexpr std::int64_t a_in = static_in_features_v<A>, b_in = static_in_features_v<B>;
  constexpr std::int64_t in = a_in > 0 ? a_in : b_in;
  constexpr std::int64_t a_out = resolve_out(static_out_features_v<A>, in);
  constexpr std::int64_t b_out = resolve_out(static_out_features_v<B>, in);
  bool ok = true;
  if constexpr (a_in > 0 && b_in > 0)
    ok = parallel_branch_sizes_must_match<A, a_in, B, b_in>::value;
  if constexpr (std::is_same_v<Merge, Sum> && a_out > 0 && b_out > 0)
    ok = ok && parallel_branch_sizes_must_match<A, a_out, B, b_out>::value;
  return ok;
}

}  // namespace detail

template <class A, class B, class Merge = Sum>
class Parallel : public Module<Parallel<A, B, Merge>> {
  static_assert(Layer<A> && Layer<B>,
                "et::nn::Parallel<A, B>: both branches must be etna layers (derived from "
                "et::nn::Module and registering their members with ETNA_MODULE)");
  static_assert(requires { Merge::name; Merge::out_features(0, 0); },
                "et::nn::Parallel<A, B, Merge>: Merge must be a merge policy (et::nn::Sum or "
                "et::nn::Concat)");
  static_assert(detail::parallel_sizes_ok<A, B, Merge>());

 public:
  static constexpr std::int64_t static_in_features =
      static_in_features_v<A> > 0 ? static_in_features_v<A> : static_in_features_v<B>;
  static constexpr std::int64_t static_out_features = Merge::out_features(
      detail::resolve_out(static_out_features_v<A>, static_in_features),
      detail::resolve_out(static_out_features_v<B>, static_in_features));

  Parallel() = default;
  Parallel(A a, B b) : branches_(std::move(a), std::move(b)) {}
  // The copy of `other` on device D2 (net.to<D2>()).
  template <class A2, class B2, class D2>
  Parallel(const Parallel<A2, B2, Merge>& other, detail::DeviceCopy<D2>& copy)
      : branches_(copy.module(other.template get<0>()), copy.module(other.template get<1>())) {}

  template <std::size_t I>
  auto& get() {
    static_assert(I < 2, "Parallel::get<I>: index out of range (0 or 1)");
    return std::get<I>(branches_);
  }
  template <std::size_t I>
  const auto& get() const {
    static_assert(I < 2, "Parallel::get<I>: index out of range (0 or 1)");
    return std::get<I>(branches_);
  }

  // x is evaluated once and each branch's output before merging (Concat copies values anyway;
  // for Sum the merged sum stays lazy).
  template <class X>
  auto forward(const X& x) {
    auto in = detail::materialize(x);
    auto a = detail::materialize(std::get<0>(branches_)(in));
    auto b = detail::materialize(std::get<1>(branches_)(in));
    return Merge::merge(a, b);
  }

  std::string extra_repr() const { return std::string("merge=") + Merge::name; }

  auto etna_children() { return std::tie(std::get<0>(branches_), std::get<1>(branches_)); }
  static std::string etna_child_name(std::size_t index) { return std::to_string(index); }

 private:
  std::tuple<A, B> branches_;
};

}  // namespace etna::nn
