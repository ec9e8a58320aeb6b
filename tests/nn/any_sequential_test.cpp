// AnyLayer and AnySequential (etna/nn/any_layer.hpp, any_sequential.hpp, layer_spec.hpp):
// networks built at run time and from JSON behave as the typed Sequential with the same weights,
// the spec round-trips, and every spec error names the layer and the key.
#include "etna/nn/any_sequential.hpp"

#include <catch2/catch.hpp>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "etna/autograd.hpp"
#include "etna/nn/activation.hpp"
#include "etna/nn/dropout.hpp"
#include "etna/nn/flatten.hpp"
#include "etna/nn/linear.hpp"
#include "etna/nn/sequential.hpp"
#include "support/fixtures.hpp"

namespace et = etna;
namespace nn = etna::nn;
using nlohmann::json;
using Strings = std::vector<std::string>;

namespace {

const json mlp_spec = json::parse(R"({"layers": [
  {"type": "Flatten"},
  {"type": "Linear", "in_features": 12, "out_features": 8, "bias": true},
  {"type": "ReLU"},
  {"type": "Dropout", "p": 0.2},
  {"type": "Linear", "in_features": 8, "out_features": 3}]})");

using TypedMlp =
    nn::Sequential<nn::Flatten, nn::Linear<12, 8>, nn::ReLU, nn::Dropout, nn::Linear<8, 3>>;

template <class P>
Strings names_of(const P& pairs) {
  Strings out;
  for (const auto& [name, value] : pairs) out.push_back(name);
  return out;
}

// The message of the value_error that from_json throws for `spec`.
std::string from_json_error(const json& spec) {
  try {
    nn::AnySequential<>::from_json(spec);
  } catch (const et::value_error& e) {
    return e.what();
  }
  return "(no error)";
}

std::string layer_error(const json& layer) { return from_json_error({{"layers", {layer}}}); }

struct Model : nn::Module<Model> {
  nn::AnySequential<> encoder;
  nn::Linear<> head{4, 2};
  ETNA_MODULE(encoder, head)
};

}  // namespace

TEST_CASE("AnySequential: from JSON equals the typed Sequential with the same weights",
          "[nn][any_sequential]") {
  et::manual_seed(20);
  auto any = nn::AnySequential<>::from_json(mlp_spec);
  TypedMlp typed(nn::Flatten{}, nn::Linear<12, 8>{}, nn::ReLU{}, nn::Dropout(0.2),
                 nn::Linear<8, 3>{});
  CHECK(any.size() == 5);
  CHECK(names_of(any.named_parameters()) == names_of(typed.named_parameters()));
  CHECK(names_of(any.named_parameters()) == Strings{"1.weight", "1.bias", "4.weight", "4.bias"});
  CHECK(names_of(any.named_modules()) == Strings{"", "0", "1", "2", "3", "4"});
  CHECK(any.repr() == typed.repr());
  CHECK(any.num_parameters() == typed.num_parameters());

  auto typed_params = typed.parameters();
  auto any_params = any.parameters();
  for (std::size_t i = 0; i < typed_params.size(); ++i)
    typed_params[i].value().assign(any_params[i].value());
  any.eval();
  typed.eval();
  et::Var<float> x(et::randn<float>({4, 3, 4}), true);
  const et::Var<float> ya = any(x), yt = typed(x);
  ETNA_CHECK_CLOSE(ya.value(), yt.value(), 1e-6, 1e-6);
  et::sum(et::square(ya)).backward();
  const auto gx_any = x.grad().clone();
  x.zero_grad();
  et::sum(et::square(yt)).backward();
  ETNA_CHECK_CLOSE(gx_any, x.grad(), 1e-5, 1e-6);
  for (std::size_t i = 0; i < typed_params.size(); ++i)
    ETNA_CHECK_CLOSE(any_params[i].grad(), typed_params[i].grad(), 1e-5, 1e-6);

  // A tensor input is a constant.
  CHECK(any(et::randn<float>({2, 12})).shape() == et::Shape{2, 3});
}

TEST_CASE("AnySequential: train/eval reach the erased layers", "[nn][any_sequential]") {
  et::manual_seed(21);
  auto net = nn::AnySequential<>::from_json(
      json::parse(R"({"layers": [{"type": "Dropout", "p": 0.5}]})"));
  const auto x = et::ones<float>({64});
  net.eval();
  CHECK_FALSE(net[0].is_training());
  ETNA_CHECK_CLOSE(net(x).value(), x, 0.0, 0.0);
  net.train();
  CHECK(net[0].is_training());
  const et::Tensor<float> y = net(x).value();  // some dropped, the rest scaled by 2
  CHECK(et::sum(et::square(y)).item() == 2.f * et::sum(y).item());  // every element 0 or 2
  CHECK(et::sum(y).item() < 128.f);
}

