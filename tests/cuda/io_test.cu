// et::io::save / load with cuda modules: a cuda CNN (BatchNorm running stats and
// num_batches_tracked on the device) saves, loads in place into a fresh cuda net and into a cpu
// net with equal outputs, and a cpu-written file loads into a cuda net.
#include <unistd.h>

#include <filesystem>
#include <string>

#include "cuda/support.hpp"
#include "etna/io/module_io.hpp"

namespace et = etna;
namespace nn = etna::nn;
namespace io = etna::io;
using et::test::gpu;

namespace {

using CpuCnn =
    nn::Sequential<nn::Conv2d<1, 2, 3, nn::Conv2dOptions{.padding = 1}>, nn::BatchNorm2d<2>,
                   nn::ReLU, nn::MaxPool2d<2>, nn::Flatten, nn::Linear<18, 3>>;
using GpuCnn = decltype(std::declval<const CpuCnn&>().to<gpu>());

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() /
          ("etna_cuda_io_test_" + std::to_string(::getpid()) + "_" + name))
      .string();
}

GpuCnn make_gpu_cnn(std::uint64_t seed) {
  et::manual_seed(seed);
  return CpuCnn().to<gpu>();
}

// Every parameter, buffer and index buffer of the cuda module equals the cpu one's.
template <class A, class B>
void require_same_state(const A& dev, const B& host, double tol) {
  const auto pa = dev.named_parameters();
  const auto pb = host.named_parameters();
  REQUIRE(pa.size() == pb.size());
  for (std::size_t i = 0; i < pa.size(); ++i) {
    INFO(pb[i].first);
    ETNA_REQUIRE_MATCHES_CPU(pa[i].second.value(), pb[i].second.value(), tol);
  }
  const auto ba = dev.named_buffers();
  const auto bb = host.named_buffers();
  REQUIRE(ba.size() == bb.size());
  for (std::size_t i = 0; i < ba.size(); ++i)
    ETNA_REQUIRE_MATCHES_CPU(ba[i].second, bb[i].second, tol);
  const auto ia = dev.named_index_buffers();
  const auto ib = host.named_index_buffers();
  REQUIRE(ia.size() == ib.size());
  for (std::size_t i = 0; i < ia.size(); ++i)
    ETNA_REQUIRE_MATCHES_CPU(ia[i].second, ib[i].second, 1e-12);
}

}  // namespace

TEST_CASE("io: a cuda CNN saves and loads into cuda and cpu nets with equal outputs") {
  GpuCnn a = make_gpu_cnn(1);
  a.train();
  for (int i = 0; i < 3; ++i)
    (void)a(et::Tensor<float>(et::randn<float>({8, 1, 6, 6}) * 2.f).to<gpu>());
  a.eval();
  REQUIRE(a.template get<1>().num_batches_tracked.item() == 3);
  const std::string path = temp_path("cnn.safetensors");
  io::save(a, path);

  // Into a fresh cuda net, in place: the parameters keep their device storage.
  GpuCnn b = make_gpu_cnn(2);
  b.eval();
  const float* storage = b.template get<0>().weight.value().data();
  io::load(b, path);
  CHECK(b.template get<0>().weight.value().data() == storage);
  CHECK(b.template get<1>().num_batches_tracked.item() == 3);
  const CpuCnn a_host = a.to<et::cpu>();
  require_same_state(b, a_host, 1e-12);
  const et::Tensor<float> x = et::randn<float>({4, 1, 6, 6});
  const et::Tensor<float, gpu> xd = x.to<gpu>();
  ETNA_REQUIRE_MATCHES_CPU(b(xd).value(), a(xd).value().to<et::cpu>(), 1e-12);

  // Into a cpu net: the same state, the same outputs (up to the backends' rounding).
  CpuCnn c;
  c.eval();
  io::load(c, path);
  require_same_state(a, c, 1e-12);
  ETNA_REQUIRE_MATCHES_CPU(a(xd).value(), c(x).value(), 1e-5);

  // A failed load (a shape mismatch) leaves the cuda net unchanged.
  nn::Sequential<nn::Conv2d<1, 2, 3, nn::Conv2dOptions{.padding = 1}>, nn::BatchNorm2d<2>, nn::ReLU,
                 nn::MaxPool2d<2>, nn::Flatten, nn::Linear<18, 4>>
      wider;
  io::save(wider, temp_path("wider.safetensors"));
  CHECK_THROWS_AS(io::load(b, temp_path("wider.safetensors")), et::shape_error);
  require_same_state(b, a_host, 1e-12);
  std::filesystem::remove(path);
  std::filesystem::remove(temp_path("wider.safetensors"));
}

TEST_CASE("io: a file written from a cpu net loads into a cuda net") {
  et::manual_seed(3);
  CpuCnn c;
  c.train();
  (void)c(et::randn<float>({8, 1, 6, 6}));
  c.eval();
  const std::string path = temp_path("cpu.safetensors");
  io::save(c, path);
  GpuCnn d = make_gpu_cnn(4);
  d.eval();
  const auto result = io::load(d, path);
  CHECK(result.missing_keys.empty());
  require_same_state(d, c, 1e-12);
  const et::Tensor<float> x = et::randn<float>({2, 1, 6, 6});
  ETNA_REQUIRE_MATCHES_CPU(d(x.to<gpu>()).value(), c(x).value(), 1e-5);
  std::filesystem::remove(path);
}
