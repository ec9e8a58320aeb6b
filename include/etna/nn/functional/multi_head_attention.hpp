// The attention step of nn::MultiheadAttention as one autograd node that reads the heads
// straight out of the in-projection's output and writes the merged heads straight into the
// out-projection's input: q, k and v are strided [N, H, L, hd] views of [.., .., C] projections
// (self attention: one [L, N, 3E] tensor), the output GEMM writes through a strided view of a
// [L, N, E] tensor, and backward writes dQ, dK, dV through the same views into one gradient
// buffer per projection. No head split, merge or gradient scatter copies; otherwise the math of
// scaled_dot_product_attention (same masked softmax and backward kernels).
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <memory>
#include <type_traits>
#include <utility>
#include <vector>

#include "etna/nn/functional/attention.hpp"

namespace etna::nn::functional::detail {

// out[b...] = alpha a[b...] b[b...] (+ beta out) over equal batch dims (a, b may have stride-0
// broadcast dims; out may be any strided view without overlap).
template <class T, class D>
void strided_bgemm(const Tensor<T, D>& a, const Tensor<T, D>& b, const Tensor<T, D>& out,
                   T alpha = T(1), T beta = T(0)) {
  const int r = a.dim(), nb = r - 2;
  const std::int64_t M = a.shape()[r - 2], K = a.shape()[r - 1], N = b.shape()[r - 1];
  std::int64_t batches = 1;
  for (int d = 0; d < nb; ++d) batches *= out.shape()[d];
  if (batches == 0 || M == 0 || N == 0) return;
  auto offsets = [&](std::int64_t i, std::int64_t* oa, std::int64_t* ob, std::int64_t* oc) {
    *oa = *ob = *oc = 0;
    for (int d = nb - 1; d >= 0; --d) {
      const std::int64_t k = i % out.shape()[d];
      i /= out.shape()[d];
      *oa += k * a.strides()[d];
      *ob += k * b.strides()[d];
      *oc += k * out.strides()[d];
    }
  };
  if constexpr (std::is_same_v<D, cpu>) {
    // Many small products: one thread per group of batches, as etna::matmul's batched path.
    const std::int64_t grain =
        std::max<std::int64_t>(1, (1 << 18) / std::max<std::int64_t>(M * N * K, 1));
    cpu_backend::parallel_for(0, batches, grain, [&](std::int64_t b0, std::int64_t b1) {
      for (std::int64_t i = b0; i < b1; ++i) {
        std::int64_t oa, ob, oc;
        offsets(i, &oa, &ob, &oc);
        cpu_backend::gemm<T>(M, N, K, alpha, a.data() + oa, a.strides()[r - 2], a.strides()[r - 1],
                             b.data() + ob, b.strides()[r - 2], b.strides()[r - 1], beta,
                             out.data() + oc, out.strides()[r - 2], out.strides()[r - 1]);
      }
    });
  } else {
    // The innermost batch dim is one strided-batched call; the others a host loop of pointers.
    const std::int64_t inner = nb == 0 ? 1 : out.shape()[nb - 1];
    const std::int64_t sa = nb == 0 ? 0 : a.strides()[nb - 1],
                       sb = nb == 0 ? 0 : b.strides()[nb - 1],
                       sc = nb == 0 ? 0 : out.strides()[nb - 1];
    for (std::int64_t o = 0; o < batches / inner; ++o) {
      std::int64_t oa, ob, oc;
      offsets(o * inner, &oa, &ob, &oc);
      cuda_backend::gemm_batched<T>(inner, M, N, K, alpha, a.data() + oa, a.strides()[r - 2],
                                    a.strides()[r - 1], sa, b.data() + ob, b.strides()[r - 2],
                                    b.strides()[r - 1], sb, beta, out.data() + oc,
                                    out.strides()[r - 2], out.strides()[r - 1], sc);
    }
  }
}

// Where one of q, k, v lives: columns [col, col + E) of projection `source`.
struct HeadSlot {
  int source = 0;
  std::int64_t col = 0;
};

// The heads of columns [col, col + h*hd) of a contiguous [d0, d1, C] tensor as an [N, H, L, hd]
// view: batch_first means d0 = N, d1 = L; otherwise d0 = L, d1 = N.
template <class T, class D>
Tensor<T, D> heads_view(const Tensor<T, D>& x, std::int64_t col, std::int64_t h, std::int64_t hd,
                        bool batch_first) {
  const std::int64_t d0 = x.shape()[0], d1 = x.shape()[1], c = x.shape()[2];
  const std::int64_t n = batch_first ? d0 : d1, l = batch_first ? d1 : d0;
  const std::int64_t sn = batch_first ? d1 * c : c, sl = batch_first ? c : d1 * c;
  return Tensor<T, D>(x.storage(), x.data() + col, Shape{n, h, l, hd}, Shape{sn, hd, sl, 1});
}

struct HeadLayout {
  std::int64_t heads = 1, head_dim = 1;
  bool batch_first = false;
};

template <class T, class D>
class MultiHeadAttentionNode final : public autograd::Node<T, D> {
 public:
  using Impl = std::shared_ptr<autograd::VarImpl<T, D>>;
  MultiHeadAttentionNode(std::vector<Impl> sources, std::vector<Tensor<T, D>> values,
                         std::array<HeadSlot, 3> slots, HeadLayout layout, Tensor<T, D> p,
                         Tensor<T, D> keep, Tensor<T, D> pd, T scale)
      : sources_(std::move(sources)),
        values_(std::move(values)),
        slots_(slots),
        layout_(layout),
        p_(std::move(p)),
        keep_(std::move(keep)),
        pd_(std::move(pd)),
        scale_(scale) {}
  const char* name() const override { return "MultiHeadAttentionBackward"; }
  void next_nodes(std::vector<std::shared_ptr<autograd::NodeBase>>& out) const override {
    for (const auto& s : sources_) autograd::add_next(out, s);
  }

