// nn::functional::scaled_dot_product_attention: softmax(q k^T * scale + mask) v as one autograd
// node. Scores of every head are one batched GEMM into a single [..., Lq, Lk] buffer, which
// scale + masks + softmax rewrite in place; the output is a second batched GEMM. Backward
// reuses the saved weights: dV = P^T dO, dP = dO V^T, dS = scale P (dP - rowsum(dP P)),
// dQ = dS K, dK = dS^T Q. A row whose keys are all masked gives NaN, as in PyTorch.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>
#include <vector>

#include "etna/autograd/function.hpp"
#include "etna/backend/cpu/attention.hpp"
#include "etna/backend/cuda/fwd_attention.hpp"
#include "etna/backend/cuda/fwd_reduce.hpp"
#include "etna/core/factory.hpp"
#include "etna/core/random.hpp"
#include "etna/nn/functional/dropout.hpp"
#include "etna/ops/matmul.hpp"

namespace etna::nn::functional {

template <class T, class D = cpu>
struct SdpaOptions {
  Tensor<bool, D> bool_mask = {};       // true = may attend; undefined = none
  Tensor<T, D> float_mask = {};         // added to the scaled scores; undefined = none
  double dropout_p = 0.0;               // on the weights; pass 0 in eval mode
  bool is_causal = false;               // query i sees keys j <= i (top-left aligned)
  std::optional<double> scale;          // default 1 / sqrt(E)
  bool need_weights = false;            // when true, *weights_out receives the softmax weights
  Tensor<T, D>* weights_out = nullptr;  // [..., Lq, Lk], after masks, before dropout
  Generator* generator = nullptr;       // dropout's generator; null = default_generator()
};

namespace detail {

// A mask broadcast to the score shape [batch..., lq, lk] (stride-0 views, nothing copied);
// shape_error naming the mask when it does not broadcast.
template <class M>
M expand_mask(const M& mask, const Shape& scores, const char* what) {
  bool ok = mask.dim() <= scores.size();
  for (int i = 1; ok && i <= mask.dim(); ++i) {
    const std::int64_t m = mask.shape()[mask.dim() - i], s = scores[scores.size() - i];
    ok = m == s || m == 1;
  }
  if (!ok)
    throw shape_error(etna::detail::str("scaled_dot_product_attention: ", what, " of shape ",
                                        mask.shape(), " is not broadcastable to the scores ",
                                        scores, " ([..., Lq, Lk])"));
  Shape padded(scores.size() - mask.dim(), 1);
  for (auto d : mask.shape()) padded.push_back(d);
  return mask.reshape(padded).expand(scores);
}

// Offset of each batch entry (all dims but the last two) in an expanded mask view.
template <class M>
std::vector<std::int64_t> batch_offsets(const M& m) {
  const int r = m.dim();
  std::int64_t n = 1;
  for (int d = 0; d < r - 2; ++d) n *= m.shape()[d];
  std::vector<std::int64_t> off(static_cast<std::size_t>(n));
  for (std::int64_t b = 0; b < n; ++b) {
    std::int64_t rest = b, o = 0;
    for (int d = r - 3; d >= 0; --d) {
      o += rest % m.shape()[d] * m.strides()[d];
      rest /= m.shape()[d];
    }
    off[static_cast<std::size_t>(b)] = o;
  }
  return off;
}

// Scale + masks + softmax of the raw scores s (contiguous [batch..., lq, lk]), in place.
template <class T, class D>
void masked_softmax_(const Tensor<T, D>& s, T scale, const SdpaOptions<T, D>& opt) {
  const std::int64_t lq = s.size(-2), lk = s.size(-1);
  const std::int64_t batch = lq * lk == 0 ? 0 : s.numel() / (lq * lk);
  Tensor<T, D> fm;
  Tensor<bool, D> bm;
  if (opt.float_mask.defined()) fm = expand_mask(opt.float_mask, s.shape(), "float_mask");
  if (opt.bool_mask.defined()) bm = expand_mask(opt.bool_mask, s.shape(), "bool_mask");
  if constexpr (std::is_same_v<D, cpu>) {
    cpu_backend::AttentionMasks<T> m;
    std::vector<std::int64_t> fo, bo;
    if (fm.defined()) {
      fo = batch_offsets(fm);
      m.fmask = fm.data();
      m.fm_off = fo.data();
      m.fm_si = fm.strides()[fm.dim() - 2];
      m.fm_sj = fm.strides()[fm.dim() - 1];
    }
    if (bm.defined()) {
      bo = batch_offsets(bm);
      m.bmask = bm.data();
      m.bm_off = bo.data();
      m.bm_si = bm.strides()[bm.dim() - 2];
      m.bm_sj = bm.strides()[bm.dim() - 1];
    }
    m.causal = opt.is_causal;
    cpu_backend::attention_softmax_forward(s.data(), batch, lq, lk, scale, m);
  } else {
    // Device: one fused element-wise pass for scale + masks, then the softmax kernel in place.
    constexpr T ninf = -std::numeric_limits<T>::infinity();
    if (fm.defined() && bm.defined())
      s.assign(where(bm, s * scale + fm, ninf));
    else if (fm.defined())
      s.assign(s * scale + fm);
    else if (bm.defined())
      s.assign(where(bm, s * scale, ninf));
    else
      s.assign(s * scale);
    if (opt.is_causal) cuda_backend::causal_fill<T>(s.data(), batch, lq, lk, ninf);
    cuda_backend::softmax(s.data(), s.data(), batch * lq, lk, 1, false);
  }
}

// The gradient of the raw scores from dPd, the gradient of the dropped-out weights (a
// contiguous buffer the CPU kernel rewrites in place): dS = scale P (dP - rowsum(dP P)),
// dP = dPd * keep.
template <class T, class D>
Tensor<T, D> attention_scores_backward(const Tensor<T, D>& p, const Tensor<T, D>& keep,
                                       Tensor<T, D> dpd, T scale) {
  const std::int64_t lk = dpd.size(-1), rows = lk == 0 ? 0 : dpd.numel() / lk;
  if constexpr (std::is_same_v<D, cpu>) {
    cpu_backend::attention_softmax_backward(p.data(), keep.defined() ? keep.data() : nullptr,
                                            dpd.data(), rows, lk, scale);
    return dpd;
  } else {
    if (keep.defined()) dpd.assign(dpd * keep);
    auto out = Tensor<T, D>::allocate(dpd.shape());
    cuda_backend::softmax_backward(p.data(), dpd.data(), out.data(), rows, lk, 1, false);
    out.assign(out * scale);
    return out;
  }
}

// Dropout on the weights p: {keep mask (1 / (1 - p) or 0; undefined without dropout), P * keep}.
template <class T, class D>
std::pair<Tensor<T, D>, Tensor<T, D>> attention_dropout(const Tensor<T, D>& p,
                                                        const SdpaOptions<T, D>& opt) {
  if (opt.dropout_p <= 0.0) return {Tensor<T, D>(), p};
  Generator& gen = opt.generator ? *opt.generator : default_generator();
  Tensor<T, D> keep = opt.dropout_p >= 1.0
                          ? zeros<T, D>(p.shape())
                          : keep_mask<T, D>(p.shape(), opt.dropout_p,
                                            static_cast<T>(1.0 / (1.0 - opt.dropout_p)), T(0), gen);
  Tensor<T, D> pd = eval(p * keep);
  return {keep, pd};
}

// Saves q, k, v (values), the weights P, and with dropout the keep mask and P * keep.
template <class T, class D>
class SdpaNode final : public autograd::Node<T, D> {
 public:
  using Impl = std::shared_ptr<autograd::VarImpl<T, D>>;
  SdpaNode(Impl q, Impl k, Impl v, Tensor<T, D> qv, Tensor<T, D> kv, Tensor<T, D> vv,
           Tensor<T, D> p, Tensor<T, D> keep, Tensor<T, D> pd, T scale)
      : q_(std::move(q)),
        k_(std::move(k)),
        v_(std::move(v)),
        qv_(std::move(qv)),
        kv_(std::move(kv)),
        vv_(std::move(vv)),
        p_(std::move(p)),
        keep_(std::move(keep)),
        pd_(std::move(pd)),
        scale_(scale) {}
  const char* name() const override { return "ScaledDotProductAttentionBackward"; }
  void next_nodes(std::vector<std::shared_ptr<autograd::NodeBase>>& out) const override {
    autograd::add_next(out, q_);
    autograd::add_next(out, k_);
    autograd::add_next(out, v_);
  }

