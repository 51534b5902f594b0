// MSA row attention with pair bias (Suppl. Alg. 7), MSA column attention (Alg. 8) and MSA column global attention
// (Alg. 19) against literal double-precision implementations of AlphaFold's equations; chunking changes nothing;
// padded residues/sequences (mask 0, garbage values) leave the real positions unchanged; no NaNs.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <memory>

#include "model/msa_attention.h"
#include "support/model_test_support.h"

namespace axf::test {
namespace {

using model::AttentionConfig;
using model::Scope;

// Weights of AlphaFold's Attention / GlobalAttention module as doubles (logical row-major order).
struct AttentionWeights {
  int64_t H = 0, kd = 0, vd = 0, c = 0, c_out = 0;
  std::vector<double> query_w, key_w, value_w, gating_w, gating_b, output_w, output_b;
};

AttentionWeights load_attention(const Scope& s, const AttentionConfig& cfg, int64_t channels) {
  AttentionWeights w;
  w.H = cfg.num_head;
  w.kd = cfg.key_dim / cfg.num_head;
  w.vd = cfg.value_dim / cfg.num_head;
  w.c = channels;
  w.query_w = to_doubles(s["query_w"]);    // [c, H, kd]
  w.key_w = to_doubles(s["key_w"]);        // [c, H, kd]  (global: [c, kd])
  w.value_w = to_doubles(s["value_w"]);    // [c, H, vd]  (global: [c, vd])
  w.gating_w = to_doubles(s["gating_w"]);  // [c, H, vd]
  w.gating_b = to_doubles(s["gating_b"]);  // [H, vd]
  w.output_w = to_doubles(s["output_w"]);  // [H, vd, c_out]
  w.output_b = to_doubles(s["output_b"]);  // [c_out]
  w.c_out = static_cast<int64_t>(w.output_b.size());
  return w;
}

void softmax_inplace(std::vector<double>& x) {
  const double mx = *std::max_element(x.begin(), x.end());
  double sum = 0;
  for (double& v : x) sum += (v = std::exp(v - mx));
  for (double& v : x) v /= sum;
}

// AlphaFold's Attention with q_data = m_data = x [N, c] (one batch element), key mask [N], optional bias [H, N, N]:
//   logits[h,i,j] = (x_i Wq_h / sqrt(kd)) . (x_j Wk_h) + bias[h,i,j], replaced by -1e9 where mask[j] == 0
//   o_i = sum_h (softmax_j(logits) . v_h * sigmoid(x_i Wg_h + bg_h)) Wo_h + bo
std::vector<double> attention_ref(const AttentionWeights& w, const std::vector<double>& x, int64_t n,
                                  const std::vector<double>& mask, const std::vector<double>& bias) {
  const int64_t H = w.H, kd = w.kd, vd = w.vd, c = w.c, co = w.c_out;
  std::vector<double> out(n * co);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t o = 0; o < co; ++o) out[i * co + o] = w.output_b[o];
  std::vector<double> q(n * kd), k(n * kd), v(n * vd), p(n);
  for (int64_t h = 0; h < H; ++h) {
    for (int64_t i = 0; i < n; ++i) {
      for (int64_t d = 0; d < kd; ++d) {
        double aq = 0, ak = 0;
        for (int64_t a = 0; a < c; ++a) {
          aq += x[i * c + a] * w.query_w[(a * H + h) * kd + d];
          ak += x[i * c + a] * w.key_w[(a * H + h) * kd + d];
        }
        q[i * kd + d] = aq / std::sqrt(static_cast<double>(kd));
        k[i * kd + d] = ak;
      }
      for (int64_t e = 0; e < vd; ++e) {
        double av = 0;
        for (int64_t a = 0; a < c; ++a) av += x[i * c + a] * w.value_w[(a * H + h) * vd + e];
        v[i * vd + e] = av;
      }
    }
    for (int64_t i = 0; i < n; ++i) {
      for (int64_t j = 0; j < n; ++j) {
        double l = 0;
        for (int64_t d = 0; d < kd; ++d) l += q[i * kd + d] * k[j * kd + d];
        if (!bias.empty()) l += bias[(h * n + i) * n + j];
        p[j] = mask[j] != 0 ? l : -1e9;
      }
      softmax_inplace(p);
      for (int64_t e = 0; e < vd; ++e) {
        double avg = 0;
        for (int64_t j = 0; j < n; ++j) avg += p[j] * v[j * vd + e];
        double g = w.gating_b[h * vd + e];
        for (int64_t a = 0; a < c; ++a) g += x[i * c + a] * w.gating_w[(a * H + h) * vd + e];
        avg *= sigmoid_ref(g);
        for (int64_t o = 0; o < co; ++o) out[i * co + o] += avg * w.output_w[(h * vd + e) * co + o];
      }
    }
  }
  return out;
}

// AlphaFold's GlobalAttention on x [N, c] (one column), mask [N]:
//   q_avg = sum_j mask_j x_j / (sum_j mask_j + 1e-10);  q_h = q_avg Wq_h / sqrt(kd);  k_j = x_j Wk;  v_j = x_j Wv
//   avg_h = softmax_j(q_h . k_j, -1e9 where mask_j == 0) . v
//   o_i = sum_h (avg_h * sigmoid(x_i Wg_h + bg_h)) Wo_h + bo
std::vector<double> global_attention_ref(const AttentionWeights& w, const std::vector<double>& x, int64_t n,
                                         const std::vector<double>& mask) {
  const int64_t H = w.H, kd = w.kd, vd = w.vd, c = w.c, co = w.c_out;
  std::vector<double> q_avg(c, 0.0);
  double msum = 0;
  for (int64_t j = 0; j < n; ++j) {
    msum += mask[j];
    for (int64_t a = 0; a < c; ++a) q_avg[a] += mask[j] * x[j * c + a];
  }
  for (int64_t a = 0; a < c; ++a) q_avg[a] /= msum + 1e-10;
  std::vector<double> k(n * kd), v(n * vd);
  for (int64_t j = 0; j < n; ++j) {
    for (int64_t d = 0; d < kd; ++d) {
      double s = 0;
      for (int64_t a = 0; a < c; ++a) s += x[j * c + a] * w.key_w[a * kd + d];
      k[j * kd + d] = s;
    }
    for (int64_t e = 0; e < vd; ++e) {
      double s = 0;
      for (int64_t a = 0; a < c; ++a) s += x[j * c + a] * w.value_w[a * vd + e];
      v[j * vd + e] = s;
    }
  }
  std::vector<double> avg(H * vd), p(n), q(kd);
  for (int64_t h = 0; h < H; ++h) {
    for (int64_t d = 0; d < kd; ++d) {
      double s = 0;
      for (int64_t a = 0; a < c; ++a) s += q_avg[a] * w.query_w[(a * H + h) * kd + d];
      q[d] = s / std::sqrt(static_cast<double>(kd));
    }
    for (int64_t j = 0; j < n; ++j) {
      double l = 0;
      for (int64_t d = 0; d < kd; ++d) l += q[d] * k[j * kd + d];
      p[j] = mask[j] != 0 ? l : -1e9;
    }
    softmax_inplace(p);
    for (int64_t e = 0; e < vd; ++e) {
      double s = 0;
      for (int64_t j = 0; j < n; ++j) s += p[j] * v[j * vd + e];
      avg[h * vd + e] = s;
    }
  }
  std::vector<double> out(n * co);
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t o = 0; o < co; ++o) out[i * co + o] = w.output_b[o];
    for (int64_t h = 0; h < H; ++h)
      for (int64_t e = 0; e < vd; ++e) {
        double g = w.gating_b[h * vd + e];
        for (int64_t a = 0; a < c; ++a) g += x[i * c + a] * w.gating_w[(a * H + h) * vd + e];
        const double gated = avg[h * vd + e] * sigmoid_ref(g);
        for (int64_t o = 0; o < co; ++o) out[i * co + o] += gated * w.output_w[(h * vd + e) * co + o];
      }
  }
  return out;
}

