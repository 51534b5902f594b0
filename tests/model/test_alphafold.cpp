// The whole model with recycling: template coordinates moved rigidly change nothing, the cached template stack and
// the templates streamed every pass give the same prediction, the early-stop metric is AlphaFold-Multimer's, and
// recycling stops early when asked.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "model/alphafold.h"
#include "support/model_test_support.h"
#include "support/test_support.h"

namespace axf::test {
namespace {

class AlphaFoldModel : public ::testing::Test {
 protected:
  void SetUp() override {
    backend_ = backend::make_cpu_backend();
    cfg_ = model::model_config("model_1_ptm");
    cfg_.evoformer_num_block = 1;
    const auto dir = scratch_dir("alphafold");
    model::write_random_params(dir / "params.npz", cfg_, 2);
    params_ = model::load_params(dir / "params.npz", cfg_, *backend_);
  }
  model::AlphaFoldResult run(const model::ModelInputs& in, model::RecyclingOptions opt) {
    runtime::ExecutionContext ctx(*backend_, comm_);
    return model::run_alphafold(ctx, params_, cfg_, in, opt);
  }
  std::unique_ptr<backend::Backend> backend_;
  parallel::SelfCommunicator comm_;
  model::ModelConfig cfg_;
  model::Params params_;
};

// Without the template cache the templates are streamed through an online softmax (recomputed every pass): the
// same prediction up to fp32 rounding.
TEST_F(AlphaFoldModel, TemplateStackCacheAndStreamedTemplatesGiveTheSamePrediction) {
  const model::ModelInputs in = random_model_inputs(9, 4, 5, 2, 17);
  model::RecyclingOptions cached{2, 0.0};
  model::RecyclingOptions recomputed{2, 0.0};
  recomputed.cache_template_stack = false;
  const auto a = run(in, cached), b = run(in, recomputed);
  EXPECT_EQ(a.passes, 3);
  EXPECT_EQ(b.passes, 3);
  const std::vector<double> pa = to_doubles(a.structure.final_atom_positions);
  const std::vector<double> pb = to_doubles(b.structure.final_atom_positions);
  ASSERT_EQ(pa.size(), pb.size());
  double worst = 0;
  for (size_t i = 0; i < pa.size(); ++i) worst = std::max(worst, std::fabs(pa[i] - pb[i]));
  EXPECT_LT(worst, 1e-3) << "max atom deviation, Angstrom";
  EXPECT_LT(max_rel_error(to_doubles(b.trunk.pair), to_doubles(a.trunk.pair)), 1e-5);
  ASSERT_EQ(a.ca_distance_change.size(), b.ca_distance_change.size());
  for (size_t i = 0; i < a.ca_distance_change.size(); ++i)
    EXPECT_NEAR(a.ca_distance_change[i], b.ca_distance_change[i], 1e-3) << "recycle " << i;
}

TEST_F(AlphaFoldModel, RigidMotionOfTemplatesLeavesThePredictionUnchanged) {
  auto arrays = random_feature_arrays(11, 5, 6, 2, 8);
  const model::ModelInputs base_inputs = model::model_inputs_from_arrays(arrays, "base");
  const auto base = run(base_inputs, {1, 0.0});
  // Rotate (about an arbitrary axis) and translate every template atom.
  const double angle = 1.1, axis[3] = {0.48, -0.6, 0.64};
  double R[3][3];
  const double c = std::cos(angle), s = std::sin(angle), t = 1 - c;
  const double x = axis[0], y = axis[1], z = axis[2];
  const double n = std::sqrt(x * x + y * y + z * z);
  const double ux = x / n, uy = y / n, uz = z / n;
  R[0][0] = c + ux * ux * t; R[0][1] = ux * uy * t - uz * s; R[0][2] = ux * uz * t + uy * s;
  R[1][0] = uy * ux * t + uz * s; R[1][1] = c + uy * uy * t; R[1][2] = uy * uz * t - ux * s;
  R[2][0] = uz * ux * t - uy * s; R[2][1] = uz * uy * t + ux * s; R[2][2] = c + uz * uz * t;
  Tensor pos = arrays.at("template_all_atom_positions").clone();
  float* p = pos.data<float>();
  for (int64_t a = 0; a < pos.numel() / 3; ++a) {
    const double v[3] = {p[a * 3], p[a * 3 + 1], p[a * 3 + 2]};
    for (int r = 0; r < 3; ++r) p[a * 3 + r] = static_cast<float>(R[r][0] * v[0] + R[r][1] * v[1] + R[r][2] * v[2] + 7.5 * (r + 1));
  }
  arrays["template_all_atom_positions"] = pos;
  model::ModelInputs moved_inputs = model::model_inputs_from_arrays(arrays, "moved");
  // AlphaFold quirk, reproduced: the sin/cos of an UNDEFINED torsion (mask 0) is not zeroed; residue 0's pre-omega
  // and phi are computed from zero-padded "previous residue" atoms, which a rigid motion does not move, so those
  // features depend on the absolute frame. They differ here, and are carried over so that only defined geometry is
  // compared.
  const std::vector<float> mask = base_inputs.templates.torsion_angles_mask.to_vector();
  float* moved_sc = moved_inputs.templates.torsion_angles_sin_cos.data<float>();
  float* moved_alt = moved_inputs.templates.alt_torsion_angles_sin_cos.data<float>();
  const float* base_sc = base_inputs.templates.torsion_angles_sin_cos.data<float>();
  const float* base_alt = base_inputs.templates.alt_torsion_angles_sin_cos.data<float>();
  double undefined_change = 0;
  for (size_t k = 0; k < mask.size(); ++k) {
    if (mask[k] != 0.f) continue;
    for (int c = 0; c < 2; ++c) {
      undefined_change = std::max(undefined_change, double(std::fabs(moved_sc[k * 2 + c] - base_sc[k * 2 + c])));
      moved_sc[k * 2 + c] = base_sc[k * 2 + c];
      moved_alt[k * 2 + c] = base_alt[k * 2 + c];
    }
  }
  EXPECT_GT(undefined_change, 1e-3);
  const auto moved = run(moved_inputs, {1, 0.0});
  const auto a = to_doubles(base.structure.final_atom_positions), b = to_doubles(moved.structure.final_atom_positions);
  double worst = 0;
  for (size_t i = 0; i < a.size(); ++i) worst = std::max(worst, std::fabs(a[i] - b[i]));
  EXPECT_LT(worst, 1e-3) << "max atom deviation in Angstrom";
  const auto pa = to_doubles(base.trunk.pair), pb = to_doubles(moved.trunk.pair);
  EXPECT_LT(max_rel_error(pb, pa), 1e-4);
}

TEST_F(AlphaFoldModel, CaDistanceChangeIsAlphaFoldMultimersMetric) {
  const int64_t L = 4;
  Tensor a = Tensor::zeros({L, 37, 3}), b = Tensor::zeros({L, 37, 3});
  for (int64_t i = 0; i < L; ++i) {
    a.data<float>()[(i * 37 + 1) * 3] = 3.8f * i;         // CA on a line, 3.8 A apart
    b.data<float>()[(i * 37 + 1) * 3] = 4.0f * i;         // stretched by 0.2 A per step
  }
  Tensor mask = Tensor::full({L}, 1.f);
  // |d_a - d_b| = 0.2 |i - j|; mean over all 16 pairs of 0.04 (i-j)^2 = 0.04 * 40 / 16.
  EXPECT_NEAR(model::ca_distance_rms_change(a, b, mask), std::sqrt(0.04 * 40.0 / 16.0 + 1e-8), 1e-6);
  EXPECT_NEAR(model::ca_distance_rms_change(a, a, mask), 1e-4, 1e-9);  // sqrt(1e-8)
  mask.data<float>()[3] = 0.f;  // residue 3 masked: ordered pairs among 0..2, sum (i-j)^2 = 12 over 9 pairs
  EXPECT_NEAR(model::ca_distance_rms_change(a, b, mask), std::sqrt(0.04 * 12.0 / 9.0 + 1e-8), 1e-6);
}

TEST_F(AlphaFoldModel, RecyclingRunsAllPassesOrStopsEarly) {
  const auto in = random_model_inputs(9, 4, 5, 1, 12);
  const auto full = run(in, {2, 0.0});
  EXPECT_EQ(full.passes, 3);
  EXPECT_EQ(full.ca_distance_change.size(), 2u);
  EXPECT_FALSE(full.stopped_early);
  const auto early = run(in, {5, 1e9});  // any change is below this tolerance: stop after the first recycle
  EXPECT_EQ(early.passes, 2);
  EXPECT_TRUE(early.stopped_early);
  // The first two passes are the same computation either way.
  EXPECT_EQ(to_doubles(early.structure.final_atom_positions).size(), 9u * 37u * 3u);
  EXPECT_DOUBLE_EQ(early.ca_distance_change[0], full.ca_distance_change[0]);
}

}  // namespace
}  // namespace axf::test
