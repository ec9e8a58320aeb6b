// Optimizers against PyTorch: 20-step parameter trajectories for every optimizer and option
// combination (fixtures/optim.json), parameter groups, state_dict round trips and errors.
#include <catch2/catch.hpp>
#include <memory>
#include <string>

#include "etna/optim.hpp"
#include "support/fixtures.hpp"

namespace et = etna;
namespace optim = etna::optim;

namespace {

const et::test::Fixtures& fx() {
  static const et::test::Fixtures f("optim.json");
  return f;
}

// Options from the fixture's {name: value} map, through the same field list state_dict uses.
template <class Options>
Options options_from(const nlohmann::json& j) {
  Options o{};
  int used = 0;
  Options::fields(o, [&](const char* key, auto& member) {
    if (!j.contains(key)) return;
    member = j.at(key).get<std::remove_reference_t<decltype(member)>>();
    ++used;
  });
  REQUIRE(used == static_cast<int>(j.size()));
  return o;
}

// Repeats a small tensor's elements to n elements: element i of a large parameter follows
// element i % numel of the small one, so large runs (SIMD batches, several threads) check
// against the same PyTorch trajectory. n = 0 keeps the tensor as it is.
template <class T>
et::Tensor<T> tile(const et::Tensor<T>& small_in, std::int64_t n) {
  if (n == 0) return small_in.clone();
  const auto small = small_in.contiguous();
  auto big = et::empty<T>({n});
  for (std::int64_t i = 0; i < n; ++i) big.data()[i] = small.data()[i % small.numel()];
  return big;
}

// w [2, 3] and b [4] as in the fixture, or tiled to n and n + 5 elements.
template <class T>
struct Params {
  explicit Params(std::int64_t n = 0) : n_w(n), n_b(n ? n + 5 : 0) {}
  std::int64_t n_w, n_b;
  et::Var<T> w = et::Var<T>(tile(fx().tensor<T>("init_w"), n_w), true);
  et::Var<T> b = et::Var<T>(tile(fx().tensor<T>("init_b"), n_b), true);
};

// Builds the case's optimizer: one group {w, b}, or {w} plus a group {b} with second_lr.
template <class Opt, class T>
Opt make_optimizer(const nlohmann::json& c, const Params<T>& p, bool default_options = false) {
  using Options = typename Opt::options_type;
  const auto options = default_options ? Options{} : options_from<Options>(c.at("options"));
  const double second_lr = c.at("second_lr").get<double>();
  if (second_lr == 0) return Opt({p.w, p.b}, options);
  Opt opt({p.w}, options);
  auto second = options;
  second.lr = second_lr;
  if (default_options)
    opt.add_param_group({p.b});
  else
    opt.add_param_group({p.b}, second);
  return opt;
}

// Runs the case's 20 steps and compares every step with PyTorch. With reload_at > 0 the run
// switches at that step to a fresh optimizer (default options) over copies of the parameters,
// restored from the first optimizer's state_dict. With n > 0 the parameters are tiled to
// about n elements.
template <class Opt, class T>
void run_case(const nlohmann::json& c, double rtol, int reload_at = 0, std::int64_t n = 0) {
  const std::string name = c.at("name").get<std::string>();
  INFO("case " << name);
  Params<T> p(n);
  auto opt = std::make_unique<Opt>(make_optimizer<Opt>(c, p));
  const auto gw = fx().tensor<T>("grads_w"), gb = fx().tensor<T>("grads_b");
  const auto ew = fx().tensor<T>(name + "/w"), eb = fx().tensor<T>(name + "/b");
  for (std::int64_t k = 0; k < gw.size(0); ++k) {
    if (k == reload_at && reload_at > 0) {
      Params<T> fresh(n);
      fresh.w.value().assign(p.w.value());
      fresh.b.value().assign(p.b.value());
      auto restored = std::make_unique<Opt>(make_optimizer<Opt>(c, fresh, true));
      restored->load_state_dict(opt->state_dict());
      p = fresh;
      opt = std::move(restored);
    }
    p.w.set_grad(n ? tile(gw[k], p.n_w) : gw[k].clone());
    p.b.set_grad(n ? tile(gb[k], p.n_b) : gb[k].clone());
    opt->step();
    INFO("step " << k + 1);
    ETNA_CHECK_CLOSE(p.w.value(), n ? tile(ew[k], p.n_w) : ew[k], rtol, 1e-6);
    ETNA_CHECK_CLOSE(p.b.value(), n ? tile(eb[k], p.n_b) : eb[k], rtol, 1e-6);
  }
}

template <class T>
void run_all(double rtol, int reload_at = 0, std::int64_t n = 0) {
  int cases = 0;
  for (const auto& c : fx().json().at("optimizer_cases")) {
    const auto kind = c.at("optimizer").get<std::string>();
    if (kind == "SGD")
      run_case<optim::SGD<T>, T>(c, rtol, reload_at, n);
    else if (kind == "Adam")
      run_case<optim::Adam<T>, T>(c, rtol, reload_at, n);
    else if (kind == "AdamW")
      run_case<optim::AdamW<T>, T>(c, rtol, reload_at, n);
    else if (kind == "RMSprop")
      run_case<optim::RMSprop<T>, T>(c, rtol, reload_at, n);
    else if (kind == "Adagrad")
      run_case<optim::Adagrad<T>, T>(c, rtol, reload_at, n);
    else
      FAIL("unknown optimizer " << kind);
    ++cases;
  }
  CHECK(cases == 29);
}

static_assert(optim::Optimizer<optim::SGD<float>>);
static_assert(optim::Optimizer<optim::Adam<double>>);
static_assert(optim::Optimizer<optim::AdamW<float>>);
static_assert(optim::Optimizer<optim::RMSprop<float>>);
static_assert(optim::Optimizer<optim::Adagrad<double>>);
static_assert(!optim::Optimizer<int>);

}  // namespace

