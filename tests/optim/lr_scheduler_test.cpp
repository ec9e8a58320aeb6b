// Learning-rate schedules against PyTorch: the lr (and OneCycleLR's momentum) after the
// construction and each of 30 steps, ReduceLROnPlateau over a fixed metric series, errors.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "etna/optim.hpp"
#include "support/fixtures.hpp"

namespace et = etna;
namespace optim = etna::optim;

namespace {

const et::test::Fixtures& fx() {
  static const et::test::Fixtures f("optim.json");
  return f;
}

double opt_or(const nlohmann::json& o, const char* key, double fallback) {
  return o.contains(key) ? o.at(key).get<double>() : fallback;
}

// Steps `sched` 30 times and compares get_last_lr() and the optimizer's momentum with PyTorch.
template <class Opt, class Sched>
void check_sequence(const nlohmann::json& c, Opt& opt, Sched& sched) {
  const auto lrs = c.at("lrs").get<std::vector<double>>();
  const auto momenta = c.at("momenta").get<std::vector<double>>();
  auto momentum = [&] {
    const auto& g = opt.param_groups()[0];
    if constexpr (requires { g.betas[0]; })
      return g.betas[0];
    else
      return g.momentum;
  };
  for (std::size_t k = 0; k < lrs.size(); ++k) {
    if (k > 0) sched.step();
    INFO("step " << k);
    CHECK(sched.get_last_lr()[0] == Approx(lrs[k]).epsilon(1e-9).margin(1e-15));
    CHECK(opt.param_groups()[0].lr == Approx(lrs[k]).epsilon(1e-9).margin(1e-15));
    CHECK(momentum() == Approx(momenta[k]).epsilon(1e-9));
  }
}

template <class Opt>
void run_schedule(const nlohmann::json& c, Opt& opt) {
  const auto name = c.at("name").get<std::string>();
  const auto& o = c.at("options");
  INFO("schedule " << name);
  if (name == "step") {
    optim::StepLR s(opt, {.step_size = o.at("step_size").get<std::int64_t>(),
                          .gamma = o.at("gamma").get<double>()});
    check_sequence(c, opt, s);
  } else if (name == "multistep") {
    optim::MultiStepLR s(opt, {.milestones = o.at("milestones").get<std::vector<std::int64_t>>(),
                               .gamma = o.at("gamma").get<double>()});
    check_sequence(c, opt, s);
  } else if (name == "exponential") {
    optim::ExponentialLR s(opt, {.gamma = o.at("gamma").get<double>()});
    check_sequence(c, opt, s);
  } else if (name.starts_with("cosine")) {
    optim::CosineAnnealingLR s(opt, {.T_max = o.at("T_max").get<std::int64_t>(),
                                     .eta_min = o.at("eta_min").get<double>()});
    check_sequence(c, opt, s);
  } else if (name == "linear") {
    optim::LinearLR s(opt, {.start_factor = o.at("start_factor").get<double>(),
                            .end_factor = o.at("end_factor").get<double>(),
                            .total_iters = o.at("total_iters").get<std::int64_t>()});
    check_sequence(c, opt, s);
  } else if (name == "linear_default") {
    optim::LinearLR s(opt);
    check_sequence(c, opt, s);
  } else if (name.starts_with("onecycle")) {
    optim::OneCycleLR s(opt, {.max_lr = o.at("max_lr").get<double>(),
                              .total_steps = o.at("total_steps").get<std::int64_t>(),
                              .pct_start = opt_or(o, "pct_start", 0.3),
                              .linear_anneal = o.at("linear").get<bool>(),
                              .base_momentum = opt_or(o, "base_momentum", 0.85),
                              .max_momentum = opt_or(o, "max_momentum", 0.95),
                              .div_factor = opt_or(o, "div_factor", 25),
                              .final_div_factor = opt_or(o, "final_div_factor", 1e4),
                              .three_phase = o.at("three_phase").get<bool>()});
    check_sequence(c, opt, s);
  } else {
    FAIL("unknown schedule " << name);
  }
}

}  // namespace

TEST_CASE("optim: every scheduler's lr sequence matches PyTorch", "[optim][scheduler]") {
  int cases = 0;
  for (const auto& c : fx().json().at("scheduler_cases")) {
    auto p = et::Var<float>(et::zeros<float>({1}), true);
    if (c.at("optimizer") == "SGD") {
      optim::SGD opt({p}, {.lr = 0.1, .momentum = 0.9});
      run_schedule(c, opt);
    } else {
      optim::Adam opt({p}, {.lr = 0.1});
      run_schedule(c, opt);
    }
    ++cases;
  }
  CHECK(cases == 11);
}

TEST_CASE("optim: ReduceLROnPlateau matches PyTorch", "[optim][scheduler]") {
  const auto metrics = fx().json().at("plateau_metrics").get<std::vector<double>>();
  for (const auto& c : fx().json().at("plateau_cases")) {
    INFO(c.at("name").get<std::string>());
    const auto& o = c.at("options");
    auto p = et::Var<double>(et::zeros<double>({1}), true);
    optim::SGD opt({p}, {.lr = 0.1});
    optim::ReduceLROnPlateau sched(opt, {.mode_max = o.at("mode_max").get<bool>(),
                                         .factor = o.at("factor").get<double>(),
                                         .patience = o.at("patience").get<std::int64_t>(),
                                         .threshold = o.at("threshold").get<double>(),
                                         .threshold_abs = o.at("threshold_abs").get<bool>(),
                                         .cooldown = o.value("cooldown", std::int64_t{0}),
                                         .min_lr = o.value("min_lr", 0.0)});
    const auto lrs = c.at("lrs").get<std::vector<double>>();
    for (std::size_t k = 0; k < metrics.size(); ++k) {
      sched.step(metrics[k]);
      INFO("step " << k + 1);
      CHECK(sched.get_last_lr()[0] == Approx(lrs[k]).epsilon(1e-12));
    }
  }
}

