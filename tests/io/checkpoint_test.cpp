// save_checkpoint / load_checkpoint: resuming is bit-identical for every optimizer kind (with
// Dropout, so the RNG matters, and BatchNorm buffers), with and without schedulers; metadata,
// format checks, mismatches and damaged files fail with io_error and change nothing.
#include "etna/io/checkpoint.hpp"

#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <type_traits>

#include "etna/nn.hpp"
#include "etna/optim.hpp"

namespace et = etna;
namespace nn = etna::nn;
namespace optim = etna::optim;
namespace io = etna::io;
using Catch::Matchers::Contains;

namespace {

using Net =
    nn::Sequential<nn::Linear<6, 8>, nn::BatchNorm1d<8>, nn::ReLU, nn::Dropout, nn::Linear<8, 3>>;
using WiderNet =
    nn::Sequential<nn::Linear<6, 8>, nn::BatchNorm1d<8>, nn::ReLU, nn::Dropout, nn::Linear<8, 4>>;

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() /
          ("etna_checkpoint_test_" + std::to_string(::getpid()) + "_" + name))
      .string();
}

Net make_net(std::uint64_t seed) {
  et::manual_seed(seed);
  return Net{};
}

// Batch k, from a formula (not the RNG: the RNG's position is part of what a checkpoint saves).
std::pair<et::Tensor<float>, et::Tensor<float>> batch(int k) {
  auto x = et::empty<float>({16, 6}), y = et::empty<float>({16, 3});
  for (std::int64_t i = 0; i < x.numel(); ++i) x.data()[i] = std::sin(0.37f * i + 1.3f * k);
  for (std::int64_t i = 0; i < y.numel(); ++i) y.data()[i] = std::cos(0.11f * i - 0.7f * k);
  return {x, y};
}

template <class S>
void step_scheduler(S& s, double loss) {
  if constexpr (requires { s.step(loss); })
    s.step(loss);
  else
    s.step();
}

// Steps k = from .. from + count - 1 in training mode (Dropout draws from the global RNG).
template <class Opt, class Sched>
void train(Net& net, Opt& opt, Sched* sched, int from, int count) {
  net.train();
  for (int k = from; k < from + count; ++k) {
    const auto [x, y] = batch(k);
    auto loss = nn::mse_loss(net(x), y);
    opt.zero_grad();
    loss.backward();
    opt.step();
    if (sched) step_scheduler(*sched, static_cast<double>(loss.value().data()[0]));
  }
}

template <class T>
bool same_bits(const et::Tensor<T>& a, const et::Tensor<T>& b) {
  if (!(a.shape() == b.shape())) return false;
  const auto ca = a.contiguous(), cb = b.contiguous();
  return std::memcmp(ca.data(), cb.data(), sizeof(T) * ca.numel()) == 0;
}

// Parameters, float buffers and int64 buffers, bit for bit.
template <class A, class B>
void require_same_model(const A& a, const B& b) {
  const auto pa = a.named_parameters(), pb = b.named_parameters();
  REQUIRE(pa.size() == pb.size());
  for (std::size_t i = 0; i < pa.size(); ++i) {
    INFO(pa[i].first);
    CHECK(pa[i].first == pb[i].first);
    CHECK(same_bits(pa[i].second.value(), pb[i].second.value()));
  }
  const auto ba = a.named_buffers(), bb = b.named_buffers();
  REQUIRE(ba.size() == bb.size());
  for (std::size_t i = 0; i < ba.size(); ++i) {
    INFO(ba[i].first);
    CHECK(same_bits(ba[i].second, bb[i].second));
  }
  const auto ia = a.named_index_buffers(), ib = b.named_index_buffers();
  REQUIRE(ia.size() == ib.size());
  for (std::size_t i = 0; i < ia.size(); ++i) CHECK(same_bits(ia[i].second, ib[i].second));
}

template <class T>
void require_same_state(const optim::StateDict<T>& a, const optim::StateDict<T>& b) {
  REQUIRE(a.param_groups.size() == b.param_groups.size());
  for (std::size_t g = 0; g < a.param_groups.size(); ++g) {
    CHECK(a.param_groups[g].options == b.param_groups[g].options);  // exact doubles
    CHECK(a.param_groups[g].params == b.param_groups[g].params);
  }
  REQUIRE(a.state.size() == b.state.size());
  for (const auto& [index, entries] : a.state) {
    REQUIRE(b.state.count(index));
    const auto& other = b.state.at(index);
    REQUIRE(entries.size() == other.size());
    for (const auto& [key, t] : entries) {
      INFO("parameter " << index << " state " << key);
      REQUIRE(other.count(key));
      CHECK(same_bits(t, other.at(key)));
    }
  }
}

