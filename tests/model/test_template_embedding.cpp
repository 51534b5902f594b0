// Template pair features, template pair stack (Suppl. Alg. 16) and template embedding with pointwise attention
// (Alg. 17) against literal double-precision implementations of AlphaFold's SingleTemplateEmbedding /
// TemplateEmbedding; chunking, padding, masked templates and rigid motions of the templates change nothing; the
// pointwise attention streamed over the templates (no template cache) equals the batched one over the cached stack.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <functional>
#include <set>
#include <utility>
#include <vector>

#include "core/random.h"
#include "model/template_embedding.h"
#include "runtime/bench_cost.h"
#include "support/model_test_support.h"
#include "support/reference_modules.h"

// Literal double-precision references, defined in test_triangle.cpp (same test binary).
namespace axf::test {
namespace {

using reference::Vec;
constexpr int kAtoms = 37;
constexpr int kN = 0, kCA = 1, kC = 2, kCB = 3, kO = 4, kGly = 7;

// Host template arrays that tests can edit (rigid motions, padding, extra templates) before building a batch.
struct Templates {
  int64_t T = 0, L = 0;
  std::vector<int32_t> aatype;   // [T, L]
  std::vector<float> pos;        // [T, L, 37, 3]
  std::vector<float> atom_mask;  // [T, L, 37]
  std::vector<float> mask;       // [T]

  float* atom(int64_t t, int64_t i, int a) { return &pos[((t * L + i) * kAtoms + a) * 3]; }

