// et::io::save / load and the state_dict over safetensors: round trips (MLP, CNN with
// BatchNorm, AnySequential, a user struct, double, F16/BF16 files), strict and non-strict key
// matching, prefix_map, shape/dtype errors that leave the module unchanged, parameter identity
// kept for optimizers, tied parameters and corrupt files. PyTorch interop:
// module_io_pytorch_test.cpp.
#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "io/module_io_helpers.hpp"

using namespace etna_test_io;

TEST_CASE("io module_io: an MLP round-trips with PyTorch's names", "[io][module_io]") {
  et::manual_seed(1);
  Mlp a;
  const std::string path = temp_file("mlp.safetensors");
  et::io::save(a, path, {{"note", "hello"}});
  const et::io::SafeTensorsFile f(path);
  CHECK(f.keys() == std::vector<std::string>{"0.weight", "0.bias", "2.weight", "2.bias"});
  CHECK(f.entry("0.weight").dtype == DType::F32);
  CHECK(f.entry("0.weight").shape == et::Shape{8, 4});
  CHECK(f.metadata().at("note") == "hello");
  CHECK(f.metadata().at("format") == "pt");
  CHECK(f.metadata().at("etna.format") == "state_dict");
  CHECK(f.metadata().at("etna.format_version") == "1");

  Mlp b;
  const auto result = et::io::load(b, path);
  CHECK(result.missing_keys.empty());
  CHECK(result.unexpected_keys.empty());
  check_same_state(a, b);
  const auto x = et::randn<float>({5, 4});
  ETNA_CHECK_CLOSE(b(x).value(), a(x).value(), 0, 0);

  CHECK_THROWS_AS(et::io::save(a, path, {{"etna.step", "1"}}), et::value_error);
}

TEST_CASE("io module_io: a CNN with BatchNorm keeps running stats and num_batches_tracked",
          "[io][module_io]") {
  et::manual_seed(2);
  Cnn a = trained_cnn();
  REQUIRE(a.get<1>().num_batches_tracked.item() == 3);
  const std::string path = temp_file("cnn.safetensors");
  et::io::save(a, path);
  // The same keys, in the same order, as torch's state_dict of the twin.
  CHECK(et::io::SafeTensorsFile(path).keys() == fx().value<std::vector<std::string>>("cnn_keys"));
  CHECK(et::io::SafeTensorsFile(path).entry("1.num_batches_tracked").dtype == DType::I64);
  Cnn b;
  b.eval();
  et::io::load(b, path);
  check_same_state(a, b);
  const auto x = et::randn<float>({2, 1, 6, 6});
  ETNA_CHECK_CLOSE(b(x).value(), a(x).value(), 0, 0);
}

TEST_CASE("io module_io: AnySequential, a user struct and a double model round-trip",
          "[io][module_io]") {
  et::manual_seed(3);
  nn::AnySequential<> a(nn::Linear<>(3, 4), nn::ReLU{}, nn::Linear<>(4, 2));
  nn::AnySequential<> b(nn::Linear<>(3, 4), nn::ReLU{}, nn::Linear<>(4, 2));
  et::io::save(a, temp_file("any.safetensors"));
  CHECK(et::io::SafeTensorsFile(temp_file("any.safetensors")).keys() ==
        std::vector<std::string>{"0.weight", "0.bias", "2.weight", "2.bias"});
  et::io::load(b, temp_file("any.safetensors"));
  check_same_state(a, b);

  Net n1, n2;
  et::io::save(n1, temp_file("net.safetensors"));
  CHECK(et::io::SafeTensorsFile(temp_file("net.safetensors")).keys() ==
        fx().value<std::vector<std::string>>("net_keys"));
  et::io::load(n2, temp_file("net.safetensors"));
  check_same_state(n1, n2);
  const auto x = et::randn<float>({3, 5});
  ETNA_CHECK_CLOSE(n2(x).value(), n1(x).value(), 0, 0);

  nn::Sequential<nn::Linear<3, 2, double>> d1, d2;
  et::io::save(d1, temp_file("double.safetensors"));
  CHECK(et::io::SafeTensorsFile(temp_file("double.safetensors")).entry("0.weight").dtype ==
        DType::F64);
  et::io::load(d2, temp_file("double.safetensors"));
  check_same_state(d1, d2);
  // A float model loads the double file (and the reverse), rounded to its dtype.
  nn::Sequential<nn::Linear<3, 2>> f1;
  et::io::load(f1, temp_file("double.safetensors"));
  ETNA_CHECK_CLOSE(f1.get<0>().weight.value(), d1.get<0>().weight.value().to<float>(), 0, 0);
  et::io::save(f1, temp_file("float.safetensors"));
  et::io::load(d2, temp_file("float.safetensors"));
  ETNA_CHECK_CLOSE(d2.get<0>().weight.value(), f1.get<0>().weight.value().to<double>(), 0, 0);
}