 protected:
  void backward(const Tensor<T, D>& g_in) override {
    const Tensor<T, D> g = g_in.contiguous();
    if (v_) {
      const Tensor<T, D> dv = etna::matmul(pd_.transpose(-1, -2), g);
      autograd::propagate(v_, autograd::sum_to(dv, vv_.shape()));
    }
    if (!q_ && !k_) return;
    const Tensor<T, D> ds =  // dP = dO V^T, then dS
        attention_scores_backward(p_, keep_, etna::matmul(g, vv_.transpose(-1, -2)), scale_);
    if (q_) autograd::propagate(q_, autograd::sum_to(etna::matmul(ds, kv_), qv_.shape()));
    if (k_)
      autograd::propagate(k_,
                          autograd::sum_to(etna::matmul(ds.transpose(-1, -2), qv_), kv_.shape()));
  }
  void release_saved() override {
    q_.reset();
    k_.reset();
    v_.reset();
    qv_ = kv_ = vv_ = p_ = keep_ = pd_ = Tensor<T, D>();
  }

 private:
  Impl q_, k_, v_;
  Tensor<T, D> qv_, kv_, vv_, p_, keep_, pd_;
  T scale_;
};

template <class T, class D>
Var<T, D> sdpa_impl(const Var<T, D>& q, const Var<T, D>& k, const Var<T, D>& v,
                    const SdpaOptions<T, D>& opt) {
  const char* op = "scaled_dot_product_attention";
  if (q.dim() < 2 || k.dim() < 2 || v.dim() < 2)
    throw shape_error(etna::detail::str(op, ": q, k and v need at least 2 dims [..., L, E], got ",
                                        q.shape(), ", ", k.shape(), ", ", v.shape()));
  if (q.size(-1) != k.size(-1))
    throw shape_error(etna::detail::str(op, ": q and k embedding sizes differ: q ", q.shape(),
                                        ", k ", k.shape(),
                                        " (expected [..., Lq, E], [..., Lk, E])"));
  if (k.size(-2) != v.size(-2))
    throw shape_error(etna::detail::str(op, ": k and v sequence lengths differ: k ", k.shape(),
                                        ", v ", v.shape(),
                                        " (expected [..., Lk, E], [..., Lk, Ev])"));
  if (opt.bool_mask.defined() && opt.float_mask.defined())
    throw value_error(etna::detail::str(op, ": give either bool_mask or float_mask, not both"));
  check_probability(op, opt.dropout_p);
  if (opt.need_weights && !opt.weights_out)
    throw value_error(etna::detail::str(op, ": need_weights is set but weights_out is null"));
  const T scale = static_cast<T>(opt.scale ? *opt.scale : 1.0 / std::sqrt(double(q.size(-1))));
  // The scores of all heads as one batched GEMM (transposed k read in place), then the fused
  // scale + mask + softmax rewrites that buffer: the only [..., Lq, Lk] block of the forward
  // besides the dropout mask.
  Tensor<T, D> p = etna::matmul(q.value(), k.value().transpose(-1, -2));
  masked_softmax_(p, scale, opt);
  if (opt.need_weights) *opt.weights_out = p;
  auto [keep, pd] = attention_dropout(p, opt);
  Tensor<T, D> out = etna::matmul(pd, v.value());
  std::shared_ptr<autograd::Node<T, D>> node;
  if (autograd::should_record(q, k, v))
    node = std::make_shared<SdpaNode<T, D>>(autograd::grad_input(q), autograd::grad_input(k),
                                            autograd::grad_input(v), q.value(), k.value(),
                                            v.value(), p, keep, pd, scale);
  return make_result(std::move(out), std::move(node));
}

}  // namespace detail

// q [..., Lq, E], k [..., Lk, E], v [..., Lk, Ev] (leading dims broadcast): softmax(q k^T *
// scale + mask) v, shape [..., Lq, Ev]. Operands may be Vars, Var expressions or tensors.
template <class Q, class K, class V>
requires(VarLike<Q> || VarLike<K> || VarLike<V>) auto scaled_dot_product_attention(
    const Q& q, const K& k, const V& v,
    const SdpaOptions<value_type_of<Q>, typename expr_t<Q>::device_type>& opt = {}) {
  return detail::sdpa_impl(as_var(q), as_var(k), as_var(v), opt);
}

}  // namespace etna::nn::functional
