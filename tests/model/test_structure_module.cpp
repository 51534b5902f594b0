// The structure module (Suppl. Alg. 20 as AlphaFold's generate_affines / FoldIteration / MultiRigidSidechain run it)
// against a literal double-precision implementation of its 8 shared-weight iterations; the all-atom outputs against
// all_atom.h applied to the reference frames and angles; unit quaternions, finiteness and determinism.
#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <cstring>

#include "model/all_atom.h"
#include "model/rigid.h"
#include "model/structure_module.h"
#include "support/model_test_support.h"
#include "support/reference_modules.h"

namespace axf::test {

namespace {

struct Reference {
  std::vector<double> single, trajectory, unnormalized, angles;  // [L, c_s], [layers, L, 7], [L, 14], [L, 14]
};

std::vector<double> linear_ref(const model::Scope& s, const std::vector<double>& x, int64_t rows, bool relu_in) {
  const auto w = to_doubles(s["weights"]), b = to_doubles(s["bias"]);
  const int64_t cout = static_cast<int64_t>(b.size()), cin = static_cast<int64_t>(w.size()) / cout;
  std::vector<double> y(static_cast<size_t>(rows * cout));
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t o = 0; o < cout; ++o) {
      double acc = b[o];
      for (int64_t i = 0; i < cin; ++i) {
        const double v = x[r * cin + i];
        acc += (relu_in ? std::max(0.0, v) : v) * w[i * cout + o];
      }
      y[r * cout + o] = acc;
    }
  return y;
}

// Haiku's names of a repeated module: name, name_1, name_2, ...
std::string haiku_name(std::string name, int index) {
  if (index > 0) name.append("_").append(std::to_string(index));
  return name;
}

std::vector<double> layer_norm_rows(const model::Scope& s, const std::vector<double>& x, int64_t c) {
  const auto g = to_doubles(s["scale"]), b = to_doubles(s["offset"]);
  std::vector<double> y(x.size());
  for (size_t r = 0; r < x.size() / static_cast<size_t>(c); ++r)
    layer_norm_ref(&x[r * c], g.data(), b.data(), c, &y[r * c]);
  return y;
}

Reference reference(const model::Params& params, const model::ModelConfig& cfg, const Tensor& single,
                    const Tensor& pair, const Tensor& seq_mask) {
  const model::StructureModuleConfig& c = cfg.structure_module;
  const model::Scope sm(params, std::string(model::kRootScope) + "/structure_module");
  const model::Scope fi = sm.sub("fold_iteration"), rs = fi.sub("rigid_sidechain");
  const int64_t L = single.size(0), cs = c.num_channel, cz = pair.size(2);
  const auto initial = layer_norm_rows(sm.sub("single_layer_norm"), to_doubles(single), single.size(1));
  auto act = linear_ref(sm.sub("initial_projection"), initial, L, false);
  const auto act_2d = layer_norm_rows(sm.sub("pair_layer_norm"), to_doubles(pair), cz);
  const auto mask = to_doubles(seq_mask);
  std::vector<std::array<double, 4>> q(static_cast<size_t>(L), {1, 0, 0, 0});
  std::vector<std::array<double, 3>> t(static_cast<size_t>(L), {0, 0, 0});
  Reference ref;
  for (int layer = 0; layer < c.num_layer; ++layer) {
    const auto attn = ipa_reference(fi.sub("invariant_point_attention"), c, L, cz, act, act_2d, mask, q, t);
    for (size_t k = 0; k < act.size(); ++k) act[k] += attn[k];
    act = layer_norm_rows(fi.sub("attention_layer_norm"), act, cs);
    auto x = act;
    for (int l = 0; l < c.num_layer_in_transition; ++l) {
      x = linear_ref(fi.sub(haiku_name("transition", l)), x, L, false);
      if (l + 1 < c.num_layer_in_transition)
        for (double& v : x) v = std::max(0.0, v);
    }
    for (size_t k = 0; k < act.size(); ++k) act[k] += x[k];
    act = layer_norm_rows(fi.sub("transition_layer_norm"), act, cs);
    // Alg. 23: q <- normalise(q (1, b, c, d)), t <- t + R(q_old) (tx, ty, tz).
    const auto u = linear_ref(fi.sub("affine_update"), act, L, false);
    for (int64_t i = 0; i < L; ++i) {
      const double* v = &u[i * 6];
      const auto& a = q[i];
      const double w = a[0], x1 = a[1], y1 = a[2], z1 = a[3];
      const double r[9] = {1 - 2 * (y1 * y1 + z1 * z1), 2 * (x1 * y1 - w * z1),       2 * (x1 * z1 + w * y1),
                           2 * (x1 * y1 + w * z1),       1 - 2 * (x1 * x1 + z1 * z1), 2 * (y1 * z1 - w * x1),
                           2 * (x1 * z1 - w * y1),       2 * (y1 * z1 + w * x1),       1 - 2 * (x1 * x1 + y1 * y1)};
      for (int d = 0; d < 3; ++d) t[i][d] += r[d * 3] * v[3] + r[d * 3 + 1] * v[4] + r[d * 3 + 2] * v[5];
      const std::array<double, 4> p{w - x1 * v[0] - y1 * v[1] - z1 * v[2], w * v[0] + x1 + y1 * v[2] - z1 * v[1],
                                    w * v[1] - x1 * v[2] + y1 + z1 * v[0], w * v[2] + x1 * v[1] - y1 * v[0] + z1};
      const double n = std::sqrt(p[0] * p[0] + p[1] * p[1] + p[2] * p[2] + p[3] * p[3]);
      for (int k = 0; k < 4; ++k) q[i][k] = p[k] / n;
      for (int k = 0; k < 4; ++k) ref.trajectory.push_back(q[i][k]);
      for (int d = 0; d < 3; ++d) ref.trajectory.push_back(t[i][d] * c.position_scale);
    }
  }
  ref.single = act;
  // Angle ResNet: sum of Linear(relu(act)) and Linear_1(relu(initial_act)), residual blocks, angles.
  auto a = linear_ref(rs.sub("input_projection"), act, L, true);
  const auto a1 = linear_ref(rs.sub("input_projection_1"), initial, L, true);
  for (size_t k = 0; k < a.size(); ++k) a[k] += a1[k];
  for (int r = 0; r < c.angle_residual_blocks; ++r) {
    const auto h = linear_ref(rs.sub(haiku_name("resblock1", r)), a, L, true);
    const auto o = linear_ref(rs.sub(haiku_name("resblock2", r)), h, L, true);
    for (size_t k = 0; k < a.size(); ++k) a[k] += o[k];
  }
  ref.unnormalized = linear_ref(rs.sub("unnormalized_angles"), a, L, true);
  ref.angles = ref.unnormalized;
  for (int64_t k = 0; k < L * 7; ++k) {
    const double n = std::sqrt(std::max(1e-12, ref.angles[2 * k] * ref.angles[2 * k] +
                                                   ref.angles[2 * k + 1] * ref.angles[2 * k + 1]));
    ref.angles[2 * k] /= n;
    ref.angles[2 * k + 1] /= n;
  }
  return ref;
}

struct Case {
  model::ModelConfig cfg = small_config();
  model::Params params;
  int64_t L = 9;
  Tensor single, pair, aatype, seq_mask;
  Case() {
    add_random_params(params, cfg, std::string(model::kRootScope) + "/structure_module", 31);
    single = random_tensor({L, cfg.seq_channel}, 32);
    pair = random_tensor({L, L, cfg.pair_channel}, 33);
    std::vector<int32_t> aa(static_cast<size_t>(L));
    for (int64_t i = 0; i < L; ++i) aa[i] = static_cast<int32_t>((i * 7 + 3) % 21);  // includes 20 (unknown)
    aatype = Tensor::from_vector_i32({L}, aa);
    seq_mask = Tensor::full({L}, 1.f);
    seq_mask.data<float>()[L - 2] = 0.f;
  }
};

std::vector<double> column_block(const std::vector<double>& x, int64_t width, int64_t begin, int64_t end) {
  std::vector<double> out;
  for (size_t r = 0; r < x.size() / static_cast<size_t>(width); ++r)
    for (int64_t k = begin; k < end; ++k) out.push_back(x[r * width + k]);
  return out;
}

TEST(StructureModule, MatchesLiteralAlgorithm20) {
  auto backend = backend::make_cpu_backend();
  parallel::SelfCommunicator comm;
  runtime::ExecutionContext ctx(*backend, comm);
  Case c;
  const int64_t L = c.L;
  const model::StructureOutputs out =
      model::run_structure_module(ctx, c.params, c.cfg, c.single, c.pair, c.aatype, c.seq_mask);
  const Reference ref = reference(c.params, c.cfg, c.single, c.pair, c.seq_mask);

  const auto traj = to_doubles(out.trajectory);
  ASSERT_EQ(out.trajectory.shape(), (Shape{c.cfg.structure_module.num_layer, L, 7}));
  EXPECT_LT(max_rel_error(column_block(traj, 7, 0, 4), column_block(ref.trajectory, 7, 0, 4)), 5e-5);
  EXPECT_LT(max_rel_error(column_block(traj, 7, 4, 7), column_block(ref.trajectory, 7, 4, 7)), 5e-5);
  // The first iteration has not yet amplified rounding differences.
  const std::vector<double> first(traj.begin(), traj.begin() + L * 7), first_ref(ref.trajectory.begin(),
                                                                               ref.trajectory.begin() + L * 7);
  EXPECT_LT(max_rel_error(first, first_ref), 1e-5);
  EXPECT_LT(max_rel_error(to_doubles(out.single), ref.single), 5e-5);
  EXPECT_LT(max_rel_error(to_doubles(out.unnormalized_angles), ref.unnormalized), 5e-5);
  EXPECT_LT(max_rel_error(to_doubles(out.angles_sin_cos), ref.angles), 5e-5);

  // Final frames: quaternion and Angstrom translation = last trajectory entry; rotation from the quaternion.
  const std::vector<double> last(traj.end() - L * 7, traj.end());
  EXPECT_EQ(max_rel_error(to_doubles(out.quaternions), column_block(last, 7, 0, 4)), 0.0);
  EXPECT_EQ(max_rel_error(to_doubles(out.translations), column_block(last, 7, 4, 7)), 0.0);
  for (int64_t i = 0; i < L; ++i) {
    const float* q = out.quaternions.data<float>() + i * 4;
    const model::Rot3f r = model::quat_to_rot({q[0], q[1], q[2], q[3]});
    for (int k = 0; k < 9; ++k) EXPECT_EQ(out.rotations.data<float>()[i * 9 + k], r[k]);
  }

  // All-atom outputs: all_atom.h applied to the module's own final frames and angles, atom37 masked by existence.
  std::vector<float> grot(static_cast<size_t>(L * 72)), gtrans(static_cast<size_t>(L * 24));
  std::vector<float> atom14(static_cast<size_t>(L * 42)), mask14(static_cast<size_t>(L * 14));
  std::vector<float> atom37(static_cast<size_t>(L * 111)), mask37(static_cast<size_t>(L * 37));
  const int32_t* aa = c.aatype.data<int32_t>();
  model::torsion_angles_to_frames(L, aa, out.rotations.data<float>(), out.translations.data<float>(),
                                  out.angles_sin_cos.data<float>(), grot.data(), gtrans.data());
  model::frames_to_atom14_positions(L, aa, grot.data(), gtrans.data(), atom14.data(), mask14.data());
  model::atom14_to_atom37(L, aa, atom14.data(), atom37.data(), mask37.data());
  std::vector<float> exists37(static_cast<size_t>(L * 37)), exists14(static_cast<size_t>(L * 14));
  model::atom37_exists(L, aa, exists37.data());
  model::atom14_exists(L, aa, exists14.data());
  EXPECT_EQ(out.atom14_positions.to_vector(), atom14);
  EXPECT_EQ(out.atom14_mask.to_vector(), exists14);
  EXPECT_EQ(out.final_atom_mask.to_vector(), exists37);
  const std::vector<float> pos37 = out.final_atom_positions.to_vector();
  for (int64_t k = 0; k < L * 37; ++k)
    for (int d = 0; d < 3; ++d) EXPECT_EQ(pos37[k * 3 + d], atom37[k * 3 + d] * exists37[k]);
  // The CA atom (atom14 slot 1, atom37 slot 1) sits at the backbone frame origin.
  for (int64_t i = 0; i < L; ++i) {
    if (exists14[i * 14 + 1] == 0.f) continue;
    for (int d = 0; d < 3; ++d)
      EXPECT_NEAR(out.atom14_positions.data<float>()[(i * 14 + 1) * 3 + d], out.translations.data<float>()[i * 3 + d],
                  1e-3f * (1.f + std::fabs(out.translations.data<float>()[i * 3 + d])));
  }
}

TEST(StructureModule, UnitQuaternionsFiniteAndDeterministic) {
  auto backend = backend::make_cpu_backend();
  parallel::SelfCommunicator comm;
  runtime::ExecutionContext ctx(*backend, comm);
  Case c;
  auto run = [&] { return model::run_structure_module(ctx, c.params, c.cfg, c.single, c.pair, c.aatype, c.seq_mask); };
  const model::StructureOutputs a = run(), b = run();
  const Tensor* pairs[][2] = {{&a.single, &b.single},
                              {&a.rotations, &b.rotations},
                              {&a.translations, &b.translations},
                              {&a.quaternions, &b.quaternions},
                              {&a.angles_sin_cos, &b.angles_sin_cos},
                              {&a.unnormalized_angles, &b.unnormalized_angles},
                              {&a.atom14_positions, &b.atom14_positions},
                              {&a.final_atom_positions, &b.final_atom_positions},
                              {&a.trajectory, &b.trajectory}};
  for (const auto& p : pairs) {
    const std::vector<float> x = p[0]->to_vector(), y = p[1]->to_vector();
    ASSERT_EQ(x.size(), y.size());
    EXPECT_EQ(std::memcmp(x.data(), y.data(), x.size() * sizeof(float)), 0) << p[0]->describe();
    for (float v : x) ASSERT_TRUE(std::isfinite(v)) << p[0]->describe();
  }
  const auto traj = a.trajectory.to_vector();
  for (size_t r = 0; r < traj.size() / 7; ++r) {
    const double n = std::sqrt(traj[r * 7] * traj[r * 7] + traj[r * 7 + 1] * traj[r * 7 + 1] +
                               traj[r * 7 + 2] * traj[r * 7 + 2] + traj[r * 7 + 3] * traj[r * 7 + 3]);
    EXPECT_NEAR(n, 1.0, 1e-6);
  }
  const auto ang = a.angles_sin_cos.to_vector();
  for (size_t k = 0; k < ang.size() / 2; ++k) EXPECT_NEAR(std::hypot(ang[2 * k], ang[2 * k + 1]), 1.0, 1e-6);
  EXPECT_EQ(a.single.shape(), (Shape{c.L, c.cfg.structure_module.num_channel}));
  EXPECT_EQ(a.final_atom_positions.shape(), (Shape{c.L, 37, 3}));
}

}  // namespace
}  // namespace axf::test