TEST_CASE("io module_io: a float model loads F16 and BF16 files of its state", "[io][module_io]") {
  et::manual_seed(4);
  Cnn a = trained_cnn();
  for (auto [dtype, tol] : {std::pair{DType::F16, 1e-3}, std::pair{DType::BF16, 8e-3}}) {
    INFO(et::io::dtype_name(dtype));
    const std::string path = temp_file("half.safetensors");
    write_state(a, path, same_name, dtype, DType::I32);  // num_batches_tracked as I32 too
    CHECK(et::io::SafeTensorsFile(path).entry("0.weight").dtype == dtype);
    Cnn b;
    et::io::load(b, path);
    check_same_state(a, b, tol, 1e-6);
  }
}

TEST_CASE("io module_io: strict and non-strict key matching", "[io][module_io]") {
  et::manual_seed(6);
  Mlp a;
  const std::string path = temp_file("keys.safetensors");
  // Missing 2.bias, unexpected extra.weight.
  write_state(a, path, [](const std::string& n) { return n == "2.bias" ? std::string() : n; });
  Mlp b;
  REQUIRE_THROWS_AS(et::io::load(b, path), et::io_error);
  REQUIRE_THROWS_WITH(
      et::io::load(b, path),
      Catch::Contains("1 missing key(s), in the module but not in the file: 2.bias"));
  {
    et::io::SafeTensorsWriter w;
    for (const auto& [name, p] : a.named_parameters()) w.add(name, p.value());
    w.add("extra.weight", et::zeros<float>({2}));
    w.save(path);
  }
  REQUIRE_THROWS_WITH(
      et::io::load(b, path),
      Catch::Contains("1 unexpected key(s), in the file but not in the module: extra.weight"));

  // Non-strict: both lists, the rest loaded, the missing tensor untouched.
  write_state(a, path,
              [](const std::string& n) { return n == "2.bias" ? std::string("x.bias") : n; });
  const auto before = b.get<2>().bias.value().clone();
  const auto result = et::io::load(b, path, {.strict = false});
  CHECK(result.missing_keys == std::vector<std::string>{"2.bias"});
  CHECK(result.unexpected_keys == std::vector<std::string>{"x.bias"});
  ETNA_CHECK_CLOSE(b.get<0>().weight.value(), a.get<0>().weight.value(), 0, 0);
  ETNA_CHECK_CLOSE(b.get<2>().weight.value(), a.get<2>().weight.value(), 0, 0);
  ETNA_CHECK_CLOSE(b.get<2>().bias.value(), before, 0, 0);

  // Many unexpected keys: sorted, the first ten shown.
  {
    et::io::SafeTensorsWriter w;
    for (const auto& [name, p] : a.named_parameters()) w.add(name, p.value());
    for (int i = 0; i < 25; ++i) w.add("u" + std::to_string(i), et::zeros<float>({1}));
    w.save(path);
  }
  REQUIRE_THROWS_WITH(
      et::io::load(b, path),
      Catch::Contains("25 unexpected key(s), in the file but not in the module: "
                      "u0, u1, u10, u11, u12, u13, u14, u15, u16, u17, ... (15 more)"));
  CHECK(et::io::load(b, path, {.strict = false}).unexpected_keys.size() == 25);

  // An etna checkpoint given to load: the message says what to use instead.
  {
    et::io::SafeTensorsWriter w;
    et::io::add_state_dict(w, a, "model.");
    w.set_metadata("etna.format", "checkpoint");
    w.save(path);
  }
  REQUIRE_THROWS_WITH(et::io::load(b, path),
                      Catch::Contains("etna checkpoint: load it with et::io::load_checkpoint"));
  // Its model part, through load_state_dict with the key prefix.
  Mlp c;
  et::io::load_state_dict(c, et::io::SafeTensorsFile(path), {}, "model.");
  check_same_state(a, c);
}

