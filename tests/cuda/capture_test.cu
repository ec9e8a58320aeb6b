// Whole training steps captured into a CUDA graph: zero_grad, forward, a class loss, backward
// and the optimizer step replayed from the graph end with the same weights as the same steps
// run eagerly. The class losses read nothing back to the host (labels, range check and the
// weighted mean's normaliser stay on the device), so they can be captured. In the emulated
// build a replay runs the body with capturing() raised, so the same host reads fail there too.
#include <cmath>
#include <cstdint>
#include <functional>
#include <vector>

#include "cuda/support.hpp"

namespace et = etna;
namespace nn = etna::nn;
namespace F = etna::nn::functional;
using et::test::gpu;

namespace {

using Mlp = nn::Sequential<nn::Linear<12, 32, float, gpu>, nn::ReLU,
                           nn::Linear<32, 6, float, gpu>>;
constexpr std::int64_t kBatch = 40, kClasses = 6;

// The step under test: the loss of the network's logits against the batch's targets.
using LossFn = std::function<et::Var<float, gpu>(const et::Var<float, gpu>&)>;

struct Trainer {
  Mlp net;  // initialised from the global generator: seed it first
  et::optim::SGD<float, gpu> opt{net.parameters(), {.lr = 0.1f}};
  void step(const et::Tensor<float, gpu>& x, const LossFn& loss_fn) {
    opt.zero_grad();
    auto loss = loss_fn(net(x));
    loss.backward();
    opt.step();
  }
};

// 1 + 3 eager steps against 1 eager step (warm-up) and 3 replays of the captured step.
void require_replays_match_eager(const LossFn& loss_fn) {
  et::manual_seed(71);
  const auto x = et::randn<float>({kBatch, 12}).to<gpu>();
  et::manual_seed(5);
  Trainer eager;
  et::manual_seed(5);
  Trainer graph;
  for (int k = 0; k < 4; ++k) eager.step(x, loss_fn);
  graph.step(x, loss_fn);  // eagerly once: caches (cuBLAS handle, loss weights) filled
  const auto after_one = graph.net.parameters()[0].value().to<et::cpu>();
  gpu::Graph g = gpu::capture([&] { graph.step(x, loss_fn); });
  for (int k = 0; k < 3; ++k) g.replay();
  const auto pe = eager.net.parameters(), pg = graph.net.parameters();
  REQUIRE(pe.size() == pg.size());
  for (std::size_t i = 0; i < pe.size(); ++i)
    ETNA_REQUIRE_MATCHES_CPU(pg[i].value(), pe[i].value().to<et::cpu>(), 1e-6);
  // The replays did train: the weights moved on from the warm-up step.
  CHECK(et::test::max_relative_error(pg[0].value(), after_one) > 1e-4);
}

// Labels with a few rows set to ignore_index.
et::Tensor<std::int64_t> make_labels(std::int64_t ignore_index) {
  et::manual_seed(72);
  auto labels = et::randint<std::int64_t>(0, kClasses, {kBatch});
  labels.data()[3] = ignore_index;
  labels.data()[17] = ignore_index;
  return labels;
}

}  // namespace

TEST_CASE("a cuda training step with cross_entropy replays from a graph as run eagerly") {
  const auto labels = make_labels(-100).to<gpu>();
  SECTION("plain mean") {
    const nn::CrossEntropyLoss ce{};
    require_replays_match_eager([&](const et::Var<float, gpu>& z) { return ce(z, labels); });
  }
  SECTION("class weights, ignore_index, label smoothing") {
    const et::Tensor<float> w = et::rand<float>({kClasses}) + 0.5f;
    const auto labels7 = make_labels(7).to<gpu>();
    const nn::CrossEntropyLoss ce{.weight = w, .ignore_index = 7, .label_smoothing = 0.1};
    require_replays_match_eager([&](const et::Var<float, gpu>& z) { return ce(z, labels7); });
  }
  SECTION("sum and none reductions") {
    const nn::CrossEntropyLoss sum{.weight = et::rand<float>({kClasses}) + 0.5f,
                                   .reduction = nn::Reduction::sum};
    const nn::CrossEntropyLoss none{.reduction = nn::Reduction::none};
    require_replays_match_eager([&](const et::Var<float, gpu>& z) {
      return sum(z, labels) * 0.05f + et::mean(none(z, labels));
    });
  }
  SECTION("int32 labels, converted on the device") {
    const auto labels32 = et::Tensor<std::int32_t>(et::cast<std::int32_t>(make_labels(-100)));
    const auto d32 = labels32.to<gpu>();
    const nn::CrossEntropyLoss ce{.weight = et::rand<float>({kClasses}) + 0.5f};
    require_replays_match_eager([&](const et::Var<float, gpu>& z) { return ce(z, d32); });
  }
  SECTION("class probabilities") {
    et::manual_seed(73);
    const auto probs = et::Tensor<float>(et::softmax(et::randn<float>({kBatch, kClasses}), 1));
    const auto dprobs = probs.to<gpu>();
    const nn::CrossEntropyLoss ce{.weight = et::rand<float>({kClasses}) + 0.5f,
                                  .label_smoothing = 0.2};
    require_replays_match_eager([&](const et::Var<float, gpu>& z) { return ce(z, dprobs); });
  }
}

