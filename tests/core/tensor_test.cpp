// Tensor (etna/core/tensor.hpp) and its views (core/tensor_views.hpp): handle semantics, every
// view sharing storage, copies, element access, iteration order, conversions, alignment, the
// 8-dimension limit, and the exact error messages.
#include <cstdint>
#include <vector>

#include <catch2/catch.hpp>

#include "support/fixtures.hpp"

namespace et = etna;
using et::Shape;

namespace {
et::Tensor<float> iota(const Shape& shape) {
  return et::arange<float>(0, static_cast<double>(shape.numel())).reshape(shape);
}
template <class T>
std::vector<T> values(const et::Tensor<T>& t) {
  return std::vector<T>(t.begin(), t.end());
}
}  // namespace

TEST_CASE("copies share storage, clone deep-copies", "[core][tensor]") {
  auto a = iota({2, 3});
  auto b = a;  // a handle, not a copy
  CHECK(b.data() == a.data());
  CHECK(a.storage().use_count() == 2);
  b(0, 1) = 42.f;
  CHECK(a(0, 1) == 42.f);
  const et::Tensor<float> c = a;  // constness is about the handle, not the elements
  c(1, 2) = -1.f;
  CHECK(a(1, 2) == -1.f);
  auto d = a.clone();
  CHECK(d.data() != a.data());
  CHECK(d.storage() != a.storage());
  CHECK(values(d) == values(a));
  d(0, 0) = 9.f;
  CHECK(a(0, 0) == 0.f);
  // clone of a non-contiguous view is contiguous with the view's logical order
  auto t = a.t().clone();
  CHECK(t.is_contiguous());
  CHECK(values(t) == values(a.t()));
  CHECK(et::Tensor<float>().defined() == false);
  CHECK(et::Tensor<float>().shape() == Shape{0});
  CHECK(a.defined());
}

TEST_CASE("reshape and view", "[core][tensor][views]") {
  auto a = iota({3, 4});
  auto r = a.reshape({2, 6});
  CHECK(r.data() == a.data());
  CHECK(r.shape() == Shape{2, 6});
  CHECK(r.strides() == Shape{6, 1});
  CHECK(a.reshape({-1}).shape() == Shape{12});
  CHECK(a.reshape({2, -1, 3}).shape() == Shape{2, 2, 3});
  CHECK(a.view({4, -1}).shape() == Shape{4, 3});
  r(1, 0) = 100.f;  // writes through the view
  CHECK(a(1, 2) == 100.f);
  // a transposed tensor cannot be viewed flat: reshape copies, view refuses
  auto tr = a.t();
  auto flat = tr.reshape({12});
  CHECK(flat.data() != a.data());
  CHECK(values(flat) == values(tr));
  CHECK_THROWS_WITH(tr.view({12}),
                    "view: shape [12] is not compatible with the strides [1, 4] of a tensor of "
                    "shape [4, 3]; use reshape() (which copies) or contiguous() first");
  // but dimensions that stay contiguous can still be split or merged without a copy
  auto b = iota({4, 6}).slice(1, 0, 3);  // [4, 3] with strides [6, 1]
  CHECK(b.reshape({4, 3, 1}).data() == b.data());
  CHECK(b.view({2, 2, 3}).strides() == Shape{12, 6, 1});
  CHECK_THROWS_AS(b.view({12}), et::shape_error);
  // 0-d and size-1 shapes
  auto s = et::tensor<float>(5.f);
  CHECK(s.reshape({1}).shape() == Shape{1});
  CHECK(s.reshape({1, 1}).item() == 5.f);
  CHECK(s.view({}).dim() == 0);
  CHECK(iota({1}).reshape({}).dim() == 0);
  CHECK(iota({0, 3}).reshape({3, 0, 5}).shape() == Shape{3, 0, 5});
  CHECK_THROWS_WITH(iota({0, 3}).reshape({3, 0, -1}),  // -1 is ambiguous next to a 0
                    "reshape: shape [3, 0, -1] is invalid for input of size 0 (shape [0, 3])");
  CHECK_THROWS_WITH(a.reshape({-1, -1}), "reshape: only one dimension can be -1, got [-1, -1]");
  CHECK_THROWS_WITH(a.reshape({5, -1}),
                    "reshape: shape [5, -1] is invalid for input of size 12 (shape [3, 4])");
  CHECK_THROWS_WITH(a.reshape({4, 4}),
                    "reshape: shape [4, 4] is invalid for input of size 12 (shape [3, 4])");
  CHECK_THROWS_WITH(a.reshape({-2, 6}), "reshape: invalid size -2 in [-2, 6]");
  CHECK_THROWS_WITH(a.view({0, -1}),
                    "view: shape [0, -1] is invalid for input of size 12 (shape [3, 4])");
}

