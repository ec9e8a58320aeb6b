// Optimizers and gradient clipping on cuda parameters: the same steps on the same parameters
// and gradients give the same weights and state on cuda as on the cpu.
#include <algorithm>
#include <limits>
#include <vector>

#include "cuda/support.hpp"

namespace et = etna;
namespace optim = etna::optim;
using et::test::gpu;

namespace {

// Parameters of several shapes (one strided: a transposed view) and one gradient set per step.
struct Problem {
  std::vector<et::Tensor<float>> values;
  std::vector<std::vector<et::Tensor<float>>> grads;  // [step][parameter]

  Problem(std::vector<et::Shape> shapes, int steps, std::uint64_t seed) {
    et::manual_seed(seed);
    for (const auto& s : shapes) values.push_back(et::randn<float>(s));
    for (int k = 0; k < steps; ++k) {
      grads.emplace_back();
      for (const auto& s : shapes) grads.back().push_back(et::randn<float>(s));
    }
  }
};

template <class D>
std::vector<et::Var<float, D>> make_params(const Problem& pb, bool strided_last) {
  std::vector<et::Var<float, D>> out;
  for (std::size_t i = 0; i < pb.values.size(); ++i) {
    et::Tensor<float, D> v = pb.values[i].clone().template to<D>();
    if (strided_last && i + 1 == pb.values.size() && v.dim() == 2) {
      // A leaf whose value is a non-contiguous view of its own storage.
      et::Tensor<float, D> storage = pb.values[i].t().contiguous().template to<D>();
      v = storage.t();
    }
    out.emplace_back(v, true);
  }
  return out;
}

// Gradients of step k; parameter `skip` gets none at odd steps (its step count falls behind).
template <class D>
void set_grads(std::vector<et::Var<float, D>>& ps, const Problem& pb, int k, std::size_t skip) {
  for (std::size_t i = 0; i < ps.size(); ++i) {
    if (i == skip && k % 2 == 1) {
      ps[i].zero_grad();
      continue;
    }
    ps[i].set_grad(pb.grads[k][i].clone().template to<D>());
  }
}

template <template <class, class> class Opt, class Options>
void check_same_steps(const Options& options, bool strided = true) {
  const std::vector<et::Shape> shapes{{7, 5}, {5}, {3, 4, 2}, {1}, {6, 9}};
  const int steps = 5;
  const Problem pb(shapes, steps, 11);
  auto host = make_params<et::cpu>(pb, strided);
  auto dev = make_params<gpu>(pb, strided);
  Opt<float, et::cpu> host_opt(host, options);
  Opt<float, gpu> dev_opt(dev, options);
  for (int k = 0; k < steps; ++k) {
    set_grads(host, pb, k, 1);
    set_grads(dev, pb, k, 1);
    host_opt.step();
    dev_opt.step();
  }
  for (std::size_t i = 0; i < host.size(); ++i) {
    INFO("parameter " << i);
    ETNA_REQUIRE_MATCHES_CPU(dev[i].value(), host[i].value(), 1e-5);
  }
  // The state on the device is the state on the cpu (state_dict returns host tensors).
  const auto hs = host_opt.state_dict(), ds = dev_opt.state_dict();
  REQUIRE(hs.state.size() == ds.state.size());
  for (const auto& [index, entries] : hs.state) {
    REQUIRE(ds.state.at(index).size() == entries.size());
    for (const auto& [key, t] : entries) {
      INFO("parameter " << index << " state " << key);
      const et::Tensor<float> d = ds.state.at(index).at(key);
      ETNA_REQUIRE_MATCHES_CPU(d.to<gpu>(), t, 1e-5);
    }
  }
}

}  // namespace

TEST_CASE("cuda SGD matches the cpu") {
  check_same_steps<optim::SGD>(optim::SGDOptions{.lr = 0.1});
  check_same_steps<optim::SGD>(
      optim::SGDOptions{.lr = 0.05, .momentum = 0.9, .dampening = 0.1, .weight_decay = 0.01});
  check_same_steps<optim::SGD>(
      optim::SGDOptions{.lr = 0.05, .momentum = 0.8, .nesterov = true, .maximize = true});
}

