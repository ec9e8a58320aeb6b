// nn::MultiheadAttention: PyTorch's nn.MultiheadAttention (parameter names, shapes, default
// initialisation, mask semantics), with scaled_dot_product_attention's math and kernels. Self
// attention projects q, k, v with one GEMM; the attention node (functional/
// multi_head_attention.hpp) reads the heads as strided views of the projection and writes the
// merged heads straight into out_proj's input, so no head split or merge is ever copied.
#pragma once

#include <array>
#include <cmath>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "etna/autograd/ops/views.hpp"
#include "etna/core/error.hpp"
#include "etna/nn/attention_mask.hpp"
#include "etna/nn/functional/attention.hpp"
#include "etna/nn/functional/linear.hpp"
#include "etna/nn/functional/multi_head_attention.hpp"
#include "etna/nn/init.hpp"
#include "etna/nn/linear.hpp"
#include "etna/nn/module.hpp"
#include "etna/ops/reduce.hpp"

namespace etna::nn {

struct MultiheadAttentionOptions {
  double dropout = 0.0;  // on the attention weights, training only
  bool bias = true;
  bool add_bias_kv = false;  // not supported (value_error)
  std::int64_t kdim = 0;     // 0 = embed_dim
  std::int64_t vdim = 0;     // 0 = embed_dim
  bool batch_first = false;
};

// Arguments of one call. Masks as PyTorch: key_padding_mask [N, S] (unbatched [S]), true =
// ignore that key (or float, added); attn_mask [L, S] or [N * H, L, S] (unbatched [H, L, S]),
// bool true = not allowed, or float added. is_causal additionally masks keys after the query.
template <class T = float, class D = cpu>
struct MhaCall {
  AttentionMask<T, D> key_padding_mask = {};
  AttentionMask<T, D> attn_mask = {};
  bool need_weights = true;
  bool average_attn_weights = true;
  bool is_causal = false;
};

// output [L, N, E] (batch_first [N, L, E], unbatched [L, E]); weights [N, L, S] averaged over
// heads or [N, H, L, S] per head (unbatched without N), undefined unless need_weights.
template <class T = float, class D = cpu>
struct MhaOutput {
  Var<T, D> output;
  Tensor<T, D> weights;
};

template <FloatingScalar T = float, Device D = cpu>
class MultiheadAttention : public Module<MultiheadAttention<T, D>> {
 public:
  Var<T, D> in_proj_weight;  // [3E, E] when kdim == vdim == E, else undefined
  Var<T, D> q_proj_weight;   // [E, E]    only when kdim or vdim differ from E
  Var<T, D> k_proj_weight;   // [E, kdim]
  Var<T, D> v_proj_weight;   // [E, vdim]
  Var<T, D> in_proj_bias;    // [3E]; undefined without bias
  Linear<0, 0, T, D> out_proj;
  double dropout = 0.0;

  MultiheadAttention(std::int64_t embed_dim, std::int64_t num_heads,
                     MultiheadAttentionOptions opt = {})
      : out_proj(checked_embed_dim(embed_dim, num_heads, opt), embed_dim, opt.bias),
        dropout(opt.dropout),
        num_heads_(num_heads),
        kdim_(opt.kdim == 0 ? embed_dim : opt.kdim),
        vdim_(opt.vdim == 0 ? embed_dim : opt.vdim),
        batch_first_(opt.batch_first) {
    const std::int64_t e = embed_dim;
    if (kdim_ == e && vdim_ == e) {
      in_proj_weight = Var<T, D>(empty<T, D>({3 * e, e}), true);
      init::xavier_uniform_(in_proj_weight);
    } else {
      q_proj_weight = Var<T, D>(empty<T, D>({e, e}), true);
      k_proj_weight = Var<T, D>(empty<T, D>({e, kdim_}), true);
      v_proj_weight = Var<T, D>(empty<T, D>({e, vdim_}), true);
      init::xavier_uniform_(q_proj_weight);
      init::xavier_uniform_(k_proj_weight);
      init::xavier_uniform_(v_proj_weight);
    }
    if (opt.bias) {
      in_proj_bias = Var<T, D>(zeros<T, D>({3 * e}), true);
      init::zeros_(out_proj.bias);
    }
  }