// The scheduler behind make_sched's unique_ptr, or a null one that train() skips.
struct NoSched {
  void step() {}
};
template <class P>
auto raw(P& p) {
  if constexpr (std::is_same_v<P, std::nullptr_t>)
    return static_cast<NoSched*>(nullptr);
  else
    return p.get();
}

// 10 steps straight vs 5 steps, a checkpoint, everything built afresh (other init seed, other
// RNG position), load, 5 steps: identical weights, buffers, optimizer state, lrs and RNG.
// make_sched returns a unique_ptr to a scheduler, or nullptr_t for none.
template <class MakeOpt, class MakeSched>
void check_resume(const std::string& label, MakeOpt make_opt, MakeSched make_sched) {
  INFO(label);
  const std::string path = temp_path("resume.ckpt");
  constexpr bool has_sched =
      !std::is_same_v<decltype(make_sched(std::declval<std::invoke_result_t<MakeOpt, Net&>&>())),
                      std::nullptr_t>;

  Net a = make_net(1);
  auto opt_a = make_opt(a);
  auto sched_a = make_sched(opt_a);
  et::manual_seed(7);
  train(a, opt_a, raw(sched_a), 0, 10);
  const auto rng_a = et::default_generator().get_state();

  Net b = make_net(1);
  auto opt_b = make_opt(b);
  auto sched_b = make_sched(opt_b);
  et::manual_seed(7);
  train(b, opt_b, raw(sched_b), 0, 5);
  if constexpr (has_sched)
    io::save_checkpoint(path, b, opt_b, *sched_b, 5, {{"run", label}});
  else
    io::save_checkpoint(path, b, opt_b, 5, {{"run", label}});

  Net c = make_net(123);  // other weights
  auto opt_c = make_opt(c);
  auto sched_c = make_sched(opt_c);
  et::manual_seed(999);  // another RNG position
  io::CheckpointInfo info;
  if constexpr (has_sched)
    info = io::load_checkpoint(path, c, opt_c, *sched_c);
  else
    info = io::load_checkpoint(path, c, opt_c);
  CHECK(info.step == 5);
  CHECK(info.format_version == io::checkpoint_format_version);
  CHECK(info.metadata == std::map<std::string, std::string>{{"run", label}});
  if constexpr (has_sched) {  // right after loading, before any step: the saved schedule's lrs
    CHECK(sched_c->get_last_lr() == sched_b->get_last_lr());
    for (std::size_t g = 0; g < opt_b.param_groups().size(); ++g)
      CHECK(opt_c.param_groups()[g].lr == opt_b.param_groups()[g].lr);
  }
  train(c, opt_c, raw(sched_c), 5, 5);

  require_same_model(a, c);
  require_same_state(opt_a.state_dict(), opt_c.state_dict());
  for (std::size_t g = 0; g < opt_a.param_groups().size(); ++g)
    CHECK(opt_a.param_groups()[g].lr == opt_c.param_groups()[g].lr);
  if constexpr (has_sched) {
    CHECK(sched_a->get_last_lr() == sched_c->get_last_lr());
    CHECK(sched_a->state_dict().values == sched_c->state_dict().values);
  }
  const auto rng_c = et::default_generator().get_state();
  CHECK(rng_a.seed == rng_c.seed);
  CHECK(rng_a.offset == rng_c.offset);
  std::filesystem::remove(path);
}

const auto no_sched = [](auto&) { return nullptr; };

template <template <class> class S, class Options>
auto sched(Options o) {
  return [o](auto& opt) {
    return std::make_unique<S<std::remove_reference_t<decltype(opt)>>>(opt, o);
  };
}

// Two groups: the first layer and the BatchNorm at `lr`, the head at 10 lr.
template <class Opt, class Options>
auto two_groups(Options o) {
  return [o](Net& net) {
    auto head = o;
    head.lr = o.lr * 10;
    std::vector<et::Var<float>> body = net.get<0>().parameters();
    for (const auto& p : net.get<1>().parameters()) body.push_back(p);
    Opt opt(body, o);
    opt.add_param_group(net.get<4>().parameters(), head);
    return opt;
  };
}

template <class Opt, class Options>
auto one_group(Options o) {
  return [o](Net& net) { return Opt(net.parameters(), o); };
}

}  // namespace

