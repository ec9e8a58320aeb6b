// Benchmark of etna::cpu_backend::gemm against OpenBLAS cblas_sgemm and libtorch's mm on squares
// and MLP training shapes. Prints one JSON line per case; an argument keeps cases containing it.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <torch/torch.h>

#include "etna/backend/cpu/gemm.hpp"
#include "gemm_openblas.hpp"

namespace {

using I = std::int64_t;

struct Case {
  std::string name;
  I M, N, K;
  bool trans_a, trans_b;  // operand stored transposed (column-major view of a row-major buffer)
  int threads;
};

std::string cpu_model() {
  std::ifstream f("/proc/cpuinfo");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("model name", 0) == 0) {
      const auto colon = line.find(':');
      return colon == std::string::npos ? line : line.substr(colon + 2);
    }
  }
  return "unknown";
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// Times `reps` calls of fn and returns microseconds per call.
template <class Fn>
double time_us(Fn&& fn, int reps) {
  const auto t0 = std::chrono::steady_clock::now();
  for (int r = 0; r < reps; ++r) fn();
  return seconds_since(t0) * 1e6 / reps;
}

void run_case(const Case& c, const std::string& machine, const std::string& ref_name) {
  std::mt19937 rng(42);
  std::uniform_real_distribution<float> dist(-1.f, 1.f);
  std::vector<float> a(static_cast<std::size_t>(c.M * c.K)), b(static_cast<std::size_t>(c.K * c.N));
  std::vector<float> c1(static_cast<std::size_t>(c.M * c.N)), c2(c1.size());
  for (auto& x : a) x = dist(rng);
  for (auto& x : b) x = dist(rng);
  // Row-major buffers; a transposed operand is stored as its transpose and read with swapped
  // strides, exactly what cblas does with CblasTrans.
  const I rsA = c.trans_a ? 1 : c.K, csA = c.trans_a ? c.M : 1;
  const I rsB = c.trans_b ? 1 : c.N, csB = c.trans_b ? c.K : 1;
  const int lda = static_cast<int>(c.trans_a ? c.M : c.K);
  const int ldb = static_cast<int>(c.trans_b ? c.K : c.N);

  etna::set_num_threads(c.threads);
  openblas_set_num_threads(c.threads);
  torch::set_num_threads(c.threads);
  const torch::Tensor ta = c.trans_a ? torch::from_blob(a.data(), {c.K, c.M}).t()
                                     : torch::from_blob(a.data(), {c.M, c.K});
  const torch::Tensor tb = c.trans_b ? torch::from_blob(b.data(), {c.N, c.K}).t()
                                     : torch::from_blob(b.data(), {c.K, c.N});
  torch::Tensor tc = torch::empty({c.M, c.N});
  auto torch_fn = [&] { torch::mm_out(tc, ta, tb); };
  auto etna_fn = [&] {
    etna::cpu_backend::gemm<float>(c.M, c.N, c.K, 1.f, a.data(), rsA, csA, b.data(), rsB, csB, 0.f,
                                   c1.data(), c.N, 1);
  };
  auto ref_fn = [&] {
    cblas_sgemm(CblasRowMajor, c.trans_a ? CblasTrans : CblasNoTrans,
                c.trans_b ? CblasTrans : CblasNoTrans, static_cast<int>(c.M), static_cast<int>(c.N),
                static_cast<int>(c.K), 1.f, a.data(), lda, b.data(), ldb, 0.f, c2.data(),
                static_cast<int>(c.N));
  };
  // Calibrate so one sample lasts ~2 ms. Samples run in rounds alternating etna and the
  // reference so slow machine drift hits both alike. OpenBLAS's idle workers spin for a while
  // after each call and would steal etna's second core, so with several threads a round of
  // etna starts only after a pause that outlasts the spinning.
  const double flops = 2.0 * static_cast<double>(c.M * c.N * c.K);
  etna_fn();
  ref_fn();
  const double one = std::max(time_us(etna_fn, 1), 0.5);
  const int reps = std::max(1, static_cast<int>(2000.0 / one));
  const int per_round = std::max(3, std::min(15, static_cast<int>(0.5e6 / (one * reps))));
  std::vector<double> te, tr, tt;
  torch_fn();
  for (int round = 0; round < 3; ++round) {
    if (c.threads > 1) std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    etna_fn();
    for (int s = 0; s < per_round; ++s) te.push_back(time_us(etna_fn, reps));
    ref_fn();
    for (int s = 0; s < per_round; ++s) tr.push_back(time_us(ref_fn, reps));
    if (c.threads > 1) std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    torch_fn();
    for (int s = 0; s < per_round; ++s) tt.push_back(time_us(torch_fn, reps));
  }
  const double etna_us = median(te), ref_us = median(tr), torch_us = median(tt);
  float max_err = 0.f;
  for (std::size_t i = 0; i < c1.size(); ++i) max_err = std::max(max_err, std::abs(c1[i] - c2[i]));
  std::printf(
      "{\"case\": \"cpu/gemm/%s\", \"etna_us\": %.1f, \"ref\": \"%s\", \"ref_us\": %.1f, "
      "\"ratio\": %.3f, \"threads\": %d, \"machine\": \"%s\", \"etna_gflops\": %.1f, "
      "\"ref_gflops\": %.1f, \"torch_us\": %.1f, \"ratio_torch\": %.3f, \"max_abs_diff\": %.2g, "
      "\"note\": \"ref is OpenBLAS cblas_sgemm; torch_us is libtorch %s mm_out on the same buffers\"}\n",
      c.name.c_str(), etna_us, ref_name.c_str(), ref_us, etna_us / ref_us, c.threads,
      machine.c_str(), flops / etna_us * 1e-3, flops / ref_us * 1e-3, torch_us, etna_us / torch_us,
      static_cast<double>(max_err), "1.13");
  std::fflush(stdout);
}

std::vector<Case> all_cases() {
  std::vector<Case> cases;
  for (int t : {1, 2}) {
    for (I n : {64, 128, 256, 512, 1024, 2048})
      cases.push_back(
          {"square" + std::to_string(n) + "_t" + std::to_string(t), n, n, n, false, false, t});
  }
  // One training step of a 784-256-256-10 MLP: forward Y = X W^T, backward dX = dY W and
  // dW = dY^T X, with W stored out x in (row-major) as in torch.nn.Linear.
  const I layers[][2] = {{784, 256}, {256, 256}, {256, 10}};
  for (int t : {1, 2}) {
    for (I batch : {64, 256}) {
      const std::string b = "_b" + std::to_string(batch) + "_";
      const std::string ts = "_t" + std::to_string(t);
      for (const auto& l : layers) {
        const I in = l[0], out = l[1];
        const std::string io = std::to_string(in) + "x" + std::to_string(out);
        const std::string oi = std::to_string(out) + "x" + std::to_string(in);
        cases.push_back({"mlp_fwd" + b + io + ts, batch, out, in, false, true, t});
        cases.push_back({"mlp_bwd_dx" + b + oi + ts, batch, in, out, false, false, t});
        cases.push_back({"mlp_bwd_dw" + b + oi + ts, out, in, batch, true, false, t});
      }
    }
  }
  return cases;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string filter = argc > 1 ? argv[1] : "";
  const std::string machine = cpu_model();
  const std::string ref_name = openblas_version_name();
  for (const Case& c : all_cases()) {
    if (c.name.find(filter) == std::string::npos) continue;
    run_case(c, machine, ref_name);
  }
  return 0;
}
