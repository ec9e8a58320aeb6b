// Random factories on cuda: drawn on the device from the same Philox stream as the CPU, so the
// same seed gives the same values on both; host-computed factories (arange, linspace, eye,
// tensor) on cuda; printing of cuda tensors.
#include "cuda/support.hpp"

#include <cstring>
#include <sstream>
#include <vector>

namespace et = etna;
using et::test::gpu;

namespace {

template <class T>
bool bit_identical(const et::Tensor<T, gpu>& d, const et::Tensor<T>& h) {
  const et::Tensor<T> back = d.template to<et::cpu>();
  return back.shape() == h.shape() &&
         std::memcmp(back.data(), h.contiguous().data(), sizeof(T) * h.numel()) == 0;
}

// Draws with the cpu and the cuda factory after the same seed; both must advance the generator
// alike, so a second draw of each matches as well.
template <class Draw>
void require_same_draws(Draw draw, const char* name) {
  INFO(name);
  et::manual_seed(1234);
  const auto h1 = draw(et::cpu{});
  const auto h2 = draw(et::cpu{});
  et::manual_seed(1234);
  const auto d1 = draw(gpu{});
  const auto d2 = draw(gpu{});
  CHECK(bit_identical(d1, h1));
  CHECK(bit_identical(d2, h2));
}

}  // namespace

TEST_CASE("cuda random draws are bit-identical to the cpu's for the same seed") {
  const et::Shape odd{7, 13};  // not a multiple of the 4 values of a Philox block
  require_same_draws([&]<class D>(D) { return et::rand<float, D>(odd); }, "rand float");
  require_same_draws([&]<class D>(D) { return et::rand<double, D>(odd); }, "rand double");
  require_same_draws([&]<class D>(D) { return et::uniform<float, D>(odd, -2.0, 3.0); }, "uniform");
  require_same_draws([&]<class D>(D) { return et::uniform<double, D>(odd, 1.0, 1.5); },
                     "uniform double");
  require_same_draws([&]<class D>(D) { return et::randint<std::int64_t, D>(-5, 9, odd); },
                     "randint int64");
  require_same_draws([&]<class D>(D) { return et::randint<std::int32_t, D>(0, 1000, odd); },
                     "randint int32");
  require_same_draws([&]<class D>(D) { return et::bernoulli<float, D>(odd, 0.3); }, "bernoulli");
  require_same_draws([&]<class D>(D) { return et::randn<float, D>(odd); }, "randn float");
  require_same_draws([&]<class D>(D) { return et::randn<double, D>(odd); }, "randn double");
  require_same_draws([&]<class D>(D) { return et::normal<float, D>(odd, 3.0, 0.5); }, "normal");
}

TEST_CASE("cuda random draws from an explicit generator and the _like factories") {
  et::Generator g1(99), g2(99);
  const auto h = et::randn<float>({1000}, g1);
  const auto d = et::randn<float, gpu>({1000}, g2);
  CHECK(bit_identical(d, h));
  CHECK(g1.get_state().offset == g2.get_state().offset);

  const auto like = et::rand_like(d);
  static_assert(std::is_same_v<std::remove_cvref_t<decltype(like)>, et::Tensor<float, gpu>>);
  CHECK(like.shape() == et::Shape{1000});
  const auto nlike = et::randn_like(d);
  static_assert(std::is_same_v<std::remove_cvref_t<decltype(nlike)>, et::Tensor<float, gpu>>);

  // A large draw: the kernel's grid-stride loop covers it; statistics as a sanity check.
  const auto big = et::rand<float, gpu>({1 << 20}).to<et::cpu>();
  double mean = 0;
  std::int64_t outside = 0;
  for (float v : big) {
    outside += v < 0.f || v >= 1.f;
    mean += v;
  }
  CHECK(outside == 0);
  CHECK(std::abs(mean / (1 << 20) - 0.5) < 0.01);
}

TEST_CASE("cuda random factories reject bad arguments as on the cpu") {
  CHECK_THROWS_WITH((et::randint<std::int64_t, gpu>(3, 3, {2})),
                    "randint: high (3) must be greater than low (3)");
  CHECK_THROWS_WITH((et::normal<float, gpu>({2}, 0, -1)),
                    "normal: std must be non-negative, got -1");
  CHECK_THROWS_WITH((et::bernoulli<float, gpu>({2}, 1.5)),
                    "bernoulli: probability must be in [0, 1], got 1.5");
  CHECK(et::rand<float, gpu>({0, 3}).numel() == 0);
}

TEST_CASE("cuda arange, linspace, eye and tensor match the cpu") {
  CHECK(bit_identical(et::arange<float, gpu>(-1, 2, 0.25), et::arange<float>(-1, 2, 0.25)));
  CHECK(bit_identical(et::arange<std::int64_t, gpu>(7), et::arange<std::int64_t>(7)));
  CHECK(bit_identical(et::linspace<double, gpu>(0, 1, 11), et::linspace<double>(0, 1, 11)));
  CHECK(bit_identical(et::eye<float, gpu>(3, 4), et::eye<float>(3, 4)));
  CHECK(bit_identical(et::tensor<float, gpu>({{1.f, 2.f}, {3.f, 4.f}}),
                      et::tensor<float>({{1.f, 2.f}, {3.f, 4.f}})));
  CHECK(bit_identical(et::tensor<int, gpu>(5), et::tensor<int>(5)));
  CHECK(bit_identical(et::tensor<float, gpu>(std::vector<float>{1, 2, 3}, {3, 1}),
                      et::tensor<float>(std::vector<float>{1, 2, 3}, {3, 1})));
  CHECK_THROWS_WITH((et::arange<float, gpu>(0, 1, 0)), "arange: step must be nonzero");
}

TEST_CASE("cuda tensors print like PyTorch's, with the device suffix") {
  auto str = [](const auto& t) {
    std::ostringstream s;
    s << t;
    return s.str();
  };
  CHECK(str(et::arange<float, gpu>(3)) == "tensor([0., 1., 2.], device='cuda:0')");
  CHECK(str(et::arange<double, gpu>(2)) ==
        "tensor([0., 1.], device='cuda:0', dtype=float64)");
  CHECK(str(et::arange<std::int64_t, gpu>(3)) == "tensor([0, 1, 2], device='cuda:0')");
  CHECK(str(et::zeros<float, gpu>({0})) == "tensor([], device='cuda:0')");
  CHECK(str(et::tensor<float, gpu>(1.5f)) == "tensor(1.5000, device='cuda:0')");
  // Same body as the cpu's for a summarised, multi-line tensor.
  const auto h = et::arange<float>(0, 2000).reshape({40, 50}) * 0.5f;
  const std::string host = str(et::Tensor<float>(h));
  const std::string dev = str(et::Tensor<float>(h).to<gpu>());
  CHECK(dev.substr(0, host.size() - 1) == host.substr(0, host.size() - 1));
  CHECK(dev.find("device='cuda:0'") != std::string::npos);
  // Printing a lazy cuda expression evaluates it first.
  const auto a = et::arange<float, gpu>(2);
  CHECK(str(a * 2.f) == "tensor([0., 2.], device='cuda:0')");
}
