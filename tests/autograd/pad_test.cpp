// Tests etna/autograd/ops/pad.hpp: pad() on Vars in every mode, with cropping, passes gradcheck
// and matches PyTorch's gradients (reflect/replicate/circular add into the source positions).
#include "etna/autograd/ops/pad.hpp"

#include <catch2/catch.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "etna/autograd.hpp"
#include "support/autograd_shape_ops.hpp"

namespace {

namespace et = etna;
using V = et::Var<double>;
using Vs = std::vector<V>;

using et::test::fx;
using et::test::leaf;

}  // namespace

TEST_CASE("pad passes gradcheck in every mode", "[autograd][pad]") {
  auto x = leaf({2, 3, 4}, 1);
  const std::vector<std::vector<std::int64_t>> padding = {
      {1, 2}, {2, 0, 1, 1}, {-1, 2, 2, -1}, {0, 1, 1, 0, 1, 1}, {3, 3}};
  for (const char* mode : {"constant", "reflect", "replicate", "circular"}) {
    for (const auto& pads : padding) {
      auto r = et::gradcheck([&](const Vs& in) { return et::pad(in[0], pads, mode); }, {x});
      INFO(mode << " padding of " << pads.size() << " sizes: " << r.report);
      CHECK(r);
    }
  }
  auto r = et::gradcheck([](const Vs& in) { return et::pad(in[0], {1, 1}, "constant", 2.5); }, {x});
  INFO(r.report);
  CHECK(r);
}

TEST_CASE("pad of non-contiguous Vars and Var expressions", "[autograd][pad]") {
  auto x = leaf({3, 4}, 2);
  for (auto f : std::vector<V (*)(const Vs&)>{
           [](const Vs& in) { return et::pad(in[0].t(), {1, 2, 2, 1}, "reflect"); },
           [](const Vs& in) { return et::pad(et::exp(in[0]) * 0.5, {2, 2}, "replicate"); },
           [](const Vs& in) { return et::pad(in[0].slice(1, 0, 4, 2), {1, 1, 1, 0}, "circular"); },
           [](const Vs& in) { return et::pad(in[0].unsqueeze(0), {-1, -1, 1, 1}); },
       }) {
    auto r = et::gradcheck(f, {x});
    INFO(r.report);
    CHECK(r);
  }
  V s(et::tensor<double>(2.0), true);  // 0-d: a copy
  auto r0 = et::gradcheck([](const Vs& in) { return et::pad(in[0], {}); }, {s});
  INFO(r0.report);
  CHECK(r0);
}

TEST_CASE("replicate padding accumulates the border's gradient", "[autograd][pad]") {
  V x(et::tensor<double>({1, 2, 3}), true);
  et::sum(et::pad(x, {2, 1}, "replicate")).backward();
  ETNA_CHECK_CLOSE(x.grad(), et::tensor<double>({3, 1, 2}), 0, 0);
  CHECK(et::pad(x, {1, 1}).grad_fn_name() == "PadBackward");
}

TEST_CASE("pad errors of the tensor op surface for Vars", "[autograd][pad]") {
  auto x = leaf({2, 3}, 3);
  CHECK_THROWS_AS(et::pad(x, {1}), et::value_error);
  CHECK_THROWS_AS(et::pad(x, {3, 0}, "reflect"), et::shape_error);
  CHECK_THROWS_AS(et::pad(x, {1, 1}, "mirror"), et::value_error);
  CHECK_THROWS_AS(et::pad(x, {4, 4}, "circular"), et::shape_error);
  CHECK_THROWS_AS(et::pad(x, {1, 1, 1, 1, 1, 1}), et::shape_error);
}

TEST_CASE("pad gradients match PyTorch", "[autograd][pad][torch]") {
  const auto& f = fx();
  struct Case {
    const char* name;
    std::vector<std::int64_t> pads;
    const char* mode;
    double value;
  };
  for (const auto& c : std::vector<Case>{{"pad_reflect", {2, 1, 1, 2}, "reflect", 0},
                                         {"pad_replicate", {2, 1, 1, 2}, "replicate", 0},
                                         {"pad_circular", {2, 1, 1, 2}, "circular", 0},
                                         {"pad_constant", {-1, 2, 1, 0}, "constant", 3},
                                         {"pad_reflect_crop", {-1, 2, 1, -2}, "reflect", 0}}) {
    const std::string name = c.name;
    INFO(name);
    V x(f.tensor<double>(name + "_x"), true);
    et::pad(x, c.pads, c.mode, c.value).backward(f.tensor<double>(name + "_g"));
    ETNA_CHECK_CLOSE(x.grad(), f.tensor<double>(name + "_grad_x"), 0, 0);
  }
}
