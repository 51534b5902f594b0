// Invariant point attention (Suppl. Alg. 22) against a literal double-precision implementation with AlphaFold's
// constants and feature order (folding.py), invariance under a global rigid motion, and masking.
#include <gtest/gtest.h>

#include <array>
#include <cmath>

#include "core/random.h"
#include "model/invariant_point_attention.h"
#include "support/model_test_support.h"

namespace axf::test {

// Literal Suppl. Alg. 22 in double, AlphaFold's variant (folding.InvariantPointAttention): Linear layers with bias,
// logits w_L (1/sqrt(c) q.k + b - gamma w_C / 2 sum_p |T_i q_p - T_j k_p|^2) - 1e5 (1 - m_i m_j), output features
// concatenated as [scalar | local points x | y | z | point norms (eps 1e-8) | pair], output_projection with bias.
// act [L, c_s], pair [L, L, c_z] (already layer-normed), quats (w, x, y, z) unit, trans [L, 3]. Returns [L, c_s].
// Also used by test_structure_module.cpp.
std::vector<double> ipa_reference(const model::Scope& s, const model::StructureModuleConfig& c, int64_t L, int64_t cz,
                                  const std::vector<double>& act, const std::vector<double>& pair,
                                  const std::vector<double>& mask, const std::vector<std::array<double, 4>>& quats,
                                  const std::vector<std::array<double, 3>>& trans) {
  const int64_t H = c.num_head, C = c.num_scalar_qk, V = c.num_scalar_v, P = c.num_point_qk, PV = c.num_point_v;
  const int64_t cs = c.num_channel;
  auto lin = [&](const std::string& name, const std::vector<double>& x, int64_t rows) {
    const auto w = to_doubles(s.sub(name)["weights"]), b = to_doubles(s.sub(name)["bias"]);
    const int64_t cout = static_cast<int64_t>(b.size()), cin = static_cast<int64_t>(w.size()) / cout;
    std::vector<double> y(static_cast<size_t>(rows * cout));
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t o = 0; o < cout; ++o) {
        double acc = b[o];
        for (int64_t i = 0; i < cin; ++i) acc += x[r * cin + i] * w[i * cout + o];
        y[r * cout + o] = acc;
      }
    return y;
  };
  // Line 1-3: scalar and local point projections, pair bias.
  const auto q_s = lin("q_scalar", act, L), kv_s = lin("kv_scalar", act, L);
  const auto q_pl = lin("q_point_local", act, L), kv_pl = lin("kv_point_local", act, L);
  const auto bias = lin("attention_2d", pair, L * L);
  auto q = [&](int64_t i, int64_t h, int64_t k) { return q_s[(i * H + h) * C + k]; };
  auto key = [&](int64_t i, int64_t h, int64_t k) { return kv_s[(i * H + h) * (C + V) + k]; };
  auto val = [&](int64_t i, int64_t h, int64_t k) { return kv_s[(i * H + h) * (C + V) + C + k]; };
  // T_i o x: rotation of the unit quaternion (textbook form) and translation.
  auto apply = [&](int64_t i, const double x[3], double out[3]) {
    const double w = quats[i][0], a = quats[i][1], b = quats[i][2], d = quats[i][3];
    const double r[9] = {1 - 2 * (b * b + d * d), 2 * (a * b - w * d),     2 * (a * d + w * b),
                         2 * (a * b + w * d),     1 - 2 * (a * a + d * d), 2 * (b * d - w * a),
                         2 * (a * d - w * b),     2 * (b * d + w * a),     1 - 2 * (a * a + b * b)};
    for (int e = 0; e < 3; ++e) out[e] = r[e * 3] * x[0] + r[e * 3 + 1] * x[1] + r[e * 3 + 2] * x[2] + trans[i][e];
  };
  auto invert = [&](int64_t i, const double x[3], double out[3]) {
    const double w = quats[i][0], a = quats[i][1], b = quats[i][2], d = quats[i][3];
    const double r[9] = {1 - 2 * (b * b + d * d), 2 * (a * b - w * d),     2 * (a * d + w * b),
                         2 * (a * b + w * d),     1 - 2 * (a * a + d * d), 2 * (b * d - w * a),
                         2 * (a * d - w * b),     2 * (b * d + w * a),     1 - 2 * (a * a + b * b)};
    const double y[3] = {x[0] - trans[i][0], x[1] - trans[i][1], x[2] - trans[i][2]};
    for (int e = 0; e < 3; ++e) out[e] = r[e] * y[0] + r[3 + e] * y[1] + r[6 + e] * y[2];
  };
  // Local point p of head h: the projection is split into x, y, z thirds (jnp.split(..., 3, axis=-1)).
  auto q_point = [&](int64_t i, int64_t h, int64_t p, double out[3]) {
    double x[3];
    for (int e = 0; e < 3; ++e) x[e] = q_pl[i * 3 * H * P + e * H * P + h * P + p];
    apply(i, x, out);
  };
  auto kv_point = [&](int64_t i, int64_t h, int64_t p, double out[3]) {  // p < P: key, p >= P: value P - p
    double x[3];
    for (int e = 0; e < 3; ++e) x[e] = kv_pl[i * 3 * H * (P + PV) + e * H * (P + PV) + h * (P + PV) + p];
    apply(i, x, out);
  };