  template <class D2>
  using on_device = MultiheadAttention<T, D2>;
  template <Device D1>
  MultiheadAttention(const MultiheadAttention<T, D1>& other, detail::DeviceCopy<D>& copy)
      : in_proj_weight(copy.var(other.in_proj_weight)),
        q_proj_weight(copy.var(other.q_proj_weight)),
        k_proj_weight(copy.var(other.k_proj_weight)),
        v_proj_weight(copy.var(other.v_proj_weight)),
        in_proj_bias(copy.var(other.in_proj_bias)),
        out_proj(copy.module(other.out_proj)),
        dropout(other.dropout),
        num_heads_(other.num_heads()),
        kdim_(other.kdim()),
        vdim_(other.vdim()),
        batch_first_(other.batch_first()) {}

  std::int64_t embed_dim() const { return out_proj.out_features(); }
  std::int64_t num_heads() const { return num_heads_; }
  std::int64_t head_dim() const { return embed_dim() / num_heads_; }
  std::int64_t kdim() const { return kdim_; }
  std::int64_t vdim() const { return vdim_; }
  bool batch_first() const { return batch_first_; }

  // query [L, N, E], key [S, N, kdim], value [S, N, vdim] (batch_first: N first; unbatched: no
  // N); Vars, Var expressions or tensors.
  template <class Q, class K, class V>
  MhaOutput<T, D> forward(const Q& query, const K& key, const V& value,
                          const MhaCall<T, D>& call = {}) {
    const Var<T, D> q = as_var(query), k = as_var(key), v = as_var(value);
    return forward_impl(q, k, v, call);
  }
  // Module's variadic operator() cannot take a braced MhaCall: m(q, k, v, {.is_causal = true}).
  template <class Q, class K, class V>
  MhaOutput<T, D> operator()(const Q& query, const K& key, const V& value,
                             const MhaCall<T, D>& call = {}) {
    return forward(query, key, value, call);
  }

  std::string extra_repr() const {
    // PyTorch prints only out_proj as a child; its own repr has no extra fields.
    return "";
  }

  ETNA_MODULE(in_proj_weight, q_proj_weight, k_proj_weight, v_proj_weight, in_proj_bias, out_proj)

 private:
  static std::int64_t checked_embed_dim(std::int64_t e, std::int64_t h,
                                        const MultiheadAttentionOptions& opt) {
    if (e <= 0 || h <= 0)
      throw value_error(
          etna::detail::str("MultiheadAttention: embed_dim and num_heads must be "
                            "positive, got embed_dim=",
                            e, ", num_heads=", h));
    if (e % h != 0)
      throw value_error(
          etna::detail::str("MultiheadAttention: embed_dim must be divisible by "
                            "num_heads, got embed_dim=",
                            e, ", num_heads=", h));
    functional::detail::check_probability("MultiheadAttention", opt.dropout);
    if (opt.add_bias_kv) throw value_error("MultiheadAttention: add_bias_kv=true is not supported");
    if (opt.kdim < 0 || opt.vdim < 0)
      throw value_error(
          etna::detail::str("MultiheadAttention: kdim and vdim must be >= 0 "
                            "(0 = embed_dim), got kdim=",
                            opt.kdim, ", vdim=", opt.vdim));
    return e;
  }