TEST_CASE("io module_io: shape and dtype mismatches name the key and leave the module unchanged",
          "[io][module_io]") {
  et::manual_seed(7);
  Cnn a = trained_cnn();
  const std::string path = temp_file("bad.safetensors");
  {  // Everything right except the last tensor's shape.
    et::io::SafeTensorsWriter w;
    for (const auto& [name, p] : a.named_parameters())
      w.add(name, name == "5.bias" ? et::zeros<float>({4}) : p.value());
    for (const auto& [name, t] : a.named_buffers()) w.add(name, t);
    for (const auto& [name, t] : a.named_index_buffers()) w.add(name, t);
    w.save(path);
  }
  Cnn b;
  const Cnn b_before = b.clone();
  REQUIRE_THROWS_AS(et::io::load(b, path), et::shape_error);
  REQUIRE_THROWS_WITH(et::io::load(b, path), "et::io::load: '5.bias' has shape [4] in '" + path +
                                                 "' but [3] in the module");
  check_same_state(b, b_before);

  // num_batches_tracked stored as a float, a weight stored as an integer: io_errors.
  {
    et::io::SafeTensorsWriter w;
    for (const auto& [name, p] : a.named_parameters()) w.add(name, p.value());
    for (const auto& [name, t] : a.named_buffers()) w.add(name, t);
    w.add("1.num_batches_tracked", et::zeros<float>(et::Shape{}));
    w.save(path);
  }
  REQUIRE_THROWS_WITH(et::io::load(b, path),
                      Catch::Contains("'1.num_batches_tracked' is F32 in '" + path +
                                      "'; an integer buffer loads I64 or I32"));
  check_same_state(b, b_before);
  {
    et::io::SafeTensorsWriter w;
    for (const auto& [name, p] : a.named_parameters())
      if (name == "5.bias")
        w.add(name, et::zeros<std::int64_t>({3}));
      else
        w.add(name, p.value());
    for (const auto& [name, t] : a.named_buffers()) w.add(name, t);
    for (const auto& [name, t] : a.named_index_buffers()) w.add(name, t);
    w.save(path);
  }
  REQUIRE_THROWS_WITH(et::io::load(b, path), Catch::Contains("'5.bias' is I64"));
  check_same_state(b, b_before);
}

TEST_CASE("io module_io: prefix_map loads a backbone out of and into a bigger network",
          "[io][module_io]") {
  et::manual_seed(8);
  Net big;
  et::io::save(big, temp_file("big.safetensors"));
  // Strict fails and suggests the prefix; {"backbone.", ""} loads it, the heads are unexpected.
  Backbone backbone;
  REQUIRE_THROWS_WITH(et::io::load(backbone, temp_file("big.safetensors")),
                      Catch::Contains("try LoadOptions{.prefix_map = {{\"backbone.\", \"\"}}}"));
  const auto r = et::io::load(backbone, temp_file("big.safetensors"),
                              {.strict = false, .prefix_map = {{"backbone.", ""}}});
  CHECK(r.missing_keys.empty());
  CHECK(r.unexpected_keys == std::vector<std::string>{"heads.0.bias", "heads.0.weight",
                                                      "heads.1.bias", "heads.1.weight"});
  check_same_state(backbone, big.backbone);

  // The reverse: a backbone-only file into the backbone of a fresh network ({"", "backbone."}).
  et::manual_seed(9);
  Backbone pretrained;
  et::io::save(pretrained, temp_file("backbone.safetensors"));
  Net fresh;
  const auto heads_before = fresh.heads[1].weight.value().clone();
  const auto r2 = et::io::load(fresh, temp_file("backbone.safetensors"),
                               {.strict = false, .prefix_map = {{"", "backbone."}}});
  CHECK(r2.unexpected_keys.empty());
  CHECK(r2.missing_keys.size() == 4);
  check_same_state(fresh.backbone, pretrained);
  ETNA_CHECK_CLOSE(fresh.heads[1].weight.value(), heads_before, 0, 0);

  // Two file keys renamed to one name: an error before anything changes.
  REQUIRE_THROWS_WITH(
      et::io::load(backbone, temp_file("big.safetensors"),
                   {.prefix_map = {{"backbone.", ""}, {"heads.", ""}}}),
      Catch::Contains("the keys 'backbone.0.weight' and 'heads.0.weight' both become "
                      "'0.weight' after prefix_map"));
}