  // Line 4: weights.
  const double w_c = std::sqrt(2.0 / (9.0 * P)), w_l = std::sqrt(1.0 / 3.0);
  const auto tpw = to_doubles(s["trainable_point_weights"]);
  const int64_t F = H * (V + 4 * PV + cz);
  std::vector<double> features(static_cast<size_t>(L * F));
  std::vector<double> a(static_cast<size_t>(L));
  for (int64_t i = 0; i < L; ++i) {
    for (int64_t h = 0; h < H; ++h) {
      const double gamma = std::log(1.0 + std::exp(tpw[h]));
      // Line 5.
      double mx = -1e300;
      for (int64_t j = 0; j < L; ++j) {
        double qk = 0;
        for (int64_t k = 0; k < C; ++k) qk += q(i, h, k) * key(j, h, k);
        double d2 = 0;
        for (int64_t p = 0; p < P; ++p) {
          double qg[3], kg[3];
          q_point(i, h, p, qg);
          kv_point(j, h, p, kg);
          for (int e = 0; e < 3; ++e) d2 += (qg[e] - kg[e]) * (qg[e] - kg[e]);
        }
        a[j] = w_l * (qk / std::sqrt(static_cast<double>(C)) + bias[(i * L + j) * H + h] - gamma * w_c / 2 * d2) -
               1e5 * (1 - mask[i] * mask[j]);
        mx = std::max(mx, a[j]);
      }
      double sum = 0;
      for (int64_t j = 0; j < L; ++j) sum += (a[j] = std::exp(a[j] - mx));
      for (int64_t j = 0; j < L; ++j) a[j] /= sum;
      // Lines 6-8, placed in AlphaFold's concatenation order.
      double* f = &features[i * F];
      for (int64_t k = 0; k < V; ++k) {
        double o = 0;
        for (int64_t j = 0; j < L; ++j) o += a[j] * val(j, h, k);
        f[h * V + k] = o;
      }
      for (int64_t p = 0; p < PV; ++p) {
        double g[3] = {0, 0, 0}, local[3];
        for (int64_t j = 0; j < L; ++j) {
          double vg[3];
          kv_point(j, h, P + p, vg);
          for (int e = 0; e < 3; ++e) g[e] += a[j] * vg[e];
        }
        invert(i, g, local);
        for (int e = 0; e < 3; ++e) f[H * V + e * H * PV + h * PV + p] = local[e];
        f[H * V + 3 * H * PV + h * PV + p] =
            std::sqrt(1e-8 + local[0] * local[0] + local[1] * local[1] + local[2] * local[2]);
      }
      for (int64_t k = 0; k < cz; ++k) {
        double o = 0;
        for (int64_t j = 0; j < L; ++j) o += a[j] * pair[(i * L + j) * cz + k];
        f[H * V + 4 * H * PV + h * cz + k] = o;
      }
    }
  }
  std::vector<double> out = lin("output_projection", features, L);
  EXPECT_EQ(static_cast<int64_t>(out.size()), L * cs);
  return out;
}

namespace {

struct IpaCase {
  model::ModelConfig cfg = small_config();
  model::Params params;
  std::string prefix = std::string(model::kRootScope) + "/structure_module/fold_iteration/invariant_point_attention";
  int64_t L = 7;
  Tensor act, pair, mask;
  std::vector<model::QuatAffine> affines;

  IpaCase() {
    add_random_params(params, cfg, prefix, 21);
    act = random_tensor({L, cfg.structure_module.num_channel}, 22);
    pair = random_tensor({L, L, cfg.pair_channel}, 23);
    mask = Tensor::full({L}, 1.f);
    mask.data<float>()[4] = 0.f;
    core::Random rng(24);
    for (int64_t i = 0; i < L; ++i) {
      model::Quat4f q{};
      for (float& x : q) x = static_cast<float>(rng.normal());
      model::Vec3f t{};
      for (float& x : t) x = static_cast<float>(1.5 * rng.normal());
      affines.push_back(model::QuatAffine::from_quaternion(q, t));
    }
  }
  model::Scope scope() const { return model::Scope(params, prefix); }