// LayerNorm of every row of x [rows, c].
std::vector<double> layer_norm_rows(const std::vector<double>& x, int64_t c, const Scope& ln) {
  const auto g = to_doubles(ln["scale"]), b = to_doubles(ln["offset"]);
  std::vector<double> out(x.size());
  for (size_t r = 0; r < x.size() / c; ++r) layer_norm_ref(&x[r * c], g.data(), b.data(), c, &out[r * c]);
  return out;
}

// Suppl. Alg. 7: msa [S, L, c], mask [S, L], pair [L, L, cz] -> updated msa.
std::vector<double> row_attention_ref(const Scope& s, const AttentionConfig& cfg, const Tensor& msa_t,
                                      const Tensor& mask_t, const Tensor& pair_t) {
  const int64_t S = msa_t.size(0), L = msa_t.size(1), c = msa_t.size(2), cz = pair_t.size(2), H = cfg.num_head;
  const auto msa = to_doubles(msa_t), mask = to_doubles(mask_t);
  const auto m = layer_norm_rows(msa, c, s.sub("query_norm"));
  const auto z = layer_norm_rows(to_doubles(pair_t), cz, s.sub("feat_2d_norm"));
  const auto w2d = to_doubles(s["feat_2d_weights"]);  // [cz, H]
  std::vector<double> bias(H * L * L);
  for (int64_t h = 0; h < H; ++h)
    for (int64_t q = 0; q < L; ++q)
      for (int64_t k = 0; k < L; ++k) {
        double acc = 0;
        for (int64_t a = 0; a < cz; ++a) acc += z[(q * L + k) * cz + a] * w2d[a * H + h];
        bias[(h * L + q) * L + k] = acc;
      }
  const AttentionWeights w = load_attention(s.sub("attention"), cfg, c);
  std::vector<double> out = msa;
  for (int64_t r = 0; r < S; ++r) {
    std::vector<double> x(m.begin() + r * L * c, m.begin() + (r + 1) * L * c);
    std::vector<double> km(mask.begin() + r * L, mask.begin() + (r + 1) * L);
    const auto upd = attention_ref(w, x, L, km, bias);
    for (int64_t i = 0; i < L * c; ++i) out[r * L * c + i] += upd[i];
  }
  return out;
}

