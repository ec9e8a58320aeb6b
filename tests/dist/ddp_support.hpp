// Shared by the DDP tests: a small double-precision net with a layer used several times, the
// per-rank data of each step, and the single-process reference that trains on what all the
// ranks together see (the concatenated batches), which DDP must reproduce.
#pragma once

#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "etna/dist.hpp"
#include "etna/etna.hpp"

namespace etna::test::ddp {

namespace et = etna;
namespace dist = etna::dist;

template <class D = et::cpu>
struct Net : et::nn::Module<Net<D>> {
  et::nn::Linear<4, 8, double, D> fc1;
  et::nn::Linear<8, 8, double, D> mid;  // applied `repeats` times: several gradient contributions
  et::nn::Linear<8, 3, double, D> fc2;
  et::nn::Linear<4, 3, double, D> side;  // only used when `use_side` (unused parameters)
  int repeats = 2;
  bool use_side = true;
  et::Var<double, D> forward(const et::Var<double, D>& x) {
    auto h = et::tanh(fc1(x));
    for (int i = 0; i < repeats; ++i) h = et::tanh(mid(h));
    auto out = fc2(h);
    if (use_side) out = out + side(x);
    return out;
  }
  ETNA_MODULE(fc1, mid, fc2, side)
};

constexpr std::int64_t batch = 6;  // per rank

// The whole step's data for `world` ranks ([world * batch, ...]); every process draws the same.
inline std::pair<et::Tensor<double>, et::Tensor<double>> step_data(int step, int world) {
  et::Generator gen(1000 + step);
  return {et::randn<double>({world * batch, 4}, gen), et::randn<double>({world * batch, 3}, gen)};
}
inline et::Tensor<double> rows_of(const et::Tensor<double>& t, int rank) {
  return t.narrow(0, rank * batch, batch).contiguous();
}

inline et::Var<double> mse(const et::Var<double>& out, const et::Tensor<double>& y) {
  return et::mean(et::square(out - et::Var<double>(y)));
}

// A net with rank 0's initial weights when seeded with `seed` (the reference) or another
// rank's own (DDP must replace them by rank 0's).
inline Net<> make_net(std::uint64_t seed) {
  et::manual_seed(seed);
  return Net<>();
}

// max |a - b| <= rtol * max |b| + atol, elementwise.
inline bool close(const et::Tensor<double>& a, const et::Tensor<double>& b, double rtol = 1e-6,
                  double atol = 1e-12) {
  if (a.shape() != b.shape()) return false;
  auto ac = a.contiguous(), bc = b.contiguous();
  for (std::int64_t i = 0; i < a.numel(); ++i)
    if (std::abs(ac.data()[i] - bc.data()[i]) > rtol * std::abs(bc.data()[i]) + atol) return false;
  return true;
}

template <class A, class B>
void check_same_parameters(const A& a, const B& b, double rtol = 1e-6) {
  auto pa = a.named_parameters();
  auto pb = b.named_parameters();
  REQUIRE(pa.size() == pb.size());
  for (std::size_t i = 0; i < pa.size(); ++i) {
    INFO("parameter " << pa[i].first << " on rank " << dist::rank());
    CHECK(pa[i].first == pb[i].first);
    CHECK(close(pa[i].second.value(), pb[i].second.value(), rtol));
  }
}

// Every rank holds bit-identical parameters (gathered and compared with rank 0's).
template <class M>
void check_ranks_identical(const M& net) {
  for (auto& [name, p] : net.named_parameters()) {
    auto all = dist::all_gather(p.value());
    for (std::size_t r = 1; r < all.size(); ++r) {
      INFO("parameter " << name << ": rank " << r << " differs from rank 0");
      CHECK(close(all[r], all[0], 0, 0));
    }
  }
}

}  // namespace etna::test::ddp