  std::vector<double> run(runtime::ExecutionContext& ctx, const Tensor& a, const Tensor& p, const Tensor& m,
                          const std::vector<model::QuatAffine>& frames) const {
    const model::IpaPairTerms terms = model::ipa_pair_terms(ctx, scope(), cfg.structure_module, p);
    Tensor out = Tensor::zeros(a.shape());
    model::invariant_point_attention_add(ctx, scope(), cfg.structure_module, a, terms, m, frames, out);
    return to_doubles(out);
  }

  std::vector<double> reference() const {
    std::vector<std::array<double, 4>> q;
    std::vector<std::array<double, 3>> t;
    for (const auto& f : affines) {
      q.push_back({f.quaternion[0], f.quaternion[1], f.quaternion[2], f.quaternion[3]});
      t.push_back({f.translation[0], f.translation[1], f.translation[2]});
    }
    return ipa_reference(scope(), cfg.structure_module, L, cfg.pair_channel, to_doubles(act), to_doubles(pair),
                         to_doubles(mask), q, t);
  }
};

TEST(InvariantPointAttention, MatchesLiteralAlgorithm22) {
  auto backend = backend::make_cpu_backend();
  parallel::SelfCommunicator comm;
  runtime::ExecutionContext ctx(*backend, comm);
  IpaCase c;
  const auto want = c.reference();
  const auto got = c.run(ctx, c.act, c.pair, c.mask, c.affines);
  EXPECT_LT(max_rel_error(got, want), 1e-5);

  // The output is added to the residual.
  const model::IpaPairTerms terms = model::ipa_pair_terms(ctx, c.scope(), c.cfg.structure_module, c.pair);
  Tensor residual = c.act.clone();
  model::invariant_point_attention_add(ctx, c.scope(), c.cfg.structure_module, c.act, terms, c.mask, c.affines,
                                       residual);
  std::vector<double> want_sum = to_doubles(c.act);
  for (size_t k = 0; k < want_sum.size(); ++k) want_sum[k] += want[k];
  EXPECT_LT(max_rel_error(to_doubles(residual), want_sum), 1e-5);
}

TEST(InvariantPointAttention, InvariantUnderGlobalRigidMotion) {
  auto backend = backend::make_cpu_backend();
  parallel::SelfCommunicator comm;
  runtime::ExecutionContext ctx(*backend, comm);
  IpaCase c;
  const auto base = c.run(ctx, c.act, c.pair, c.mask, c.affines);
  // T_i -> T_g o T_i for one rotation (quaternion q_g) and translation t_g.
  const model::QuatAffine g = model::QuatAffine::from_quaternion({0.4f, -0.7f, 0.2f, 0.55f}, {3.f, -8.f, 5.5f});
  std::vector<model::QuatAffine> moved;
  for (const auto& f : c.affines)
    moved.push_back(model::QuatAffine::from_quaternion(model::quat_multiply(g.quaternion, f.quaternion),
                                                       g.apply_to_point(f.translation)));
  EXPECT_LT(max_rel_error(c.run(ctx, c.act, c.pair, c.mask, moved), base), 1e-5);
}

TEST(InvariantPointAttention, MaskedResidueDoesNotLeak) {
  auto backend = backend::make_cpu_backend();
  parallel::SelfCommunicator comm;
  runtime::ExecutionContext ctx(*backend, comm);
  IpaCase c;
  const int64_t bad = 4, L = c.L, cz = c.cfg.pair_channel, cs = c.cfg.structure_module.num_channel;
  const auto base = c.run(ctx, c.act, c.pair, c.mask, c.affines);
  // Garbage features, pair row/column and frame for the masked residue.
  Tensor act = c.act.clone(), pair = c.pair.clone();
  const Tensor noise = random_tensor({L * cz + cs}, 99, 30.f);
  for (int64_t k = 0; k < cs; ++k) act.data<float>()[bad * cs + k] = noise.data<float>()[k];
  for (int64_t j = 0; j < L; ++j)
    for (int64_t k = 0; k < cz; ++k) {
      pair.data<float>()[(bad * L + j) * cz + k] = noise.data<float>()[cs + j * cz + k];
      pair.data<float>()[(j * L + bad) * cz + k] = -noise.data<float>()[cs + j * cz + k];
    }
  std::vector<model::QuatAffine> frames = c.affines;
  frames[bad] = model::QuatAffine::from_quaternion({0.1f, 0.9f, -0.3f, 0.2f}, {40.f, -25.f, 60.f});
  const auto got = c.run(ctx, act, pair, c.mask, frames);
  std::vector<double> got_rows, base_rows;
  for (int64_t i = 0; i < L; ++i) {
    if (i == bad) continue;
    for (int64_t k = 0; k < cs; ++k) {
      got_rows.push_back(got[i * cs + k]);
      base_rows.push_back(base[i * cs + k]);
    }
  }
  EXPECT_LT(max_rel_error(got_rows, base_rows), 1e-6);
}

}  // namespace
}  // namespace axf::test