TEST_CASE("checkpoint: resuming is bit-identical for every optimizer", "[io][checkpoint]") {
  check_resume("Adam", one_group<optim::Adam<float>>(optim::AdamOptions{.lr = 0.01}), no_sched);
  check_resume("Adam amsgrad, two groups",
               two_groups<optim::Adam<float>>(
                   optim::AdamOptions{.lr = 0.003, .weight_decay = 0.01, .amsgrad = true}),
               no_sched);
  check_resume("AdamW", one_group<optim::AdamW<float>>(optim::AdamWOptions{.lr = 0.01}),
               sched<optim::CosineAnnealingLR>(optim::CosineAnnealingLROptions{.T_max = 7}));
  check_resume("SGD momentum + StepLR",
               one_group<optim::SGD<float>>(optim::SGDOptions{.lr = 0.05, .momentum = 0.9}),
               sched<optim::StepLR>(optim::StepLROptions{.step_size = 3, .gamma = 0.5}));
  check_resume(
      "SGD nesterov + OneCycleLR, two groups",
      two_groups<optim::SGD<float>>(
          optim::SGDOptions{.lr = 0.05, .momentum = 0.9, .weight_decay = 1e-3, .nesterov = true}),
      sched<optim::OneCycleLR>(optim::OneCycleLROptions{.max_lr = 0.1, .total_steps = 10}));
  check_resume("Adam + OneCycleLR (cycles beta1)",
               one_group<optim::Adam<float>>(optim::AdamOptions{.lr = 0.01}),
               sched<optim::OneCycleLR>(optim::OneCycleLROptions{
                   .max_lr = 0.02, .total_steps = 10, .three_phase = true}));
  check_resume("RMSprop centered momentum + ExponentialLR",
               one_group<optim::RMSprop<float>>(
                   optim::RMSpropOptions{.lr = 0.005, .momentum = 0.5, .centered = true}),
               sched<optim::ExponentialLR>(optim::ExponentialLROptions{.gamma = 0.9}));
  check_resume(
      "Adagrad + ReduceLROnPlateau",
      one_group<optim::Adagrad<float>>(optim::AdagradOptions{.lr = 0.05, .lr_decay = 0.01}),
      sched<optim::ReduceLROnPlateau>(
          optim::ReduceLROnPlateauOptions{.factor = 0.5, .patience = 0}));
  check_resume("Adagrad + LinearLR", one_group<optim::Adagrad<float>>(optim::AdagradOptions{}),
               sched<optim::LinearLR>(optim::LinearLROptions{}));
}

TEST_CASE("checkpoint: numbers in the JSON metadata round-trip exactly", "[io][checkpoint]") {
  const double values[] = {0.1,
                           1.0 / 3,
                           1e-300,
                           5e-324,
                           0.1 + 0.2,
                           123456789.123456789,
                           -2.5e17,
                           std::numeric_limits<double>::max(),
                           std::numeric_limits<double>::infinity(),
                           -std::numeric_limits<double>::infinity()};
  optim::SchedulerState s;
  for (double v : values) s.base_lrs.push_back(v);
  s.values["best"] = std::numeric_limits<double>::quiet_NaN();
  s.values["last_epoch"] = 12;
  const auto text = io::scheduler_state_to_json(s).dump();
  const auto back = io::scheduler_state_from_json(nlohmann::json::parse(text), "test");
  REQUIRE(back.base_lrs.size() == s.base_lrs.size());
  for (std::size_t i = 0; i < s.base_lrs.size(); ++i)
    CHECK(std::memcmp(&back.base_lrs[i], &s.base_lrs[i], sizeof(double)) == 0);
  CHECK(std::isnan(back.values.at("best")));
  CHECK(back.values.at("last_epoch") == 12);
  const et::RandomStream rng{0xFFFFFFFFFFFFFFFFull, 0x8000000000000001ull};
  const auto rng_back =
      io::rng_state_from_json(nlohmann::json::parse(io::rng_state_to_json(rng).dump()), "test");
  CHECK(rng_back.seed == rng.seed);
  CHECK(rng_back.offset == rng.offset);
  CHECK_THROWS_WITH(
      io::rng_state_from_json(nlohmann::json::parse(R"({"seed": -1, "offset": 0})"), "rng"),
      Contains("rng") && Contains("'seed' has the wrong type"));
}

