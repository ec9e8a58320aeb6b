// Helpers of the CUDA backend's tests: results on the device are compared with the CPU
// backend's on the same inputs (relative error < 1e-5 in float32, as the issue asks).
#pragma once

#include <catch2/catch.hpp>

#include <cmath>
#include <sstream>

#include <etna/cuda.hpp>

namespace etna::test {

using gpu = etna::cuda;

// max |a - b| / max(1, |b|) over all elements; shapes must match.
template <class T>
double max_relative_error(const Tensor<T, cuda>& device, const Tensor<T, cpu>& host) {
  REQUIRE(device.shape() == host.shape());
  const Tensor<T, cpu> d = device.template to<cpu>();
  double worst = 0;
  auto it = host.begin();
  for (T v : d) {
    const double ref = static_cast<double>(*it++), got = static_cast<double>(v);
    if (got == ref || (std::isnan(got) && std::isnan(ref))) continue;  // equal infinities too
    const double err = std::abs(got - ref) / std::max(1.0, std::abs(ref));
    if (std::isnan(err) || std::isinf(err)) return INFINITY;
    worst = std::max(worst, err);
  }
  return worst;
}

#define ETNA_REQUIRE_MATCHES_CPU(device, host, tol)                      \
  do {                                                                    \
    const double etna_err = ::etna::test::max_relative_error(device, host); \
    INFO("max relative error " << etna_err);                              \
    REQUIRE(etna_err < (tol));                                            \
  } while (0)

}  // namespace etna::test
