// Factories (etna/core/factory.hpp): zeros/ones/full/empty, arange/linspace/eye against
// PyTorch (tests/reference/make_core.py), tensor() from nested lists, from_blob, *_like.
#include <cstdint>
#include <vector>

#include <catch2/catch.hpp>

#include "support/fixtures.hpp"

namespace et = etna;
using et::Shape;

namespace {
const et::test::Fixtures& fx() {
  static const et::test::Fixtures f("core.json");
  return f;
}
template <class T>
std::vector<T> values(const et::Tensor<T>& t) {
  return std::vector<T>(t.begin(), t.end());
}
}  // namespace

TEST_CASE("zeros, ones, full, empty", "[core][factory]") {
  auto z = et::zeros<float>({2, 3});
  static_assert(std::is_same_v<decltype(z), et::Tensor<float, et::cpu>>);
  CHECK(z.shape() == Shape{2, 3});
  CHECK(z.is_contiguous());
  CHECK(values(z) == std::vector<float>(6, 0.f));
  CHECK(values(et::ones<double>({4})) == std::vector<double>(4, 1.0));
  CHECK(values(et::full<std::int32_t>({2, 2}, 7)) == std::vector<std::int32_t>(4, 7));
  CHECK(values(et::full<bool>({3}, true)) == std::vector<bool>(3, true));
  CHECK(values(et::zeros<std::int64_t>({3})) == std::vector<std::int64_t>(3, 0));
  CHECK(et::empty<float>({5, 0}).numel() == 0);
  CHECK(et::zeros<float>({}).dim() == 0);
  CHECK(et::zeros<float>({}).item() == 0.f);
  static_assert(std::is_same_v<decltype(et::zeros({2})), et::Tensor<float>>);  // float default
  CHECK_THROWS_AS(et::empty<float>({2, -1}), et::shape_error);
  CHECK_THROWS_WITH(et::zeros<float>({2, -1}), "empty: negative dimension in shape [2, -1]");
}

TEST_CASE("arange matches torch.arange", "[core][factory]") {
  for (const char* name : {"arange_0_10", "arange_half", "arange_down", "arange_tenths",
                           "arange_long"}) {
    INFO(name);
    const auto args = fx().json().at(name).at("args").get<std::vector<double>>();
    ETNA_CHECK_CLOSE(et::arange<float>(args[0], args[1], args[2]), fx().tensor<float>(name),
                     1e-7, 0);
  }
  // PyTorch's vectorised arange rounds some values differently (fused multiply-add): 1 ulp
  ETNA_CHECK_CLOSE(et::arange<double>(-1, 1, 0.3), fx().tensor<double>("arange_neg_f64"), 1e-15,
                   1e-16);
  ETNA_CHECK_CLOSE(et::arange<std::int64_t>(0, 10, 3), fx().tensor<std::int64_t>("arange_i64"), 0, 0);
  ETNA_CHECK_CLOSE(et::arange<std::int32_t>(5, -5, -2), fx().tensor<std::int32_t>("arange_i32_down"),
                   0, 0);
  CHECK(values(et::arange(4)) == std::vector<float>{0, 1, 2, 3});
  CHECK(et::arange<float>(3, 3).numel() == 0);
  CHECK_THROWS_WITH(et::arange<float>(0, 1, 0), "arange: step must be nonzero");
  CHECK_THROWS_WITH(et::arange<float>(1, 0, 1),
                    "arange: upper bound 0 and lower bound 1 are inconsistent with step sign 1");
}

TEST_CASE("linspace matches torch.linspace", "[core][factory]") {
  for (const char* name : {"linspace_0_1_5", "linspace_sym_7", "linspace_one", "linspace_zero",
                           "linspace_down", "linspace_100"}) {
    INFO(name);
    const auto args = fx().json().at(name).at("args").get<std::vector<double>>();
    // PyTorch computes in float for float tensors, etna in double: within one float ulp
    ETNA_CHECK_CLOSE(et::linspace<float>(args[0], args[1], static_cast<std::int64_t>(args[2])),
                     fx().tensor<float>(name), 1.2e-7, 1e-7);
  }
  ETNA_CHECK_CLOSE(et::linspace<double>(-7.3, 12.9, 100), fx().tensor<double>("linspace_100_f64"),
                   1e-15, 1e-15);
  auto l = et::linspace<float>(-7.3, 12.9, 100);
  CHECK(l(0) == -7.3f);
  CHECK(l(99) == 12.9f);  // the last value is exactly `end`
  CHECK_THROWS_WITH(et::linspace<float>(0, 1, -1),
                    "linspace: number of steps must be non-negative, got -1");
}

TEST_CASE("eye matches torch.eye", "[core][factory]") {
  ETNA_CHECK_CLOSE(et::eye<float>(3), fx().tensor("eye_3"), 0, 0);
  ETNA_CHECK_CLOSE(et::eye<float>(2, 4), fx().tensor("eye_2_4"), 0, 0);
  ETNA_CHECK_CLOSE(et::eye<float>(4, 2), fx().tensor("eye_4_2"), 0, 0);
  CHECK(values(et::eye<std::int64_t>(2)) == std::vector<std::int64_t>{1, 0, 0, 1});
}