  // x W^T + b with rows [which E, (which + count) E) of the packed in-projection, or the
  // separate q/k/v weight (count 1) when kdim or vdim differ.
  Var<T, D> project(const Var<T, D>& x, int which, int count) const {
    const std::int64_t e = embed_dim();
    const Var<T, D>& w_sep = which == 0   ? q_proj_weight
                             : which == 1 ? k_proj_weight
                                          : v_proj_weight;
    const Var<T, D> w = !in_proj_weight.defined() ? w_sep
                        : count == 3              ? in_proj_weight
                                     : etna::narrow(in_proj_weight, 0, which * e, count * e);
    if (!in_proj_bias.defined()) return functional::linear(x, w);
    if (count == 3) return functional::linear(x, w, in_proj_bias);
    return functional::linear(x, w, etna::narrow(in_proj_bias, 0, which * e, count * e));
  }

  void check_inputs(const Var<T, D>& q, const Var<T, D>& k, const Var<T, D>& v) const {
    const char* op = "MultiheadAttention";
    if (q.dim() != 2 && q.dim() != 3)
      throw shape_error(etna::detail::str(op,
                                          ": query must be 3-d (batched) or 2-d (unbatched), "
                                          "got shape ",
                                          q.shape()));
    if (k.dim() != q.dim() || v.dim() != q.dim())
      throw shape_error(etna::detail::str(op,
                                          ": query, key and value must have the same rank, "
                                          "got ",
                                          q.shape(), ", ", k.shape(), ", ", v.shape()));
    if (q.size(-1) != embed_dim())
      throw shape_error(etna::detail::str(op, ": query has ", q.size(-1),
                                          " features but embed_dim is ", embed_dim(),
                                          " (query shape ", q.shape(), ")"));
    if (k.size(-1) != kdim_ || v.size(-1) != vdim_)
      throw shape_error(etna::detail::str(op, ": key and value must have kdim=", kdim_,
                                          " and vdim=", vdim_, " features, got key ", k.shape(),
                                          ", value ", v.shape()));
  }

  // The call's masks merged into SDPA's form over scores [N, H, L, S].
  functional::SdpaOptions<T, D> sdpa_masks(const MhaCall<T, D>& call, bool batched, std::int64_t n,
                                           std::int64_t l, std::int64_t s) const {
    const char* op = "MultiheadAttention";
    const std::int64_t h = num_heads_;
    AttentionMask<T, D> am = call.attn_mask, kpm = call.key_padding_mask;
    if (am.defined()) {
      const Shape want2{l, s}, want3 = batched ? Shape{n * h, l, s} : Shape{h, l, s};
      if (am.dim() == 2 && !(am.shape() == want2))
        throw shape_error(etna::detail::str(op, ": the shape of the 2-D attn_mask is ", am.shape(),
                                            ", but should be ", want2));
      if (am.dim() == 3 && !(am.shape() == want3))
        throw shape_error(etna::detail::str(op, ": the shape of the 3-D attn_mask is ", am.shape(),
                                            ", but should be ", want3));
      if (am.dim() != 2 && am.dim() != 3)
        throw shape_error(
            etna::detail::str(op, ": attn_mask must be 2-d or 3-d, got shape ", am.shape()));
      if (am.dim() == 3) am = am.reshape({n, h, l, s});
    }
    if (kpm.defined()) {
      const Shape want = batched ? Shape{n, s} : Shape{s};
      if (!(kpm.shape() == want))
        throw shape_error(etna::detail::str(op, ": key_padding_mask has shape ", kpm.shape(),
                                            ", expected ", want,
                                            " ([N, S] batched, [S] unbatched)"));
      kpm = kpm.reshape({n, 1, 1, s});
    }
    functional::SdpaOptions<T, D> o;
    o.is_causal = call.is_causal;
    if (am.defined() && kpm.defined()) {
      if (am.is_bool() && kpm.is_bool()) {
        const Shape sh{n, h, l, s};
        o.bool_mask = eval(!(am.bool_mask().reshape(padded(am.shape(), sh)).expand(sh) |
                             kpm.bool_mask().expand(sh)));
      } else {
        const Shape sh{n, h, l, s};
        o.float_mask = eval(am.additive().reshape(padded(am.shape(), sh)).expand(sh) +
                            kpm.additive().expand(sh));
      }
    } else if (am.defined() || kpm.defined()) {
      const AttentionMask<T, D>& m = am.defined() ? am : kpm;
      if (m.is_bool())
        o.bool_mask = eval(!m.bool_mask());
      else
        o.float_mask = m.float_mask();
    }
    return o;
  }