TEST_CASE("a cuda training step with nll_loss replays from a graph as run eagerly") {
  const auto labels = make_labels(5).to<gpu>();  // 5 is also a class: ignored rows of class 5
  const nn::NLLLoss nll{.weight = et::rand<float>({kClasses}) + 0.5f, .ignore_index = 5};
  require_replays_match_eager(
      [&](const et::Var<float, gpu>& z) { return nll(et::log_softmax(z, 1), labels); });
}

TEST_CASE("captured class losses read no labels on the host; bad labels give NaN, not a crash") {
  const auto x = et::randn<float, gpu>({kBatch, kClasses});
  auto labels = make_labels(-100).to<gpu>();
  auto loss = et::zeros<float, gpu>({});
  const nn::CrossEntropyLoss ce{.weight = et::rand<float>({kClasses}) + 0.5f};
  loss.assign(F::cross_entropy(x, labels, {.weight = ce.weight}).value());  // eager warm-up
  gpu::Graph g = gpu::capture([&] { loss.assign(ce(x, labels).value()); });
  g.replay();
  const float good = loss.item();
  CHECK(std::isfinite(good));
  // New labels are read by the next replay; one out of range is not checked inside a graph
  // (nothing can be read back there): the loss becomes NaN instead of reading past the row.
  auto bad = make_labels(-100);
  bad.data()[9] = kClasses;
  labels.assign(bad.to<gpu>());
  g.replay();
  CHECK(std::isnan(loss.item()));
  // Eagerly the same labels raise the cpu's message.
  CHECK_THROWS_WITH(ce(x, labels), Catch::Contains("target 6 is out of range for 6 classes"));
  // A host read inside the captured body fails on the GPU (while capturing) and in the emulated
  // build (while replaying) alike.
  const auto capture_and_replay = [&] {
    gpu::Graph reads = gpu::capture([&] { (void)loss.item(); });
    reads.replay();
  };
  CHECK_THROWS_WITH(capture_and_replay(),
                    Catch::Contains("not allowed while a CUDA graph is being captured"));
}

TEST_CASE("cuda class losses take host labels and int32 labels as int64 device labels") {
  et::manual_seed(74);
  const auto x = et::randn<float, gpu>({kBatch, kClasses});
  const auto labels = make_labels(-100);
  const auto labels32 = et::Tensor<std::int32_t>(et::cast<std::int32_t>(labels));
  const nn::CrossEntropyLoss ce{.weight = et::rand<float>({kClasses}) + 0.5f};
  const auto want = ce(x, labels.to<gpu>()).value().to<et::cpu>();
  ETNA_REQUIRE_MATCHES_CPU(ce(x, labels).value(), want, 1e-7);  // copied over (eagerly)
  ETNA_REQUIRE_MATCHES_CPU(ce(x, labels32.to<gpu>()).value(), want, 1e-7);
  ETNA_REQUIRE_MATCHES_CPU(ce(x, labels32).value(), want, 1e-7);
  auto bad32 = labels32.clone();
  bad32.data()[4] = -3;
  CHECK_THROWS_WITH(ce(x, bad32.to<gpu>()),
                    Catch::Contains("cross_entropy: target -3 is out of range for 6 classes"));
}