  model::TemplateBatch batch() const {
    model::TemplateBatch b;
    b.aatype = Tensor::from_vector_i32({T, L}, aatype);
    b.all_atom_positions = Tensor::from_vector({T, L, kAtoms, 3}, pos);
    b.all_atom_mask = Tensor::from_vector({T, L, kAtoms}, atom_mask);
    // pseudo_beta_fn: CB, or CA for glycine.
    std::vector<float> pb(static_cast<size_t>(T * L * 3)), pbm(static_cast<size_t>(T * L));
    for (int64_t n = 0; n < T * L; ++n) {
      const int a = aatype[n] == kGly ? kCA : kCB;
      for (int d = 0; d < 3; ++d) pb[n * 3 + d] = pos[(n * kAtoms + a) * 3 + d];
      pbm[n] = atom_mask[n * kAtoms + a];
    }
    b.pseudo_beta = Tensor::from_vector({T, L, 3}, pb);
    b.pseudo_beta_mask = Tensor::from_vector({T, L}, pbm);
    b.mask = Tensor::from_vector({T}, mask);
    return b;
  }
};

std::array<double, 3> random_unit(core::Random& rng) {
  const double x = rng.normal(), y = rng.normal(), z = rng.normal();
  const double n = std::sqrt(x * x + y * y + z * z);
  return {x / n, y / n, z / n};
}

// Random chains: CA positions a 3.8 A random walk (distances spread over the dgram bins), N, C, CB around CA and
// O around C at bond lengths. Holes: template 0 residue 2 lacks N (backbone mask 0), the last template's
// residue 4 lacks CB (pseudo-beta mask 0), template 0 residue 1 is a glycine (pseudo beta = CA).
Templates random_templates(int64_t T, int64_t L, uint64_t seed) {
  core::Random rng(seed);
  Templates tp;
  tp.T = T;
  tp.L = L;
  tp.aatype.resize(static_cast<size_t>(T * L));
  tp.pos.assign(static_cast<size_t>(T * L * kAtoms * 3), 0.f);
  tp.atom_mask.assign(static_cast<size_t>(T * L * kAtoms), 0.f);
  tp.mask.assign(static_cast<size_t>(T), 1.f);
  for (int64_t t = 0; t < T; ++t) {
    std::array<double, 3> ca = {5 * rng.normal(), 5 * rng.normal(), 5 * rng.normal()};
    for (int64_t i = 0; i < L; ++i) {
      if (i > 0) {
        const auto step = random_unit(rng);
        for (int d = 0; d < 3; ++d) ca[d] += 3.8 * step[d];
      }
      const auto un = random_unit(rng), uc = random_unit(rng), ub = random_unit(rng), uo = random_unit(rng);
      for (int d = 0; d < 3; ++d) {
        tp.atom(t, i, kCA)[d] = static_cast<float>(ca[d]);
        tp.atom(t, i, kN)[d] = static_cast<float>(ca[d] + 1.46 * un[d]);
        tp.atom(t, i, kC)[d] = static_cast<float>(ca[d] + 1.52 * uc[d]);
        tp.atom(t, i, kCB)[d] = static_cast<float>(ca[d] + 1.53 * ub[d]);
        tp.atom(t, i, kO)[d] = static_cast<float>(ca[d] + 1.52 * uc[d] + 1.23 * uo[d]);
      }
      for (int a : {kN, kCA, kC, kCB, kO}) tp.atom_mask[(t * L + i) * kAtoms + a] = 1.f;
      int32_t aa = static_cast<int32_t>(rng.below(22));
      if (aa == kGly) aa = 0;
      tp.aatype[t * L + i] = aa;
    }
  }
  tp.aatype[1] = kGly;
  if (L > 2) tp.atom_mask[(0 * L + 2) * kAtoms + kN] = 0.f;
  if (L > 4) tp.atom_mask[((T - 1) * L + 4) * kAtoms + kCB] = 0.f;
  return tp;
}

// Rotates (random proper rotation) and translates every atom of every template.
void rigid_motion(Templates& tp, uint64_t seed) {
  core::Random rng(seed);
  double q[4];
  double n = 0;
  for (double& v : q) {
    v = rng.normal();
    n += v * v;
  }
  n = std::sqrt(n);
  for (double& v : q) v /= n;
  const double w = q[0], x = q[1], y = q[2], z = q[3];
  const double r[9] = {1 - 2 * (y * y + z * z), 2 * (x * y - w * z),     2 * (x * z + w * y),
                       2 * (x * y + w * z),     1 - 2 * (x * x + z * z), 2 * (y * z - w * x),
                       2 * (x * z - w * y),     2 * (y * z + w * x),     1 - 2 * (x * x + y * y)};
  const double shift[3] = {20 * rng.normal(), 20 * rng.normal(), 20 * rng.normal()};
  for (size_t p = 0; p < tp.pos.size(); p += 3) {
    const double v[3] = {tp.pos[p], tp.pos[p + 1], tp.pos[p + 2]};
    for (int d = 0; d < 3; ++d)
      tp.pos[p + d] = static_cast<float>(r[d * 3] * v[0] + r[d * 3 + 1] * v[1] + r[d * 3 + 2] * v[2] + shift[d]);
  }
}

// ---- Literal reference (AlphaFold SingleTemplateEmbedding / TemplateEmbedding in double) ----------------------

std::array<double, 3> atom_d(const Templates& tp, int64_t t, int64_t i, int a) {
  const float* p = &tp.pos[((t * tp.L + i) * kAtoms + a) * 3];
  return {p[0], p[1], p[2]};
}
double dot3(const std::array<double, 3>& a, const std::array<double, 3>& b) {
  return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
}
std::array<double, 3> sub3(const std::array<double, 3>& a, const std::array<double, 3>& b) {
  return {a[0] - b[0], a[1] - b[1], a[2] - b[2]};
}
std::array<double, 3> normalized(const std::array<double, 3>& a) {
  const double n = std::sqrt(dot3(a, a));
  return {a[0] / n, a[1] / n, a[2] / n};
}

// Features [L, L, 88] of template t, concatenated in AlphaFold's order.
Vec reference_features(const model::TemplateConfig& cfg, const Templates& tp, int64_t t) {
  const int64_t L = tp.L;
  const int nb = cfg.dgram_features.num_bins;
  const int64_t F = nb + 1 + 22 + 22 + 3 + 1;
  const model::TemplateBatch b = tp.batch();
  const std::vector<float> pb = b.pseudo_beta.to_vector(), pbm = b.pseudo_beta_mask.to_vector();
  std::vector<double> lower(nb), upper(nb);
  for (int k = 0; k < nb; ++k) {
    const double edge = cfg.dgram_features.min_bin +
                        (static_cast<double>(cfg.dgram_features.max_bin) - cfg.dgram_features.min_bin) * k / (nb - 1);
    lower[k] = edge * edge;
  }
  for (int k = 0; k < nb; ++k) upper[k] = k + 1 < nb ? lower[k + 1] : 1e8;
  auto backbone = [&](int64_t i) {
    const float* m = &tp.atom_mask[(t * L + i) * kAtoms];
    return static_cast<double>(m[kN] * m[kCA] * m[kC]);
  };
  Vec out(static_cast<size_t>(L * L * F), 0.0);
  for (int64_t i = 0; i < L; ++i) {
    // Residue i's backbone frame (Gram-Schmidt): x along CA->C, y towards N in the N-CA-C plane, z = x cross y.
    const auto ca = atom_d(tp, t, i, kCA);
    const auto ex = normalized(sub3(atom_d(tp, t, i, kC), ca));
    const auto vn = sub3(atom_d(tp, t, i, kN), ca);
    const double proj = dot3(vn, ex);
    const auto ey = normalized({vn[0] - proj * ex[0], vn[1] - proj * ex[1], vn[2] - proj * ex[2]});
    const std::array<double, 3> ez = {ex[1] * ey[2] - ex[2] * ey[1], ex[2] * ey[0] - ex[0] * ey[2],
                                      ex[0] * ey[1] - ex[1] * ey[0]};
    for (int64_t j = 0; j < L; ++j) {
      double* f = &out[(i * L + j) * F];
      double d2 = 0;
      for (int d = 0; d < 3; ++d) {
        const double diff = static_cast<double>(pb[(t * L + i) * 3 + d]) - pb[(t * L + j) * 3 + d];
        d2 += diff * diff;
      }
      for (int k = 0; k < nb; ++k) f[k] = (d2 > lower[k] && d2 < upper[k]) ? 1.0 : 0.0;
      f[nb] = static_cast<double>(pbm[t * L + i]) * pbm[t * L + j];
      const int32_t aj = tp.aatype[t * L + j], ai = tp.aatype[t * L + i];
      if (aj >= 0 && aj < 22) f[nb + 1 + aj] = 1.0;       // tile(aatype[None, :, :]): residue j
      if (ai >= 0 && ai < 22) f[nb + 1 + 22 + ai] = 1.0;  // tile(aatype[:, None, :]): residue i
      const double mask_2d = backbone(i) * backbone(j);
      if (cfg.use_template_unit_vector) {
        const auto v = sub3(atom_d(tp, t, j, kCA), ca);
        const double local[3] = {dot3(ex, v), dot3(ey, v), dot3(ez, v)};
        const double inv = 1.0 / std::sqrt(1e-6 + local[0] * local[0] + local[1] * local[1] + local[2] * local[2]);
        for (int d = 0; d < 3; ++d) f[nb + 45 + d] = local[d] * inv * mask_2d;
      }
      f[nb + 48] = mask_2d;
      for (int64_t c = 0; c < F; ++c) f[c] *= mask_2d;
    }
  }
  return out;
}

// The template pair stack, block by block (Alg. 16 order).
void reference_pair_stack(const model::Scope& stack, const model::TemplatePairStackConfig& cfg, int64_t L,
                          const Vec& mask, Vec& act) {
  const int ct = static_cast<int>(act.size() / (L * L));
  const auto start = model::ModelConfig::resolved(cfg.triangle_attention_starting, ct, ct);
  const auto end = model::ModelConfig::resolved(cfg.triangle_attention_ending, ct, ct);
  for (int b = 0; b < cfg.num_block; ++b) {
    const model::Scope blk = stack.block(b);
    reference::triangle_attention(blk.sub("triangle_attention_starting_node"), start, false, L, mask, act);
    reference::triangle_attention(blk.sub("triangle_attention_ending_node"), end, true, L, mask, act);
    reference::triangle_multiplication(blk.sub("triangle_multiplication_outgoing"), true, L, mask, act);
    reference::triangle_multiplication(blk.sub("triangle_multiplication_incoming"), false, L, mask, act);
    reference::transition(blk.sub("pair_transition"), act, ct);
  }
}

// TemplateEmbedding over ALL templates (masked ones included, as AlphaFold does); returns the updated pair.
Vec reference_embedding(const model::Scope& scope, const model::TemplateConfig& tc, const Templates& tp,
                        const Vec& pair, const Vec& mask) {
  const int64_t L = tp.L, T = tp.T, cz = static_cast<int64_t>(pair.size()) / (L * L);
  const int64_t ct = tc.num_channels(), F = tc.dgram_features.num_bins + 49;
  const model::Scope single = scope.sub("single_template_embedding");
  std::vector<Vec> reps;
  for (int64_t t = 0; t < T; ++t) {
    Vec act = reference::linear(single.sub("embedding2d"), reference_features(tc, tp, t), F);
    reference_pair_stack(single.sub("template_pair_stack").sub("__layer_stack_no_state"), tc.template_pair_stack, L,
                         mask, act);
    reps.push_back(reference::layer_norm(single.sub("output_layer_norm"), act, ct));
  }
  Vec memory(static_cast<size_t>(L * L * T * ct));
  for (int64_t n = 0; n < L * L; ++n)
    for (int64_t t = 0; t < T; ++t)
      for (int64_t c = 0; c < ct; ++c) memory[(n * T + t) * ct + c] = reps[t][n * ct + c];
  Vec update(pair.size(), 0.0);
  const auto att = model::ModelConfig::resolved(tc.attention, static_cast<int>(cz), static_cast<int>(ct));
  reference::attention_add(scope.sub("attention"), att, L * L, 1, T, pair, cz, memory, ct,
                           [&](int64_t, int64_t t) { return static_cast<double>(tp.mask[t]); }, nullptr, update, cz);
  double mask_sum = 0;
  for (float m : tp.mask) mask_sum += m;
  Vec out = pair;
  if (mask_sum > 0)
    for (size_t e = 0; e < out.size(); ++e) out[e] += update[e];
  return out;
}

// ---- Fixture and helpers -----------------------------------------------------------------------------------------

bool all_finite(const Tensor& t) {
  for (float v : t.to_vector())
    if (!std::isfinite(v)) return false;
  return true;
}

Tensor pair_mask(int64_t L, uint64_t seed) {
  Tensor m = random_mask({L, L}, seed, 0.7f);
  for (int64_t i = 0; i < L; ++i) m.data<float>()[i * L + i] = 1.f;
  return m;
}

std::vector<double> minus(const std::vector<double>& a, const std::vector<double>& b) {
  std::vector<double> d(a.size());
  for (size_t i = 0; i < a.size(); ++i) d[i] = a[i] - b[i];
  return d;
}

const std::string kTemplateScope = std::string(model::kRootScope) + "/evoformer/template_embedding";

model::ModelConfig config_with_template_gating(bool gating) {
  model::ModelConfig c = small_config();
  c.templates.attention.gating = gating;
  return c;
}

struct Fixture {
  std::unique_ptr<backend::Backend> backend = backend::make_cpu_backend();
  parallel::SelfCommunicator comm;
  runtime::ExecutionContext ctx{*backend, comm};
  model::ModelConfig cfg;
  model::Params params;