 protected:
  void backward(const Tensor<T, D>& g_in) override {
    const HeadLayout& lay = layout_;
    auto view = [&](const Tensor<T, D>& t, std::int64_t col) {
      return heads_view(t, col, lay.heads, lay.head_dim, lay.batch_first);
    };
    const Tensor<T, D> gh = view(g_in.contiguous(), 0);  // [N, H, L, hd]
    // One gradient buffer per projection; zero-filled only where some columns get no gradient.
    std::vector<Tensor<T, D>> grads(sources_.size());
    for (std::size_t s = 0; s < sources_.size(); ++s) {
      if (!sources_[s]) continue;
      std::int64_t used = 0;
      for (const auto& slot : slots_) used += slot.source == static_cast<int>(s);
      const Shape& shape = values_[s].shape();
      grads[s] = used * lay.heads * lay.head_dim == shape[2] ? Tensor<T, D>::allocate(shape)
                                                             : zeros<T, D>(shape);
    }
    auto wants = [&](int i) { return sources_[slots_[i].source] != nullptr; };
    auto src = [&](int i) { return view(values_[slots_[i].source], slots_[i].col); };
    auto dst = [&](int i) { return view(grads[slots_[i].source], slots_[i].col); };
    if (wants(2)) strided_bgemm(pd_.transpose(-1, -2), gh, dst(2));  // dV = Pd^T dO
    if (wants(0) || wants(1)) {
      auto ds = Tensor<T, D>::allocate(p_.shape());
      strided_bgemm(gh, src(2).transpose(-1, -2), ds);  // dPd = dO V^T, then dS in place
      ds = attention_scores_backward(p_, keep_, ds, scale_);
      if (wants(0)) strided_bgemm(ds, src(1), dst(0));                    // dQ = dS K
      if (wants(1)) strided_bgemm(ds.transpose(-1, -2), src(0), dst(1));  // dK = dS^T Q
    }
    for (std::size_t s = 0; s < sources_.size(); ++s)
      if (sources_[s]) autograd::propagate(sources_[s], grads[s]);
  }
  void release_saved() override {
    sources_.clear();
    values_.clear();
    p_ = keep_ = pd_ = Tensor<T, D>();
  }

 private:
  std::vector<Impl> sources_;
  std::vector<Tensor<T, D>> values_;
  std::array<HeadSlot, 3> slots_;
  HeadLayout layout_;
  Tensor<T, D> p_, keep_, pd_;
  T scale_;
};

// Attention of q, k, v heads read from the projections `sources` ([d0, d1, C] each, laid out
// per `layout`) at `slots`; returns the merged heads [d0_q, d1_q, H * hd] in the query's layout
// (the out-projection's input). opt holds masks over [N, H, L, S], dropout, scale, weights.
template <class T, class D>
Var<T, D> multi_head_attention(const std::vector<Var<T, D>>& sources,
                               const std::array<HeadSlot, 3>& slots, const HeadLayout& layout,
                               const SdpaOptions<T, D>& opt) {
  std::vector<Tensor<T, D>> values;
  for (const auto& s : sources) values.push_back(s.value().contiguous());
  auto view = [&](int i) {
    return heads_view(values[slots[i].source], slots[i].col, layout.heads, layout.head_dim,
                      layout.batch_first);
  };
  const Tensor<T, D> qh = view(0), kh = view(1), vh = view(2);
  const T scale = static_cast<T>(opt.scale ? *opt.scale : 1.0 / std::sqrt(double(layout.head_dim)));
  auto p = Tensor<T, D>::allocate({qh.size(0), qh.size(1), qh.size(2), kh.size(2)});
  strided_bgemm(qh, kh.transpose(-1, -2), p);
  masked_softmax_(p, scale, opt);
  if (opt.need_weights) *opt.weights_out = p;
  auto [keep, pd] = attention_dropout(p, opt);
  const Tensor<T, D>& q0 = values[slots[0].source];
  auto out = Tensor<T, D>::allocate({q0.size(0), q0.size(1), layout.heads * layout.head_dim});
  strided_bgemm(pd, vh, heads_view(out, 0, layout.heads, layout.head_dim, layout.batch_first));
  bool record = false;
  for (const auto& s : sources) record = record || autograd::should_record(s);
  std::shared_ptr<autograd::Node<T, D>> node;
  if (record) {
    std::vector<std::shared_ptr<autograd::VarImpl<T, D>>> impls;
    for (const auto& s : sources) impls.push_back(autograd::grad_input(s));
    node = std::make_shared<MultiHeadAttentionNode<T, D>>(std::move(impls), std::move(values),
                                                          slots, layout, p, keep, pd, scale);
  }
  return make_result(std::move(out), std::move(node));
}

}  // namespace etna::nn::functional::detail
