// et::prune masks against torch.nn.utils.prune (fixtures from tests/reference/make_prune.py),
// exact counts for per-layer and global amounts, structured pruning, reports and errors.
#include "etna/prune.hpp"

#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <sstream>

#include "etna/etna.hpp"
#include "support/fixtures.hpp"

namespace et = etna;
namespace nn = et::nn;
namespace prune = et::prune;

namespace {

const et::test::Fixtures& fixtures() {
  static const et::test::Fixtures f("prune.json");
  return f;
}

template <class T, class D>
et::Tensor<float> mask_of(const et::Var<T, D>& p) {
  return p.impl_ptr()->mask.template to<et::cpu>();
}

void require_same(const et::Tensor<float>& actual, const et::Tensor<float>& expected) {
  INFO(et::test::mismatch(actual, expected, 0, 0));
  REQUIRE(et::test::mismatch(actual, expected, 0, 0).empty());
}

std::int64_t zeros(const et::Tensor<float>& t) {
  std::int64_t n = 0;
  for (float v : t) n += v == 0;
  return n;
}

using Mlp = nn::Sequential<nn::Flatten, nn::Linear<784, 256>, nn::ReLU, nn::Linear<256, 256>,
                           nn::ReLU, nn::Linear<256, 10>>;

}  // namespace

TEST_CASE("l1_unstructured matches PyTorch: fraction, count, repeated", "[prune]") {
  const auto& f = fixtures();
  nn::Linear<> fc(6, 8);
  fc.weight.value().assign(f.tensor("l1.weight"));
  prune::l1_unstructured(fc, "weight", 0.3);
  require_same(mask_of(fc.weight), f.tensor("l1.mask1"));
  prune::l1_unstructured(fc, "weight", 5);
  require_same(mask_of(fc.weight), f.tensor("l1.mask2"));
  prune::l1_unstructured(fc, "weight", 0.5);
  require_same(mask_of(fc.weight), f.tensor("l1.mask3"));
  // The stored weight is the effective one: zero where pruned, unchanged elsewhere.
  require_same(fc.weight.value(), f.tensor("l1.weight") * f.tensor("l1.mask3"));
  CHECK(prune::is_pruned(fc));
  CHECK_FALSE(prune::is_pruned(fc, "bias"));
}

TEST_CASE("fractions round half to even as Python's round", "[prune]") {
  nn::Linear<> fc(5, 2);
  fc.weight.value().assign(fixtures().tensor("round.weight"));
  prune::l1_unstructured(fc, "weight", 0.25);  // round(2.5) = 2
  require_same(mask_of(fc.weight), fixtures().tensor("round.mask"));
  CHECK(zeros(mask_of(fc.weight)) == 2);
}

TEST_CASE("ln_structured matches PyTorch on Conv2d and Linear", "[prune]") {
  const auto& f = fixtures();
  SECTION("conv n=2 dim=0, twice") {
    nn::Conv2d<> conv(3, 6, 3);
    conv.weight.value().assign(f.tensor("ln.conv.weight"));
    prune::ln_structured(conv, "weight", 0.34, 2, 0);
    require_same(mask_of(conv.weight), f.tensor("ln.conv.mask1"));
    prune::ln_structured(conv, "weight", 0.5, 2, 0);
    require_same(mask_of(conv.weight), f.tensor("ln.conv.mask2"));
  }
  SECTION("linear: n=2 dim=0 count, n=1 dim=1, n=inf dim=0") {
    struct Case {
      const char* tag;
      prune::Amount amount;
      double n;
      std::int64_t dim;
    };
    for (const Case& c : {Case{"l2d0", 3, 2.0, 0}, Case{"l1d1", 0.5, 1.0, 1},
                          Case{"linfd0", 0.4, std::numeric_limits<double>::infinity(), 0}}) {
      INFO(c.tag);
      nn::Linear<> fc(7, 5);
      const std::string key = std::string("ln.") + c.tag;
      fc.weight.value().assign(f.tensor(key + ".weight"));
      prune::ln_structured(fc, "weight", c.amount, c.n, c.dim);
      require_same(mask_of(fc.weight), f.tensor(key + ".mask"));
    }
  }
}

