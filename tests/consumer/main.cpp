// Uses the installed headers and exits non-zero if a fused expression gives a wrong value.
#include <etna/etna.hpp>

#include <cmath>
#include <cstdio>

int main() {
  namespace et = etna;
  et::Tensor<float> a = et::full<float>({4, 4}, 2.f);
  et::Tensor<float> b = a * a + et::exp(a * 0.f);  // 2*2 + 1
  auto c = et::matmul(b, et::eye<float>(4));
  if (std::fabs(c(3, 3) - 5.f) > 1e-6f) {
    std::printf("etna consumer: wrong value %f\n", c(3, 3));
    return 1;
  }
  std::printf("etna consumer: find_package(etna) works\n");
  return 0;
}
