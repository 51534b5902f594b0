// Triangle multiplicative update (Suppl. Alg. 11/12) and triangle attention (Alg. 13/14) against literal
// double-precision implementations of AlphaFold's equations; chunking changes nothing; padding is masked out.
// The references (namespace axf::test::reference) are also used by test_template_embedding.cpp.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>

#include "model/triangle_attention.h"
#include "model/triangle_multiplication.h"
#include "support/model_test_support.h"

namespace axf::test::reference {

using Vec = std::vector<double>;

// LayerNorm over the last dim (c channels) of every row, parameters scope["scale"], scope["offset"].
Vec layer_norm(const model::Scope& s, const Vec& x, int64_t c) {
  const Vec g = to_doubles(s["scale"]), b = to_doubles(s["offset"]);
  Vec out(x.size());
  for (size_t r = 0; r < x.size() / static_cast<size_t>(c); ++r)
    layer_norm_ref(&x[r * c], g.data(), b.data(), c, &out[r * c]);
  return out;
}

// x [rows, cin] @ weights [cin, cout] + bias.
Vec linear(const model::Scope& s, const Vec& x, int64_t cin) {
  const Vec w = to_doubles(s["weights"]), b = to_doubles(s["bias"]);
  const int64_t cout = static_cast<int64_t>(b.size()), rows = static_cast<int64_t>(x.size()) / cin;
  Vec out(static_cast<size_t>(rows * cout));
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t o = 0; o < cout; ++o) {
      double acc = b[o];
      for (int64_t a = 0; a < cin; ++a) acc += x[r * cin + a] * w[a * cout + o];
      out[r * cout + o] = acc;
    }
  }
  return out;
}

// AlphaFold modules.Attention, literally: residual[b, q, :] += Attention(q_data[b], m_data[b], mask(b, k), bias).
void attention_add(const model::Scope& s, const model::AttentionConfig& cfg, int64_t B, int64_t Q, int64_t K,
                   const Vec& q_data, int64_t cq, const Vec& m_data, int64_t cm,
                   const std::function<double(int64_t, int64_t)>& mask, const Vec* bias, Vec& residual,
                   int64_t cout) {
  const int64_t H = cfg.num_head, kd = cfg.key_dim / H, vd = cfg.value_dim / H;
  const Vec wq = to_doubles(s["query_w"]), wk = to_doubles(s["key_w"]), wv = to_doubles(s["value_w"]);
  const Vec wo = to_doubles(s["output_w"]), bo = to_doubles(s["output_b"]);
  Vec wg, bg;
  if (cfg.gating) {
    wg = to_doubles(s["gating_w"]);
    bg = to_doubles(s["gating_b"]);
  }
  const double scale = 1.0 / std::sqrt(static_cast<double>(kd));
  for (int64_t b = 0; b < B; ++b) {
    const double* qd = &q_data[b * Q * cq];
    const double* md = &m_data[b * K * cm];
    Vec q(Q * H * kd, 0.0), k(K * H * kd, 0.0), v(K * H * vd, 0.0);
    for (int64_t i = 0; i < Q; ++i)
      for (int64_t h = 0; h < H; ++h)
        for (int64_t c = 0; c < kd; ++c) {
          double acc = 0;
          for (int64_t a = 0; a < cq; ++a) acc += qd[i * cq + a] * wq[(a * H + h) * kd + c];
          q[(i * H + h) * kd + c] = acc * scale;
        }
    for (int64_t j = 0; j < K; ++j)
      for (int64_t h = 0; h < H; ++h) {
        for (int64_t c = 0; c < kd; ++c) {
          double acc = 0;
          for (int64_t a = 0; a < cm; ++a) acc += md[j * cm + a] * wk[(a * H + h) * kd + c];
          k[(j * H + h) * kd + c] = acc;
        }
        for (int64_t c = 0; c < vd; ++c) {
          double acc = 0;
          for (int64_t a = 0; a < cm; ++a) acc += md[j * cm + a] * wv[(a * H + h) * vd + c];
          v[(j * H + h) * vd + c] = acc;
        }
      }
    for (int64_t i = 0; i < Q; ++i) {
      Vec weighted(H * vd, 0.0);
      for (int64_t h = 0; h < H; ++h) {
        Vec logits(K);
        for (int64_t j = 0; j < K; ++j) {
          double acc = 0;
          for (int64_t c = 0; c < kd; ++c) acc += q[(i * H + h) * kd + c] * k[(j * H + h) * kd + c];
          if (bias) acc += (*bias)[(h * Q + i) * K + j];
          logits[j] = (mask && mask(b, j) == 0.0) ? -1e9 : acc;  // jnp.where(mask, logits, -1e9)
        }
        double mx = logits[0];
        for (double l : logits) mx = std::max(mx, l);
        double sum = 0;
        for (double& l : logits) sum += (l = std::exp(l - mx));
        for (int64_t c = 0; c < vd; ++c) {
          double acc = 0;
          for (int64_t j = 0; j < K; ++j) acc += logits[j] / sum * v[(j * H + h) * vd + c];
          if (cfg.gating) {
            double g = bg[h * vd + c];
            for (int64_t a = 0; a < cq; ++a) g += qd[i * cq + a] * wg[(a * H + h) * vd + c];
            acc *= sigmoid_ref(g);
          }
          weighted[h * vd + c] = acc;
        }
      }
      for (int64_t o = 0; o < cout; ++o) {
        double acc = bo[o];
        for (int64_t hc = 0; hc < H * vd; ++hc) acc += weighted[hc] * wo[hc * cout + o];
        residual[(b * Q + i) * cout + o] += acc;
      }
    }
  }
}