namespace {

// A trained net + Adam at step 3 and its checkpoint at `path`.
struct Saved {
  std::string path;
  Net net = make_net(5);
  optim::Adam<float> opt{net.parameters(), optim::AdamOptions{.lr = 0.01}};
  explicit Saved(const std::string& name, const std::map<std::string, std::string>& meta = {})
      : path(temp_path(name)) {
    train(net, opt, static_cast<optim::StepLR<optim::Adam<float>>*>(nullptr), 0, 3);
    io::save_checkpoint(path, net, opt, 3, meta);
  }
  ~Saved() { std::filesystem::remove(path); }
};

// Copies the checkpoint at `from` to `to`, letting `edit` change the metadata and `drop` leave
// out one tensor (which `replace` may then add back in another form).
template <class Edit>
void rewrite(const std::string& from, const std::string& to, Edit edit,
             const std::string& drop = "",
             std::function<void(io::SafeTensorsWriter&)> replace = nullptr) {
  const io::SafeTensorsFile f(from);
  io::SafeTensorsWriter w;
  for (const auto& e : f.entries())
    if (e.name != drop) w.add_raw(e.name, e.dtype, e.shape, e.bytes);
  if (replace) replace(w);
  auto md = f.metadata();
  edit(md);
  for (const auto& [k, v] : md) w.set_metadata(k, v);
  w.save(to);
}

// Runs a load that must fail and returns its io_error's message; the RNG must be untouched.
template <class F>
std::string load_error(F&& load) {
  et::manual_seed(4242);
  const auto before = et::default_generator().get_state();
  try {
    load();
  } catch (const et::io_error& e) {
    const auto after = et::default_generator().get_state();
    CHECK(after.seed == before.seed);
    CHECK(after.offset == before.offset);
    return e.what();
  }
  FAIL("no io_error");
  return "";
}

// A fresh net + Adam; snapshot() then unchanged() checks a failed load left them alone.
struct Target {
  Net net = make_net(77);
  optim::Adam<float> opt{net.parameters(), optim::AdamOptions{.lr = 0.02}};
  Net before = net.clone();
  optim::StateDict<float> state_before;
  Target() {
    train(net, opt, static_cast<optim::StepLR<optim::Adam<float>>*>(nullptr), 0, 1);
    before = net.clone();
    state_before = opt.state_dict();
  }
  void require_unchanged() {
    require_same_model(net, before);
    require_same_state(state_before, opt.state_dict());
  }
};

}  // namespace

TEST_CASE("checkpoint: metadata, step and info", "[io][checkpoint]") {
  Saved s("meta.ckpt", {{"epoch", "2"}, {"note", "é ü"}, {"format", "pt"}});
  const auto info = io::checkpoint_info(s.path);
  CHECK(info.step == 3);
  CHECK(info.format_version == 1);
  CHECK(info.metadata ==
        std::map<std::string, std::string>{{"epoch", "2"}, {"note", "é ü"}, {"format", "pt"}});
  const io::SafeTensorsFile f(s.path);
  CHECK(f.metadata().at("etna.format") == "checkpoint");
  CHECK(f.metadata().at("etna.format_version") == "1");
  CHECK(f.metadata().at("etna.step") == "3");
  CHECK(f.contains("model.0.weight"));
  CHECK(f.contains("model.1.num_batches_tracked"));
  CHECK(f.contains("optimizer.state.0.exp_avg"));
  CHECK(f.contains("optimizer.state.5.step"));
  const auto opt = nlohmann::json::parse(f.metadata().at("etna.optimizer"));
  CHECK(opt.at("name") == "Adam");
  CHECK(opt.at("param_groups").at(0).at("options").at("lr") == 0.01);
  CHECK(opt.at("param_groups").at(0).at("params") == nlohmann::json({0, 1, 2, 3, 4, 5}));
  CHECK(opt.at("param_names").at(4) == "4.weight");

  CHECK_THROWS_AS(
      io::save_checkpoint(temp_path("reserved.ckpt"), s.net, s.opt, 1, {{"etna.step", "7"}}),
      et::value_error);
  CHECK_THROWS_WITH(
      io::save_checkpoint(temp_path("reserved.ckpt"), s.net, s.opt, 1, {{"etna.mine", "x"}}),
      Contains("'etna.mine' is reserved"));
  CHECK_FALSE(std::filesystem::exists(temp_path("reserved.ckpt")));

  // Saving again replaces the file (atomically); a folder that does not exist is an io_error.
  io::save_checkpoint(s.path, s.net, s.opt, 4, {{"epoch", "3"}});
  CHECK(io::checkpoint_info(s.path).step == 4);
  CHECK(io::checkpoint_info(s.path).metadata.at("epoch") == "3");
  CHECK_THROWS_AS(io::save_checkpoint("/nonexistent-etna-dir/x.ckpt", s.net, s.opt, 1),
                  et::io_error);
}