TEST_CASE("tensor() from nested initializer lists", "[core][factory]") {
  auto s = et::tensor<float>(2.5f);
  CHECK(s.dim() == 0);
  CHECK(s.item() == 2.5f);
  auto v = et::tensor<float>({1, 2, 3});
  CHECK(v.shape() == Shape{3});
  auto m = et::tensor<float>({{1, 2}, {3, 4}, {5, 6}});
  CHECK(m.shape() == Shape{3, 2});
  CHECK(m(2, 1) == 6.f);
  auto c = et::tensor<std::int64_t>({{{1, 2}}, {{3, 4}}});
  CHECK(c.shape() == Shape{2, 1, 2});
  CHECK(values(c) == std::vector<std::int64_t>{1, 2, 3, 4});
  auto d = et::tensor<double>({{{{1.5}}}});
  CHECK(d.shape() == Shape{1, 1, 1, 1});
  auto b = et::tensor<bool>({true, false});
  CHECK(values(b) == std::vector<bool>{true, false});
  CHECK_THROWS_AS(et::tensor<float>({{1, 2}, {3}}), et::shape_error);
  CHECK_THROWS_WITH(et::tensor<float>({{1, 2}, {3}}),
                    "tensor: ragged nested list: expected 2 elements at depth 1, got 1");
  CHECK_THROWS_WITH(et::tensor<float>({{{1}, {2}}, {{3}, {4, 5}}}),
                    "tensor: ragged nested list: expected 1 elements at depth 2, got 2");
  CHECK_THROWS_WITH(et::tensor<float>({{1, 2}, 3}),
                    "tensor: ragged nested list: a value at depth 1 where depth 2 was expected");
  CHECK(et::tensor<float>({{1}, {2}}).shape() == Shape{2, 1});
  // from a flat vector and a shape
  auto f = et::tensor<float>(std::vector<float>{1, 2, 3, 4, 5, 6}, {2, 3});
  CHECK(f(1, 0) == 4.f);
  CHECK_THROWS_WITH(et::tensor<float>(std::vector<float>{1, 2, 3}, {2, 2}),
                    "tensor: 3 values do not fill shape [2, 2]");
}

TEST_CASE("from_blob wraps user memory without copying", "[core][factory]") {
  std::vector<float> buffer{1, 2, 3, 4, 5, 6};
  auto t = et::from_blob(buffer.data(), {2, 3});
  CHECK(t.data() == buffer.data());
  CHECK(t(1, 2) == 6.f);
  t(0, 0) = 10.f;
  CHECK(buffer[0] == 10.f);
  buffer[5] = -6.f;
  CHECK(t(1, 2) == -6.f);
  t.assign(t * 2.f);
  CHECK(buffer[1] == 4.f);
  // custom strides: a column-major view of the same memory
  auto cm = et::from_blob(buffer.data(), {3, 2}, {1, 3});
  CHECK(cm(2, 1) == buffer[5]);
  CHECK_FALSE(cm.is_contiguous());
  CHECK_THROWS_WITH(et::from_blob(buffer.data(), {3, 2}, {1}),
                    "from_blob: strides [1] do not match shape [3, 2]");
  // the deleter runs when the last handle goes away
  int deleted = 0;
  {
    float* owned = new float[4]{1, 2, 3, 4};
    auto a = et::from_blob<float>(owned, {4}, [&deleted](float* p) {
      delete[] p;
      ++deleted;
    });
    auto view = a.slice(0, 1, 3);
    a = et::Tensor<float>();
    CHECK(deleted == 0);  // the view still holds the storage
    CHECK(view(0) == 2.f);
  }
  CHECK(deleted == 1);
}

TEST_CASE("*_like factories keep shape and element type", "[core][factory]") {
  const auto x = et::zeros<double>({2, 5}).t();
  auto z = et::zeros_like(x);
  static_assert(std::is_same_v<decltype(z), et::Tensor<double>>);
  CHECK(z.shape() == Shape{5, 2});
  CHECK(z.is_contiguous());
  CHECK(values(et::ones_like(x)) == std::vector<double>(10, 1.0));
  CHECK(values(et::full_like(x, 3.0)) == std::vector<double>(10, 3.0));
  CHECK(et::empty_like(x).shape() == Shape{5, 2});
  auto r = et::rand_like(x);
  static_assert(std::is_same_v<decltype(r), et::Tensor<double>>);
  CHECK(r.shape() == Shape{5, 2});
  CHECK(et::randn_like(et::zeros<float>({3})).shape() == Shape{3});
  const auto i = et::zeros<std::int32_t>({4});
  static_assert(std::is_same_v<decltype(et::ones_like(i)), et::Tensor<std::int32_t>>);
}