TEST_CASE("flatten", "[core][tensor][views]") {
  auto a = iota({2, 3, 4});
  CHECK(a.flatten().shape() == Shape{24});
  CHECK(a.flatten().data() == a.data());
  CHECK(a.flatten(1).shape() == Shape{2, 12});
  CHECK(a.flatten(0, 1).shape() == Shape{6, 4});
  CHECK(a.flatten(-2, -1).shape() == Shape{2, 12});
  CHECK(a.flatten(1, 1).shape() == Shape{2, 3, 4});
  CHECK(et::tensor<float>(3.f).flatten().shape() == Shape{1});
  CHECK(values(a.transpose(0, 2).flatten()) == values(a.transpose(0, 2)));
  CHECK_THROWS_WITH(a.flatten(2, 1), "flatten: start_dim 2 comes after end_dim 1 for shape [2, 3, 4]");
  CHECK_THROWS_WITH(a.flatten(3),
                    "flatten: dimension 3 out of range for a 3-d tensor (expected -3 to 2)");
}

TEST_CASE("transpose, t() and permute", "[core][tensor][views]") {
  auto a = iota({2, 3, 4});
  auto t = a.transpose(0, 2);
  CHECK(t.shape() == Shape{4, 3, 2});
  CHECK(t.strides() == Shape{1, 4, 12});
  CHECK(t.data() == a.data());
  CHECK(t(3, 1, 0) == a(0, 1, 3));
  CHECK(a.transpose(-1, 0).shape() == Shape{4, 3, 2});
  CHECK_FALSE(t.is_contiguous());
  auto m = iota({2, 3});
  CHECK(m.t().shape() == Shape{3, 2});
  CHECK(m.t()(2, 1) == m(1, 2));
  CHECK(m.t().t().is_contiguous());
  auto v = iota({5});
  CHECK(v.t().shape() == Shape{5});
  CHECK(et::tensor<float>(1.f).t().dim() == 0);
  CHECK_THROWS_WITH(a.t(), "transpose: t() expects a tensor with at most 2 dimensions, got shape "
                           "[2, 3, 4]; use transpose(d0, d1) or permute");
  CHECK_THROWS_WITH(a.transpose(0, 3),
                    "transpose: dimension 3 out of range for a 3-d tensor (expected -3 to 2)");

  auto p = a.permute({2, 0, 1});
  CHECK(p.shape() == Shape{4, 2, 3});
  CHECK(p.strides() == Shape{1, 12, 4});
  CHECK(p(3, 1, 2) == a(1, 2, 3));
  CHECK(a.permute({-1, -3, -2}).shape() == Shape{4, 2, 3});
  p(0, 0, 0) = -5.f;
  CHECK(a(0, 0, 0) == -5.f);
  CHECK_THROWS_WITH(a.permute({0, 1}), "permute: 2 dimensions given for a tensor of shape [2, 3, 4]");
  CHECK_THROWS_WITH(a.permute({0, 1, 0}), "permute: dimension 0 repeated");
  CHECK_THROWS_WITH(a.permute({0, 1, 3}),
                    "permute: dimension 3 out of range for a 3-d tensor (expected -3 to 2)");
}

