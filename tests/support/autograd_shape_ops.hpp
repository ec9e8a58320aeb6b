// Shared by the autograd tests of views, joins, indexing and padding: seeded double leaves
// that require grad, and the PyTorch fixtures of those ops.
#pragma once

#include <cstdint>

#include "etna/autograd.hpp"
#include "support/fixtures.hpp"

namespace etna::test {

// A leaf of standard-normal values from its own seed (independent of the global generator).
inline Var<double> leaf(const Shape& shape, std::uint64_t seed) {
  Generator gen(seed);
  return Var<double>(randn<double>(shape, gen), true);
}

inline const Fixtures& fx() {
  static const Fixtures f("autograd_shape_ops.json");
  return f;
}

}  // namespace etna::test