TEST_CASE("optim: every optimizer and option combination matches PyTorch over 20 steps (float)",
          "[optim]") {
  run_all<float>(1e-5);
}

TEST_CASE("optim: every optimizer and option combination matches PyTorch over 20 steps (double)",
          "[optim]") {
  run_all<double>(1e-6);
}

TEST_CASE("optim: state_dict round trip continues the trajectory identically", "[optim]") {
  run_all<float>(1e-5, 10);
}

TEST_CASE("optim: state_dict layout", "[optim]") {
  Params<float> p;
  optim::Adam opt({p.w}, {.lr = 0.01, .amsgrad = true});
  opt.add_param_group({p.b}, {.lr = 0.001});
  auto sd = opt.state_dict();
  REQUIRE(sd.param_groups.size() == 2);
  CHECK(sd.state.empty());
  CHECK(sd.param_groups[0].options.at("lr") == 0.01);
  CHECK(sd.param_groups[0].options.at("amsgrad") == 1);
  CHECK(sd.param_groups[1].options.at("beta2") == 0.999);
  CHECK(sd.param_groups[1].params == std::vector<std::int64_t>{1});
  p.w.set_grad(et::ones<float>({2, 3}));
  opt.step();
  opt.step();
  sd = opt.state_dict();
  REQUIRE(sd.state.size() == 1);  // b had no gradient: no state
  const auto& st = sd.state.at(0);
  CHECK(st.size() == 4);
  CHECK(st.at("step").item() == 2.0f);
  CHECK(st.at("step").dim() == 0);
  CHECK(st.at("exp_avg").shape() == et::Shape{2, 3});
  CHECK(st.at("max_exp_avg_sq").shape() == et::Shape{2, 3});
  // A snapshot: stepping on does not change it.
  opt.step();
  CHECK(sd.state.at(0).at("step").item() == 2.0f);
}

TEST_CASE("optim: parameters without a gradient are skipped; zero_grad", "[optim]") {
  Params<float> p;
  const auto b0 = p.b.value().clone();
  optim::SGD opt({p.w, p.b}, {.lr = 0.1, .momentum = 0.9});
  p.w.set_grad(et::ones<float>({2, 3}));
  opt.step();
  ETNA_CHECK_CLOSE(p.b.value(), b0, 0, 0);
  CHECK(opt.state_dict().state.size() == 1);
  opt.zero_grad(false);
  CHECK(p.w.grad().defined());
  ETNA_CHECK_CLOSE(p.w.grad(), et::zeros<float>({2, 3}), 0, 0);
  opt.zero_grad();
  CHECK_FALSE(p.w.grad().defined());
  const auto w1 = p.w.value().clone();
  opt.step();  // no gradients at all: nothing moves
  ETNA_CHECK_CLOSE(p.w.value(), w1, 0, 0);
}

TEST_CASE("optim: param_groups are writable and added groups take the defaults", "[optim]") {
  Params<float> p;
  optim::RMSprop opt({p.w}, {.lr = 0.5, .momentum = 0.1});
  opt.add_param_group({p.b});
  REQUIRE(opt.param_groups().size() == 2);
  CHECK(opt.param_groups()[1].lr == 0.5);
  CHECK(opt.param_groups()[1].momentum == 0.1);
  opt.param_groups()[1].lr = 0.25;
  CHECK(opt.state_dict().param_groups[1].options.at("lr") == 0.25);
}

TEST_CASE("optim: a strided parameter is updated in place", "[optim]") {
  const auto c = fx().json().at("optimizer_cases")[2];  // sgd_momentum
  REQUIRE(c.at("name") == "sgd_momentum");
  auto storage = fx().tensor<float>("init_w").t().contiguous().clone();  // [3, 2]
  auto w = et::Var<float>(storage.t(), true);                            // [2, 3] strided view
  optim::SGD opt({w}, options_from<optim::SGDOptions>(c.at("options")));
  const auto gw = fx().tensor<float>("grads_w"), ew = fx().tensor<float>("sgd_momentum/w");
  for (std::int64_t k = 0; k < 20; ++k) {
    w.set_grad(gw[k].clone());
    opt.step();
  }
  ETNA_CHECK_CLOSE(storage.t(), ew[19], 1e-5, 1e-6);
}