TEST_CASE("global_unstructured matches PyTorch: one threshold over several parameters", "[prune]") {
  const auto& f = fixtures();
  struct Net : nn::Module<Net> {
    nn::Linear<> a{10, 12}, b{12, 4};
    ETNA_MODULE(a, b)
  } net;
  net.a.weight.value().assign(f.tensor("global.a.weight"));
  net.b.weight.value().assign(f.tensor("global.b.weight"));
  net.b.bias.value().assign(f.tensor("global.b.bias"));
  const std::vector<std::string> names = {"a.weight", "b.weight", "b.bias"};
  prune::global_unstructured(net, names, {.method = prune::Method::l1, .amount = 0.6});
  require_same(mask_of(net.a.weight), f.tensor("global.a.mask1"));
  require_same(mask_of(net.b.weight), f.tensor("global.b.mask1"));
  require_same(mask_of(net.b.bias), f.tensor("global.b.bias_mask1"));
  prune::global_unstructured(net, names, {.amount = 20});
  require_same(mask_of(net.a.weight), f.tensor("global.a.mask2"));
  require_same(mask_of(net.b.weight), f.tensor("global.b.mask2"));
  require_same(mask_of(net.b.bias), f.tensor("global.b.bias_mask2"));
  CHECK_FALSE(prune::is_pruned(net, "a.bias"));
}

TEST_CASE("per-layer and global amounts prune exact counts", "[prune]") {
  et::manual_seed(3);
  Mlp net;
  const std::vector<std::string> weights = {"1.weight", "3.weight", "5.weight"};
  SECTION("per layer: each layer exactly round(amount * n)") {
    for (const auto& name : weights) prune::l1_unstructured(net, name, 0.9);
    const auto report = prune::sparsity_report(net, {"*.weight"});
    CHECK(report.at("1.weight").masked == std::llround(0.9 * 784 * 256));
    CHECK(report.at("3.weight").masked == std::llround(0.9 * 256 * 256));
    CHECK(report.at("5.weight").masked == 2304);  // round(0.9 * 2560)
    CHECK(report.at("1.weight").zeros == report.at("1.weight").masked);
  }
  SECTION("global: the total is exact, the layers differ") {
    std::vector<et::Tensor<float>> before;
    for (const auto& name : weights)
      before.push_back(prune::detail::find_parameter(net, name, "test").value().clone());
    prune::global_unstructured(net, {"*.weight"}, {.amount = 0.9});
    const auto report = prune::sparsity_report(net, weights);
    const std::int64_t total = 784 * 256 + 256 * 256 + 256 * 10;
    CHECK(report.total_zeros() == std::llround(0.9 * total));
    CHECK(report.at("1.weight").sparsity() != report.at("5.weight").sparsity());
    // One threshold: every kept weight is at least as large as every pruned one was.
    float kept_min = 1e9f, pruned_max = 0;
    for (std::size_t k = 0; k < weights.size(); ++k) {
      const auto m = prune::detail::find_parameter(net, weights[k], "test").impl_ptr()->mask;
      for (std::int64_t i = 0; i < m.numel(); ++i) {
        const float a = std::fabs(before[k].data()[i]);
        if (m.data()[i] != 0)
          kept_min = std::min(kept_min, a);
        else
          pruned_max = std::max(pruned_max, a);
      }
    }
    CHECK(kept_min >= pruned_max);
  }
  SECTION("random: exact counts, reproducible with a generator") {
    et::Generator g1(7), g2(7);
    Mlp other = net.clone();
    prune::random_unstructured(net, "3.weight", 0.7, &g1);
    prune::random_unstructured(other, "3.weight", 0.7, &g2);
    CHECK(zeros(mask_of(net.get<3>().weight)) == std::llround(0.7 * 65536));
    require_same(mask_of(net.get<3>().weight), mask_of(other.get<3>().weight));
    prune::global_unstructured(net, weights, {.method = prune::Method::random, .amount = 1000});
    CHECK(prune::sparsity_report(net, weights).at("3.weight").masked >= 45875);
  }
  SECTION("prune_to_sparsity reaches the target over masks") {
    CHECK(prune::prune_to_sparsity(net, weights, 0.5) > 0);
    CHECK(prune::prune_to_sparsity(net, weights, 0.5) == 0);
    prune::prune_to_sparsity(net, weights, 0.8);
    const auto report = prune::sparsity_report(net, weights);
    CHECK(report.total_zeros() == std::llround(0.8 * report.total_numel()));
  }
}