// pair [L, L, c] -> pair^T (swapaxes of the two residue axes).
Vec transpose_pair(const Vec& x, int64_t L) {
  const int64_t c = static_cast<int64_t>(x.size()) / (L * L);
  Vec out(x.size());
  for (int64_t i = 0; i < L; ++i)
    for (int64_t j = 0; j < L; ++j)
      for (int64_t ch = 0; ch < c; ++ch) out[(j * L + i) * c + ch] = x[(i * L + j) * c + ch];
  return out;
}

// modules.TriangleMultiplication._triangle_multiplication, plus the residual add.
void triangle_multiplication(const model::Scope& s, bool outgoing, int64_t L, const Vec& mask, Vec& pair) {
  const int64_t cz = static_cast<int64_t>(pair.size()) / (L * L);
  const Vec x = layer_norm(s.sub("layer_norm_input"), pair, cz);
  const Vec lp = linear(s.sub("left_projection"), x, cz), lg = linear(s.sub("left_gate"), x, cz);
  const Vec rp = linear(s.sub("right_projection"), x, cz), rg = linear(s.sub("right_gate"), x, cz);
  const int64_t c = static_cast<int64_t>(lp.size()) / (L * L);
  Vec left(lp.size()), right(rp.size());
  for (int64_t n = 0; n < L * L; ++n)
    for (int64_t ch = 0; ch < c; ++ch) {
      left[n * c + ch] = mask[n] * lp[n * c + ch] * sigmoid_ref(lg[n * c + ch]);
      right[n * c + ch] = mask[n] * rp[n * c + ch] * sigmoid_ref(rg[n * c + ch]);
    }
  Vec t(static_cast<size_t>(L * L * c), 0.0);
  for (int64_t i = 0; i < L; ++i)
    for (int64_t j = 0; j < L; ++j)
      for (int64_t ch = 0; ch < c; ++ch) {
        double acc = 0;
        for (int64_t k = 0; k < L; ++k) {
          if (outgoing) {  // 'ikc,jkc->ijc'
            acc += left[(i * L + k) * c + ch] * right[(j * L + k) * c + ch];
          } else {  // 'kjc,kic->ijc'
            acc += left[(k * L + j) * c + ch] * right[(k * L + i) * c + ch];
          }
        }
        t[(i * L + j) * c + ch] = acc;
      }
  const Vec tn = layer_norm(s.sub("center_layer_norm"), t, c);
  const Vec update = linear(s.sub("output_projection"), tn, c);
  const Vec gate = linear(s.sub("gating_linear"), x, cz);
  for (size_t e = 0; e < pair.size(); ++e) pair[e] += update[e] * sigmoid_ref(gate[e]);
}