TEST_CASE("cuda Adam and AdamW match the cpu") {
  check_same_steps<optim::Adam>(optim::AdamOptions{.lr = 0.01});
  check_same_steps<optim::Adam>(
      optim::AdamOptions{.lr = 0.02, .betas = {0.8, 0.99}, .weight_decay = 0.1, .amsgrad = true});
  check_same_steps<optim::Adam>(optim::AdamOptions{.lr = 0.01, .maximize = true});
  check_same_steps<optim::AdamW>(optim::AdamWOptions{.lr = 0.01});
  check_same_steps<optim::AdamW>(
      optim::AdamWOptions{.lr = 0.03, .weight_decay = 0.05, .amsgrad = true});
}

TEST_CASE("cuda RMSprop and Adagrad match the cpu") {
  check_same_steps<optim::RMSprop>(optim::RMSpropOptions{.lr = 0.01});
  check_same_steps<optim::RMSprop>(
      optim::RMSpropOptions{.lr = 0.01, .weight_decay = 0.1, .centered = true});
  check_same_steps<optim::RMSprop>(optim::RMSpropOptions{.lr = 0.01, .momentum = 0.9});
  check_same_steps<optim::RMSprop>(
      optim::RMSpropOptions{.lr = 0.01, .momentum = 0.5, .centered = true, .maximize = true});
  check_same_steps<optim::Adagrad>(optim::AdagradOptions{.lr = 0.1});
  check_same_steps<optim::Adagrad>(optim::AdagradOptions{
      .lr = 0.1, .lr_decay = 0.01, .weight_decay = 0.1, .initial_accumulator_value = 0.5});
}

TEST_CASE("cuda Adam updates many parameters in chunked multi-tensor launches") {
  // 130 parameters: three tables of at most 48 tensors, sizes from 1 to a few thousand.
  std::vector<et::Shape> shapes;
  for (int i = 0; i < 130; ++i)
    shapes.push_back(i % 7 == 0 ? et::Shape{1} : et::Shape{i % 13 + 1, 3 * i + 1});
  const Problem pb(shapes, 3, 5);
  auto host = make_params<et::cpu>(pb, false);
  auto dev = make_params<gpu>(pb, false);
  optim::Adam host_opt(host, {.lr = 0.01, .weight_decay = 0.01});
  optim::Adam dev_opt(dev, {.lr = 0.01, .weight_decay = 0.01});
  static_assert(std::is_same_v<decltype(dev_opt), optim::Adam<float, gpu>>);
  for (int k = 0; k < 3; ++k) {
    set_grads(host, pb, k, 77);
    set_grads(dev, pb, k, 77);
    host_opt.step();
    dev_opt.step();
  }
  for (std::size_t i = 0; i < host.size(); ++i) {
    INFO("parameter " << i);
    ETNA_REQUIRE_MATCHES_CPU(dev[i].value(), host[i].value(), 1e-5);
  }
}

TEST_CASE("cuda Adam state round-trips through state_dict and keeps stepping") {
  const Problem pb({{4, 3}, {3}}, 4, 3);
  auto host = make_params<et::cpu>(pb, false);
  auto dev = make_params<gpu>(pb, false);
  optim::Adam<float> host_opt(host, {.lr = 0.01, .amsgrad = true});
  optim::Adam<float, gpu> dev_opt(dev, {.lr = 0.01, .amsgrad = true});
  for (int k = 0; k < 2; ++k) {
    set_grads(host, pb, k, 9);
    set_grads(dev, pb, k, 9);
    host_opt.step();
    dev_opt.step();
  }
  // A fresh cuda optimizer loads the cpu optimizer's state and carries on identically.
  optim::Adam<float, gpu> resumed(dev, {.lr = 0.5});
  resumed.load_state_dict(host_opt.state_dict());
  CHECK(resumed.param_groups()[0].lr == 0.01);
  for (int k = 2; k < 4; ++k) {
    set_grads(host, pb, k, 9);
    set_grads(dev, pb, k, 9);
    host_opt.step();
    resumed.step();
  }
  for (std::size_t i = 0; i < host.size(); ++i)
    ETNA_REQUIRE_MATCHES_CPU(dev[i].value(), host[i].value(), 1e-5);
  // zero_grad(false) fills device gradients with zeros.
  resumed.zero_grad(false);
  ETNA_REQUIRE_MATCHES_CPU(dev[0].grad(), et::zeros<float>({4, 3}), 1e-12);
}