TEST_CASE("checkpoint: the model part is a plain state dict under 'model.'", "[io][checkpoint]") {
  Saved s("plain.ckpt");
  Net other = make_net(31);
  const auto result = io::load(other, s.path, {.strict = false, .prefix_map = {{"model.", ""}}});
  require_same_model(other, s.net);
  CHECK(result.missing_keys.empty());
  REQUIRE(result.unexpected_keys.size() == 6 * 3);  // step, exp_avg, exp_avg_sq of 6 params
  for (const auto& key : result.unexpected_keys) CHECK(key.rfind("optimizer.state.", 0) == 0);
  CHECK_THROWS_AS(io::load(other, s.path, {.prefix_map = {{"model.", ""}}}), et::io_error);

  // And a plain state dict is not a checkpoint.
  const std::string plain = temp_path("plain.safetensors");
  io::save(s.net, plain);
  Target t;
  CHECK_THAT(load_error([&] { io::load_checkpoint(plain, t.net, t.opt); }),
             Contains(plain) && Contains("not an etna checkpoint"));
  t.require_unchanged();
  std::filesystem::remove(plain);
}

TEST_CASE("checkpoint: a newer format version is refused", "[io][checkpoint]") {
  Saved s("version.ckpt");
  const std::string path = temp_path("version2.ckpt");
  rewrite(s.path, path, [](auto& md) { md["etna.format_version"] = "2"; });
  Target t;
  CHECK_THAT(load_error([&] { io::load_checkpoint(path, t.net, t.opt); }),
             Catch::Matchers::Equals(
                 "load_checkpoint: '" + path +
                 "': checkpoint format version 2 is newer than this etna supports (1); "
                 "update etna to load it"));
  CHECK_THROWS_WITH(io::checkpoint_info(path), Contains("version 2 is newer"));
  t.require_unchanged();
  rewrite(s.path, path, [](auto& md) { md["etna.format_version"] = "1x"; });
  CHECK_THAT(load_error([&] { io::load_checkpoint(path, t.net, t.opt); }),
             Contains("'1x' is not an integer"));
  rewrite(s.path, path, [](auto& md) { md["etna.format"] = "weights"; });
  CHECK_THAT(load_error([&] { io::load_checkpoint(path, t.net, t.opt); }),
             Contains("'etna.format' is 'weights', expected 'checkpoint'"));
  rewrite(s.path, path, [](auto& md) { md.erase("etna.format"); });
  CHECK_THAT(load_error([&] { io::load_checkpoint(path, t.net, t.opt); }),
             Contains("not an etna checkpoint (no 'etna.format' in its metadata)"));
  rewrite(s.path, path, [](auto& md) { md.erase("etna.rng"); });
  CHECK_THAT(load_error([&] { io::load_checkpoint(path, t.net, t.opt); }),
             Contains("lacks 'etna.rng'"));
  rewrite(s.path, path, [](auto& md) { md["etna.optimizer"] = "{\"name\": "; });
  CHECK_THAT(load_error([&] { io::load_checkpoint(path, t.net, t.opt); }),
             Contains("etna.optimizer: malformed JSON"));
  t.require_unchanged();
  std::filesystem::remove(path);
}