TEST_CASE("slice: negative, clamped and stepped bounds", "[core][tensor][views]") {
  auto a = iota({10});
  CHECK(values(a.slice(0, 2, 5)) == std::vector<float>{2, 3, 4});
  CHECK(values(a.slice(0, -3, 10)) == std::vector<float>{7, 8, 9});
  CHECK(values(a.slice(0, -3, -1)) == std::vector<float>{7, 8});
  CHECK(values(a.slice(0, 1, 100, 3)) == std::vector<float>{1, 4, 7});
  CHECK(values(a.slice(0, -100, 2)) == std::vector<float>{0, 1});
  CHECK(a.slice(0, 5, 2).shape() == Shape{0});
  CHECK(a.slice(0, 12, 20).shape() == Shape{0});
  CHECK(a.slice(0, 0, 10, 4).shape() == Shape{3});
  auto m = iota({4, 6});
  auto s = m.slice(1, 1, 6, 2);  // columns 1, 3, 5
  CHECK(s.shape() == Shape{4, 3});
  CHECK(s.strides() == Shape{6, 2});
  CHECK(s(2, 1) == m(2, 3));
  s.fill(-1.f);  // writes through the view
  CHECK(m(0, 1) == -1.f);
  CHECK(m(3, 5) == -1.f);
  CHECK(m(3, 4) == 22.f);
  CHECK(m.slice(-1, 0, 2).shape() == Shape{4, 2});
  CHECK_THROWS_WITH(a.slice(0, 0, 5, 0), "slice: step must be positive, got 0");
  CHECK_THROWS_WITH(a.slice(0, 0, 5, -1), "slice: step must be positive, got -1");
  CHECK_THROWS_WITH(et::tensor<float>(1.f).slice(0, 0, 1), "slice: cannot slice a 0-d tensor");
  CHECK_THROWS_WITH(m.slice(2, 0, 1),
                    "slice: dimension 2 out of range for a 2-d tensor (expected -2 to 1)");

  auto n = m.narrow(0, 1, 2);
  CHECK(n.shape() == Shape{2, 6});
  CHECK(n(0, 0) == m(1, 0));
  CHECK(m.narrow(1, -2, 2)(0, 0) == m(0, 4));
  CHECK_THROWS_WITH(m.narrow(0, 2, 3), "narrow: start 2 and length 3 exceed dimension 0 of size 4");
  CHECK_THROWS_WITH(m.narrow(0, 0, -1),
                    "narrow: start 0 and length -1 exceed dimension 0 of size 4");
}

TEST_CASE("select and indexing with an integer", "[core][tensor][views]") {
  auto m = iota({3, 4});
  auto row = m[1];
  CHECK(row.shape() == Shape{4});
  CHECK(values(row) == std::vector<float>{4, 5, 6, 7});
  CHECK(values(m[-1]) == std::vector<float>{8, 9, 10, 11});
  auto col = m.select(1, 2);
  CHECK(values(col) == std::vector<float>{2, 6, 10});
  CHECK(col.strides() == Shape{4});
  CHECK(m[2][3].dim() == 0);
  CHECK(m[2][3].item() == 11.f);
  col.fill(0.f);
  CHECK(m(1, 2) == 0.f);
  CHECK_THROWS_WITH(m[3], "select: index 3 is out of bounds for dimension 0 with size 3");
  CHECK_THROWS_WITH(m.select(1, -5), "select: index -5 is out of bounds for dimension 1 with size 4");
  CHECK_THROWS_WITH(et::tensor<float>(1.f)[0], "select: cannot index a 0-d tensor");
}

TEST_CASE("squeeze and unsqueeze", "[core][tensor][views]") {
  auto a = iota({1, 3, 1, 2});
  CHECK(a.squeeze().shape() == Shape{3, 2});
  CHECK(a.squeeze(0).shape() == Shape{3, 1, 2});
  CHECK(a.squeeze(-2).shape() == Shape{1, 3, 2});
  CHECK(a.squeeze(1).shape() == Shape{1, 3, 1, 2});  // not size 1: unchanged, as PyTorch
  CHECK(a.squeeze().data() == a.data());
  CHECK(et::tensor<float>(1.f).squeeze(0).dim() == 0);
  auto v = iota({3, 2});
  CHECK(v.unsqueeze(0).shape() == Shape{1, 3, 2});
  CHECK(v.unsqueeze(1).shape() == Shape{3, 1, 2});
  CHECK(v.unsqueeze(1).strides() == Shape{2, 2, 1});
  CHECK(v.unsqueeze(-1).shape() == Shape{3, 2, 1});
  CHECK(v.unsqueeze(2).strides() == Shape{2, 1, 1});
  CHECK(v.unsqueeze(1).is_contiguous());
  CHECK(v.t().unsqueeze(0).shape() == Shape{1, 2, 3});
  CHECK(et::tensor<float>(1.f).unsqueeze(0).shape() == Shape{1});
  CHECK_THROWS_WITH(v.unsqueeze(3),
                    "unsqueeze: dimension 3 out of range for a 3-d tensor (expected -3 to 2)");
}

