#include "model/embedders.h"

#include <algorithm>

#include "core/error.h"
#include "model/residue_constants.h"
#include "model/template_geometry.h"

namespace axf::model {

using backend::LinearArgs;
using core::Shape;

DeviceInputs upload_inputs(runtime::ExecutionContext& ctx, const ModelConfig& cfg, const ModelInputs& in) {
  backend::Backend& be = ctx.backend();
  const int64_t L = in.num_res(), S = in.num_msa();
  DeviceInputs d;
  d.target_feat = be.upload(in.target_feat);
  d.msa_feat = be.upload(in.msa_feat);
  const bool torsion_rows = cfg.templates.enabled && cfg.templates.embed_torsion_angles;
  const int64_t T = torsion_rows ? in.templates.count() : 0;
  Tensor mask = Tensor::empty({S + T, L});
  std::copy_n(in.msa_mask.data<float>(), S * L, mask.data<float>());
  // AlphaFold masks the template rows with the psi-angle mask (it depends only on backbone atoms).
  for (int64_t t = 0; t < T; ++t)
    for (int64_t i = 0; i < L; ++i)
      mask.data<float>()[(S + t) * L + i] = in.templates.torsion_angles_mask.data<float>()[(t * L + i) * 7 + 2];
  d.msa_mask = be.upload(mask);
  // pair_mask[i, j] = seq_mask[j] * seq_mask[i] (== seq_mask[i] * seq_mask[j]), formed on the device.
  const Tensor seq_mask = be.upload(in.seq_mask);
  d.pair_mask = be.empty({L, L});
  be.copy(seq_mask.unsqueeze(0).expand(0, L), d.pair_mask);
  be.mul_rows(d.pair_mask, seq_mask);
  d.residue_index = be.upload(in.residue_index);
  d.extra_msa = be.upload(in.extra_msa);
  d.extra_has_deletion = be.upload(in.extra_has_deletion);
  d.extra_deletion_value = be.upload(in.extra_deletion_value);
  d.extra_msa_mask = be.upload(in.extra_msa_mask);
  return d;
}

void dgram_squared_breaks(const DgramConfig& g, std::vector<float>& lower, std::vector<float>& upper) {
  lower.assign(static_cast<size_t>(g.num_bins), 0.f);
  upper.assign(static_cast<size_t>(g.num_bins), 0.f);
  for (int k = 0; k < g.num_bins; ++k) {
    const float b = g.num_bins == 1 ? g.min_bin
                                    : g.min_bin + (g.max_bin - g.min_bin) * static_cast<float>(k) /
                                                      static_cast<float>(g.num_bins - 1);
    lower[k] = b * b;
  }
  for (int k = 0; k < g.num_bins; ++k) upper[k] = k + 1 < g.num_bins ? lower[k + 1] : 1e8f;
}

std::vector<int32_t> relpos_indices(const int32_t* ri, int64_t L, int64_t row_begin, int64_t rows, int32_t R) {
  std::vector<int32_t> idx(static_cast<size_t>(rows * L));
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < L; ++j) {
      const int64_t offset = static_cast<int64_t>(ri[row_begin + i]) - ri[j];
      idx[i * L + j] = static_cast<int32_t>(std::clamp<int64_t>(offset + R, 0, 2 * int64_t{R}));
    }
  return idx;
}

std::vector<int32_t> dgram_bins(const float* pos, int64_t L, int64_t row_begin, int64_t rows, const DgramConfig& g) {
  std::vector<float> lower, upper;
  dgram_squared_breaks(g, lower, upper);
  std::vector<int32_t> bins(static_cast<size_t>(rows * L), -1);
  for (int64_t r = 0; r < rows; ++r) {
    const float* a = pos + (row_begin + r) * 3;
    for (int64_t j = 0; j < L; ++j) {
      const float* b = pos + j * 3;
      const float dx = a[0] - b[0], dy = a[1] - b[1], dz = a[2] - b[2];
      const float d2 = dx * dx + dy * dy + dz * dz;
      for (int k = 0; k < g.num_bins; ++k) {
        if (d2 > lower[k] && d2 < upper[k]) {
          bins[r * L + j] = k;
          break;
        }
      }
    }
  }
  return bins;
}