TEST_CASE("checkpoint: optimizer, scheduler and model mismatches change nothing",
          "[io][checkpoint]") {
  Saved s("mismatch.ckpt");
  {  // Adam's state into SGD.
    Net net = make_net(8);
    optim::SGD<float> sgd(net.parameters(), {.lr = 0.1, .momentum = 0.9});
    CHECK_THAT(
        load_error([&] { io::load_checkpoint(s.path, net, sgd); }),
        Catch::Matchers::Equals("load_checkpoint: '" + s.path +
                                "': the checkpoint holds the state of optimizer Adam, it can't be "
                                "loaded into SGD"));
  }
  Target t;
  {  // Another head: a shape mismatch named with both shapes.
    WiderNet wide;
    optim::Adam<float> adam(wide.parameters());
    CHECK_THAT(load_error([&] { io::load_checkpoint(s.path, wide, adam); }),
               Contains("model tensor 'model.4.weight' has shape [3, 8] in the "
                        "checkpoint, [4, 8] in the model"));
  }
  {  // Another architecture: missing and unexpected keys.
    nn::Sequential<nn::Linear<6, 8>, nn::ReLU, nn::Linear<8, 3>> small;
    optim::Adam<float> adam(small.parameters());
    CHECK_THAT(load_error([&] { io::load_checkpoint(s.path, small, adam); }),
               Contains("missing (in the model, not in the checkpoint): model.2.weight") &&
                   Contains("unexpected (in the checkpoint, not in the model): "
                            "model.1.weight"));
  }
  {  // The optimizer over the parameters in another order.
    auto ps = t.net.parameters();
    std::reverse(ps.begin(), ps.end());
    optim::Adam<float> reversed(ps);
    CHECK_THAT(load_error([&] { io::load_checkpoint(s.path, t.net, reversed); }),
               Contains("the optimizer's parameter 0 is '4.bias' of the model, in the "
                        "checkpoint it was '0.weight'"));
  }
  {  // An optimizer over fewer parameters.
    optim::Adam<float> partial(t.net.get<4>().parameters());
    CHECK_THAT(load_error([&] { io::load_checkpoint(s.path, t.net, partial); }),
               Contains("optimizer state") && Contains("6 parameters"));
  }
  {  // A scheduler, but the checkpoint has none; then another scheduler's state.
    optim::StepLR sched(t.opt, {.step_size = 2});
    CHECK_THAT(load_error([&] { io::load_checkpoint(s.path, t.net, t.opt, sched); }),
               Contains("has no scheduler state"));
    const std::string path = temp_path("plateau.ckpt");
    Net net = make_net(5);
    optim::Adam<float> adam(net.parameters());
    optim::ReduceLROnPlateau plateau(adam);
    plateau.step(1.5);
    io::save_checkpoint(path, net, adam, plateau, 1);
    CHECK_THAT(load_error([&] { io::load_checkpoint(path, t.net, t.opt, sched); }),
               Contains("scheduler state") && Contains("unknown scheduler state 'best'"));
    CHECK(sched.last_epoch() == 0);
    std::filesystem::remove(path);
  }
  {  // A state tensor of the wrong shape: found by the optimizer's own checks, after the
     // model's would have passed; the model must still be unchanged.
    const std::string path = temp_path("badstate.ckpt");
    rewrite(
        s.path, path, [](auto&) {}, "optimizer.state.2.exp_avg",
        [](io::SafeTensorsWriter& w) {
          w.add("optimizer.state.2.exp_avg", et::zeros<float>({7}));
        });
    CHECK_THAT(load_error([&] { io::load_checkpoint(path, t.net, t.opt); }),
               Contains("optimizer state") && Contains("exp_avg") && Contains("[7]"));
    rewrite(
        s.path, path, [](auto&) {}, "",
        [](io::SafeTensorsWriter& w) {
          w.add("optimizer.state.9.exp_avg", et::zeros<float>({3}));
        });
    CHECK_THAT(load_error([&] { io::load_checkpoint(path, t.net, t.opt); }),
               Contains("state of parameter 9, the optimizer has 6 parameters"));
    std::filesystem::remove(path);
  }
  t.require_unchanged();
}

TEST_CASE("checkpoint: truncated or corrupt files are io_errors and change nothing",
          "[io][checkpoint]") {
  Saved s("corrupt.ckpt");
  std::string bytes;
  {
    std::ifstream in(s.path, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  const std::string path = temp_path("damaged.ckpt");
  auto write = [&](const std::string& content) {
    std::ofstream(path, std::ios::binary | std::ios::trunc) << content;
  };
  Target t;
  for (std::size_t cut : {std::size_t{0}, std::size_t{5}, std::size_t{8}, std::size_t{100},
                          bytes.size() / 2, bytes.size() - 1}) {
    INFO("truncated to " << cut << " of " << bytes.size() << " bytes");
    write(bytes.substr(0, cut));
    load_error([&] { io::load_checkpoint(path, t.net, t.opt); });
  }
  std::string broken = bytes;
  broken[8] = '[';  // the header's JSON no longer parses
  write(broken);
  load_error([&] { io::load_checkpoint(path, t.net, t.opt); });
  load_error([&] { io::load_checkpoint(temp_path("does_not_exist.ckpt"), t.net, t.opt); });
  t.require_unchanged();
  std::filesystem::remove(path);
}