// modules.TriangleAttention (per_row = starting node, per_column = ending node), plus the residual add.
void triangle_attention(const model::Scope& s, const model::AttentionConfig& cfg, bool ending, int64_t L,
                        const Vec& mask, Vec& pair) {
  const int64_t cz = static_cast<int64_t>(pair.size()) / (L * L);
  Vec x = ending ? transpose_pair(pair, L) : pair;
  const Vec m = ending ? transpose_pair(mask, L) : mask;
  const Vec y = layer_norm(s.sub("query_norm"), x, cz);
  const Vec w = to_doubles(s["feat_2d_weights"]);
  const int64_t H = cfg.num_head;
  Vec bias(static_cast<size_t>(H * L * L), 0.0);
  for (int64_t q = 0; q < L; ++q)
    for (int64_t k = 0; k < L; ++k)
      for (int64_t h = 0; h < H; ++h) {
        double acc = 0;
        for (int64_t c = 0; c < cz; ++c) acc += y[(q * L + k) * cz + c] * w[c * H + h];
        bias[(h * L + q) * L + k] = acc;
      }
  Vec update(x.size(), 0.0);
  attention_add(s.sub("attention"), cfg, L, L, L, y, cz, y, cz,
                [&](int64_t b, int64_t k) { return m[b * L + k]; }, &bias, update, cz);
  for (size_t e = 0; e < x.size(); ++e) x[e] += update[e];
  pair = ending ? transpose_pair(x, L) : x;
}

// modules.Transition, plus the residual add.
void transition(const model::Scope& s, Vec& x, int64_t c) {
  const Vec y = layer_norm(s.sub("input_layer_norm"), x, c);
  Vec hidden = linear(s.sub("transition1"), y, c);
  for (double& h : hidden) h = h > 0 ? h : 0;
  const Vec out = linear(s.sub("transition2"), hidden, static_cast<int64_t>(hidden.size() / (x.size() / c)));
  for (size_t e = 0; e < x.size(); ++e) x[e] += out[e];
}

}  // namespace axf::test::reference

namespace axf::test {
namespace {

using backend::TriangleDirection;

bool all_finite(const Tensor& t) {
  for (float v : t.to_vector())
    if (!std::isfinite(v)) return false;
  return true;
}

// A pair mask with zeros but a one on the diagonal, so no row or column is fully masked.
Tensor pair_mask(int64_t L, uint64_t seed) {
  Tensor m = random_mask({L, L}, seed, 0.7f);
  for (int64_t i = 0; i < L; ++i) m.data<float>()[i * L + i] = 1.f;
  return m;
}

// Embeds pair [L, L, c] and mask [L, L] into [Lp, Lp, ...]: padded entries get large garbage values and mask 0.
void pad(const Tensor& pair, const Tensor& mask, int64_t Lp, uint64_t seed, Tensor* padded_pair, Tensor* padded_mask) {
  const int64_t L = pair.size(0), c = pair.size(2);
  *padded_pair = random_tensor({Lp, Lp, c}, seed, 100.f);
  *padded_mask = Tensor::zeros({Lp, Lp});
  for (int64_t i = 0; i < L; ++i)
    for (int64_t j = 0; j < L; ++j) {
      padded_mask->data<float>()[i * Lp + j] = mask.data<float>()[i * L + j];
      for (int64_t ch = 0; ch < c; ++ch)
        padded_pair->data<float>()[(i * Lp + j) * c + ch] = pair.data<float>()[(i * L + j) * c + ch];
    }
}

std::vector<double> crop(const Tensor& x, int64_t L) { return to_doubles(x.slice(0, 0, L).slice(1, 0, L)); }

struct Fixture {
  std::unique_ptr<backend::Backend> backend = backend::make_cpu_backend();
  parallel::SelfCommunicator comm;
  runtime::ExecutionContext ctx{*backend, comm};
  model::ModelConfig cfg = small_config();
  model::Params params;