TEST_CASE("expand and broadcast_to use stride 0", "[core][tensor][views]") {
  auto col = iota({3, 1});
  auto e = col.expand({3, 4});
  CHECK(e.shape() == Shape{3, 4});
  CHECK(e.strides() == Shape{1, 0});
  CHECK(e.data() == col.data());
  CHECK(values(e) == std::vector<float>{0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2});
  CHECK(col.expand({2, -1, 4}).shape() == Shape{2, 3, 4});
  CHECK(col.expand({2, -1, 4}).strides() == Shape{0, 1, 0});
  CHECK(col.broadcast_to({5, 3, 2}).shape() == Shape{5, 3, 2});
  CHECK(et::tensor<float>(7.f).expand({2, 2}).strides() == Shape{0, 0});
  col(1, 0) = 50.f;  // visible in every expanded element of row 1
  CHECK(e(1, 3) == 50.f);
  CHECK_FALSE(e.is_contiguous());
  CHECK(e.contiguous().is_contiguous());
  CHECK_THROWS_WITH(iota({3}).expand({2, 4}),
                    "expand: shape [3] cannot be expanded to [2, 4] (dimension 1: 3 vs 4)");
  CHECK_THROWS_WITH(iota({2, 3}).expand({3}),
                    "expand: cannot expand shape [2, 3] to [3] with fewer dimensions");
  CHECK_THROWS_WITH(iota({3}).expand({-1, 3}),
                    "expand: -1 is not allowed for a new leading dimension in [-1, 3]");
  CHECK_THROWS_WITH(iota({1}).expand({-2}), "expand: invalid size -2 in [-2]");
}

TEST_CASE("contiguous() copies only when needed", "[core][tensor]") {
  auto a = iota({3, 4});
  CHECK(a.contiguous().data() == a.data());
  CHECK(a.slice(0, 1, 3).contiguous().data() == a.data() + 4);  // rows are contiguous
  auto t = a.t().contiguous();
  CHECK(t.data() != a.data());
  CHECK(t.is_contiguous());
  CHECK(t.strides() == Shape{3, 1});
  CHECK(values(t) == values(a.t()));
  CHECK(iota({4, 1}).expand({4, 1}).is_contiguous());
  CHECK(iota({3, 1}).t().is_contiguous());  // size-1 dimensions do not matter
}

TEST_CASE("element access, item() and their errors", "[core][tensor]") {
  auto a = iota({2, 3});
  CHECK(a(1, 2) == 5.f);
  CHECK(a(-1, -1) == 5.f);
  CHECK(a(-2, 0) == 0.f);
  CHECK(a.at({1, 1}) == 4.f);
  a.at({0, 2}) = 8.f;
  CHECK(a(0, 2) == 8.f);
  CHECK(a.size(0) == 2);
  CHECK(a.size(-1) == 3);
  CHECK(a.numel() == 6);
  CHECK(a.dim() == 2);
  CHECK_THROWS_AS(a(2, 0), et::index_error);
  CHECK_THROWS_WITH(a(0, 3), "index: index 3 is out of bounds for dimension 1 with size 3 (shape [2, 3])");
  CHECK_THROWS_WITH(a(-3, 0), "index: index -3 is out of bounds for dimension 0 with size 2 (shape [2, 3])");
  CHECK_THROWS_WITH(a(1), "index: 1 indices given for a 2-d tensor of shape [2, 3]");
  CHECK_THROWS_WITH(a.at({0, 0, 0}), "index: 3 indices given for a 2-d tensor of shape [2, 3]");
  CHECK_THROWS_WITH(a.size(2), "size: dimension 2 out of range for a 2-d tensor (expected -2 to 1)");
  auto s = et::tensor<float>(2.5f);
  CHECK(s() == 2.5f);
  CHECK(s.item() == 2.5f);
  CHECK(iota({1, 1}).item() == 0.f);
  CHECK_THROWS_AS(a.item(), et::value_error);
  CHECK_THROWS_WITH(a.item(), "item: a tensor with 6 elements (shape [2, 3]) cannot be converted to a scalar");
  CHECK_THROWS_WITH(iota({0}).item(), "item: a tensor with 0 elements (shape [0]) cannot be converted to a scalar");
}