  // The mask's shape left-padded with 1s to the rank of `full`.
  static Shape padded(const Shape& m, const Shape& full) {
    Shape out(full.size() - m.size(), 1);
    for (auto d : m) out.push_back(d);
    return out;
  }

  MhaOutput<T, D> forward_impl(Var<T, D> q, Var<T, D> k, Var<T, D> v, const MhaCall<T, D>& call) {
    check_inputs(q, k, v);
    const bool same_kv = k.impl_ptr() == v.impl_ptr();
    const bool same_qkv = same_kv && q.impl_ptr() == k.impl_ptr();
    const bool batched = q.dim() == 3;
    bool bf = batch_first_;
    if (!batched) {  // one batch entry, laid out batch-first
      q = etna::unsqueeze(q, 0);
      k = same_qkv ? q : etna::unsqueeze(k, 0);
      v = same_kv ? k : etna::unsqueeze(v, 0);
      bf = true;
    }
    const std::int64_t n = bf ? q.size(0) : q.size(1), l = bf ? q.size(1) : q.size(0);
    const std::int64_t s = bf ? k.size(1) : k.size(0);
    const std::int64_t nk = bf ? k.size(0) : k.size(1);
    if (nk != n ||
        !(k.shape().size() == v.shape().size() && k.size(0) == v.size(0) && k.size(1) == v.size(1)))
      throw shape_error(etna::detail::str("MultiheadAttention: key ", k.shape(), " and value ",
                                          v.shape(), " must match the query's batch ", n,
                                          " and each other's sequence length"));
    const std::int64_t e = embed_dim(), h = num_heads_, hd = head_dim();

    // The projections, as few GEMMs as the inputs allow: self attention one [.., 3E] GEMM,
    // key == value one [.., 2E] GEMM. The attention node reads the heads out of them in place.
    std::vector<Var<T, D>> sources;
    std::array<functional::detail::HeadSlot, 3> slots;
    if (same_qkv && in_proj_weight.defined()) {
      sources.push_back(project(q, 0, 3));
      slots = {{{0, 0}, {0, e}, {0, 2 * e}}};
    } else if (same_kv && in_proj_weight.defined()) {
      sources = {project(q, 0, 1), project(k, 1, 2)};
      slots = {{{0, 0}, {1, 0}, {1, e}}};
    } else {
      sources = {project(q, 0, 1), project(k, 1, 1), project(v, 2, 1)};
      slots = {{{0, 0}, {1, 0}, {2, 0}}};
    }
    functional::SdpaOptions<T, D> o = sdpa_masks(call, batched, n, l, s);
    o.dropout_p = this->is_training() ? dropout : 0.0;
    Tensor<T, D> weights;
    o.need_weights = call.need_weights;
    o.weights_out = call.need_weights ? &weights : nullptr;
    const Var<T, D> merged = functional::detail::multi_head_attention(
        sources, slots, functional::detail::HeadLayout{h, hd, bf}, o);  // [.., .., E]
    MhaOutput<T, D> out{out_proj.forward(merged), Tensor<T, D>()};
    if (call.need_weights) {
      out.weights = call.average_attn_weights ? Tensor<T, D>(etna::mean(weights, 1)) : weights;
      if (!batched) out.weights = out.weights.squeeze(0);
    }
    if (!batched) out.output = etna::squeeze(out.output, 0);
    return out;
  }

  std::int64_t num_heads_ = 1, kdim_ = 0, vdim_ = 0;
  bool batch_first_ = false;
};

}  // namespace etna::nn