TEST_CASE("AnySequential: built in code, nested in a module, cloned", "[nn][any_sequential]") {
  Model m;
  m.encoder.push_back(nn::Linear<>(3, 4)).push_back(nn::Tanh{});
  CHECK(names_of(m.named_parameters()) ==
        Strings{"encoder.0.weight", "encoder.0.bias", "head.weight", "head.bias"});
  CHECK(names_of(m.named_modules()) == Strings{"", "encoder", "encoder.0", "encoder.1", "head"});
  CHECK(m.repr() ==
        "Model(\n"
        "  (encoder): Sequential(\n"
        "    (0): Linear(in_features=3, out_features=4, bias=True)\n"
        "    (1): Tanh()\n"
        "  )\n"
        "  (head): Linear(in_features=4, out_features=2, bias=True)\n"
        ")");

  nn::AnySequential<> net(nn::Linear<>(3, 3), nn::ReLU{}, nn::Linear<>(3, 3));
  net[2].get_if<nn::Linear<>>()->weight = net[0].get_if<nn::Linear<>>()->weight;  // tie
  CHECK(net[1].get_if<nn::Linear<>>() == nullptr);
  CHECK(net[1].type_name() == "ReLU");
  auto copy = net.clone();
  auto* c0 = copy[0].get_if<nn::Linear<>>();
  auto* c2 = copy[2].get_if<nn::Linear<>>();
  CHECK(c0->weight.value().data() == c2->weight.value().data());  // tie kept
  CHECK(c0->weight.value().data() != net[0].get_if<nn::Linear<>>()->weight.value().data());
  copy.eval();
  CHECK(net[1].is_training());
  auto deep = net[0].clone();
  CHECK(deep.get_if<nn::Linear<>>()->bias.value().data() !=
        net[0].get_if<nn::Linear<>>()->bias.value().data());
  CHECK_THROWS_AS(net.at(3), et::index_error);

  nn::AnySequential<> same(net);  // the copy constructor, not a one-layer chain
  CHECK(same.size() == 3);
  nn::AnySequential<> outer(nn::AnyLayer<>(net), nn::Linear<>(3, 1));  // nested on purpose
  CHECK(outer.size() == 2);
  CHECK(outer.named_parameters()[0].first == "0.0.weight");
  CHECK(outer.named_parameters().size() == 5);  // the tied weight once
}

TEST_CASE("AnySequential: every layer type builds and round-trips", "[nn][any_sequential]") {
  const json spec = json::parse(R"({"format_version": 1, "layers": [
    {"type": "Flatten", "start_dim": 1, "end_dim": -1},
    {"type": "Linear", "in_features": 6, "out_features": 5, "bias": false},
    {"type": "BatchNorm1d", "num_features": 5, "eps": 0.001, "momentum": null, "affine": true,
     "track_running_stats": true},
    {"type": "LayerNorm", "normalized_shape": [5], "eps": 1e-05, "elementwise_affine": true,
     "bias": false},
    {"type": "Identity"}, {"type": "Dropout", "p": 0.1}, {"type": "AlphaDropout", "p": 0.1},
    {"type": "ReLU"}, {"type": "LeakyReLU", "negative_slope": 0.2}, {"type": "ELU", "alpha": 0.5},
    {"type": "GELU", "approximate": "tanh"}, {"type": "SiLU"}, {"type": "Sigmoid"},
    {"type": "Tanh"}, {"type": "Softplus", "beta": 2.0, "threshold": 10.0},
    {"type": "Softmax", "dim": 1}, {"type": "LogSoftmax", "dim": -1}]})");
  auto net = nn::AnySequential<>::from_json(spec);
  CHECK(net.to_json() == spec);
  CHECK(nn::AnySequential<>::from_json(net.to_json()).to_json() == spec);
  CHECK(names_of(net.named_parameters()) ==
        Strings{"1.weight", "2.weight", "2.bias", "3.weight"});
  CHECK(names_of(net.named_buffers()) == Strings{"2.running_mean", "2.running_var"});
  const et::Var<float> y = net(et::randn<float>({4, 2, 3}));
  CHECK(y.shape() == et::Shape{4, 5});

  // Defaults are written out in full.
  const auto written = nn::AnySequential<>::from_json(mlp_spec).to_json();
  CHECK(written["layers"][0] == json::parse(R"({"type": "Flatten", "start_dim": 1,
                                                "end_dim": -1})"));
  CHECK(written["layers"][4] == json::parse(R"({"type": "Linear", "in_features": 8,
                                                "out_features": 3, "bias": true})"));
  CHECK(written["format_version"] == 1);

  nn::AnySequential<> typed_inside(nn::Linear<4, 4>{});
  CHECK_THROWS_WITH(typed_inside.to_json(),
                    Catch::StartsWith("AnySequential::to_json: layer 0 (Linear, C++ type Linear)"));
}