TEST_CASE("iteration follows the logical row-major order of any view", "[core][tensor]") {
  auto a = iota({3, 4});
  CHECK(values(a.t()) == std::vector<float>{0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11});
  CHECK(values(a.slice(1, 0, 4, 3)) == std::vector<float>{0, 3, 4, 7, 8, 11});
  CHECK(values(a.slice(0, 0, 3, 2).t()) == std::vector<float>{0, 8, 1, 9, 2, 10, 3, 11});
  CHECK(values(a[1].expand({2, 4})) == std::vector<float>{4, 5, 6, 7, 4, 5, 6, 7});
  CHECK(values(iota({2, 3, 2}).permute({2, 0, 1})) ==
        std::vector<float>{0, 2, 4, 6, 8, 10, 1, 3, 5, 7, 9, 11});
  CHECK(values(et::tensor<float>(3.f)) == std::vector<float>{3});
  CHECK(values(iota({0, 4})).empty());
  CHECK(std::distance(a.begin(), a.end()) == 12);
  for (auto& x : a.select(1, 0)) x = -1.f;  // writes through the iterator
  CHECK(a(2, 0) == -1.f);
}

TEST_CASE("to<U>() converts element types", "[core][tensor]") {
  auto a = et::tensor<float>({{1.5f, -2.5f}, {3.f, 0.f}});
  auto d = a.t().to<double>();
  static_assert(std::is_same_v<decltype(d), et::Tensor<double>>);
  CHECK(d.shape() == Shape{2, 2});
  CHECK(values(d) == std::vector<double>{1.5, 3, -2.5, 0});
  CHECK(values(a.to<std::int64_t>()) == std::vector<std::int64_t>{1, -2, 3, 0});
  CHECK(values(a.to<bool>()) == std::vector<bool>{true, true, true, false});
  CHECK(a.to<float>().data() == a.data());  // same type: the same handle
  CHECK(a.to<et::cpu>().data() == a.data());
}

TEST_CASE("storage is 64-byte aligned", "[core][tensor]") {
  for (std::int64_t n : {1, 3, 16, 17, 1000}) {
    CHECK(reinterpret_cast<std::uintptr_t>(et::empty<float>({n}).data()) % 64 == 0);
    CHECK(reinterpret_cast<std::uintptr_t>(et::zeros<double>({n, 3}).data()) % 64 == 0);
    CHECK(reinterpret_cast<std::uintptr_t>(et::ones<std::int32_t>({n}).data()) % 64 == 0);
    CHECK(reinterpret_cast<std::uintptr_t>(iota({n, 2}).t().clone().data()) % 64 == 0);
  }
  CHECK(reinterpret_cast<std::uintptr_t>(et::empty<float>({0}).data()) % 64 == 0);
}

TEST_CASE("tensors have at most 8 dimensions", "[core][tensor]") {
  CHECK(et::kMaxDims == 8);
  auto a = et::zeros<float>({1, 1, 1, 1, 1, 1, 1, 2});
  CHECK(a.dim() == 8);
  CHECK_THROWS_AS(a.unsqueeze(0), et::shape_error);
  CHECK_THROWS_WITH(a.unsqueeze(0), "etna: tensors have at most 8 dimensions, got 9");
  CHECK_THROWS_WITH(a.reshape({1, 1, 1, 1, 1, 1, 1, 1, 2}),
                    "etna: tensors have at most 8 dimensions, got 9");
  CHECK_THROWS_WITH(a.expand({1, 1, 1, 1, 1, 1, 1, 1, 2}),
                    "etna: tensors have at most 8 dimensions, got 9");
  CHECK_THROWS_WITH(Shape(9), "etna: tensors have at most 8 dimensions, got 9");
}

TEST_CASE("fill and assign", "[core][tensor]") {
  auto a = et::empty<float>({2, 3});
  CHECK(&a.fill(1.5f) == &a);
  CHECK(values(a) == std::vector<float>(6, 1.5f));
  a.assign(et::tensor<float>({1.f, 2.f, 3.f}));  // broadcast over rows
  CHECK(values(a) == std::vector<float>{1, 2, 3, 1, 2, 3});
  a.assign(0.5);  // a scalar of another type is converted
  CHECK(values(a) == std::vector<float>(6, 0.5f));
  et::zeros<float>({0, 3}).fill(1.f);  // nothing to write
}