void relative_position_add(runtime::ExecutionContext& ctx, const Scope& evo, const ModelConfig& cfg,
                           const Tensor& residue_index, Tensor& pair) {
  if (cfg.max_relative_feature <= 0) return;
  backend::Backend& be = ctx.backend();
  const Scope lin = evo.sub("pair_activiations");
  backend::RelativePositionEmbeddingArgs args;
  args.residue_index = residue_index.device() == be.device() ? residue_index : be.upload(residue_index);
  args.max_relative_feature = cfg.max_relative_feature;
  args.table = lin["weights"];
  args.bias = lin["bias"];
  args.pair = pair;
  be.relative_position_embedding(args);  // no temporaries: one call for all rows
}

RecyclingState RecyclingState::zeros(runtime::ExecutionContext& ctx, const ModelConfig& cfg, int64_t L) {
  backend::Backend& be = ctx.backend();
  RecyclingState s;
  s.prev_pos = Tensor::zeros({L, 37, 3});
  s.prev_msa_first_row = be.empty({L, cfg.msa_channel}, ctx.dtype());
  be.fill(s.prev_msa_first_row, 0.f);
  s.prev_pair = be.empty({L, L, cfg.pair_channel}, ctx.dtype());
  be.fill(s.prev_pair, 0.f);
  return s;
}

void embed_inputs(runtime::ExecutionContext& ctx, const Scope& evo, const ModelConfig& cfg, const DeviceInputs& d,
                  const Tensor& aatype, const RecyclingState& prev, Tensor& msa, Tensor& pair) {
  embed_msa(ctx, evo, cfg, d, prev, msa);
  embed_pair(ctx, evo, cfg, d, aatype, prev, pair);
}

void embed_msa(runtime::ExecutionContext& ctx, const Scope& evo, const ModelConfig& cfg, const DeviceInputs& d,
               const RecyclingState& prev, Tensor& msa) {
  backend::Backend& be = ctx.backend();
  const int64_t L = d.target_feat.size(0), S = d.msa_feat.size(0), m = msa.size(2);
  AXF_CHECK(msa.ndim() == 3 && msa.size(0) >= S && msa.size(1) == L, "embeddings: msa ", msa.describe(), " for ", S,
            " sequences of ", L, " residues");
  const core::DType dt = ctx.dtype();

  // MSA: preprocess_msa(msa_feat) + preprocess_1d(target_feat), then the recycled first row.
  Tensor p1d = be.empty({L, m}, dt);
  be.linear({d.target_feat, evo.sub("preprocess_1d")["weights"], evo.sub("preprocess_1d")["bias"], p1d});
  Tensor msa_rows = msa.slice(0, 0, S);
  be.linear({d.msa_feat, evo.sub("preprocess_msa")["weights"], evo.sub("preprocess_msa")["bias"], msa_rows});
  be.add(msa_rows, p1d.unsqueeze(0).expand(0, S));
  if (cfg.recycle_features) {
    const Scope msa_norm = evo.sub("prev_msa_first_row_norm");
    Tensor first = be.empty({L, m}, dt);
    be.layer_norm(prev.prev_msa_first_row, msa_norm["scale"], msa_norm["offset"], first);
    Tensor row0 = msa.select(0, 0);
    be.add(row0, first);
  }
}

