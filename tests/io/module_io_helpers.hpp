// The networks, fixtures and helpers shared by tests/io/module_io_test.cpp and
// module_io_pytorch_test.cpp (the torch twins are tests/reference/module_io_models.py).
#pragma once

#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <optional>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "etna/etna.hpp"
#include "etna/io.hpp"
#include "support/fixtures.hpp"

namespace etna_test_io {

namespace et = etna;
namespace nn = etna::nn;
namespace fs = std::filesystem;
using et::io::DType;

using Mlp = nn::Sequential<nn::Linear<4, 8>, nn::ReLU, nn::Linear<8, 3>>;
// The torch twin is module_io_models.cnn().
using Cnn = nn::Sequential<nn::Conv2d<1, 2, 3, nn::Conv2dOptions{.padding = 1}>, nn::BatchNorm2d<2>,
                           nn::ReLU, nn::MaxPool2d<2>, nn::Flatten, nn::Linear<18, 3>>;
using Backbone = nn::Sequential<nn::Linear<5, 6>, nn::Tanh, nn::Linear<6, 4>>;

// The torch twin is module_io_models.Net: nested members and a std::vector of layers.
struct Net : nn::Module<Net> {
  Backbone backbone;
  std::vector<nn::Linear<>> heads{nn::Linear<>(4, 2), nn::Linear<>(4, 3)};
  ETNA_MODULE(backbone, heads)
  template <class X>
  et::Var<float> forward(const X& x) {
    auto h = backbone(x);
    return et::Var<float>(et::sum(heads[0](h), 1, true) + heads[1](h));
  }
};

// Two Linear layers sharing one weight.
struct Tied : nn::Module<Tied> {
  nn::Linear<> a{3, 3}, b{3, 3};
  Tied() { b.weight = a.weight; }
  ETNA_MODULE(a, b)
  auto forward(const et::Var<float>& x) { return b(a(x)); }
};

inline const et::test::Fixtures& fx() {
  static const et::test::Fixtures f("module_io.json");
  return f;
}
inline std::string fixture_file(const std::string& name) {
  return std::string(ETNA_TEST_DATA_DIR) + "/module_io/" + name;
}

// This process's scratch folder, removed at exit.
inline fs::path temp_dir() {
  static const struct Scratch {
    fs::path dir =
        fs::temp_directory_path() / ("etna_module_io_test_" + std::to_string(::getpid()));
    Scratch() { fs::create_directories(dir); }
    ~Scratch() {
      std::error_code ec;
      fs::remove_all(dir, ec);
    }
  } scratch;
  return scratch.dir;
}
inline std::string temp_file(const std::string& name) { return (temp_dir() / name).string(); }

// Every parameter, buffer and index buffer of a and b has the same name and values.
template <class A, class B>
void check_same_state(const A& a, const B& b, double rtol = 0, double atol = 0) {
  const auto pa = a.named_parameters(), pb = b.named_parameters();
  REQUIRE(pa.size() == pb.size());
  for (std::size_t i = 0; i < pa.size(); ++i) {
    INFO(pa[i].first);
    CHECK(pa[i].first == pb[i].first);
    ETNA_CHECK_CLOSE(pa[i].second.value(), pb[i].second.value(), rtol, atol);
  }
  const auto ba = a.named_buffers(), bb = b.named_buffers();
  REQUIRE(ba.size() == bb.size());
  for (std::size_t i = 0; i < ba.size(); ++i)
    ETNA_CHECK_CLOSE(ba[i].second, bb[i].second, rtol, atol);
  const auto ia = a.named_index_buffers(), ib = b.named_index_buffers();
  REQUIRE(ia.size() == ib.size());
  for (std::size_t i = 0; i < ia.size(); ++i) ETNA_CHECK_CLOSE(ia[i].second, ib[i].second, 0, 0);
}

// A CNN whose BatchNorm has seen 3 training batches (running stats, num_batches_tracked = 3).
inline Cnn trained_cnn() {
  Cnn cnn;
  cnn.train();
  for (int i = 0; i < 3; ++i) (void)cnn(et::randn<float>({8, 1, 6, 6}) * 2.f + 0.5f);
  cnn.eval();
  return cnn;
}

// Writes a float model's state as the test needs it: `rename` maps names (empty: drop).
template <class M, class Rename>
void write_state(const M& m, const std::string& path, Rename rename,
                 std::optional<DType> as = std::nullopt, DType index_as = DType::I64) {
  et::io::SafeTensorsWriter w;
  for (const auto& [name, p] : m.named_parameters())
    if (auto n = rename(name); !n.empty()) w.add(n, p.value(), as);
  for (const auto& [name, b] : m.named_buffers())
    if (auto n = rename(name); !n.empty()) w.add(n, b, as);
  for (const auto& [name, b] : m.named_index_buffers())
    if (auto n = rename(name); !n.empty()) w.add(n, b, index_as);
  w.save(path);
}
inline const auto same_name = [](const std::string& n) { return n; };

}  // namespace etna_test_io