// Suppl. Alg. 8 / 19: attention along the sequences of every residue column.
std::vector<double> column_attention_ref(const Scope& s, const AttentionConfig& cfg, const Tensor& msa_t,
                                         const Tensor& mask_t, bool global) {
  const int64_t S = msa_t.size(0), L = msa_t.size(1), c = msa_t.size(2);
  const auto msa = to_doubles(msa_t), mask = to_doubles(mask_t);
  const auto m = layer_norm_rows(msa, c, s.sub("query_norm"));
  const AttentionWeights w = load_attention(s.sub("attention"), cfg, c);
  std::vector<double> out = msa;
  for (int64_t l = 0; l < L; ++l) {
    std::vector<double> x(S * c), km(S);
    for (int64_t r = 0; r < S; ++r) {
      km[r] = mask[r * L + l];
      for (int64_t a = 0; a < c; ++a) x[r * c + a] = m[(r * L + l) * c + a];
    }
    const auto upd = global ? global_attention_ref(w, x, S, km) : attention_ref(w, x, S, km, {});
    for (int64_t r = 0; r < S; ++r)
      for (int64_t a = 0; a < c; ++a) out[(r * L + l) * c + a] += upd[r * c + a];
  }
  return out;
}

bool all_finite(const std::vector<double>& v) {
  return std::all_of(v.begin(), v.end(), [](double x) { return std::isfinite(x); });
}

// `small` [d0, d1, ...] copied into the leading corner of `big` (whose other entries are garbage or zeros).
Tensor pad_into(const Tensor& small, Tensor big) {
  Tensor corner = big;
  for (int d = 0; d < small.ndim(); ++d) corner = corner.slice(d, 0, small.size(d));
  core::copy_host(small, corner);
  return big;
}

Tensor corner_of(const Tensor& big, const Shape& shape) {
  Tensor t = big;
  for (int d = 0; d < static_cast<int>(shape.size()); ++d) t = t.slice(d, 0, shape[d]);
  return t;
}

runtime::ChunkConfig uniform_chunks(int64_t n) {
  runtime::ChunkConfig c;
  c.msa_rows = c.msa_columns = c.pair_rows = c.opm_rows = c.template_rows = n;
  return c;
}

struct Fixture {
  std::unique_ptr<backend::Backend> backend = backend::make_cpu_backend();
  parallel::SelfCommunicator comm;
  runtime::ExecutionContext ctx{*backend, comm};
  model::ModelConfig cfg = [] {
    model::ModelConfig c = small_config();
    c.extra_msa_stack_num_block = 2;  // so that block(1) exists in the extra-MSA stack too
    return c;
  }();
  model::Params params;
};

// Runs `fn` on a clone of `msa` for chunk sizes 0..3 and checks reference agreement, chunk invariance, finiteness.
void check_against_reference(Fixture& f, const std::function<void(Tensor&)>& fn, const Tensor& msa,
                             const std::vector<double>& want) {
  std::vector<double> first;
  for (int64_t chunk : {0, 1, 2, 3}) {
    f.ctx.set_chunks(uniform_chunks(chunk));
    Tensor act = msa.clone();
    fn(act);
    const auto got = to_doubles(act);
    EXPECT_TRUE(all_finite(got)) << "chunk " << chunk;
    EXPECT_LT(max_rel_error(got, want), 1e-5) << "chunk " << chunk;
    if (chunk == 0) {
      first = got;
    } else {
      EXPECT_LT(max_rel_error(got, first), 1e-6) << "chunk " << chunk << " vs unchunked";
    }
  }
}