TEST_CASE("structured pruning zeroes whole output channels and neurons", "[prune]") {
  et::manual_seed(5);
  SECTION("Conv2d output channels") {
    nn::Conv2d<> conv(4, 10, 3);
    prune::ln_structured(conv, "weight", 0.3, 2, 0);
    const auto w = conv.weight.value();
    int empty = 0;
    for (std::int64_t c = 0; c < 10; ++c) {
      const auto z = zeros(w.slice(0, c, c + 1).contiguous());
      CHECK((z == 0 || z == 36));
      empty += z == 36;
    }
    CHECK(empty == 3);
    et::Generator g(1);
    prune::random_structured(conv, "weight", 2, 0, &g);  // 2 of the 7 channels left
    CHECK(zeros(mask_of(conv.weight)) == 5 * 36);
  }
  SECTION("Linear neurons, the bias pruned alongside with custom_from_mask") {
    nn::Linear<> fc(20, 8);
    prune::ln_structured(fc, "weight", 0.5, 1, 0);
    auto row_mask = et::Tensor<float>(mask_of(fc.weight).slice(1, 0, 1).contiguous().reshape({8}));
    prune::custom_from_mask(fc, "bias", row_mask);
    CHECK(zeros(fc.bias.value()) == 4);
    auto y = fc(et::Var<float>(et::randn<float>({3, 20}))).value();
    for (std::int64_t j = 0; j < 8; ++j)
      if (row_mask(j) == 0)
        for (std::int64_t i = 0; i < 3; ++i) CHECK(y(i, j) == 0);
  }
}

TEST_CASE("threshold, identity, remove, report", "[prune]") {
  nn::Linear<> fc(3, 2);
  fc.weight.value().assign(et::tensor<float>({{0.1f, -0.5f, 0.05f}, {2.f, -0.01f, 0.3f}}));
  prune::threshold_unstructured(fc, "weight", 0.2);
  require_same(mask_of(fc.weight), et::tensor<float>({{0, 1, 0}, {1, 0, 1}}));
  prune::identity(fc, "bias");
  CHECK(zeros(mask_of(fc.bias)) == 0);
  const auto report = prune::sparsity_report(fc);
  CHECK(report.total_numel() == 8);
  CHECK(report.total_zeros() == 3);
  CHECK(report.global_sparsity() == Approx(3.0 / 8));
  std::ostringstream table;
  table << report;
  CHECK_THAT(table.str(),
             Catch::Contains("weight") && Catch::Contains("50.00%") && Catch::Contains("total"));
  prune::remove(fc, "weight");
  CHECK_FALSE(prune::is_pruned(fc, "weight"));
  CHECK(zeros(fc.weight.value()) == 3);
  CHECK(fc.named_buffers().size() == 1);  // bias_mask only
}