TEST_CASE("io module_io: exclude loads a network with a new head strictly for the rest",
          "[io][module_io]") {
  et::manual_seed(12);
  Mlp pretrained;
  et::io::save(pretrained, temp_file("head.safetensors"));
  // The same backbone with a head of another shape: without exclude, a shape error.
  using Wider = nn::Sequential<nn::Linear<4, 8>, nn::ReLU, nn::Linear<8, 5>>;
  Wider net;
  const auto head_before = net.get<2>().weight.value().clone();
  REQUIRE_THROWS_WITH(et::io::load(net, temp_file("head.safetensors"), {.strict = false}),
                      Catch::Contains("'2.weight' has shape [3, 8] in"));
  const auto r = et::io::load(net, temp_file("head.safetensors"), {.exclude = {"2.*"}});
  CHECK(r.missing_keys.empty());
  CHECK(r.unexpected_keys.empty());
  ETNA_CHECK_CLOSE(net.get<0>().weight.value(), pretrained.get<0>().weight.value(), 0, 0);
  ETNA_CHECK_CLOSE(net.get<0>().bias.value(), pretrained.get<0>().bias.value(), 0, 0);
  ETNA_CHECK_CLOSE(net.get<2>().weight.value(), head_before, 0, 0);  // left alone
  // Exclusion applies after prefix_map, and strictness still covers the other keys.
  Net big;
  REQUIRE_THROWS_WITH(et::io::load(big, temp_file("head.safetensors"),
                                   {.prefix_map = {{"", "backbone."}}, .exclude = {"backbone.2.*"}}),
                      Catch::Contains("missing key(s)"));
}

TEST_CASE("io module_io: an optimizer built before load trains the loaded weights",
          "[io][module_io]") {
  et::manual_seed(10);
  Mlp a, b;
  et::optim::SGD opt(b.parameters(), {.lr = 0.1});
  const float* storage = b.get<0>().weight.value().data();
  et::io::save(a, temp_file("opt.safetensors"));
  et::io::load(b, temp_file("opt.safetensors"));
  CHECK(b.get<0>().weight.value().data() == storage);  // the same storage, the same Var
  const auto x = et::randn<float>({6, 4});
  auto loss = et::mean(et::square(b(x)));
  opt.zero_grad();
  loss.backward();
  const auto grad = b.get<0>().weight.grad().clone();
  opt.step();
  ETNA_CHECK_CLOSE(b.get<0>().weight.value(), a.get<0>().weight.value() - grad * 0.1f, 1e-6, 1e-7);
}

TEST_CASE("io module_io: tied parameters are stored once and load from either name",
          "[io][module_io]") {
  et::manual_seed(11);
  Tied a;
  et::io::save(a, temp_file("tied.safetensors"));
  CHECK(et::io::SafeTensorsFile(temp_file("tied.safetensors")).keys() ==
        std::vector<std::string>{"a.weight", "a.bias", "b.bias"});
  Tied b;
  et::io::load(b, temp_file("tied.safetensors"));
  check_same_state(a, b);
  CHECK(b.b.weight.value().data() == b.a.weight.value().data());  // still tied
  // A file that kept the other name of the shared tensor (as safetensors' save_model may).
  write_state(a, temp_file("tied2.safetensors"),
              [](const std::string& n) { return n == "a.weight" ? std::string("b.weight") : n; });
  Tied c;
  CHECK(et::io::load(c, temp_file("tied2.safetensors")).unexpected_keys.empty());
  check_same_state(a, c);
}

TEST_CASE("io module_io: corrupt and missing files are io_errors", "[io][module_io]") {
  et::manual_seed(12);
  Mlp a;
  const std::string path = temp_file("corrupt.safetensors");
  et::io::save(a, path);
  const auto size = fs::file_size(path);
  fs::resize_file(path, size - 7);  // truncated data
  const Mlp before = a.clone();
  CHECK_THROWS_AS(et::io::load(a, path), et::io_error);
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << "not a safetensors file at all";
  }
  CHECK_THROWS_AS(et::io::load(a, path), et::io_error);
  CHECK_THROWS_AS(et::io::load(a, temp_file("does_not_exist.safetensors")), et::io_error);
  check_same_state(a, before);
}