void embed_pair(runtime::ExecutionContext& ctx, const Scope& evo, const ModelConfig& cfg, const DeviceInputs& d,
                const Tensor& aatype, const RecyclingState& prev, Tensor& pair) {
  backend::Backend& be = ctx.backend();
  const int64_t L = d.target_feat.size(0), z = pair.size(2);
  AXF_CHECK(pair.ndim() == 3 && pair.size(0) == L && pair.size(1) == L && pair.is_contiguous(), "embeddings: pair ",
            pair.describe(), " for ", L, " residues");
  const core::DType dt = ctx.dtype();

  // Pair, a block of rows at a time.
  Tensor left = be.empty({L, z}, dt), right = be.empty({L, z}, dt);
  be.linear({d.target_feat, evo.sub("left_single")["weights"], evo.sub("left_single")["bias"], left});
  be.linear({d.target_feat, evo.sub("right_single")["weights"], evo.sub("right_single")["bias"], right});
  backend::DistogramEmbeddingArgs dgram;
  if (cfg.recycle_pos) {
    Tensor beta = Tensor::empty({L, 3});
    pseudo_beta(L, aatype.data<int32_t>(), prev.prev_pos.contiguous().data<float>(), nullptr, beta.data<float>(),
                nullptr);
    const Scope lin = evo.sub("prev_pos_linear");
    dgram.positions = be.upload(beta);
    dgram_squared_breaks(cfg.prev_pos, dgram.lower, dgram.upper);
    dgram.table = lin["weights"];
    dgram.bias = lin["bias"];
  }
  const bool in_place = cfg.recycle_features && prev.prev_pair.defined() && pair.storage() == prev.prev_pair.storage();
  if (in_place)
    AXF_CHECK(pair.raw_data() == prev.prev_pair.raw_data() && pair.shape() == prev.prev_pair.shape(),
              "embeddings: pair ", pair.describe(), " overlaps the recycled pair ", prev.prev_pair.describe(),
              " without being it");
  int64_t block = runtime::chunk_length(ctx.chunks().pair_rows, L);
  if (in_place) block = std::min(block, kRecycledPairBlockRows);
  const Scope pair_norm = evo.sub("prev_pair_norm");
  runtime::for_each_chunk(L, block, [&](int64_t b, int64_t e) {
    Tensor normed;
    if (cfg.recycle_features) {
      normed = be.empty({e - b, L, z}, dt);
      be.layer_norm(prev.prev_pair.slice(0, b, e), pair_norm["scale"], pair_norm["offset"], normed);
    }
    Tensor rows = pair.slice(0, b, e);
    be.copy(left.slice(0, b, e).unsqueeze(1).expand(1, L), rows);
    be.add(rows, right.unsqueeze(0).expand(0, e - b));
    if (cfg.recycle_pos) {
      dgram.pair = rows;
      dgram.row_begin = b;
      be.distogram_embedding(dgram);
    }
    if (cfg.recycle_features) be.add(rows, normed);
  });
  relative_position_add(ctx, evo, cfg, d.residue_index, pair);
}

void extra_msa_embedder(runtime::ExecutionContext& ctx, const Scope& evo, const DeviceInputs& d, Tensor& extra_act) {
  const Scope lin = evo.sub("extra_msa_activations");
  // No [E, L, 25] temporary, so no chunking: one call for all sequences.
  ctx.backend().extra_msa_embedding(
      {d.extra_msa, d.extra_has_deletion, d.extra_deletion_value, lin["weights"], lin["bias"], extra_act});
}

void template_torsion_embedder(runtime::ExecutionContext& ctx, const Scope& evo, const TemplateBatch& t,
                               Tensor& template_rows) {
  backend::Backend& be = ctx.backend();
  const int64_t T = t.count(), L = t.aatype.size(1), m = template_rows.size(2);
  if (T == 0) return;
  Tensor feat = Tensor::zeros({T, L, 57});
  float* f = feat.data<float>();
  const int32_t* aa = t.aatype.data<int32_t>();
  const float* sc = t.torsion_angles_sin_cos.data<float>();
  const float* alt = t.alt_torsion_angles_sin_cos.data<float>();
  const float* tm = t.torsion_angles_mask.data<float>();
  for (int64_t r = 0; r < T * L; ++r) {
    float* row = f + r * 57;
    row[aa[r]] = 1.f;  // template aatype one-hot over 22 classes (20 + X + gap)
    for (int k = 0; k < 14; ++k) row[22 + k] = sc[r * 14 + k];
    for (int k = 0; k < 14; ++k) row[36 + k] = alt[r * 14 + k];
    for (int k = 0; k < 7; ++k) row[50 + k] = tm[r * 7 + k];
  }
  Tensor hidden = be.empty({T, L, m}, ctx.dtype());
  const Scope emb = evo.sub("template_single_embedding"), proj = evo.sub("template_projection");
  be.linear({be.upload(feat), emb["weights"], emb["bias"], hidden, backend::Activation::Relu});
  be.linear({hidden, proj["weights"], proj["bias"], template_rows});
}

}  // namespace axf::model
