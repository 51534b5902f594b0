// Invariant point attention (Suppl. Alg. 22) against a literal double-precision implementation with AlphaFold's
// constants and feature order (folding.py), invariance under a global rigid motion, and masking.
#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <vector>

#include "core/random.h"
#include "model/invariant_point_attention.h"
#include "model/rigid.h"
#include "support/model_test_support.h"
#include "support/reference_modules.h"

namespace axf::test {

namespace {

// The frames as the module takes them: QuatAffine.to_tensor rows [L, 7].
Tensor affine_rows(const std::vector<model::QuatAffine>& frames) {
  Tensor t = Tensor::empty({static_cast<int64_t>(frames.size()), 7});
  for (size_t i = 0; i < frames.size(); ++i) frames[i].to_tensor(t.data<float>() + i * 7);
  return t;
}

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
    model::invariant_point_attention_add(ctx, scope(), cfg.structure_module, a, terms, m, affine_rows(frames), out);
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
  model::invariant_point_attention_add(ctx, c.scope(), c.cfg.structure_module, c.act, terms, c.mask,
                                       affine_rows(c.affines), residual);
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