TEST_CASE("optim: schedulers change every parameter group from its own base lr",
          "[optim][scheduler]") {
  auto a = et::Var<float>(et::zeros<float>({1}), true);
  auto b = et::Var<float>(et::zeros<float>({1}), true);
  optim::SGD opt({a}, {.lr = 0.1});
  opt.add_param_group({b}, {.lr = 1.0});
  optim::StepLR sched(opt, {.step_size = 2, .gamma = 0.5});
  for (int i = 0; i < 4; ++i) sched.step();
  CHECK(sched.get_last_lr() == std::vector<double>{0.025, 0.25});
  CHECK(opt.param_groups()[1].lr == 0.25);
  CHECK(sched.last_epoch() == 4);
}

TEST_CASE("optim: scheduler errors", "[optim][scheduler]") {
  auto p = et::Var<float>(et::zeros<float>({1}), true);
  optim::SGD opt({p}, {.lr = 0.1, .momentum = 0.9});
  CHECK_THROWS_MATCHES(optim::LinearLR(opt, {.start_factor = 0}), et::value_error,
                       Catch::Message("LinearLR: starting multiplicative factor expected to be "
                                      "greater than 0 and less or equal to 1."));
  CHECK_THROWS_MATCHES(optim::ReduceLROnPlateau(opt, {.factor = 1.0}), et::value_error,
                       Catch::Message("ReduceLROnPlateau: factor should be < 1.0, got 1"));
  CHECK_THROWS_MATCHES(optim::OneCycleLR(opt, {.max_lr = 0.1}), et::value_error,
                       Catch::Message("OneCycleLR: expected a positive total_steps, or positive "
                                      "epochs and steps_per_epoch, got total_steps 0, epochs 0, "
                                      "steps_per_epoch 0"));
  CHECK_THROWS_MATCHES(optim::StepLR(opt, {.step_size = 0}), et::value_error,
                       Catch::Message("StepLR: step_size must be positive, got 0"));
  optim::OneCycleLR cycle(opt, {.max_lr = 0.1, .epochs = 2, .steps_per_epoch = 3});
  for (int i = 0; i < 6; ++i) cycle.step();
  CHECK_THROWS_MATCHES(cycle.step(), et::value_error,
                       Catch::Message("OneCycleLR: tried to step 7 times; the specified number of "
                                      "total steps is 6"));
  optim::Adagrad adagrad({p});
  CHECK_THROWS_MATCHES(optim::OneCycleLR(adagrad, {.max_lr = 0.1, .total_steps = 10}),
                       et::value_error,
                       Catch::Message("OneCycleLR: optimizer must support momentum with "
                                      "`cycle_momentum` option enabled"));
  optim::OneCycleLR no_momentum(adagrad,
                                {.max_lr = 0.1, .total_steps = 10, .cycle_momentum = false});
  CHECK(no_momentum.get_last_lr()[0] == Approx(0.004));
}

TEST_CASE("optim: scheduler state_dict round trip continues the schedule", "[optim][scheduler]") {
  auto p = et::Var<float>(et::zeros<float>({1}), true);
  optim::SGD opt({p}, {.lr = 0.1});
  optim::CosineAnnealingLR sched(opt, {.T_max = 10});
  for (int i = 0; i < 4; ++i) sched.step();
  const auto saved_opt = opt.state_dict();
  const auto saved = sched.state_dict();
  CHECK(saved.values.at("last_epoch") == 4);
  CHECK(saved.base_lrs == std::vector<double>{0.1});
  sched.step();
  const double expected = sched.get_last_lr()[0];

  optim::SGD opt2({p}, {.lr = 0.5});
  optim::CosineAnnealingLR sched2(opt2, {.T_max = 10});
  opt2.load_state_dict(saved_opt);
  sched2.load_state_dict(saved);
  sched2.step();
  CHECK(sched2.get_last_lr()[0] == expected);
  CHECK(sched2.last_epoch() == 5);

  auto bad = saved;
  bad.values["gamma"] = 0.1;
  CHECK_THROWS_MATCHES(sched2.load_state_dict(bad), et::value_error,
                       Catch::Message("load_state_dict: unknown scheduler state 'gamma'"));

  optim::ReduceLROnPlateau plateau(opt, {.patience = 1});
  plateau.step(1.0);
  plateau.step(2.0);
  optim::ReduceLROnPlateau plateau2(opt2, {.patience = 1});
  plateau2.load_state_dict(plateau.state_dict());
  CHECK(plateau2.best() == 1.0);
  CHECK(plateau2.num_bad_epochs() == 1);
  const double before = opt2.param_groups()[0].lr;
  plateau2.step(3.0);  // the second bad step in a row: reduced
  CHECK(opt2.param_groups()[0].lr == Approx(before * 0.1));
}