TEST(MsaRowAttention, MatchesLiteralAlgorithmAndChunking) {
  Fixture f;
  const std::string prefix =
      std::string(model::kRootScope) + "/evoformer/evoformer_iteration/msa_row_attention_with_pair_bias";
  add_random_params(f.params, f.cfg, prefix, 11);
  const Scope scope = Scope(f.params, prefix).block(1);
  const AttentionConfig att =
      model::ModelConfig::resolved(f.cfg.evoformer.msa_row_attention, f.cfg.msa_channel, f.cfg.msa_channel);
  const int64_t S = 6, L = 7;
  const Tensor msa = random_tensor({S, L, f.cfg.msa_channel}, 21);
  const Tensor mask = random_mask({S, L}, 22, 0.7f);
  const Tensor pair = random_tensor({L, L, f.cfg.pair_channel}, 23);
  const auto want = row_attention_ref(scope, att, msa, mask, pair);
  check_against_reference(
      f, [&](Tensor& act) { model::msa_row_attention_with_pair_bias(f.ctx, scope, att, act, mask, pair); }, msa, want);
}

TEST(MsaRowAttention, PaddedResiduesAndSequencesChangeNothing) {
  Fixture f;
  const std::string prefix =
      std::string(model::kRootScope) + "/evoformer/evoformer_iteration/msa_row_attention_with_pair_bias";
  add_random_params(f.params, f.cfg, prefix, 12);
  const Scope scope = Scope(f.params, prefix).block(1);
  const AttentionConfig att =
      model::ModelConfig::resolved(f.cfg.evoformer.msa_row_attention, f.cfg.msa_channel, f.cfg.msa_channel);
  const int64_t S = 5, L = 6, Sp = 7, Lp = 9, cm = f.cfg.msa_channel, cz = f.cfg.pair_channel;
  const Tensor msa = random_tensor({S, L, cm}, 31);
  const Tensor mask = random_mask({S, L}, 32, 0.7f);
  const Tensor pair = random_tensor({L, L, cz}, 33);
  Tensor out = msa.clone();
  model::msa_row_attention_with_pair_bias(f.ctx, scope, att, out, mask, pair);

  const Tensor msa_p = pad_into(msa, random_tensor({Sp, Lp, cm}, 34, 3.0f));
  const Tensor mask_p = pad_into(mask, Tensor::zeros({Sp, Lp}));
  const Tensor pair_p = pad_into(pair, random_tensor({Lp, Lp, cz}, 35, 3.0f));
  for (int64_t chunk : {0, 2}) {
    f.ctx.set_chunks(uniform_chunks(chunk));
    Tensor out_p = msa_p.clone();
    model::msa_row_attention_with_pair_bias(f.ctx, scope, att, out_p, mask_p, pair_p);
    EXPECT_TRUE(all_finite(to_doubles(out_p))) << "chunk " << chunk;
    EXPECT_LT(max_rel_error(to_doubles(corner_of(out_p, {S, L, cm})), to_doubles(out)), 1e-5) << "chunk " << chunk;
  }
}

TEST(MsaColumnAttention, MatchesLiteralAlgorithmAndChunking) {
  Fixture f;
  const std::string prefix = std::string(model::kRootScope) + "/evoformer/evoformer_iteration/msa_column_attention";
  add_random_params(f.params, f.cfg, prefix, 13);
  const Scope scope = Scope(f.params, prefix).block(1);
  const AttentionConfig att =
      model::ModelConfig::resolved(f.cfg.evoformer.msa_column_attention, f.cfg.msa_channel, f.cfg.msa_channel);
  const int64_t S = 7, L = 8;
  const Tensor msa = random_tensor({S, L, f.cfg.msa_channel}, 41);
  Tensor mask = random_mask({S, L}, 42, 0.6f);
  for (int64_t l = 0; l < L; ++l) mask.data<float>()[l] = 1.f;  // the query sequence is present everywhere
  const auto want = column_attention_ref(scope, att, msa, mask, false);
  check_against_reference(f, [&](Tensor& act) { model::msa_column_attention(f.ctx, scope, att, act, mask); }, msa,
                          want);
}

