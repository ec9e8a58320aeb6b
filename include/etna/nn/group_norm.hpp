// nn::GroupNorm: normalises each sample over groups of channels (and all positions), then
// applies a per-channel affine map; independent of the batch size, so it behaves the same in
// training and eval (no running statistics), as torch.nn.GroupNorm.
#pragma once

#include <cstdint>
#include <string>

#include "etna/core/error.hpp"
#include "etna/core/factory.hpp"
#include "etna/nn/functional/group_norm.hpp"
#include "etna/nn/layer_traits.hpp"
#include "etna/nn/module.hpp"
#include "etna/nn/python_repr.hpp"

namespace etna::nn {

// GroupNorm<2, 6> is typed (2 groups of 6 channels); GroupNorm<>(2, 6, eps, affine) runtime.
template <std::int64_t G = 0, std::int64_t C = 0, FloatingScalar T = float, Device D = cpu>
class GroupNorm : public Module<GroupNorm<G, C, T, D>> {
  static_assert((G == 0) == (C == 0),
                "et::nn::GroupNorm<Groups, Channels>: give both sizes (typed) or neither");
  static_assert(G >= 0 && C >= 0 && (G == 0 || C % G == 0),
                "et::nn::GroupNorm<Groups, Channels>: the number of groups must divide the "
                "number of channels");

 public:
  static constexpr std::int64_t static_in_features = C;  // channels (dimension 1)
  static constexpr std::int64_t static_out_features = kSameFeatures;

  Var<T, D> weight;  // [C], ones; undefined without affine
  Var<T, D> bias;    // [C], zeros; undefined without affine
  double eps = 1e-5;

  GroupNorm()
    requires(G > 0)
      : GroupNorm(G, C) {}
  GroupNorm(std::int64_t num_groups, std::int64_t num_channels, double eps_ = 1e-5,
            bool affine = true)
      : eps(eps_), groups_(num_groups), channels_(num_channels) {
    if (num_groups <= 0 || num_channels <= 0)
      throw value_error(etna::detail::str("GroupNorm: num_groups and num_channels must be "
                                          "positive, got ", num_groups, " and ", num_channels));
    if (num_channels % num_groups != 0)
      throw value_error(etna::detail::str("GroupNorm: num_channels (", num_channels,
                                          ") must be divisible by num_groups (", num_groups,
                                          ")"));
    if (G > 0 && (num_groups != G || num_channels != C))
      throw value_error(etna::detail::str("GroupNorm<", G, ", ", C, ">: constructed with ",
                                          num_groups, " groups and ", num_channels, " channels"));
    if (affine) {
      weight = Var<T, D>(ones<T, D>({num_channels}), true);
      bias = Var<T, D>(zeros<T, D>({num_channels}), true);
    }
  }

  template <class D2>
  using on_device = GroupNorm<G, C, T, D2>;
  template <Device D1>
  GroupNorm(const GroupNorm<G, C, T, D1>& other, detail::DeviceCopy<D>& copy)
      : weight(copy.var(other.weight)),
        bias(copy.var(other.bias)),
        eps(other.eps),
        groups_(other.num_groups()),
        channels_(other.num_channels()) {}

  std::int64_t num_groups() const { return groups_; }
  std::int64_t num_channels() const { return channels_; }
  bool affine() const { return weight.defined(); }

  // x: [N, C, *]; returns a Var.
  template <class X>
  Var<T, D> forward(const X& input) {
    const Var<T, D> x = as_var(input);
    if (x.dim() < 2 || x.size(1) != channels_)
      throw shape_error(etna::detail::str("GroupNorm: expected an input [N, ", channels_,
                                          ", *] with ", channels_, " channels, got shape ",
                                          x.shape()));
    return functional::group_norm(x, groups_, weight, bias, eps);
  }

  std::string extra_repr() const {
    return etna::detail::str(groups_, ", ", channels_, ", eps=", detail::python_float(eps),
                             ", affine=", detail::python_bool(affine()));
  }

  ETNA_MODULE(weight, bias)

 private:
  std::int64_t groups_ = 0, channels_ = 0;
};

}  // namespace etna::nn
