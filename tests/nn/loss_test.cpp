#include "etna/nn/loss.hpp"

#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "etna/autograd/gradcheck.hpp"
#include "etna/autograd/ops/softmax.hpp"
#include "support/fixtures.hpp"

namespace et = etna;
namespace nn = etna::nn;
using nlohmann::json;
using VarD = et::Var<double>;
using Labels = et::Tensor<std::int64_t>;

namespace {

bool is_labels(const et::test::Fixtures& f, const std::string& key) {
  return f.json()[key]["dtype"] == "int64";
}

nn::LossWeight weight(const et::test::Fixtures& f, const json& o, const char* name) {
  if (!o.contains(name)) return {};
  return f.tensor<double>(o[name].get<std::string>());
}

// One fixture case through the loss objects (the functional forms are checked against them
// below). t is the target (or cosine_embedding_loss's second input) when it is a float tensor.
template <class T>
et::Var<T> run_case(const et::test::Fixtures& f, const json& c, const et::Var<T>& x,
                    const et::Var<T>& t, const Labels& labels) {
  const std::string loss = c["loss"];
  const json& o = c["options"];
  const nn::Reduction r = nn::parse_reduction(o.value("reduction", "mean"));
  if (loss == "mse_loss") return nn::MSELoss{.reduction = r}(x, t);
  if (loss == "l1_loss") return nn::L1Loss{.reduction = r}(x, t);
  if (loss == "smooth_l1_loss") return nn::SmoothL1Loss{.reduction = r, .beta = o["beta"]}(x, t);
  if (loss == "huber_loss") return nn::HuberLoss{.reduction = r, .delta = o["delta"]}(x, t);
  if (loss == "cross_entropy") {
    const nn::CrossEntropyLoss ce{.weight = weight(f, o, "weight"),
                                  .ignore_index = o.value("ignore_index", std::int64_t{-100}),
                                  .reduction = r,
                                  .label_smoothing = o.value("label_smoothing", 0.0)};
    return labels.defined() ? ce(x, labels) : ce(x, t);
  }
  if (loss == "nll_loss")
    return nn::NLLLoss{.weight = weight(f, o, "weight"),
                       .ignore_index = o.value("ignore_index", std::int64_t{-100}),
                       .reduction = r}(x, labels);
  if (loss == "binary_cross_entropy")
    return nn::BCELoss{.weight = weight(f, o, "weight"), .reduction = r}(x, t);
  if (loss == "binary_cross_entropy_with_logits")
    return nn::BCEWithLogitsLoss{.weight = weight(f, o, "weight"),
                                 .reduction = r,
                                 .pos_weight = weight(f, o, "pos_weight")}(x, t);
  if (loss == "kl_div")
    return nn::KLDivLoss{.reduction = r, .log_target = o.value("log_target", false)}(x, t);
  if (loss == "cosine_embedding_loss")
    return nn::CosineEmbeddingLoss{.margin = o["margin"], .reduction = r}(x, t, labels);
  FAIL("unknown loss " << loss);
  return {};
}

}  // namespace

// Runs every fixture case in T; float compares at a float's precision.
template <class T>
int check_fixtures(double rtol, double atol) {
  const et::test::Fixtures f("losses.json");
  int checked = 0;
  for (const json& c : f.json()["cases"]) {
    INFO(c.dump());
    const auto keys = c["inputs"].get<std::vector<std::string>>();
    const et::Var<T> x(f.tensor<T>(keys[0]), true);
    const bool target_grad = c.contains("grad_target");
    et::Var<T> t;
    Labels labels;
    for (std::size_t k = 1; k < keys.size(); ++k) {
      if (is_labels(f, keys[k]))
        labels = f.tensor<std::int64_t>(keys[k]);
      else
        t = et::Var<T>(f.tensor<T>(keys[k]), target_grad);
    }
    const et::Var<T> out = run_case(f, c, x, t, labels);
    ETNA_CHECK_CLOSE(out.value(), f.tensor<T>(c["out"]), rtol, atol);
    out.backward(f.tensor<T>(c["g"]));
    ETNA_CHECK_CLOSE(x.grad(), f.tensor<T>(c["grad_input"]), rtol, atol);
    if (target_grad) ETNA_CHECK_CLOSE(t.grad(), f.tensor<T>(c["grad_target"]), rtol, atol);
    ++checked;
  }
  return checked;
}

TEST_CASE("every loss and option combination matches PyTorch: output and gradients", "[nn][loss]") {
  CHECK(check_fixtures<double>(1e-6, 1e-9) == 92);
}

TEST_CASE("every loss and option combination matches PyTorch in float32", "[nn][loss]") {
  CHECK(check_fixtures<float>(1e-4, 1e-5) == 92);
}

// Every loss object meets the Loss contract; a callable returning a tensor does not.
static_assert(nn::Loss<nn::CrossEntropyLoss, et::Var<float>, et::Tensor<std::int64_t>>);
static_assert(nn::Loss<nn::MSELoss, et::Var<float>, et::Tensor<float>>);
static_assert(nn::Loss<nn::BCEWithLogitsLoss, et::Var<double>, et::Tensor<double>>);
static_assert(!nn::Loss<decltype([](const auto& x, const auto&) { return x.value(); }),
                        et::Var<float>, et::Tensor<float>>);

TEST_CASE("losses: functional forms in nn and nn::functional agree with the loss objects",
          "[nn][loss]") {
  et::manual_seed(3);
  const VarD x(et::randn<double>({6, 5}), true);
  const auto y = et::randint<std::int64_t>(0, 5, {6});
  const auto t = et::randn<double>({6, 5});
  const nn::CrossEntropyLoss ce{.weight = et::rand<double>({5}), .label_smoothing = 0.1};
  const double v = ce(x, y).item();
  CHECK(nn::cross_entropy(x, y, ce).item() == v);
  CHECK(nn::functional::cross_entropy(x, y, ce).item() == v);
  CHECK(nn::functional::mse_loss(x, t).item() == nn::MSELoss{}(x, t).item());
  CHECK(nn::functional::huber_loss(x, t, nn::HuberLoss{.delta = 0.5}).item() ==
        nn::huber_loss(x, t, nn::Reduction::mean, 0.5).item());
  CHECK(nn::functional::kl_div(et::log_softmax(x, 1), et::softmax(t, 1)).item() ==
        nn::kl_div(et::log_softmax(x, 1), et::softmax(t, 1)).item());
}
