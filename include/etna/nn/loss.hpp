// Every loss function: the functional forms (et::nn::cross_entropy, also reachable as
// et::nn::functional::cross_entropy), the loss objects (et::nn::CrossEntropyLoss{...}), Reduction.
#pragma once

#include <type_traits>

#include "etna/nn/losses/binary.hpp"
#include "etna/nn/losses/classification.hpp"
#include "etna/nn/losses/divergence.hpp"
#include "etna/nn/losses/reduction.hpp"
#include "etna/nn/losses/regression.hpp"

namespace etna::nn {

template <class V>
concept LossValue = is_var<std::remove_cvref_t<V>>::value;

// The contract a loss object meets (the built-in ones, or a user's own): called with an input
// (prediction) and a target, it returns a Var (a scalar one unless its reduction is none).
// Training loops constrain their loss parameter with it, so a wrong callable fails here by name.
template <class L, class Input, class Target>
concept Loss = std::is_copy_constructible_v<L> &&
    requires(const L& loss, const Input& input, const Target& target) {
  { loss(input, target) } -> LossValue;
};

}  // namespace etna::nn