TEST_CASE("a captured cuda Adam step replays with the step count on the device") {
  const Problem pb({{8, 16}, {16}}, 1, 21);
  auto host = make_params<et::cpu>(pb, false);
  auto dev = make_params<gpu>(pb, false);
  optim::Adam<float> host_opt(host, {.lr = 0.01});
  optim::Adam<float, gpu> dev_opt(dev, {.lr = 0.01});
  set_grads(host, pb, 0, 9);
  set_grads(dev, pb, 0, 9);
  host_opt.step();
  dev_opt.step();  // eagerly once: the state buffers exist before the capture
  et::cuda::Graph g = et::cuda::capture([&] { dev_opt.step(); });
  for (int k = 0; k < 4; ++k) {
    host_opt.step();
    g.replay();
  }
  for (std::size_t i = 0; i < host.size(); ++i)
    ETNA_REQUIRE_MATCHES_CPU(dev[i].value(), host[i].value(), 1e-5);
  CHECK(dev_opt.state_dict().state.at(0).at("step").item() == 5.f);
}

TEST_CASE("cuda clip_grad_norm_ matches the cpu and clips on the device") {
  const Problem pb({{7, 5}, {5}, {3, 4, 2}}, 1, 13);
  const double inf = std::numeric_limits<double>::infinity();
  for (double p : {2.0, 1.0, 3.0, inf}) {
    for (double max_norm : {0.5, 1e6}) {
      INFO("norm_type " << p << " max_norm " << max_norm);
      auto host = make_params<et::cpu>(pb, false);
      auto dev = make_params<gpu>(pb, false);
      set_grads(host, pb, 0, 99);
      set_grads(dev, pb, 0, 99);
      const double h = optim::clip_grad_norm_(host, max_norm, p);
      const double d = optim::clip_grad_norm_(dev, max_norm, p);
      CHECK(std::abs(d - h) <= 1e-6 * std::abs(h));
      for (std::size_t i = 0; i < host.size(); ++i)
        ETNA_REQUIRE_MATCHES_CPU(dev[i].grad(), host[i].grad(), 1e-5);
    }
  }
  SECTION("get_total_norm and clip_grads_with_norm_ stay on the device") {
    auto host = make_params<et::cpu>(pb, false);
    auto dev = make_params<gpu>(pb, false);
    set_grads(host, pb, 0, 1);  // parameter 1 keeps its gradient (step 0)
    set_grads(dev, pb, 0, 1);
    dev[2].zero_grad();  // a parameter without a gradient is left out
    host[2].zero_grad();
    const et::Tensor<double, gpu> total = optim::get_total_norm(dev, 2.0);
    optim::clip_grads_with_norm_(dev, 0.25, total);
    const double h = optim::clip_grad_norm_(host, 0.25);
    CHECK(std::abs(total.item() - h) <= 1e-6 * h);
    for (std::size_t i = 0; i < 2; ++i)
      ETNA_REQUIRE_MATCHES_CPU(dev[i].grad(), host[i].grad(), 1e-5);
    CHECK(!dev[2].grad().defined());
  }
  SECTION("errors") {
    auto dev = make_params<gpu>(pb, false);
    set_grads(dev, pb, 0, 99);
    CHECK_THROWS_WITH(optim::clip_grad_norm_(dev, 1.0, 0.0),
                      Catch::Contains("norm_type must be positive"));
    dev[0].set_grad(et::full<float, gpu>({7, 5}, INFINITY));
    CHECK_THROWS_WITH(optim::clip_grad_norm_(dev, 1.0, 2.0, true), Catch::Contains("non-finite"));
    CHECK(std::isinf(optim::clip_grad_norm_(dev, 1.0, 2.0, false)));
  }
}

TEST_CASE("cuda clip_grad_value_ matches the cpu") {
  const Problem pb({{7, 5}, {5}}, 1, 17);
  auto host = make_params<et::cpu>(pb, false);
  auto dev = make_params<gpu>(pb, false);
  set_grads(host, pb, 0, 99);
  set_grads(dev, pb, 0, 99);
  optim::clip_grad_value_(host, 0.3);
  optim::clip_grad_value_(dev, 0.3);
  for (std::size_t i = 0; i < host.size(); ++i) {
    ETNA_REQUIRE_MATCHES_CPU(dev[i].grad(), host[i].grad(), 1e-6);
  }
}
