#include "etna/ops/matmul.hpp"

#include <catch2/catch.hpp>

#include "support/fixtures.hpp"

namespace et = etna;

TEST_CASE("matmul matches torch.matmul for every rank combination", "[matmul]") {
  et::test::Fixtures f("matmul.json");
  for (const char* name :
       {"mm", "odd", "dot", "vecmat", "matvec", "bmm", "broadcast", "batch_vec", "vec_batch"}) {
    INFO(name);
    const std::string n = name;
    ETNA_CHECK_CLOSE(et::matmul(f.tensor(n + ".a"), f.tensor(n + ".b")), f.tensor(n + ".out"),
                     1e-5, 1e-5);
  }
  ETNA_CHECK_CLOSE(et::matmul(f.tensor<double>("f64.a"), f.tensor<double>("f64.b")),
                   f.tensor<double>("f64.out"), 1e-12, 1e-12);
  ETNA_CHECK_CLOSE(et::matmul(f.tensor<std::int64_t>("i64.a"), f.tensor<std::int64_t>("i64.b")),
                   f.tensor<std::int64_t>("i64.out"), 0, 0);
}

TEST_CASE("matmul reads transposed and strided operands without copying them", "[matmul]") {
  et::test::Fixtures f("matmul.json");
  const auto a = f.tensor("odd.a"), b = f.tensor("odd.b");
  const auto expected = f.tensor("odd.out");
  // a^T stored transposed: same values, column-major strides.
  et::Tensor<float> a_t_storage = a.t().contiguous();
  ETNA_CHECK_CLOSE(et::matmul(a_t_storage.t(), b), expected, 1e-5, 1e-5);
  ETNA_CHECK_CLOSE(a.matmul(b.t().contiguous().t()), expected, 1e-5, 1e-5);
  // Expressions are evaluated first.
  ETNA_CHECK_CLOSE(et::matmul(a * 2.f, b), expected * 2.f, 1e-5, 1e-5);
  // A strided slice of a bigger matrix.
  auto big = et::zeros<float>({74, 53});
  big.slice(0, 0, 74, 2).assign(a);
  ETNA_CHECK_CLOSE(et::matmul(big.slice(0, 0, 74, 2), b), expected, 1e-5, 1e-5);
}

TEST_CASE("matmul handles empty dimensions", "[matmul]") {
  auto out = et::matmul(et::zeros<float>({3, 0}), et::zeros<float>({0, 4}));
  CHECK(out.shape() == et::Shape{3, 4});
  for (float v : out) CHECK(v == 0.f);
  CHECK(et::matmul(et::zeros<float>({0, 5}), et::zeros<float>({5, 2})).shape() == et::Shape{0, 2});
}

TEST_CASE("matmul, mm and bmm report shape errors naming both shapes", "[matmul]") {
  CHECK_THROWS_WITH(et::matmul(et::zeros<float>({64, 784}), et::zeros<float>({512, 10})),
                    "matmul: inner dimensions differ: [64, 784] x [512, 10]");
  CHECK_THROWS_WITH(et::matmul(et::zeros<float>({2, 3, 4}), et::zeros<float>({5, 2})),
                    "matmul: inner dimensions differ: [2, 3, 4] x [5, 2]");
  CHECK_THROWS_WITH(et::matmul(et::zeros<float>({2, 3, 4}), et::zeros<float>({3, 4, 5})),
                    "matmul: shapes [2] and [3] cannot be broadcast (dimension 0: 2 vs 3)");
  CHECK_THROWS_WITH(et::matmul(et::full<float>({}, 1.f), et::zeros<float>({3})),
                    "matmul: both arguments need at least 1 dimension, got shapes [] and [3]");
  CHECK_THROWS_WITH(et::mm(et::zeros<float>({3}), et::zeros<float>({3, 2})),
                    "mm: expected two 2-d tensors, got shapes [3] and [3, 2]");
  CHECK_THROWS_WITH(et::bmm(et::zeros<float>({2, 3, 4}), et::zeros<float>({3, 4, 5})),
                    "bmm: expected two 3-d tensors with the same batch size, got shapes [2, 3, 4] "
                    "and [3, 4, 5]");
}

TEST_CASE("matmul gives the same result on 1 and 2 threads", "[matmul]") {
  et::manual_seed(3);
  auto a = et::randn<float>({300, 257}), b = et::randn<float>({257, 190});
  et::set_num_threads(1);
  auto one = et::matmul(a, b);
  et::set_num_threads(2);
  auto two = et::matmul(a, b);
  ETNA_CHECK_CLOSE(one, two, 1e-5, 1e-5);
}