  explicit Fixture(model::ModelConfig config = small_config()) : cfg(std::move(config)) {
    EXPECT_TRUE(cfg.templates.enabled);
    add_random_params(params, cfg, kTemplateScope, 101);
  }
  model::Scope scope() const { return model::Scope(params, kTemplateScope); }
  model::Scope stack_scope() const {
    return scope().sub("single_template_embedding").sub("template_pair_stack").sub("__layer_stack_no_state");
  }
  void set_chunks(int64_t chunk) {
    runtime::ChunkConfig c;
    c.pair_rows = chunk;
    c.template_rows = chunk;
    ctx.set_chunks(c);
  }
  // Without a cache: the pointwise attention streamed over the templates.
  Tensor embed(const model::TemplateConfig& tc, const Templates& tp, const Tensor& pair, const Tensor& mask) {
    Tensor act = pair.clone();
    model::template_embedding_add(ctx, scope(), tc, tp.batch(), mask, act);
    return act;
  }
  // With a (fresh) cache: the stack of all present templates, then the batched pointwise attention.
  Tensor embed_batched(const model::TemplateConfig& tc, const Templates& tp, const Tensor& pair, const Tensor& mask,
                       model::TemplateStackCache* cache = nullptr) {
    model::TemplateStackCache fresh;
    Tensor act = pair.clone();
    model::template_embedding_add(ctx, scope(), tc, tp.batch(), mask, act, cache ? cache : &fresh);
    return act;
  }
};

// ---- Tests --------------------------------------------------------------------------------------------------------

TEST(TemplatePairFeatures, MatchLiteralConstructionInAlphaFoldOrder) {
  model::TemplateConfig tc = small_config().templates;
  ASSERT_EQ(tc.dgram_features.num_bins + 49, model::kTemplatePairFeatures);
  const Templates tp = random_templates(2, 8, 7);
  const model::TemplateBatch batch = tp.batch();
  for (bool unit : {false, true}) {
    tc.use_template_unit_vector = unit;
    for (int64_t t = 0; t < tp.T; ++t) {
      const Vec want = reference_features(tc, tp, t);
      const int64_t L = tp.L, F = model::kTemplatePairFeatures;
      const std::vector<std::pair<int64_t, int64_t>> ranges = {{0, L}, {2, 5}, {7, 8}};
      for (const auto& [b, e] : ranges) {
        const Tensor got = model::template_pair_features(tc, batch, t, b, e);
        ASSERT_EQ(got.shape(), Shape({e - b, L, F}));
        const Vec want_rows(want.begin() + b * L * F, want.begin() + e * L * F);
        const Vec g = to_doubles(got);
        double err = 0;
        for (size_t k = 0; k < g.size(); ++k) err = std::max(err, std::fabs(g[k] - want_rows[k]));
        EXPECT_LT(err, 1e-5) << "template " << t << " rows [" << b << ", " << e << ") unit vector " << unit;
      }
    }
  }
  // The dgram of these chains covers several bins, and the masked residue's features are all zero.
  tc.use_template_unit_vector = true;
  const Vec f0 = reference_features(tc, tp, 0);
  std::set<int> bins;
  for (int64_t n = 0; n < tp.L * tp.L; ++n)
    for (int k = 0; k < tc.dgram_features.num_bins; ++k)
      if (f0[n * model::kTemplatePairFeatures + k] != 0) bins.insert(k);
  EXPECT_GE(bins.size(), 6u);
  const Tensor row2 = model::template_pair_features(tc, batch, 0, 2, 3);  // residue 2 lacks N
  EXPECT_EQ(max_abs(to_doubles(row2)), 0.0);
}

TEST(TemplatePairStack, MatchesLiteralAlgorithmAndChunking) {
  Fixture f;
  const int64_t L = 7, ct = f.cfg.templates.num_channels();
  const Tensor act0 = random_tensor({L, L, ct}, 111);
  const Tensor mask = pair_mask(L, 112);
  Vec want = to_doubles(act0);
  reference_pair_stack(f.stack_scope(), f.cfg.templates.template_pair_stack, L, to_doubles(mask), want);
  Tensor first;
  for (int64_t chunk : {0, 1, 2, 3}) {
    f.set_chunks(chunk);
    Tensor act = act0.clone();
    model::template_pair_stack(f.ctx, f.stack_scope(), f.cfg.templates.template_pair_stack, act, mask);
    EXPECT_TRUE(all_finite(act));
    EXPECT_LT(max_rel_error(to_doubles(act), want), 1e-5) << "chunk " << chunk;
    if (chunk == 0) first = act;
    EXPECT_LT(max_rel_error(to_doubles(act), to_doubles(first)), 1e-6) << "chunk " << chunk << " vs unchunked";
  }
}

TEST(TemplatePairStack, PaddingIsMaskedOut) {
  Fixture f;
  const int64_t L = 6, Lp = 8, ct = f.cfg.templates.num_channels();
  const Tensor act0 = random_tensor({L, L, ct}, 121);
  const Tensor mask = pair_mask(L, 122);
  Tensor padded = random_tensor({Lp, Lp, ct}, 123, 100.f), padded_mask = Tensor::zeros({Lp, Lp});
  for (int64_t i = 0; i < L; ++i)
    for (int64_t j = 0; j < L; ++j) {
      padded_mask.data<float>()[i * Lp + j] = mask.data<float>()[i * L + j];
      for (int64_t c = 0; c < ct; ++c) padded.data<float>()[(i * Lp + j) * ct + c] = act0.data<float>()[(i * L + j) * ct + c];
    }
  f.set_chunks(3);
  Tensor act = act0.clone();
  model::template_pair_stack(f.ctx, f.stack_scope(), f.cfg.templates.template_pair_stack, act, mask);
  model::template_pair_stack(f.ctx, f.stack_scope(), f.cfg.templates.template_pair_stack, padded, padded_mask);
  EXPECT_TRUE(all_finite(padded));
  EXPECT_LT(max_rel_error(to_doubles(padded.slice(0, 0, L).slice(1, 0, L)), to_doubles(act)), 1e-5);
}

TEST(TemplateEmbedding, MatchesLiteralAlgorithmAndChunking) {
  Fixture f;
  const int64_t L = 7, cz = f.cfg.pair_channel;
  Templates tp = random_templates(3, L, 131);
  tp.mask = {1.f, 0.f, 1.f};  // the reference attends over all three with key mask; the module skips template 1
  const Tensor pair = random_tensor({L, L, cz}, 132);
  const Tensor mask = pair_mask(L, 133);
  for (bool unit : {false, true}) {
    model::TemplateConfig tc = f.cfg.templates;
    tc.use_template_unit_vector = unit;
    const Vec want = minus(reference_embedding(f.scope(), tc, tp, to_doubles(pair), to_doubles(mask)),
                           to_doubles(pair));
    ASSERT_GT(max_abs(want), 1e-2);
    for (int64_t chunk : {0, 1, 2, 3}) {
      f.set_chunks(chunk);
      const Tensor streamed = f.embed(tc, tp, pair, mask);
      const Tensor batched = f.embed_batched(tc, tp, pair, mask);
      EXPECT_TRUE(all_finite(streamed));
      EXPECT_TRUE(all_finite(batched));
      EXPECT_LT(max_rel_error(minus(to_doubles(streamed), to_doubles(pair)), want), 1e-5)
          << "streamed, unit vector " << unit << " chunk " << chunk;
      EXPECT_LT(max_rel_error(minus(to_doubles(batched), to_doubles(pair)), want), 1e-5)
          << "batched, unit vector " << unit << " chunk " << chunk;
    }
  }
}

// The pointwise attention streamed over the templates (an online softmax per (i, j, head), no template cache)
// equals the batched attention over the cached stack and the literal reference: several templates with a masked
// one between them, one present template among masked ones, a single template, and a gated attention (AlphaFold's
// template attention has no gate; the streamed path supports one as the batched path does).
TEST(TemplateEmbedding, StreamedOverTemplatesEqualsBatchedAttention) {
  struct Case {
    const char* name;
    int64_t T, L;
    std::vector<float> mask;
    bool gating;
    int64_t chunk;
  };
  const std::vector<Case> cases = {
      {"four templates, the second masked", 4, 7, {1.f, 0.f, 1.f, 1.f}, false, 3},
      {"one present template among masked ones", 3, 6, {0.f, 1.f, 0.f}, false, 0},
      {"a single template", 1, 5, {1.f}, false, 2},
      {"gated attention, one masked", 3, 6, {1.f, 1.f, 0.f}, true, 4},
  };
  uint64_t seed = 180;
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    Fixture f(config_with_template_gating(c.gating));
    Templates tp = random_templates(c.T, c.L, seed += 3);
    tp.mask = c.mask;
    const Tensor pair = random_tensor({c.L, c.L, f.cfg.pair_channel}, seed + 1);
    const Tensor mask = pair_mask(c.L, seed + 2);
    model::TemplateConfig tc = f.cfg.templates;
    tc.use_template_unit_vector = true;
    const Vec want = minus(reference_embedding(f.scope(), tc, tp, to_doubles(pair), to_doubles(mask)),
                           to_doubles(pair));
    ASSERT_GT(max_abs(want), 1e-2);
    f.set_chunks(c.chunk);
    const Vec streamed = minus(to_doubles(f.embed(tc, tp, pair, mask)), to_doubles(pair));
    const Vec batched = minus(to_doubles(f.embed_batched(tc, tp, pair, mask)), to_doubles(pair));
    EXPECT_LT(max_rel_error(streamed, batched), 1e-5);
    EXPECT_LT(max_rel_error(streamed, want), 1e-5);
    EXPECT_LT(max_rel_error(batched, want), 1e-5);
  }
}

// --offload-pair: the pair's contents wait in host memory during the template stage and its buffer holds the
// template representation (front) and the softmax accumulator (back); the result equals the streamed one with the
// pair on the device (the update is added after the rows come back, so to rounding), chunked or not, gated or not.
TEST(TemplateEmbedding, OffloadedPairEqualsStreamedOnDevice) {
  for (bool gating : {false, true}) {
    SCOPED_TRACE(gating ? "gated" : "not gated");
    Fixture f(config_with_template_gating(gating));
    const model::TemplateConfig tc = f.cfg.templates;
    const int64_t L = 9, cz = f.cfg.pair_channel, ct = tc.num_channels();
    const model::AttentionConfig att =
        model::ModelConfig::resolved(tc.attention, static_cast<int>(cz), static_cast<int>(ct));
    ASSERT_LE(ct + att.value_dim, cz) << "the pair's buffer must hold the representation and the accumulator";
    Templates tp = random_templates(3, L, 301);
    tp.mask = {1.f, 0.f, 1.f};
    const Tensor pair = random_tensor({L, L, cz}, 302);
    const Tensor mask = pair_mask(L, 303);
    for (int64_t chunk : {0, 2, 4}) {
      SCOPED_TRACE("chunk " + std::to_string(chunk));
      f.set_chunks(chunk);
      const Tensor on_device = f.embed(tc, tp, pair, mask);
      ASSERT_GT(max_abs(minus(to_doubles(on_device), to_doubles(pair))), 1e-2);
      runtime::bench::CountingBackend counting(*f.backend);
      runtime::ChunkConfig c = f.ctx.chunks();
      c.offload_pair = true;
      runtime::ExecutionContext ctx(counting, f.comm, c);
      Tensor act = pair.clone();
      model::template_embedding_add(ctx, f.scope(), tc, tp.batch(), mask, act);
      EXPECT_LT(max_rel_error(minus(to_doubles(act), to_doubles(pair)), minus(to_doubles(on_device), to_doubles(pair))),
                1e-5);
      // The pair went to the host once and came back for q of each of the 2 present templates, the gate and the
      // restore.
      const double pair_bytes = static_cast<double>(L * L * cz * sizeof(float));
      EXPECT_GE(counting.tallies().download_bytes, pair_bytes);
      EXPECT_GE(counting.tallies().upload_bytes, (gating ? 4 : 3) * pair_bytes);
    }
  }
}

// A filled cache is reused (the stack does not run again) and gives the fresh batched result bit for bit.
TEST(TemplateEmbedding, CachedStackReusedBitForBit) {
  Fixture f;
  const int64_t L = 6, cz = f.cfg.pair_channel;
  Templates tp = random_templates(3, L, 191);
  tp.mask = {1.f, 0.f, 1.f};
  const Tensor pair = random_tensor({L, L, cz}, 192);
  const Tensor mask = pair_mask(L, 193);
  f.set_chunks(4);
  model::TemplateStackCache cache;
  const Tensor first = f.embed_batched(f.cfg.templates, tp, pair, mask, &cache);
  ASSERT_TRUE(cache.valid());
  EXPECT_EQ(cache.reps.shape(), Shape({2, L, L, f.cfg.templates.num_channels()}));
  const void* reps = cache.reps.raw_data();
  const Tensor again = f.embed_batched(f.cfg.templates, tp, pair, mask, &cache);
  EXPECT_EQ(cache.reps.raw_data(), reps);
  EXPECT_EQ(again.to_vector(), first.to_vector());
  EXPECT_EQ(f.embed_batched(f.cfg.templates, tp, pair, mask).to_vector(), first.to_vector());
}

TEST(TemplateEmbedding, MaskedTemplateChangesNothing) {
  Fixture f;
  const int64_t L = 6, cz = f.cfg.pair_channel;
  const Templates two = random_templates(2, L, 141);
  // The same two templates with a third, masked one in between that holds garbage coordinates.
  Templates three = random_templates(3, L, 142);
  for (int64_t t : {0, 2}) {
    const int64_t src = t == 0 ? 0 : 1;
    std::copy_n(&two.aatype[src * L], L, &three.aatype[t * L]);
    std::copy_n(&two.pos[src * L * kAtoms * 3], L * kAtoms * 3, &three.pos[t * L * kAtoms * 3]);
    std::copy_n(&two.atom_mask[src * L * kAtoms], L * kAtoms, &three.atom_mask[t * L * kAtoms]);
  }
  for (int64_t n = L * kAtoms * 3; n < 2 * L * kAtoms * 3; ++n) three.pos[n] *= 1000.f;
  three.mask = {1.f, 0.f, 1.f};
  const Tensor pair = random_tensor({L, L, cz}, 143);
  const Tensor mask = pair_mask(L, 144);
  f.set_chunks(2);
  const Tensor a = f.embed(f.cfg.templates, two, pair, mask);
  const Tensor b = f.embed(f.cfg.templates, three, pair, mask);
  EXPECT_TRUE(all_finite(b));
  EXPECT_LT(max_rel_error(minus(to_doubles(b), to_doubles(pair)), minus(to_doubles(a), to_doubles(pair))), 1e-6);
}

TEST(TemplateEmbedding, AllMaskedOrNoTemplatesAddNothing) {
  Fixture f;
  const int64_t L = 5, cz = f.cfg.pair_channel;
  Templates tp = random_templates(2, L, 151);
  tp.mask = {0.f, 0.f};
  const Tensor pair = random_tensor({L, L, cz}, 152);
  const Tensor mask = pair_mask(L, 153);
  f.set_chunks(0);
  EXPECT_EQ(f.embed(f.cfg.templates, tp, pair, mask).to_vector(), pair.to_vector());
  // The literal reference agrees: AlphaFold multiplies the embedding by (sum(template_mask) > 0).
  EXPECT_EQ(reference_embedding(f.scope(), f.cfg.templates, tp, to_doubles(pair), to_doubles(mask)),
            to_doubles(pair));
  Templates none;
  EXPECT_EQ(f.embed(f.cfg.templates, none, pair, mask).to_vector(), pair.to_vector());
}

TEST(TemplateEmbedding, InvariantToRigidMotionOfTemplates) {
  Fixture f;
  const int64_t L = 7, cz = f.cfg.pair_channel;
  const Templates tp = random_templates(2, L, 161);
  Templates moved = tp;
  rigid_motion(moved, 162);
  const Tensor pair = random_tensor({L, L, cz}, 163);
  const Tensor mask = pair_mask(L, 164);
  f.set_chunks(3);
  for (bool unit : {false, true}) {
    model::TemplateConfig tc = f.cfg.templates;
    tc.use_template_unit_vector = unit;
    const Vec a = minus(to_doubles(f.embed(tc, tp, pair, mask)), to_doubles(pair));
    const Vec b = minus(to_doubles(f.embed(tc, moved, pair, mask)), to_doubles(pair));
    EXPECT_LT(max_rel_error(b, a), 1e-5) << "unit vector " << unit;
  }
  // The unit-vector features themselves are invariant (they live in each residue's backbone frame).
  model::TemplateConfig tc = f.cfg.templates;
  tc.use_template_unit_vector = true;
  const Vec fa = to_doubles(model::template_pair_features(tc, tp.batch(), 1, 0, L));
  const Vec fb = to_doubles(model::template_pair_features(tc, moved.batch(), 1, 0, L));
  double err = 0;
  for (size_t k = 0; k < fa.size(); ++k) err = std::max(err, std::fabs(fa[k] - fb[k]));
  EXPECT_LT(err, 1e-5);
}

TEST(TemplateEmbedding, PaddingIsMaskedOut) {
  Fixture f;
  const int64_t L = 6, Lp = 8, cz = f.cfg.pair_channel;
  const Templates tp = random_templates(2, L, 171);
  // Padded copy: extra residues with garbage coordinates and aatype, atom masks 0; garbage pair values, seq mask 0.
  Templates padded = random_templates(2, Lp, 172);
  for (float& p : padded.pos) p *= 50.f;
  std::fill(padded.atom_mask.begin(), padded.atom_mask.end(), 0.f);
  for (int64_t t = 0; t < 2; ++t) {
    for (int64_t i = L; i < Lp; ++i) padded.aatype[t * Lp + i] = 21;
    std::copy_n(&tp.aatype[t * L], L, &padded.aatype[t * Lp]);
    std::copy_n(&tp.pos[t * L * kAtoms * 3], L * kAtoms * 3, &padded.pos[t * Lp * kAtoms * 3]);
    std::copy_n(&tp.atom_mask[t * L * kAtoms], L * kAtoms, &padded.atom_mask[t * Lp * kAtoms]);
  }
  const Tensor pair = random_tensor({L, L, cz}, 173);
  Tensor pair_p = random_tensor({Lp, Lp, cz}, 174, 100.f);
  Tensor mask = Tensor::full({L, L}, 1.f), mask_p = Tensor::zeros({Lp, Lp});
  for (int64_t i = 0; i < L; ++i)
    for (int64_t j = 0; j < L; ++j) {
      mask_p.data<float>()[i * Lp + j] = 1.f;
      for (int64_t c = 0; c < cz; ++c) pair_p.data<float>()[(i * Lp + j) * cz + c] = pair.data<float>()[(i * L + j) * cz + c];
    }
  for (bool unit : {false, true}) {
    model::TemplateConfig tc = f.cfg.templates;
    tc.use_template_unit_vector = unit;
    for (int64_t chunk : {0, 3}) {
      f.set_chunks(chunk);
      const Tensor a = f.embed(tc, tp, pair, mask);
      const Tensor b = f.embed(tc, padded, pair_p, mask_p);
      EXPECT_TRUE(all_finite(b));
      EXPECT_LT(max_rel_error(minus(to_doubles(b.slice(0, 0, L).slice(1, 0, L)), to_doubles(pair)),
                              minus(to_doubles(a), to_doubles(pair))),
                1e-5)
          << "unit vector " << unit << " chunk " << chunk;
    }
  }
}

}  // namespace
}  // namespace axf::test