  void set_pair_rows(int64_t chunk) {
    runtime::ChunkConfig c;
    c.pair_rows = chunk;
    ctx.set_chunks(c);
  }
};

const std::string kEvoformer = std::string(model::kRootScope) + "/evoformer/evoformer_iteration";

TEST(TriangleMultiplication, MatchesLiteralAlgorithmAndChunking) {
  Fixture f;
  for (TriangleDirection dir : {TriangleDirection::Outgoing, TriangleDirection::Incoming}) {
    const bool outgoing = dir == TriangleDirection::Outgoing;
    const std::string prefix = kEvoformer + (outgoing ? "/triangle_multiplication_outgoing" : "/triangle_multiplication_incoming");
    add_random_params(f.params, f.cfg, prefix, outgoing ? 11 : 12);
    const model::Scope scope = model::Scope(f.params, prefix).block(1);
    const int64_t L = 7;
    const Tensor pair = random_tensor({L, L, f.cfg.pair_channel}, 21);
    const Tensor mask = pair_mask(L, 22);
    std::vector<double> want = to_doubles(pair);
    reference::triangle_multiplication(scope, outgoing, L, to_doubles(mask), want);

    Tensor first;
    for (int64_t chunk : {0, 1, 2, 3}) {
      f.set_pair_rows(chunk);
      Tensor act = pair.clone();
      model::triangle_multiplication(f.ctx, scope, dir, act, mask);
      EXPECT_TRUE(all_finite(act));
      EXPECT_LT(max_rel_error(to_doubles(act), want), 1e-5) << (outgoing ? "outgoing" : "incoming") << " chunk " << chunk;
      if (chunk == 0) first = act;
      // Chunks change only the GEMM row counts (BLAS blocking), so results agree to fp32 rounding.
      EXPECT_LT(max_rel_error(to_doubles(act), to_doubles(first)), 1e-6) << "chunk " << chunk << " vs unchunked";
    }
  }
}

TEST(TriangleMultiplication, PaddingIsMaskedOut) {
  Fixture f;
  for (TriangleDirection dir : {TriangleDirection::Outgoing, TriangleDirection::Incoming}) {
    const bool outgoing = dir == TriangleDirection::Outgoing;
    const std::string prefix = kEvoformer + (outgoing ? "/triangle_multiplication_outgoing" : "/triangle_multiplication_incoming");
    add_random_params(f.params, f.cfg, prefix, 13);
    const model::Scope scope = model::Scope(f.params, prefix).block(0);
    const int64_t L = 6, Lp = 9;
    const Tensor pair = random_tensor({L, L, f.cfg.pair_channel}, 31);
    const Tensor mask = pair_mask(L, 32);
    Tensor padded, padded_mask;
    pad(pair, mask, Lp, 33, &padded, &padded_mask);
    for (int64_t chunk : {0, 2}) {
      f.set_pair_rows(chunk);
      Tensor act = pair.clone();
      model::triangle_multiplication(f.ctx, scope, dir, act, mask);
      Tensor act_p = padded.clone();
      model::triangle_multiplication(f.ctx, scope, dir, act_p, padded_mask);
      EXPECT_TRUE(all_finite(act_p));
      EXPECT_LT(max_rel_error(crop(act_p, L), to_doubles(act)), 1e-5) << (outgoing ? "outgoing" : "incoming");
    }
  }
}

TEST(TriangleAttention, MatchesLiteralAlgorithmAndChunking) {
  Fixture f;
  for (model::TriangleNode node : {model::TriangleNode::Starting, model::TriangleNode::Ending}) {
    const bool ending = node == model::TriangleNode::Ending;
    const std::string prefix = kEvoformer + (ending ? "/triangle_attention_ending_node" : "/triangle_attention_starting_node");
    add_random_params(f.params, f.cfg, prefix, ending ? 41 : 42);
    const model::Scope scope = model::Scope(f.params, prefix).block(1);
    const model::AttentionConfig att = model::ModelConfig::resolved(
        ending ? f.cfg.evoformer.triangle_attention_ending : f.cfg.evoformer.triangle_attention_starting,
        f.cfg.pair_channel, f.cfg.pair_channel);
    const int64_t L = 8;
    const Tensor pair = random_tensor({L, L, f.cfg.pair_channel}, 43);
    const Tensor mask = pair_mask(L, 44);
    std::vector<double> want = to_doubles(pair);
    reference::triangle_attention(scope, att, ending, L, to_doubles(mask), want);

    Tensor first;
    for (int64_t chunk : {0, 1, 2, 3}) {
      f.set_pair_rows(chunk);
      Tensor act = pair.clone();
      model::triangle_attention(f.ctx, scope, att, node, act, mask);
      EXPECT_TRUE(all_finite(act));
      EXPECT_LT(max_rel_error(to_doubles(act), want), 1e-5) << (ending ? "ending" : "starting") << " chunk " << chunk;
      if (chunk == 0) first = act;
      // Chunks change only the GEMM row counts (BLAS blocking), so results agree to fp32 rounding.
      EXPECT_LT(max_rel_error(to_doubles(act), to_doubles(first)), 1e-6) << "chunk " << chunk << " vs unchunked";
    }
  }
}

TEST(TriangleAttention, PaddingIsMaskedOut) {
  Fixture f;
  for (model::TriangleNode node : {model::TriangleNode::Starting, model::TriangleNode::Ending}) {
    const bool ending = node == model::TriangleNode::Ending;
    const std::string prefix = kEvoformer + (ending ? "/triangle_attention_ending_node" : "/triangle_attention_starting_node");
    add_random_params(f.params, f.cfg, prefix, 51);
    const model::Scope scope = model::Scope(f.params, prefix).block(0);
    const model::AttentionConfig att = model::ModelConfig::resolved(f.cfg.evoformer.triangle_attention_starting,
                                                                     f.cfg.pair_channel, f.cfg.pair_channel);
    const int64_t L = 6, Lp = 8;
    const Tensor pair = random_tensor({L, L, f.cfg.pair_channel}, 52);
    const Tensor mask = pair_mask(L, 53);
    Tensor padded, padded_mask;
    pad(pair, mask, Lp, 54, &padded, &padded_mask);
    for (int64_t chunk : {0, 3}) {
      f.set_pair_rows(chunk);
      Tensor act = pair.clone();
      model::triangle_attention(f.ctx, scope, att, node, act, mask);
      Tensor act_p = padded.clone();
      model::triangle_attention(f.ctx, scope, att, node, act_p, padded_mask);
      EXPECT_TRUE(all_finite(act_p));
      EXPECT_LT(max_rel_error(crop(act_p, L), to_doubles(act)), 1e-5) << (ending ? "ending" : "starting");
    }
  }
}

// The triangle modules work on strided pair views (here a view whose storage holds z^T) exactly as on z.
TEST(TriangleModules, StridedPairViewMatchesContiguous) {
  Fixture f;
  const std::string att_prefix = kEvoformer + "/triangle_attention_ending_node";
  const std::string mul_prefix = kEvoformer + "/triangle_multiplication_incoming";
  add_random_params(f.params, f.cfg, att_prefix, 61);
  add_random_params(f.params, f.cfg, mul_prefix, 62);
  const model::Scope att_scope = model::Scope(f.params, att_prefix).block(0);
  const model::Scope mul_scope = model::Scope(f.params, mul_prefix).block(0);
  const model::AttentionConfig att = model::ModelConfig::resolved(f.cfg.evoformer.triangle_attention_ending,
                                                                   f.cfg.pair_channel, f.cfg.pair_channel);
  const int64_t L = 5;
  const Tensor pair = random_tensor({L, L, f.cfg.pair_channel}, 63);
  const Tensor mask = pair_mask(L, 64);
  f.set_pair_rows(2);
  Tensor want = pair.clone();
  model::triangle_attention(f.ctx, att_scope, att, model::TriangleNode::Ending, want, mask);
  model::triangle_multiplication(f.ctx, mul_scope, TriangleDirection::Incoming, want, mask);
  Tensor storage = pair.transpose(0, 1).clone();  // contiguous z^T
  Tensor view = storage.transpose(0, 1);          // logically z, strided
  model::triangle_attention(f.ctx, att_scope, att, model::TriangleNode::Ending, view, mask);
  model::triangle_multiplication(f.ctx, mul_scope, TriangleDirection::Incoming, view, mask);
  EXPECT_LT(max_rel_error(to_doubles(view), to_doubles(want)), 1e-6);
}

}  // namespace
}  // namespace axf::test
