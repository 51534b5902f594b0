#include "model/template_embedding.h"

#include <cmath>
#include <vector>

#include "core/error.h"
#include "model/attention.h"
#include "model/residue_constants.h"
#include "model/template_geometry.h"
#include "model/transition.h"
#include "model/triangle_attention.h"
#include "model/triangle_multiplication.h"

namespace axf::model {

void template_pair_stack(runtime::ExecutionContext& ctx, const Scope& stack_scope, const TemplatePairStackConfig& cfg,
                         Tensor& act, const Tensor& pair_mask) {
  AXF_CHECK(act.ndim() == 3, "template pair stack '", stack_scope.path(), "': act must be [L, L, c_t], got ",
            act.describe());
  const int c_t = static_cast<int>(act.size(2));
  const AttentionConfig starting = ModelConfig::resolved(cfg.triangle_attention_starting, c_t, c_t);
  const AttentionConfig ending = ModelConfig::resolved(cfg.triangle_attention_ending, c_t, c_t);
  for (int b = 0; b < cfg.num_block; ++b) {
    const Scope block = stack_scope.block(b);
    triangle_attention(ctx, block.sub("triangle_attention_starting_node"), starting, TriangleNode::Starting, act,
                       pair_mask);
    triangle_attention(ctx, block.sub("triangle_attention_ending_node"), ending, TriangleNode::Ending, act, pair_mask);
    triangle_multiplication(ctx, block.sub("triangle_multiplication_outgoing"), backend::TriangleDirection::Outgoing,
                            act, pair_mask);
    triangle_multiplication(ctx, block.sub("triangle_multiplication_incoming"), backend::TriangleDirection::Incoming,
                            act, pair_mask);
    transition(ctx, block.sub("pair_transition"), act, ctx.chunks().pair_rows);
  }
}

namespace {

constexpr int kAatypeClasses = 22;
constexpr int kAtomN = atom37_index("N"), kAtomCA = atom37_index("CA"), kAtomC = atom37_index("C");
static_assert(kAtomN == 0 && kAtomCA == 1 && kAtomC == 2);

int64_t num_features(const TemplateConfig& cfg) { return cfg.dgram_features.num_bins + 1 + 2 * kAatypeClasses + 3 + 1; }

// Row-major 3x3 product a @ b, each entry summed left to right (quat_affine._multiply).
void mat_mul3(const float* a, const float* b, float* out) {
  for (int r = 0; r < 3; ++r)
    for (int c = 0; c < 3; ++c) out[r * 3 + c] = a[r * 3 + 0] * b[0 + c] + a[r * 3 + 1] * b[3 + c] + a[r * 3 + 2] * b[6 + c];
}

// quat_affine.make_canonical_transform for one residue, in fp32 with AlphaFold's operation order: the rotation M
// (global -> local) that puts C on the +x axis and N in the xy plane (positive y) once CA is at the origin.
// make_transform_from_reference returns (M^T, CA), so QuatAffine.invert_point(p) = M (p - CA).
void canonical_rotation(const float* n_atom, const float* ca_atom, const float* c_atom, float* m) {
  const float tx = -ca_atom[0], ty = -ca_atom[1], tz = -ca_atom[2];
  const float nx = n_atom[0] + tx, ny = n_atom[1] + ty, nz = n_atom[2] + tz;
  const float cx = c_atom[0] + tx, cy = c_atom[1] + ty, cz = c_atom[2] + tz;
  // Rotate by angle c1 in the x-y plane (around z).
  const float n1 = std::sqrt(1e-20f + cx * cx + cy * cy);
  const float sin_c1 = -cy / n1, cos_c1 = cx / n1;
  const float c1_rot[9] = {cos_c1, -sin_c1, 0.f, sin_c1, cos_c1, 0.f, 0.f, 0.f, 1.f};
  // Rotate by angle c2 in the x-z plane (around y).
  const float n2 = std::sqrt(1e-20f + cx * cx + cy * cy + cz * cz);
  const float sin_c2 = cz / n2, cos_c2 = std::sqrt(cx * cx + cy * cy) / n2;
  const float c2_rot[9] = {cos_c2, 0.f, sin_c2, 0.f, 1.f, 0.f, -sin_c2, 0.f, cos_c2};
  float c_rot[9];
  mat_mul3(c2_rot, c1_rot, c_rot);
  // N into the x-y plane: rotate around x.
  const float rny = c_rot[3] * nx + c_rot[4] * ny + c_rot[5] * nz;
  const float rnz = c_rot[6] * nx + c_rot[7] * ny + c_rot[8] * nz;
  const float n3 = std::sqrt(1e-20f + rny * rny + rnz * rnz);
  const float sin_n = -rnz / n3, cos_n = rny / n3;
  const float n_rot[9] = {1.f, 0.f, 0.f, 0.f, cos_n, -sin_n, 0.f, sin_n, cos_n};
  mat_mul3(n_rot, c_rot, m);
}

// Per-residue data of one template, on the host.
struct TemplateResidues {
  int64_t num_res = 0;
  std::vector<float> pseudo_beta;       // [L, 3]
  std::vector<float> pseudo_beta_mask;  // [L]
  std::vector<int32_t> aatype;          // [L]
  std::vector<float> ca;                // [L, 3]
  std::vector<float> rotation;          // [L, 9] canonical rotation M
  std::vector<float> backbone_mask;     // [L]
};

void check_batch(const TemplateBatch& batch) {
  const int64_t T = batch.count();
  AXF_CHECK(batch.aatype.defined() && batch.aatype.ndim() == 2 && batch.aatype.size(0) == T,
            "template batch: aatype ", batch.aatype.defined() ? batch.aatype.describe() : "(missing)", " for ", T,
            " templates");
  const int64_t L = batch.aatype.size(1);
  auto check = [&](const Tensor& t, const char* name, const Shape& shape) {
    AXF_CHECK(t.defined() && t.shape() == shape, "template batch: ", name, " ",
              t.defined() ? t.describe() : "(missing)", ", expected ", core::shape_to_string(shape));
    AXF_CHECK(t.device() == core::Device::CPU, "template batch: ", name, " must be a host tensor");
  };
  check(batch.mask, "mask", {T});
  check(batch.all_atom_positions, "all_atom_positions", {T, L, atom_type_num, 3});
  check(batch.all_atom_mask, "all_atom_mask", {T, L, atom_type_num});
  if (batch.pseudo_beta.defined() || batch.pseudo_beta_mask.defined()) {
    check(batch.pseudo_beta, "pseudo_beta", {T, L, 3});
    check(batch.pseudo_beta_mask, "pseudo_beta_mask", {T, L});
  }
}

TemplateResidues template_residues(const TemplateBatch& batch, int64_t t) {
  TemplateResidues r;
  const int64_t L = batch.aatype.size(1);
  r.num_res = L;
  const Tensor aat = batch.aatype.select(0, t);
  const Tensor aat_i32 = aat.dtype() == core::DType::I32 ? aat.contiguous() : aat.to(core::DType::I32);
  r.aatype.assign(aat_i32.data<int32_t>(), aat_i32.data<int32_t>() + L);
  const std::vector<float> pos = batch.all_atom_positions.select(0, t).to_vector();  // [L, 37, 3]
  const std::vector<float> atom_mask = batch.all_atom_mask.select(0, t).to_vector();  // [L, 37]
  if (batch.pseudo_beta.defined()) {
    r.pseudo_beta = batch.pseudo_beta.select(0, t).to_vector();
    r.pseudo_beta_mask = batch.pseudo_beta_mask.select(0, t).to_vector();
  } else {
    r.pseudo_beta.resize(static_cast<size_t>(L * 3));
    r.pseudo_beta_mask.resize(static_cast<size_t>(L));
    pseudo_beta(L, r.aatype.data(), pos.data(), atom_mask.data(), r.pseudo_beta.data(), r.pseudo_beta_mask.data());
  }
  r.ca.resize(static_cast<size_t>(L * 3));
  r.rotation.resize(static_cast<size_t>(L * 9));
  r.backbone_mask.resize(static_cast<size_t>(L));
  for (int64_t i = 0; i < L; ++i) {
    const float* p = pos.data() + i * atom_type_num * 3;
    const float* m = atom_mask.data() + i * atom_type_num;
    for (int d = 0; d < 3; ++d) r.ca[i * 3 + d] = p[kAtomCA * 3 + d];
    canonical_rotation(p + kAtomN * 3, p + kAtomCA * 3, p + kAtomC * 3, r.rotation.data() + i * 9);
    r.backbone_mask[i] = m[kAtomN] * m[kAtomCA] * m[kAtomC];
  }
  return r;
}

// Squared bin edges of dgram_from_positions: lower = linspace(min_bin, max_bin, num_bins)^2, upper = lower[1:], 1e8.
void dgram_breaks(const DgramConfig& d, std::vector<float>& lower, std::vector<float>& upper) {
  const int n = d.num_bins;
  lower.resize(static_cast<size_t>(n));
  upper.resize(static_cast<size_t>(n));
  for (int k = 0; k < n; ++k) {
    const float edge = n == 1 ? d.min_bin
                              : static_cast<float>(static_cast<double>(d.min_bin) +
                                                   (static_cast<double>(d.max_bin) - d.min_bin) * k / (n - 1));
    lower[k] = edge * edge;
  }
  for (int k = 0; k + 1 < n; ++k) upper[k] = lower[k + 1];
  upper[n - 1] = 1e8f;
}

// Feature rows [row_begin, row_end) of one template into out [rows, L, F] (layout in the header).
void fill_features(const TemplateConfig& cfg, const TemplateResidues& r, const std::vector<float>& lower,
                   const std::vector<float>& upper, int64_t row_begin, int64_t row_end, float* out) {
  const int64_t L = r.num_res, F = num_features(cfg);
  const int nb = cfg.dgram_features.num_bins;
  const int64_t rows = row_end - row_begin;
#pragma omp parallel for schedule(static)
  for (int64_t ri = 0; ri < rows; ++ri) {
    const int64_t i = row_begin + ri;
    const float* pb_i = &r.pseudo_beta[i * 3];
    const float* ca_i = &r.ca[i * 3];
    const float* rot = &r.rotation[i * 9];
    for (int64_t j = 0; j < L; ++j) {
      float* f = out + (ri * L + j) * F;
      const float* pb_j = &r.pseudo_beta[j * 3];
      const float dx = pb_i[0] - pb_j[0], dy = pb_i[1] - pb_j[1], dz = pb_i[2] - pb_j[2];
      const float dist2 = dx * dx + dy * dy + dz * dz;
      for (int k = 0; k < nb; ++k) f[k] = (dist2 > lower[k] ? 1.f : 0.f) * (dist2 < upper[k] ? 1.f : 0.f);
      f[nb] = r.pseudo_beta_mask[i] * r.pseudo_beta_mask[j];
      float* aa_j = f + nb + 1;
      float* aa_i = aa_j + kAatypeClasses;
      for (int a = 0; a < kAatypeClasses; ++a) {
        aa_j[a] = r.aatype[j] == a ? 1.f : 0.f;
        aa_i[a] = r.aatype[i] == a ? 1.f : 0.f;
      }
      const float mask_2d = r.backbone_mask[i] * r.backbone_mask[j];
      float* unit = aa_i + kAatypeClasses;
      if (cfg.use_template_unit_vector) {
        // QuatAffine.invert_point: M_i (CA_j - CA_i), then * rsqrt(1e-6 + |v|^2) * backbone mask 2-D.
        const float vx = r.ca[j * 3 + 0] - ca_i[0], vy = r.ca[j * 3 + 1] - ca_i[1], vz = r.ca[j * 3 + 2] - ca_i[2];
        const float lx = rot[0] * vx + rot[1] * vy + rot[2] * vz;
        const float ly = rot[3] * vx + rot[4] * vy + rot[5] * vz;
        const float lz = rot[6] * vx + rot[7] * vy + rot[8] * vz;
        const float inv = 1.0f / std::sqrt(1e-6f + (lx * lx + ly * ly + lz * lz));
        const float scale = inv * mask_2d;
        unit[0] = lx * scale;
        unit[1] = ly * scale;
        unit[2] = lz * scale;
      } else {
        unit[0] = unit[1] = unit[2] = 0.f;
      }
      unit[3] = mask_2d;
      for (int64_t c = 0; c < F; ++c) f[c] *= mask_2d;
    }
  }
}

}  // namespace

void template_dgram_breaks(const DgramConfig& dgram, std::vector<float>& lower, std::vector<float>& upper) {
  dgram_breaks(dgram, lower, upper);
}

TemplateResidueInputs template_residue_inputs(const TemplateBatch& batch, int64_t t) {
  check_batch(batch);
  AXF_CHECK(t >= 0 && t < batch.count(), "template_residue_inputs: template ", t, " of ", batch.count());
  const TemplateResidues r = template_residues(batch, t);
  const int64_t L = r.num_res;
  TemplateResidueInputs in;
  in.pseudo_beta = Tensor::from_vector({L, 3}, r.pseudo_beta);
  in.pseudo_beta_mask = Tensor::from_vector({L}, r.pseudo_beta_mask);
  in.ca = Tensor::from_vector({L, 3}, r.ca);
  in.rotation = Tensor::from_vector({L, 9}, r.rotation);
  in.backbone_mask = Tensor::from_vector({L}, r.backbone_mask);
  in.aatype = Tensor::from_vector_i32({L}, r.aatype);
  return in;
}

Tensor template_pair_features(const TemplateConfig& cfg, const TemplateBatch& batch, int64_t t, int64_t row_begin,
                              int64_t row_end) {
  check_batch(batch);
  AXF_CHECK(t >= 0 && t < batch.count(), "template_pair_features: template ", t, " of ", batch.count());
  const int64_t L = batch.aatype.size(1);
  AXF_CHECK(0 <= row_begin && row_begin <= row_end && row_end <= L, "template_pair_features: rows [", row_begin,
            ", ", row_end, ") of ", L);
  const TemplateResidues r = template_residues(batch, t);
  std::vector<float> lower, upper;
  dgram_breaks(cfg.dgram_features, lower, upper);
  Tensor out = Tensor::empty({row_end - row_begin, L, num_features(cfg)});
  fill_features(cfg, r, lower, upper, row_begin, row_end, out.data<float>());
  return out;
}

namespace {

// Parameters and per-call constants of SingleTemplateEmbedding (embedding2d of the device-computed features, the
// template pair stack, the output LayerNorm).
struct SingleTemplate {
  Scope stack, out_norm;
  backend::TemplatePairFeatureArgs features;  // everything but the template's residue inputs and the output rows
};

SingleTemplate single_template_setup(const Scope& scope, const TemplateConfig& cfg) {
  const Scope single = scope.sub("single_template_embedding");
  const Scope embedding2d = single.sub("embedding2d");
  SingleTemplate st{single.sub("template_pair_stack").sub("__layer_stack_no_state"), single.sub("output_layer_norm"),
                    {}};
  const Tensor emb_w = embedding2d["weights"];
  const int64_t ct = cfg.num_channels(), F = num_features(cfg);
  AXF_CHECK(emb_w.ndim() == 2 && emb_w.size(0) == F && emb_w.size(1) == ct, "template embedding: embedding2d ",
            emb_w.describe(), ", expected [", F, ", ", ct, "]");
  dgram_breaks(cfg.dgram_features, st.features.dgram_lower, st.features.dgram_upper);
  st.features.use_unit_vector = cfg.use_template_unit_vector;
  st.features.w = emb_w;
  st.features.bias = embedding2d["bias"];
  return st;
}

// act [L, L, c_t] <- SingleTemplateEmbedding of template t: embedding2d of the features (fused, no [L, L, 88]
// tensor, by row chunks), the template pair stack, the output LayerNorm.
void single_template_embedding(runtime::ExecutionContext& ctx, SingleTemplate& st, const TemplateConfig& cfg,
                               const TemplateBatch& batch, int64_t t, const Tensor& pair_mask, Tensor& act) {
  backend::Backend& be = ctx.backend();
  backend::TemplatePairFeatureArgs& args = st.features;
  const TemplateResidueInputs res = template_residue_inputs(batch, t);
  args.pseudo_beta = be.upload(res.pseudo_beta);
  args.pseudo_beta_mask = be.upload(res.pseudo_beta_mask);
  args.ca = be.upload(res.ca);
  args.rotation = be.upload(res.rotation);
  args.backbone_mask = be.upload(res.backbone_mask);
  args.aatype = be.upload(res.aatype);
  runtime::for_each_chunk(act.size(0), ctx.chunks().template_rows, [&](int64_t begin, int64_t end) {
    args.out = act.slice(0, begin, end);
    args.row_begin = begin;
    be.template_pair_features(args);
  });
  args.out = Tensor();
  template_pair_stack(ctx, st.stack, cfg.template_pair_stack, act, pair_mask);
  be.layer_norm(act, st.out_norm["scale"], st.out_norm["offset"], act);
}

// SingleTemplateEmbedding of every present template -> [T', L, L, c_t] in ctx.dtype().
Tensor single_template_stack(runtime::ExecutionContext& ctx, const Scope& scope, const TemplateConfig& cfg,
                             const TemplateBatch& batch, const std::vector<int64_t>& present, const Tensor& pair_mask,
                             int64_t L) {
  SingleTemplate st = single_template_setup(scope, cfg);
  const int64_t num_present = static_cast<int64_t>(present.size());
  Tensor reps = ctx.backend().empty({num_present, L, L, cfg.num_channels()}, ctx.dtype());
  for (int64_t p = 0; p < num_present; ++p) {
    Tensor act = reps.select(0, p);
    single_template_embedding(ctx, st, cfg, batch, present[p], pair_mask, act);
  }
  return reps;
}

// TemplatePointwiseAttention (Alg. 17) over the stacked representations reps [T', L, L, c_t]: batch = (i, j), one
// query, keys = templates, by row chunks.
void batched_pointwise_attention(runtime::ExecutionContext& ctx, const Scope& attention, const AttentionConfig& att,
                                 const Tensor& reps, const Tensor& key_mask, Tensor& pair) {
  backend::Backend& be = ctx.backend();
  const int64_t L = pair.size(0), cz = pair.size(2), num_present = reps.size(0), ct = reps.size(3);
  runtime::for_each_chunk(L, ctx.chunks().template_rows, [&](int64_t begin, int64_t end) {
    const int64_t rows = end - begin, B = rows * L;
    Tensor part = pair.slice(0, begin, end);
    Tensor query = be.empty({rows, L, cz}, ctx.dtype());
    be.copy(part, query);  // the query is the pair itself, which is updated in place
    Tensor memory = be.empty({rows, L, num_present, ct}, ctx.dtype());
    be.copy(reps.slice(1, begin, end).permute({1, 2, 0, 3}), memory);
    AttentionInputs in;
    in.q_data = query.reshape({B, 1, cz});
    in.m_data = memory.reshape({B, num_present, ct});
    in.key_mask = key_mask;
    if (part.is_contiguous()) {
      Tensor residual = part.reshape({B, 1, cz});
      gated_attention_add(ctx, attention, att, in, residual);
    } else {
      Tensor update = be.empty({B, 1, cz}, ctx.dtype());
      be.fill(update, 0.f);
      gated_attention_add(ctx, attention, att, in, update);
      be.add(part, update.reshape({rows, L, cz}));
    }
  });
}

// TemplatePointwiseAttention (Alg. 17) streamed over the present templates (no template cache): one template
// representation [L, L, c_t] alive at a time, folded into an online softmax over templates per (i, j, head)
// (Backend::attention_accumulate; m, l [L, L, H] fp32, acc [L, L, H*dv] in ctx.dtype()) by row chunks, so only
// the chunk's q, k and v are temporaries; after the last template acc / l, the gate (when configured) and the
// output projection are added into the pair rows. Templates enter in order, which the softmax does not see.
// With ctx.chunks().offload_pair the pair's contents wait in host memory and its device buffer holds the template
// representation (front) and acc (back): the pair rows for q come back from the host chunk by chunk, and at the end
// each block of rows takes its update from acc before its own rows are restored over acc rows already consumed
// (acc ends the buffer and its rows are no wider than the pair's, so restoring rows [0, e) reaches only acc rows
// below e).
void streamed_template_attention(runtime::ExecutionContext& ctx, const Scope& scope, const TemplateConfig& cfg,
                                 const AttentionConfig& att, const TemplateBatch& batch,
                                 const std::vector<int64_t>& present, const Tensor& pair_mask, Tensor& pair) {
  backend::Backend& be = ctx.backend();
  const core::DType dt = ctx.dtype();
  const int64_t L = pair.size(0), cz = pair.size(2), ct = cfg.num_channels();
  const int64_t H = att.num_head, kd = att.key_dim / H, vd = att.value_dim / H;
  const int64_t rows_chunk = ctx.chunks().template_rows;
  const Scope attention = scope.sub("attention");
  const Tensor query_w = attention.matrix("query_w"), key_w = attention.matrix("key_w");
  const Tensor value_w = attention.matrix("value_w");
  AXF_CHECK(query_w.size(0) == cz && key_w.size(0) == ct && value_w.size(0) == ct && query_w.size(1) == H * kd &&
                key_w.size(1) == H * kd && value_w.size(1) == H * vd,
            "template attention '", attention.path(), "': query_w ", query_w.describe(), ", key_w ", key_w.describe(),
            ", value_w ", value_w.describe(), " for c_z=", cz, ", c_t=", ct, ", ", H, " heads of ", kd, "/", vd);

  Tensor m = be.empty({L, L, H}, core::DType::F32);
  Tensor l = be.empty({L, L, H}, core::DType::F32);
  const bool offload = ctx.chunks().offload_pair && pair.is_contiguous() && ct + H * vd <= cz;
  Tensor host_pair, act, acc;
  if (offload) {
    host_pair = Tensor::empty(pair.shape(), dt);
    be.download_to(pair, host_pair);
    const Tensor flat = pair.reshape({L * L * cz});
    act = flat.slice(0, 0, L * L * ct).reshape({L, L, ct});
    acc = flat.slice(0, L * L * (cz - H * vd), L * L * cz).reshape({L, L, H * vd});
  } else {
    act = be.empty({L, L, ct}, dt);
    acc = be.empty({L, L, H * vd}, dt);
  }
  // Rows [b, e) of the pair: a view, or a device copy of the host rows while the pair is offloaded.
  auto pair_rows = [&](int64_t b, int64_t e) {
    if (!offload) return pair.slice(0, b, e);
    Tensor rows = be.empty({e - b, L, cz}, dt);
    be.upload_to(host_pair.slice(0, b, e), rows);
    return rows;
  };
  be.fill(m, -INFINITY);  // the empty state; l and acc are written by the first template

  SingleTemplate st = single_template_setup(scope, cfg);
  const float scale = 1.0f / std::sqrt(static_cast<float>(kd));
  for (int64_t t : present) {
    single_template_embedding(ctx, st, cfg, batch, t, pair_mask, act);
    runtime::for_each_chunk(L, rows_chunk, [&](int64_t begin, int64_t end) {
      const int64_t B = (end - begin) * L;
      Tensor q = be.empty({B, H, kd}, dt), k = be.empty({B, H, kd}, dt), v = be.empty({B, H, vd}, dt);
      be.linear({pair_rows(begin, end), query_w, Tensor(), q.reshape({end - begin, L, H * kd})});
      const Tensor rep = act.slice(0, begin, end);
      be.linear({rep, key_w, Tensor(), k.reshape({end - begin, L, H * kd})});
      be.linear({rep, value_w, Tensor(), v.reshape({end - begin, L, H * vd})});
      backend::OnlineAttentionArgs args;  // in the chunk's scope: q, k, v are freed before the next template's stack
      args.scale = scale;
      args.q = q;
      args.k = k;
      args.v = v;
      args.m = m.slice(0, begin, end).reshape({B, H});
      args.l = l.slice(0, begin, end).reshape({B, H});
      args.acc = acc.slice(0, begin, end).reshape({B, H, vd});
      be.attention_accumulate(args);
    });
  }
  act = Tensor();

  const Tensor w_out = attention["output_w"].reshape({H * vd, cz});
  runtime::for_each_chunk(L, rows_chunk, [&](int64_t begin, int64_t end) {
    const int64_t rows = end - begin, B = rows * L;
    Tensor part = pair.slice(0, begin, end);
    Tensor out = acc.slice(0, begin, end).reshape({B, H, vd});
    be.attention_normalize(out, l.slice(0, begin, end).reshape({B, H}), out);
    if (att.gating) {
      Tensor gate = be.empty({rows, L, H * vd}, dt);
      be.linear({pair_rows(begin, end), attention.matrix("gating_w"), attention["gating_b"].reshape({H * vd}), gate});
      Tensor gated = out.reshape({rows, L, H * vd});
      be.sigmoid_mul(gated, gate);
    }
    if (!offload) {
      backend::LinearArgs proj{out.reshape({rows, L, H * vd}), w_out, attention["output_b"], part};
      proj.accumulate = true;
      be.linear(proj);
      return;
    }
    Tensor update = be.empty({rows, L, cz}, dt);
    be.linear({out.reshape({rows, L, H * vd}), w_out, attention["output_b"], update});
    be.upload_to(host_pair.slice(0, begin, end), part);  // over acc rows < end only: all consumed
    be.add(part, update);
  });
}

}  // namespace

void template_embedding_add(runtime::ExecutionContext& ctx, const Scope& scope, const TemplateConfig& cfg,
                            const TemplateBatch& batch, const Tensor& pair_mask, Tensor& pair,
                            TemplateStackCache* cache) {
  backend::Backend& be = ctx.backend();
  AXF_CHECK(pair.ndim() == 3 && pair.size(0) == pair.size(1), "template embedding: pair must be [L, L, c_z], got ",
            pair.describe());
  const int64_t L = pair.size(0), cz = pair.size(2);
  const int64_t T = batch.count();
  if (T == 0 || L == 0) return;
  check_batch(batch);
  AXF_CHECK(batch.aatype.size(1) == L, "template embedding: templates have ", batch.aatype.size(1),
            " residues, the pair representation ", L);
  AXF_CHECK(pair_mask.ndim() == 2 && pair_mask.size(0) == L && pair_mask.size(1) == L, "template embedding: pair mask ",
            pair_mask.describe(), " for L=", L);

  // AlphaFold multiplies the embedding by (sum(template_mask) > 0); a template with mask 0 gets attention weight
  // exp(-1e9 - max) == 0 exactly, so only present templates are embedded.
  const std::vector<float> template_mask = batch.mask.to_vector();
  double mask_sum = 0;
  std::vector<int64_t> present;
  for (int64_t t = 0; t < T; ++t) {
    mask_sum += template_mask[t];
    if (template_mask[t] != 0.f) present.push_back(t);
  }
  if (!(mask_sum > 0) || present.empty()) return;
  const int64_t num_present = static_cast<int64_t>(present.size());
  const int64_t ct = cfg.num_channels();
  const AttentionConfig att = ModelConfig::resolved(cfg.attention, static_cast<int>(cz), static_cast<int>(ct));

  if (!cache) {
    streamed_template_attention(ctx, scope, cfg, att, batch, present, pair_mask, pair);
    return;
  }
  // SingleTemplateEmbedding for every present template -> [T', L, L, c_t], or the cached result of an earlier pass.
  Tensor reps, key_mask;
  if (cache->valid()) {
    reps = cache->reps;
    key_mask = cache->key_mask;
    AXF_CHECK(reps.ndim() == 4 && reps.size(0) == num_present && reps.size(1) == L && reps.size(2) == L &&
                  reps.size(3) == ct && key_mask.numel() == num_present,
              "template embedding: the template stack cache holds ", reps.describe(), " but these inputs need [",
              num_present, ", ", L, ", ", L, ", ", ct, "] (one cache per prediction)");
  } else {
    reps = single_template_stack(ctx, scope, cfg, batch, present, pair_mask, L);
    std::vector<float> present_mask(static_cast<size_t>(num_present));
    for (int64_t p = 0; p < num_present; ++p) present_mask[p] = template_mask[present[p]];
    key_mask = be.upload(Tensor::from_vector({1, num_present}, present_mask));
    cache->reps = reps;
    cache->key_mask = key_mask;
  }
  batched_pointwise_attention(ctx, scope.sub("attention"), att, reps, key_mask, pair);
}

}  // namespace axf::model