TEST_CASE("schedules: Zhu & Gupta's polynomial, linear, constant", "[prune]") {
  const prune::PolynomialSchedule poly{.initial_sparsity = 0.0,
                                       .final_sparsity = 0.9,
                                       .begin_step = 100,
                                       .end_step = 1100,
                                       .frequency = 100};
  CHECK(poly.sparsity_at(0) == 0.0);
  CHECK(poly.sparsity_at(100) == 0.0);
  CHECK(poly.sparsity_at(600) == Approx(0.9 - 0.9 * 0.125));  // (1 - 0.5)^3
  CHECK(poly.sparsity_at(350) == Approx(0.9 - 0.9 * std::pow(0.75, 3)));
  CHECK(poly.sparsity_at(1100) == Approx(0.9));
  CHECK(poly.sparsity_at(5000) == Approx(0.9));
  CHECK(poly.should_prune(100));
  CHECK(poly.should_prune(1100));
  CHECK_FALSE(poly.should_prune(150));
  CHECK_FALSE(poly.should_prune(1200));
  const prune::LinearSchedule lin{0.2, 0.6, 0, 100, 10};
  CHECK(lin.sparsity_at(25) == Approx(0.3));
  const prune::ConstantSchedule constant{.target_sparsity = 0.5, .begin_step = 10};
  CHECK(constant.sparsity_at(123) == 0.5);
  CHECK(constant.should_prune(110));
  CHECK_FALSE(constant.should_prune(5));
  CHECK_THROWS_WITH((prune::PolynomialSchedule{0.0, 1.5, 0, 10}.sparsity_at(3)),
                    Catch::Contains("sparsities must be in [0, 1]"));

  et::manual_seed(1);
  nn::Linear<> fc(50, 40);
  std::vector<double> seen;
  prune::iterative_prune(fc, {"weight"}, {0.5, 0.8}, [&](int round, double s) {
    CHECK(round == static_cast<int>(seen.size()));
    seen.push_back(prune::sparsity_report(fc, {"weight"}).global_sparsity());
    CHECK(seen.back() == Approx(s));
  });
  CHECK(seen.size() == 2);
  CHECK(prune::step_schedule(fc, {"weight"}, poly, 1100));
  CHECK(prune::sparsity_report(fc, {"weight"}).global_sparsity() == Approx(0.9));

  nn::Linear<> gradual(40, 50);
  prune::GradualPruning<nn::Linear<>, prune::PolynomialSchedule> callback{
      &gradual,
      {"weight"},
      {.final_sparsity = 0.8, .begin_step = 10, .end_step = 40, .frequency = 10}};
  const int logs = 0;  // fit passes its Logs; the callback does not read them
  std::vector<double> after;
  for (int b = 0; b < 45; ++b) {
    callback.on_batch_end(b, logs);
    after.push_back(prune::sparsity_report(gradual, {"weight"}).global_sparsity());
  }
  CHECK(after[8] == 0.0);                                         // before begin_step
  CHECK(after[9] == 0.0);                                         // step 10: s_i = 0
  CHECK(after[18] == 0.0);                                        // not a pruning step
  CHECK(after[19] == Approx(0.8 - 0.8 * 8.0 / 27).margin(1e-3));  // (1 - 1/3)^3
  CHECK(after[44] == Approx(0.8));
}

TEST_CASE("pruning errors name the problem", "[prune]") {
  Mlp net;
  CHECK_THROWS_AS(prune::l1_unstructured(net, "2.weight", 0.5), et::value_error);
  CHECK_THROWS_WITH(prune::l1_unstructured(net, "2.weight", 0.5),
                    Catch::Contains("no parameter named '2.weight'") &&
                        Catch::Contains("1.weight, 1.bias, 3.weight"));
  CHECK_THROWS_WITH(prune::l1_unstructured(net, "1.bias", 1.5),
                    Catch::Contains("amount=1.5") && Catch::Contains("[0, 1]"));
  CHECK_THROWS_WITH(prune::l1_unstructured(net, "1.bias", -2),
                    Catch::Contains("non-negative count"));
  CHECK_THROWS_WITH(prune::l1_unstructured(net, "5.bias", 11),
                    Catch::Contains("amount=11") && Catch::Contains("still unpruned, 10"));
  CHECK_THROWS_AS(prune::custom_from_mask(net, "5.bias", et::ones<float>({3})), et::shape_error);
  CHECK_THROWS_WITH(prune::ln_structured(net, "5.weight", 0.5, 2, 2),
                    Catch::Contains("dim=2 is out of range"));
  CHECK_THROWS_WITH(prune::ln_structured(net, "5.weight", 0.5, 0, 0),
                    Catch::Contains("n=0 is not a norm order"));
  CHECK_THROWS_WITH(prune::remove(net, "5.weight"), Catch::Contains("is not pruned"));
  CHECK_THROWS_WITH(prune::global_unstructured(net, {"*.gamma"}, {.amount = 0.5}),
                    Catch::Contains("'*.gamma' matches no parameter"));
  CHECK_THROWS_WITH(prune::global_unstructured(net, {"1.weight", "1.weight"}, {.amount = 0.5}),
                    Catch::Contains("listed twice"));
  CHECK_THROWS_WITH(prune::threshold_unstructured(net, "1.weight", -1),
                    Catch::Contains("threshold=-1"));
  CHECK_FALSE(prune::is_pruned(net));  // every failed call left the network unpruned
}
