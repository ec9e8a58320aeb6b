// operator<< (etna/core/print.hpp) against PyTorch 1.13's repr of the same tensors
// (tests/reference/make_core.py; "torch." removed, as etna prints "dtype=float64").
#include <sstream>
#include <string>

#include <catch2/catch.hpp>

#include "support/fixtures.hpp"

namespace et = etna;

namespace {
const et::test::Fixtures& fx() {
  static const et::test::Fixtures f("core.json");
  return f;
}

template <class X>
std::string to_string(const X& x) {
  std::ostringstream out;
  out << x;
  return out.str();
}

// Prints the fixture tensor `name` with its own element type.
std::string print_fixture(const std::string& name) {
  const auto dtype = fx().json().at(name).at("dtype").get<std::string>();
  if (dtype == "float32") return to_string(fx().tensor<float>(name));
  if (dtype == "float64") return to_string(fx().tensor<double>(name));
  if (dtype == "int32") return to_string(fx().tensor<std::int32_t>(name));
  if (dtype == "int64") return to_string(fx().tensor<std::int64_t>(name));
  if (dtype == "bool") return to_string(fx().tensor<bool>(name));
  FAIL("unknown dtype " << dtype);
  return "";
}
}  // namespace

TEST_CASE("printing matches PyTorch's repr", "[core][print]") {
  const auto cases = fx().value<std::vector<std::string>>("print_cases");
  REQUIRE(cases.size() >= 40);
  for (const auto& name : cases) {
    const std::string key = "print_" + name;
    const auto expected = fx().json().at(key).at("repr").get<std::string>();
    const std::string actual = print_fixture(key);
    INFO(name << "\n--- etna:\n" << actual << "\n--- PyTorch:\n" << expected);
    CHECK(actual == expected);
  }
}

TEST_CASE("printing views and expressions", "[core][print]") {
  // a transposed (non-contiguous) view prints its logical layout
  const auto base = fx().tensor("print_transposed_base");
  CHECK(to_string(base.t()) == fx().value<std::string>("print_transposed_repr"));
  // an expression is evaluated, then printed
  const auto a = et::tensor<float>({1.f, 2.f});
  CHECK(to_string(a * 2.f) == "tensor([2., 4.])");
  CHECK(to_string(a > 1.5f) == "tensor([False,  True])");
  // a default-constructed tensor is empty
  CHECK(to_string(et::Tensor<float>()) == "tensor([])");
  // slices and selections
  const auto m = et::tensor<std::int64_t>({{1, 2, 3}, {4, 5, 6}});
  CHECK(to_string(m.slice(1, 0, 3, 2)) == "tensor([[1, 3],\n        [4, 6]])");
  CHECK(to_string(m[1]) == "tensor([4, 5, 6])");
  CHECK(to_string(m(1, 2)) == "6");
}