TEST_CASE("optim: large parameters (SIMD batches, threads) follow the same trajectories",
          "[optim]") {
  // 40003 elements: full SIMD batches, a scalar tail and two parallel_for chunks.
  run_all<float>(1e-5, 0, 40003);
  run_all<double>(1e-6, 10, 40003);
}

TEST_CASE("optim: invalid hyper-parameters are rejected with clear messages", "[optim]") {
  Params<float> p;
  CHECK_THROWS_MATCHES(optim::SGD({p.w}, {.lr = -1}), et::value_error,
                       Catch::Message("SGD: invalid learning rate: -1 (must be >= 0)"));
  CHECK_THROWS_MATCHES(
      optim::Adam({p.w}, {.betas = {1.0, 0.999}}), et::value_error,
      Catch::Message("Adam: invalid beta parameter at index 0: 1 (must be in [0, 1))"));
  CHECK_THROWS_MATCHES(
      optim::AdamW({p.w}, {.betas = {0.9, -0.5}}), et::value_error,
      Catch::Message("AdamW: invalid beta parameter at index 1: -0.5 (must be in [0, 1))"));
  CHECK_THROWS_MATCHES(
      optim::SGD({p.w}, {.lr = 0.1, .nesterov = true}), et::value_error,
      Catch::Message("SGD: Nesterov momentum requires a momentum and zero dampening"));
  CHECK_THROWS_MATCHES(optim::RMSprop({p.w}, {.alpha = -0.1}), et::value_error,
                       Catch::Message("RMSprop: invalid alpha value: -0.1 (must be >= 0)"));
  CHECK_THROWS_MATCHES(optim::Adagrad({p.w}, {.lr_decay = -1}), et::value_error,
                       Catch::Message("Adagrad: invalid lr_decay value: -1 (must be >= 0)"));
  CHECK_THROWS_MATCHES(optim::SGD({p.w, p.b, p.w}), et::value_error,
                       Catch::Message("SGD: a parameter group holds the same parameter twice"));
  optim::Adam opt({p.w});
  CHECK_THROWS_MATCHES(
      opt.add_param_group({p.b, p.w}), et::value_error,
      Catch::Message("Adam: some parameters appear in more than one parameter group"));
  CHECK_THROWS_MATCHES(opt.add_param_group({p.b}, {.lr = -0.5}), et::value_error,
                       Catch::Message("Adam: invalid learning rate: -0.5 (must be >= 0)"));
}

TEST_CASE("optim: load_state_dict rejects unknown options and mismatched state", "[optim]") {
  Params<float> p;
  optim::Adam opt({p.w, p.b});
  p.w.set_grad(et::ones<float>({2, 3}));
  opt.step();
  const auto good = opt.state_dict();

  auto sd = good;
  sd.param_groups[0].options["momentum"] = 0.9;
  CHECK_THROWS_MATCHES(
      opt.load_state_dict(sd), et::value_error,
      Catch::Message("Adam.load_state_dict: unknown option 'momentum' in parameter "
                     "group 0 of Adam"));
  sd = good;
  sd.param_groups[0].options.erase("eps");
  CHECK_THROWS_MATCHES(
      opt.load_state_dict(sd), et::value_error,
      Catch::Message("Adam.load_state_dict: parameter group 0 lacks option 'eps'"));
  sd = good;
  sd.param_groups[0].options["lr"] = -1;
  CHECK_THROWS_MATCHES(
      opt.load_state_dict(sd), et::value_error,
      Catch::Message("Adam.load_state_dict: invalid learning rate: -1 (must be >= 0)"));
  sd = good;
  sd.state[0]["exp_avg"] = et::zeros<float>({3});
  CHECK_THROWS_MATCHES(opt.load_state_dict(sd), et::shape_error,
                       Catch::Message("Adam.load_state_dict: state 'exp_avg' of parameter 0 has "
                                      "shape [3], expected [2, 3]"));
  sd = good;
  sd.state[1]["momentum_buffer"] = et::zeros<float>({4});
  CHECK_THROWS_MATCHES(opt.load_state_dict(sd), et::value_error,
                       Catch::Message("Adam.load_state_dict: unknown state 'momentum_buffer' for "
                                      "parameter 1 of Adam"));
  sd = good;
  sd.param_groups.push_back(sd.param_groups[0]);
  CHECK_THROWS_MATCHES(opt.load_state_dict(sd), et::value_error,
                       Catch::Message("Adam.load_state_dict: loaded state dict has 2 parameter "
                                      "groups, the optimizer has 1"));
  // A failed load changes nothing.
  CHECK(opt.param_groups()[0].lr == 1e-3);
  CHECK(opt.state_dict().state.at(0).at("step").item() == 1.0f);
}