TEST(MsaColumnAttention, PaddedSequencesAndResiduesChangeNothing) {
  Fixture f;
  const std::string prefix = std::string(model::kRootScope) + "/evoformer/evoformer_iteration/msa_column_attention";
  add_random_params(f.params, f.cfg, prefix, 14);
  const Scope scope = Scope(f.params, prefix).block(1);
  const AttentionConfig att =
      model::ModelConfig::resolved(f.cfg.evoformer.msa_column_attention, f.cfg.msa_channel, f.cfg.msa_channel);
  const int64_t S = 5, L = 6, Sp = 8, Lp = 8, cm = f.cfg.msa_channel;
  const Tensor msa = random_tensor({S, L, cm}, 51);
  Tensor mask = random_mask({S, L}, 52, 0.6f);
  for (int64_t l = 0; l < L; ++l) mask.data<float>()[l] = 1.f;
  Tensor out = msa.clone();
  model::msa_column_attention(f.ctx, scope, att, out, mask);

  // Padding columns are entirely masked (every key at -1e9): they must still come out finite.
  const Tensor msa_p = pad_into(msa, random_tensor({Sp, Lp, cm}, 53, 3.0f));
  const Tensor mask_p = pad_into(mask, Tensor::zeros({Sp, Lp}));
  for (int64_t chunk : {0, 3}) {
    f.ctx.set_chunks(uniform_chunks(chunk));
    Tensor out_p = msa_p.clone();
    model::msa_column_attention(f.ctx, scope, att, out_p, mask_p);
    EXPECT_TRUE(all_finite(to_doubles(out_p))) << "chunk " << chunk;
    EXPECT_LT(max_rel_error(to_doubles(corner_of(out_p, {S, L, cm})), to_doubles(out)), 1e-5) << "chunk " << chunk;
  }
}

TEST(MsaColumnGlobalAttention, MatchesLiteralAlgorithmAndChunking) {
  Fixture f;
  const std::string prefix = std::string(model::kRootScope) + "/evoformer/extra_msa_stack/msa_column_global_attention";
  add_random_params(f.params, f.cfg, prefix, 15);
  const Scope scope = Scope(f.params, prefix).block(1);
  const AttentionConfig att = model::ModelConfig::resolved(f.cfg.evoformer.msa_column_attention,
                                                           f.cfg.extra_msa_channel, f.cfg.extra_msa_channel);
  const int64_t S = 7, L = 6;
  const Tensor msa = random_tensor({S, L, f.cfg.extra_msa_channel}, 61);
  Tensor mask = random_mask({S, L}, 62, 0.6f);
  for (int64_t l = 0; l < L; ++l) mask.data<float>()[l] = 1.f;
  const auto want = column_attention_ref(scope, att, msa, mask, true);
  check_against_reference(
      f, [&](Tensor& act) { model::msa_column_global_attention(f.ctx, scope, att, act, mask); }, msa, want);
}

TEST(MsaColumnGlobalAttention, PaddedSequencesAndResiduesChangeNothing) {
  Fixture f;
  const std::string prefix = std::string(model::kRootScope) + "/evoformer/extra_msa_stack/msa_column_global_attention";
  add_random_params(f.params, f.cfg, prefix, 16);
  const Scope scope = Scope(f.params, prefix).block(1);
  const AttentionConfig att = model::ModelConfig::resolved(f.cfg.evoformer.msa_column_attention,
                                                           f.cfg.extra_msa_channel, f.cfg.extra_msa_channel);
  const int64_t S = 6, L = 7, Sp = 9, Lp = 9, ce = f.cfg.extra_msa_channel;
  const Tensor msa = random_tensor({S, L, ce}, 71);
  Tensor mask = random_mask({S, L}, 72, 0.6f);
  for (int64_t l = 0; l < L; ++l) mask.data<float>()[l] = 1.f;
  Tensor out = msa.clone();
  model::msa_column_global_attention(f.ctx, scope, att, out, mask);

  const Tensor msa_p = pad_into(msa, random_tensor({Sp, Lp, ce}, 73, 3.0f));
  const Tensor mask_p = pad_into(mask, Tensor::zeros({Sp, Lp}));
  for (int64_t chunk : {0, 2}) {
    f.ctx.set_chunks(uniform_chunks(chunk));
    Tensor out_p = msa_p.clone();
    model::msa_column_global_attention(f.ctx, scope, att, out_p, mask_p);
    EXPECT_TRUE(all_finite(to_doubles(out_p))) << "chunk " << chunk;
    EXPECT_LT(max_rel_error(to_doubles(corner_of(out_p, {S, L, ce})), to_doubles(out)), 1e-5) << "chunk " << chunk;
  }
}

}  // namespace
}  // namespace axf::test
