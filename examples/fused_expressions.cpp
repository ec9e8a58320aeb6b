// A tour of etna's tensors: lazy element-wise expressions evaluated in one fused SIMD pass,
// broadcasting, views and matmul, with the fused pass timed against step-by-step evaluation.
#include <etna/etna.hpp>

#include <chrono>
#include <cstdio>
#include <iostream>

namespace et = etna;

template <class F>
double best_seconds(F&& f, int repeats = 5) {
  double best = 1e30;
  for (int r = 0; r < repeats; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  return best;
}

int main() {
  et::manual_seed(42);
  std::cout << "-- tensors print like PyTorch's\n";
  auto v = et::tensor<float>({{1, 2, 3}, {4, 5, 6}});
  std::cout << v << "\n";

  std::cout << "-- expressions are lazy and broadcast like NumPy: v * [10, 20, 30] + 1\n";
  auto bias = et::tensor<float>({10, 20, 30});
  auto e = v * bias + 1.f;  // nothing computed yet: e is an expression type
  et::Tensor<float> r = e;  // one pass computes it
  std::cout << r << "\n";

  std::cout << "-- views share storage: transpose, slice, reshape\n";
  std::cout << v.t() << "\n" << v.slice(1, 0, 3, 2) << "\n" << v.reshape({3, 2}) << "\n";

  std::cout << "-- matmul (etna's own SIMD GEMM): v x v^T\n";
  std::cout << et::matmul(v, v.t()) << "\n";

  const std::int64_t n = 16 << 20;
  std::cout << "-- fused a*b + exp(c)*2 on " << n / (1 << 20) << "M floats\n";
  auto a = et::randn<float>({n}), b = et::randn<float>({n}), c = et::randn<float>({n});
  auto y = et::empty<float>({n});
  et::set_num_threads(1);
  const double fused = best_seconds([&] { y.assign(a * b + et::exp(c) * 2.f); });
  const double stepwise = best_seconds([&] {
    et::Tensor<float> ab = a * b;  // one materialised temporary per step, as an eager library
    et::Tensor<float> ec = et::exp(c);
    et::Tensor<float> ec2 = ec * 2.f;
    y.assign(ab + ec2);
  });
  const double bytes = 4.0 * n * sizeof(float);
  std::printf("fused:     %7.2f ms  %6.1f GB/s\n", fused * 1e3, bytes / fused / 1e9);
  std::printf("stepwise:  %7.2f ms  %6.1f GB/s  (%.1fx slower)\n", stepwise * 1e3,
              bytes / stepwise / 1e9, stepwise / fused);
  std::cout << "y[:4] = " << y.slice(0, 0, 4) << "\n";
  return 0;
}
