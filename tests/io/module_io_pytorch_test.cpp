// PyTorch interop of et::io::save / load, both ways: state_dicts written by
// safetensors.torch.save_file (tests/reference/make_module_io_fixtures.py) load into the etna
// twins and give torch's outputs; torch loads etna's files strictly (tests/io/torch_load_check.py,
// run when the tests' Python exists) and computes etna's outputs.
#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <string>

#include "io/module_io_helpers.hpp"

using namespace etna_test_io;

TEST_CASE("io module_io: files written by PyTorch load and give PyTorch's outputs",
          "[io][module_io][pytorch]") {
  Cnn cnn;
  cnn.eval();
  et::io::load(cnn, fixture_file("cnn.safetensors"));
  CHECK(cnn.get<1>().num_batches_tracked.item() == 3);
  ETNA_CHECK_CLOSE(cnn(fx().tensor("cnn_x")).value(), fx().tensor("cnn_y"), 1e-5, 1e-5);

  Net net;
  et::io::load(net, fixture_file("net.safetensors"));
  ETNA_CHECK_CLOSE(net(fx().tensor("net_x")).value(), fx().tensor("net_y"), 1e-5, 1e-5);
}

namespace {
// Runs torch_load_check.py on an etna-saved model: PyTorch loads it (strict) and must compute
// the output etna computed. Skips with a WARN without the tests' Python.
template <class M>
void check_torch_reads(M& model, const std::string& name) {
  const fs::path python = ETNA_TEST_PYTHON;
  if (!fs::exists(python)) {
    WARN("skipped the PyTorch reading check: " << python.string()
                                               << " not found (run scripts/setup-python.sh)");
    return;
  }
  model.eval();
  const std::string state = temp_file(name + "_etna.safetensors");
  const std::string output = temp_file(name + "_etna_y.safetensors");
  et::io::save(model, state);
  et::io::SafeTensorsWriter w;
  w.add("y", model(fx().tensor(name + "_x")).value());
  w.save(output);
  const fs::path script = fs::path(__FILE__).parent_path() / "torch_load_check.py";
  std::string cmd;
  for (const std::string& arg : {python.string(), script.string(), name, state, output,
                                 std::string(ETNA_TEST_DATA_DIR) + "/module_io.json"})
    cmd.append("'").append(arg).append("' ");
  cmd += "2>&1";
  std::FILE* pipe = ::popen(cmd.c_str(), "r");
  REQUIRE(pipe != nullptr);
  std::string out;
  char buf[4096];
  while (std::size_t n = std::fread(buf, 1, sizeof buf, pipe)) out.append(buf, n);
  INFO(out);
  CHECK(::pclose(pipe) == 0);
}
}  // namespace

TEST_CASE("io module_io: PyTorch loads etna's files strictly and computes etna's outputs",
          "[io][module_io][pytorch]") {
  et::manual_seed(5);
  Cnn cnn = trained_cnn();
  check_torch_reads(cnn, "cnn");
  Net net;
  check_torch_reads(net, "net");
}
