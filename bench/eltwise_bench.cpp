// Element-wise fusion benchmark: etna's one-pass expressions against libtorch eager, with the
// memory floor (memcpy, STREAM triad) and a hand-written xsimd loop measured in the same run.
#include <omp.h>
#include <torch/torch.h>
#include <torch/version.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>
#include <xsimd/xsimd.hpp>

#include "common.hpp"
#include "etna/etna.hpp"

namespace {

using I = std::int64_t;
namespace eb = etna_bench;

enum class Kind { chain, gate };

struct Case {
  std::string name;
  I n;
  Kind kind;
  int threads;
};

// Splits [0, n) into `threads` contiguous chunks, one per OpenMP thread (serial for one), so
// the floor loops use the same number of cores as the contenders they are compared with.
template <class Body>
void chunked(int threads, I n, Body&& body) {
  if (threads <= 1) {
    body(I{0}, n);
    return;
  }
#pragma omp parallel for num_threads(threads) schedule(static)
  for (int t = 0; t < threads; ++t) {
    const I step = (n + threads - 1) / threads;
    const I b = t * step, e = std::min(n, b + step);
    if (b < e) body(b, e);
  }
}

using B = xsimd::batch<float>;
constexpr I W = static_cast<I>(B::size);

inline B sigmoid(B x) { return B(1.f) / (B(1.f) + xsimd::exp(-x)); }
inline float sigmoid(float x) { return 1.f / (1.f + std::exp(-x)); }

// The best a programmer writing the loop by hand with xsimd gets: the "hand-written floor".
void hand_chain(int threads, I n, const float* a, const float* b, const float* c, float* y) {
  chunked(threads, n, [&](I lo, I hi) {
    I i = lo;
    for (; i + W <= hi; i += W)
      (B::load_unaligned(a + i) * B::load_unaligned(b + i) +
       xsimd::exp(B::load_unaligned(c + i)) * B(2.f))
          .store_unaligned(y + i);
    for (; i < hi; ++i) y[i] = a[i] * b[i] + std::exp(c[i]) * 2.f;
  });
}

void hand_gate(int threads, I n, const float* in, const float* f, const float* g, const float* c,
               float* y) {
  chunked(threads, n, [&](I lo, I hi) {
    I k = lo;
    for (; k + W <= hi; k += W)
      (sigmoid(B::load_unaligned(in + k)) * xsimd::tanh(B::load_unaligned(g + k)) +
       sigmoid(B::load_unaligned(f + k)) * B::load_unaligned(c + k))
          .store_unaligned(y + k);
    for (; k < hi; ++k) y[k] = sigmoid(in[k]) * std::tanh(g[k]) + sigmoid(f[k]) * c[k];
  });
}

void copy_floor(int threads, I n, const float* src, float* dst) {
  chunked(threads, n, [&](I lo, I hi) {
    std::memcpy(dst + lo, src + lo, static_cast<std::size_t>(hi - lo) * sizeof(float));
  });
}

// STREAM triad as STREAM writes it: a plain loop the compiler vectorises, ordinary stores.
void triad_floor(int threads, I n, const float* a, const float* b, float* y) {
  chunked(threads, n, [&](I lo, I hi) {
    for (I i = lo; i < hi; ++i) y[i] = a[i] + 3.f * b[i];
  });
}

void fill_uniform(const etna::Tensor<float>& t, float lo, float hi, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  float* p = t.data();
  for (I i = 0; i < t.numel(); ++i) p[i] = dist(rng);
}

float max_abs_diff(const float* x, const float* y, I n) {
  float m = 0;
  for (I i = 0; i < n; ++i) m = std::max(m, std::abs(x[i] - y[i]));
  return m;
}

std::string ref_name() {
  return "libtorch-" + std::to_string(TORCH_VERSION_MAJOR) + "." +
         std::to_string(TORCH_VERSION_MINOR);
}

void run_case(const Case& c) {
  const I n = c.n;
  const int t = c.threads;
  etna::set_num_threads(t);
  torch::set_num_threads(t);

  const int n_in = c.kind == Kind::chain ? 3 : 4;
  std::vector<etna::Tensor<float>> in;
  std::vector<torch::Tensor> tin;
  for (int k = 0; k < n_in; ++k) {
    in.push_back(etna::empty<float>({n}));
    // Chain: exp(c) of moderate values; gate: pre-activations spanning the saturated ranges.
    const bool cell_state = c.kind == Kind::gate && k == 3;
    const float r = c.kind == Kind::chain ? (k == 2 ? 2.f : 1.f) : (cell_state ? 1.f : 4.f);
    fill_uniform(in.back(), -r, r, 1234u + static_cast<unsigned>(k));
    // The reference reads the very same memory: no copy, same pages, same values.
    tin.push_back(torch::from_blob(in.back().data(), {n}, torch::kFloat));
  }
  etna::Tensor<float> y = etna::empty<float>({n});
  etna::Tensor<float> scratch = etna::empty<float>({n});  // floors write here, not into y
  torch::Tensor t_out = torch::empty({n}), t_tmp = torch::empty({n});
  const float* p0 = in[0].data();
  const float* p1 = in[1].data();
  const float* p2 = in[2].data();
  const float* p3 = n_in > 3 ? in[3].data() : nullptr;

  std::function<void()> etna_fn, etna_alloc_fn, ref_fn, ref_out_fn, hand_fn;
  torch::Tensor ref_result;
  if (c.kind == Kind::chain) {
    // Tensors are handles: capturing by value shares the buffers.
    etna_fn = [y, a = in[0], b = in[1], cc = in[2]] { y.assign(a * b + etna::exp(cc) * 2.f); };
    etna_alloc_fn = [a = in[0], b = in[1], cc = in[2]] {
      etna::Tensor<float> fresh = a * b + etna::exp(cc) * 2.f;
    };
    // As a libtorch user writes it: four kernels, each allocating its result.
    ref_fn = [&] { ref_result = tin[0] * tin[1] + torch::exp(tin[2]) * 2; };
    // The best libtorch can do without fusion: three kernels into preallocated buffers.
    ref_out_fn = [&] {
      torch::mul_out(t_out, tin[0], tin[1]);
      torch::exp_out(t_tmp, tin[2]);
      t_out.add_(t_tmp, 2);
    };
    hand_fn = [&] { hand_chain(t, n, p0, p1, p2, scratch.data()); };
  } else {
    etna_fn = [y, i = in[0], f = in[1], g = in[2], cs = in[3]] {
      y.assign(etna::sigmoid(i) * etna::tanh(g) + etna::sigmoid(f) * cs);
    };
    etna_alloc_fn = [i = in[0], f = in[1], g = in[2], cs = in[3]] {
      etna::Tensor<float> fresh = etna::sigmoid(i) * etna::tanh(g) + etna::sigmoid(f) * cs;
    };
    ref_fn = [&] {
      ref_result = torch::sigmoid(tin[0]) * torch::tanh(tin[2]) + torch::sigmoid(tin[1]) * tin[3];
    };
    ref_out_fn = [&] {
      torch::sigmoid_out(t_out, tin[0]);
      torch::tanh_out(t_tmp, tin[2]);
      t_out.mul_(t_tmp);
      torch::sigmoid_out(t_tmp, tin[1]);
      t_tmp.mul_(tin[3]);
      t_out.add_(t_tmp);
    };
    hand_fn = [&] { hand_gate(t, n, p0, p1, p2, p3, scratch.data()); };
  }
  auto copy_fn = [&] { copy_floor(t, n, p0, scratch.data()); };
  auto triad_fn = [&] { triad_floor(t, n, p0, p1, scratch.data()); };

  eb::TimingOptions opt;
  if (t > 1) opt.pause_seconds = 0.02;
  const auto s = eb::time_interleaved(
      {etna_fn, ref_fn, ref_out_fn, hand_fn, copy_fn, triad_fn, etna_alloc_fn}, opt);
  const eb::Stats &se = s[0], &sr = s[1], &sro = s[2], &sh = s[3], &sc = s[4], &st = s[5],
                  &sa = s[6];

  // Correctness of what was timed: etna against libtorch and against the hand-written loop.
  etna_fn();
  ref_fn();
  hand_fn();
  const float diff_ref = max_abs_diff(y.data(), ref_result.data_ptr<float>(), n);
  const float diff_hand = max_abs_diff(y.data(), scratch.data(), n);

  const double elem_bytes = 4.0 * static_cast<double>(n);
  const double bytes = (n_in + 1) * elem_bytes;  // inputs read + output written
  const double etna_gbs = eb::gbs(bytes, se.median_us), ref_gbs = eb::gbs(bytes, sr.median_us);
  const double copy_gbs = eb::gbs(2 * elem_bytes, sc.median_us);
  const double triad_gbs = eb::gbs(3 * elem_bytes, st.median_us);
  const double hand_gbs = eb::gbs(bytes, sh.median_us);

  const std::string expr =
      c.kind == Kind::chain ? "a*b + exp(c)*2" : "sigmoid(i)*tanh(g) + sigmoid(f)*c";
  std::string note = expr +
                     ", etna y.assign() into preallocated y vs libtorch eager (fresh "
                     "temporaries); bytes = " +
                     std::to_string(n_in + 1) + " arrays x n x 4";
  note += "; same run: memcpy " + eb::fmt_num("%.1f", copy_gbs) + " GB/s, STREAM triad " +
          eb::fmt_num("%.1f", triad_gbs) + " GB/s, hand-written xsimd loop " +
          eb::fmt_num("%.1f", hand_gbs) + " GB/s, libtorch out= buffers " +
          eb::fmt_num("%.1f", eb::gbs(bytes, sro.median_us)) + " GB/s, etna allocating y " +
          eb::fmt_num("%.1f", eb::gbs(bytes, sa.median_us)) + " GB/s";
  note += "; etna/triad " + eb::fmt_num("%.2f", etna_gbs / triad_gbs) + ", etna/hand " +
          eb::fmt_num("%.2f", etna_gbs / hand_gbs);
  note += "; spread (p10-p90)/2 etna +-" + eb::fmt_num("%.0f", 100 * se.spread()) + "% ref +-" +
          eb::fmt_num("%.0f", 100 * sr.spread()) + "% (" + std::to_string(se.samples) + "/" +
          std::to_string(sr.samples) + " samples)";
  if (t > 1)
    note += "; etna::set_num_threads(2), torch::set_num_threads(2), floors on 2 OpenMP threads";

  auto line = eb::comparison("cpu/eltwise/" + c.name, se.median_us, ref_name(), sr.median_us, t);
  line.num("etna_gbs", etna_gbs, "%.2f")
      .num("ref_gbs", ref_gbs, "%.2f")
      .num("memcpy_gbs", copy_gbs, "%.2f")
      .num("triad_gbs", triad_gbs, "%.2f")
      .num("hand_gbs", hand_gbs, "%.2f")
      .num("ref_out_gbs", eb::gbs(bytes, sro.median_us), "%.2f")
      .num("etna_alloc_gbs", eb::gbs(bytes, sa.median_us), "%.2f")
      .num("etna_spread", se.spread(), "%.3f")
      .num("ref_spread", sr.spread(), "%.3f")
      .num("max_abs_diff_ref", diff_ref, "%.2g")
      .num("max_abs_diff_hand", diff_hand, "%.2g")
      .str("note", note);
  // PERFORMANCE.md's one-thread targets, stated on the line so a reader need not look them up.
  if (c.name == "chain_16M")
    line.str("target", "etna_gbs >= 27 and ratio <= 0.1")
        .boolean("meets_target", etna_gbs >= 27 && se.median_us <= 0.1 * sr.median_us);
  if (c.name == "gate_16M")
    line.str("target", "etna_gbs >= 10").boolean("meets_target", etna_gbs >= 10);
  line.print();
}

}  // namespace

int main(int argc, char** argv) {
  const std::string filter = argc > 1 ? argv[1] : "";
  const I m1 = I{1} << 20, m16 = I{1} << 24;
  const std::vector<Case> cases = {
      {"chain_1M", m1, Kind::chain, 1},      {"chain_16M", m16, Kind::chain, 1},
      {"gate_1M", m1, Kind::gate, 1},        {"gate_16M", m16, Kind::gate, 1},
      {"chain_1M_t2", m1, Kind::chain, 2},   {"chain_16M_t2", m16, Kind::chain, 2},
      {"gate_1M_t2", m1, Kind::gate, 2},     {"gate_16M_t2", m16, Kind::gate, 2},
  };
  for (const Case& c : cases)
    if (eb::selected(filter, "cpu/eltwise/" + c.name)) run_case(c);
  return 0;
}