TEST_CASE("AnySequential: from_json_file", "[nn][any_sequential]") {
  const std::string path = "any_sequential_test_spec.json";
  {
    std::ofstream(path) << mlp_spec.dump(2);
  }
  CHECK(nn::AnySequential<>::from_json_file(path).to_json() ==
        nn::AnySequential<>::from_json(mlp_spec).to_json());
  {
    std::ofstream(path) << "{\"layers\": [";
  }
  CHECK_THROWS_WITH(nn::AnySequential<>::from_json_file(path),
                    Catch::StartsWith("AnySequential::from_json_file: \"" + path +
                                      "\" is not valid JSON"));
  std::remove(path.c_str());
  CHECK_THROWS_AS(nn::AnySequential<>::from_json_file(path), et::io_error);
}

TEST_CASE("AnySequential: spec errors name the layer and the key", "[nn][any_sequential]") {
  CHECK(layer_error({{"type", "Relu"}}) ==
        "AnySequential::from_json: layer 0: unknown layer type \"Relu\" (known types: "
        "AlphaDropout, BatchNorm1d, Dropout, ELU, Flatten, GELU, Identity, LayerNorm, LeakyReLU, "
        "Linear, LogSoftmax, ReLU, SiLU, Sigmoid, Softmax, Softplus, Tanh)");
  CHECK(layer_error({{"type", "Linear"}, {"in_features", 4}}) ==
        "AnySequential::from_json: layer 0 (Linear): missing key \"out_features\"");
  CHECK(layer_error({{"type", "Linear"}, {"in_features", "4"}, {"out_features", 2}}) ==
        "AnySequential::from_json: layer 0 (Linear): key \"in_features\" must be an integer, "
        "got string \"4\"");
  CHECK(layer_error({{"type", "Linear"}, {"in_features", 4}, {"out_features", 2}, {"bias", 1}}) ==
        "AnySequential::from_json: layer 0 (Linear): key \"bias\" must be a boolean, got number "
        "1");
  CHECK(layer_error({{"type", "Linear"}, {"in_features", 4}, {"out_feature", 2}}) ==
        "AnySequential::from_json: layer 0 (Linear): missing key \"out_features\"");
  CHECK(layer_error({{"type", "Dropout"}, {"rate", 0.5}}) ==
        "AnySequential::from_json: layer 0 (Dropout): unknown key \"rate\" (Dropout takes "
        "\"p\")");
  CHECK(layer_error({{"type", "ReLU"}, {"inplace", true}}) ==
        "AnySequential::from_json: layer 0 (ReLU): unknown key \"inplace\" (ReLU takes no keys)");
  CHECK(layer_error({{"type", "Dropout"}, {"p", 1.5}}) ==
        "AnySequential::from_json: layer 0 (Dropout): Dropout: dropout probability has to be "
        "between 0 and 1, but got 1.5");
  CHECK(layer_error({{"in_features", 4}}) ==
        "AnySequential::from_json: layer 0: missing key \"type\"");
  CHECK(layer_error({{"type", 3}}) ==
        "AnySequential::from_json: layer 0: key \"type\" must be a string, got 3");
  CHECK(layer_error(json("ReLU")) ==
        "AnySequential::from_json: layer 0: must be an object with a \"type\", got \"ReLU\"");

  // Sizes: the mismatch names both layers by index.
  const json mismatch = json::parse(R"({"layers": [
    {"type": "Linear", "in_features": 784, "out_features": 256}, {"type": "ReLU"},
    {"type": "BatchNorm1d", "num_features": 256}, {"type": "Linear", "in_features": 128,
     "out_features": 10}]})");
  CHECK(from_json_error(mismatch) ==
        "AnySequential::from_json: layer 3 (Linear) has in_features=128, but layer 0 (Linear) "
        "gives 256 features");
  const json bn_mismatch = json::parse(R"({"layers": [
    {"type": "Linear", "in_features": 4, "out_features": 8},
    {"type": "BatchNorm1d", "num_features": 6}]})");
  CHECK(from_json_error(bn_mismatch) ==
        "AnySequential::from_json: layer 1 (BatchNorm1d) has in_features=6, but layer 0 (Linear) "
        "gives 8 features");
  // Flatten makes the size unknown again: no check across it.
  CHECK_NOTHROW(nn::AnySequential<>::from_json(json::parse(R"({"layers": [
    {"type": "Linear", "in_features": 4, "out_features": 8}, {"type": "Flatten"},
    {"type": "Linear", "in_features": 16, "out_features": 2}]})")));

  // The document itself.
  CHECK(from_json_error(json::array()) ==
        "AnySequential::from_json: the spec must be an object with a \"layers\" array, got []");
  CHECK(from_json_error({{"layers", json::array()}, {"name", "mlp"}}) ==
        "AnySequential::from_json: unknown top-level key \"name\" (known: \"layers\", "
        "\"format_version\")");
  CHECK(from_json_error({{"layers", json::array()}, {"format_version", 2}}) ==
        "AnySequential::from_json: format_version 2 is not supported (this etna reads 1 to 1)");
}
