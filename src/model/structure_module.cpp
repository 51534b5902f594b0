// Suppl. Alg. 20 as AlphaFold's folding.generate_affines / FoldIteration / MultiRigidSidechain run it for the
// monomer. Activations and the frames ([L, 7] QuatAffine rows) stay on the backend's device through the iterations;
// the trajectory and the angles come back once at the end, where the all-atom construction runs on the host.
#include "model/structure_module.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/error.h"
#include "model/all_atom.h"
#include "model/invariant_point_attention.h"
#include "model/rigid.h"

namespace axf::model {

namespace {

void linear(backend::Backend& be, const Scope& lin, const Tensor& x, Tensor& out,
            backend::Activation activation = backend::Activation::None, bool accumulate = false) {
  backend::LinearArgs args{x, lin["weights"], lin["bias"], out, activation};
  args.accumulate = accumulate;
  be.linear(args);
}

void layer_norm(backend::Backend& be, const Scope& ln, const Tensor& x, Tensor& out) {
  be.layer_norm(x, ln["scale"], ln["offset"], out);
}

Tensor relu_copy(backend::Backend& be, const Tensor& x) {
  Tensor out = be.empty(x.shape());
  be.copy(x, out);
  be.relu(out);
  return out;
}

// Haiku names repeated modules name, name_1, name_2, ...
std::string repeated(const std::string& name, int index) {
  return index == 0 ? name : name + "_" + std::to_string(index);
}

// MultiRigidSidechain up to the angles: [L, 14] unnormalised (sin, cos) pairs of the 7 torsions.
Tensor angle_resnet(backend::Backend& be, const Scope& rs, const StructureModuleConfig& c, const Tensor& act,
                    const Tensor& initial_act) {
  const int64_t L = act.size(0);
  // sum over [act, initial_act] of Linear(relu(x)); Haiku names the second call input_projection_1.
  Tensor a = be.empty({L, static_cast<int64_t>(c.angle_channels)});
  linear(be, rs.sub("input_projection"), relu_copy(be, act), a);
  linear(be, rs.sub("input_projection_1"), relu_copy(be, initial_act), a, backend::Activation::None, true);
  Tensor hidden = be.empty(a.shape());
  for (int r = 0; r < c.angle_residual_blocks; ++r) {
    // act += resblock2(relu(resblock1(relu(act)))); the inner relu is fused into resblock1.
    linear(be, rs.sub(repeated("resblock1", r)), relu_copy(be, a), hidden, backend::Activation::Relu);
    linear(be, rs.sub(repeated("resblock2", r)), hidden, a, backend::Activation::None, true);
  }
  Tensor unnormalized = be.empty({L, 14});
  linear(be, rs.sub("unnormalized_angles"), relu_copy(be, a), unnormalized);
  return be.download(unnormalized);
}

}  // namespace

StructureOutputs run_structure_module(runtime::ExecutionContext& ctx, const Params& params, const ModelConfig& cfg,
                                      const Tensor& single, const Tensor& pair, const Tensor& aatype,
                                      const Tensor& seq_mask) {
  backend::Backend& be = ctx.backend();
  const StructureModuleConfig& c = cfg.structure_module;
  const Scope sm(params, std::string(kRootScope) + "/structure_module");
  const Scope fi = sm.sub("fold_iteration");
  const Scope ipa = fi.sub("invariant_point_attention");
  AXF_CHECK(single.ndim() == 2 && pair.ndim() == 3 && pair.size(0) == single.size(0) &&
                pair.size(1) == single.size(0),
            "structure module: single ", single.describe(), " and pair ", pair.describe(),
            " must be [L, c_s], [L, L, c_z]");
  const int64_t L = single.size(0), cs = c.num_channel;
  AXF_CHECK(aatype.numel() == L && aatype.dtype() == core::DType::I32 && aatype.device() == core::Device::CPU,
            "structure module: aatype ", aatype.describe(), " must be int32 [", L, "] on the host");
  AXF_CHECK(seq_mask.numel() == L && seq_mask.device() == core::Device::CPU, "structure module: seq_mask ",
            seq_mask.describe(), " must be [", L, "] on the host");
  AXF_CHECK(c.num_layer > 0 && c.num_layer_in_transition > 0, "structure module: num_layer ", c.num_layer,
            ", num_layer_in_transition ", c.num_layer_in_transition);

  // generate_affines: single_layer_norm -> initial_act; initial_projection -> act; pair_layer_norm -> act_2d, in the
  // compute dtype (bf16 in bf16 runs: the largest buffer of the module at long lengths); IPA reads it in fp32
  // arithmetic, its attention_2d logits are fp32.
  Tensor initial_act = be.empty(single.shape());
  layer_norm(be, sm.sub("single_layer_norm"), single, initial_act);
  Tensor act = be.empty({L, cs});
  linear(be, sm.sub("initial_projection"), initial_act, act);
  Tensor act_2d = be.empty(pair.shape(), ctx.dtype());
  layer_norm(be, sm.sub("pair_layer_norm"), pair, act_2d);
  const IpaPairTerms pair_terms = ipa_pair_terms(ctx, ipa, c, act_2d);
  const Tensor mask = be.upload(seq_mask.to(core::DType::F32));

  // generate_new_affine: identity quaternion, zero translation; frame rows of every iteration in `trajectory`.
  Tensor identity = Tensor::zeros({L, 7});
  for (int64_t i = 0; i < L; ++i) identity.data<float>()[i * 7] = 1.f;
  Tensor affines = be.upload(identity);
  Tensor trajectory = be.empty({static_cast<int64_t>(c.num_layer), L, 7});
  StructureOutputs out;
  Tensor hidden_a = be.empty({L, cs}), hidden_b = be.empty({L, cs}), update = be.empty({L, 6});
  for (int layer = 0; layer < c.num_layer; ++layer) {
    // FoldIteration (shared weights): act += IPA; LayerNorm; 3-layer transition + residual; LayerNorm.
    invariant_point_attention_add(ctx, ipa, c, act, pair_terms, mask, affines, act);
    layer_norm(be, fi.sub("attention_layer_norm"), act, act);
    const Tensor* x = &act;
    for (int l = 0; l < c.num_layer_in_transition; ++l) {
      const bool last = l == c.num_layer_in_transition - 1;
      Tensor& y = (l % 2 == 0) ? hidden_a : hidden_b;
      const backend::Activation activation = last ? backend::Activation::None : backend::Activation::Relu;
      linear(be, fi.sub(repeated("transition", l)), *x, y, activation);
      x = &y;
    }
    be.add(act, *x);
    layer_norm(be, fi.sub("transition_layer_norm"), act, act);

    // Alg. 23 backbone update: affine.pre_compose(Linear(6)(act)), on the device.
    linear(be, fi.sub("affine_update"), act, update);
    be.backbone_update(affines, update);
    Tensor traj_layer = trajectory.select(0, layer);
    be.copy(affines, traj_layer);
  }

  // MultiRigidSidechain of the last iteration (the earlier iterations' side chains only feed training losses).
  out.unnormalized_angles = angle_resnet(be, fi.sub("rigid_sidechain"), c, act, initial_act).reshape({L, 7, 2});
  // traj = affine * [1, 1, 1, 1, position_scale x 3] (scaled below, after the final frames are read).
  out.trajectory = be.download(trajectory);
  out.angles_sin_cos = Tensor::empty({L, 7, 2});
  const float* un = out.unnormalized_angles.data<float>();
  float* ang = out.angles_sin_cos.data<float>();
  for (int64_t k = 0; k < L * 7; ++k) {
    // folding.l2_normalize: x / sqrt(max(sum x^2, 1e-12)).
    const float norm = std::sqrt(std::max(un[2 * k] * un[2 * k] + un[2 * k + 1] * un[2 * k + 1], 1e-12f));
    ang[2 * k] = un[2 * k] / norm;
    ang[2 * k + 1] = un[2 * k + 1] / norm;
  }

  // Final frames with translations in Angstrom (affine.scale_translation(position_scale)).
  out.rotations = Tensor::empty({L, 3, 3});
  out.translations = Tensor::empty({L, 3});
  out.quaternions = Tensor::empty({L, 4});
  float* traj = out.trajectory.data<float>();
  const float* last = traj + static_cast<int64_t>(c.num_layer - 1) * L * 7;
  for (int64_t i = 0; i < L; ++i) {
    const QuatAffine scaled = QuatAffine::from_tensor(last + i * 7).scale_translation(c.position_scale);
    for (int k = 0; k < 9; ++k) out.rotations.data<float>()[i * 9 + k] = scaled.rotation[k];
    for (int k = 0; k < 3; ++k) out.translations.data<float>()[i * 3 + k] = scaled.translation[k];
    for (int k = 0; k < 4; ++k) out.quaternions.data<float>()[i * 4 + k] = scaled.quaternion[k];
  }
  for (int64_t k = 0; k < static_cast<int64_t>(c.num_layer) * L; ++k)
    for (int d = 0; d < 3; ++d) traj[k * 7 + 4 + d] *= c.position_scale;

  // Alg. 24: torsion frames -> atom14 -> atom37 (masked by atom37_atom_exists as StructureModule.__call__ does).
  const Tensor aa = aatype.contiguous();
  const int32_t* aa_p = aa.data<int32_t>();
  Tensor group_rot = Tensor::empty({L, 8, 3, 3}), group_trans = Tensor::empty({L, 8, 3});
  torsion_angles_to_frames(L, aa_p, out.rotations.data<float>(), out.translations.data<float>(), ang,
                           group_rot.data<float>(), group_trans.data<float>());
  out.atom14_positions = Tensor::empty({L, 14, 3});
  out.atom14_mask = Tensor::empty({L, 14});
  frames_to_atom14_positions(L, aa_p, group_rot.data<float>(), group_trans.data<float>(),
                             out.atom14_positions.data<float>(), out.atom14_mask.data<float>());
  out.final_atom_positions = Tensor::empty({L, 37, 3});
  out.final_atom_mask = Tensor::empty({L, 37});
  atom14_to_atom37(L, aa_p, out.atom14_positions.data<float>(), out.final_atom_positions.data<float>(),
                   out.final_atom_mask.data<float>());
  float* pos37 = out.final_atom_positions.data<float>();
  const float* mask37 = out.final_atom_mask.data<float>();
  for (int64_t k = 0; k < L * 37; ++k)
    for (int d = 0; d < 3; ++d) pos37[k * 3 + d] *= mask37[k];

  out.single = act;
  return out;
}

}  // namespace axf::model
