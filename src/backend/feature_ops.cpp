// Input-feature operations: argument checks shared by the backends, and the Backend defaults for backends without
// kernels for them (inputs downloaded, features built on the host with the shared arithmetic of feature_math.h,
// then uploaded and applied with the generic ops: the model's former host path).
#include "backend/feature_ops.h"

#include <string>
#include <vector>

#include "backend/feature_math.h"
#include "core/error.h"

namespace axf::backend {

namespace features {

namespace {

bool is_float(DType t) { return t == DType::F32 || t == DType::BF16; }

void check_residue_tensor(const Tensor& t, const char* op, const char* what, const Shape& shape, DType dtype) {
  AXF_CHECK(t.defined(), op, ": ", what, " is missing");
  AXF_CHECK(t.shape() == shape && t.dtype() == dtype && t.is_contiguous(), op, ": ", what, " ", t.describe(),
            ", expected contiguous ", core::dtype_name(dtype), core::shape_to_string(shape));
}

// [rows, L, C] with a dense last dim, fp32 or bf16.
void check_rows_out(const Tensor& t, const char* op, const char* what, int64_t L) {
  AXF_CHECK(t.defined(), op, ": ", what, " is missing");
  AXF_CHECK(t.ndim() == 3 && t.size(1) == L, op, ": ", what, " ", t.describe(), " must be [rows, ", L, ", C]");
  AXF_CHECK(is_float(t.dtype()), op, ": ", what, " ", t.describe(), " must be fp32 or bf16");
  AXF_CHECK(t.size(2) <= 1 || t.stride(2) == 1, op, ": last dim of ", what, " ", t.describe(), " must be dense");
}

// A contiguous [rows, C] parameter matrix and its optional [C] bias (each fp32 or bf16).
void check_table(const Tensor& table, const Tensor& bias, const char* op, int64_t rows, int64_t C) {
  AXF_CHECK(table.defined() && table.ndim() == 2 && table.size(0) == rows && table.size(1) == C &&
                table.is_contiguous() && is_float(table.dtype()),
            op, ": table/weights ", table.defined() ? table.describe() : "(missing)", ", expected contiguous [", rows,
            ", ", C, "] fp32 or bf16");
  if (bias.defined())
    AXF_CHECK(bias.numel() == C && bias.is_contiguous() && is_float(bias.dtype()), op, ": bias ", bias.describe(),
              ", expected ", C, " contiguous fp32 or bf16 values");
}

void check_breaks(const std::vector<float>& lower, const std::vector<float>& upper, const char* op) {
  AXF_CHECK(lower.size() == upper.size() && !lower.empty() && lower.size() <= kMaxDgramBins, op, ": ",
            lower.size(), " lower and ", upper.size(), " upper bin edges (1 to ", kMaxDgramBins, " bins)");
}

void check_row_range(int64_t row_begin, int64_t rows, int64_t L, const char* op) {
  AXF_CHECK(row_begin >= 0 && row_begin + rows <= L, op, ": rows [", row_begin, ", ", row_begin + rows, ") of ", L);
}

}  // namespace

TemplatePairFeatureDims check_template_pair_feature_args(const TemplatePairFeatureArgs& a) {
  const char* op = "template_pair_features";
  AXF_CHECK(a.aatype.defined() && a.aatype.ndim() == 1, op, ": aatype must be [L]");
  TemplatePairFeatureDims d;
  d.num_res = a.aatype.size(0);
  const int64_t L = d.num_res;
  check_residue_tensor(a.aatype, op, "aatype", {L}, DType::I32);
  check_residue_tensor(a.pseudo_beta, op, "pseudo_beta", {L, 3}, DType::F32);
  check_residue_tensor(a.pseudo_beta_mask, op, "pseudo_beta_mask", {L}, DType::F32);
  check_residue_tensor(a.ca, op, "ca", {L, 3}, DType::F32);
  check_residue_tensor(a.rotation, op, "rotation", {L, 9}, DType::F32);
  check_residue_tensor(a.backbone_mask, op, "backbone_mask", {L}, DType::F32);
  check_breaks(a.dgram_lower, a.dgram_upper, op);
  d.num_bins = static_cast<int>(a.dgram_lower.size());
  check_rows_out(a.out, op, "out", L);
  d.rows = a.out.size(0);
  d.channels = a.out.size(2);
  check_row_range(a.row_begin, d.rows, L, op);
  d.fused = a.w.defined();
  const int64_t F = d.num_bins + kTemplateExtraChannels;
  if (d.fused) {
    check_table(a.w, a.bias, op, F, d.channels);
  } else {
    AXF_CHECK(!a.bias.defined(), op, ": a bias needs weights");
    AXF_CHECK(d.channels == F, op, ": out ", a.out.describe(), " needs ", F, " feature channels");
  }
  return d;
}

PairEmbeddingDims check_relative_position_args(const RelativePositionEmbeddingArgs& a) {
  const char* op = "relative_position_embedding";
  AXF_CHECK(a.residue_index.defined() && a.residue_index.ndim() == 1, op, ": residue_index must be [L]");
  PairEmbeddingDims d;
  d.num_res = a.residue_index.size(0);
  check_residue_tensor(a.residue_index, op, "residue_index", {d.num_res}, DType::I32);
  check_rows_out(a.pair, op, "pair", d.num_res);
  d.rows = a.pair.size(0);
  d.channels = a.pair.size(2);
  check_row_range(a.row_begin, d.rows, d.num_res, op);
  AXF_CHECK(a.max_relative_feature >= 0 && a.max_relative_feature < (1 << 29), op, ": max_relative_feature ",
            a.max_relative_feature);
  check_table(a.table, a.bias, op, 2 * int64_t{a.max_relative_feature} + 1, d.channels);
  return d;
}

PairEmbeddingDims check_distogram_args(const DistogramEmbeddingArgs& a) {
  const char* op = "distogram_embedding";
  AXF_CHECK(a.positions.defined() && a.positions.ndim() == 2, op, ": positions must be [L, 3]");
  PairEmbeddingDims d;
  d.num_res = a.positions.size(0);
  check_residue_tensor(a.positions, op, "positions", {d.num_res, 3}, DType::F32);
  check_breaks(a.lower, a.upper, op);
  check_rows_out(a.pair, op, "pair", d.num_res);
  d.rows = a.pair.size(0);
  d.channels = a.pair.size(2);
  check_row_range(a.row_begin, d.rows, d.num_res, op);
  check_table(a.table, a.bias, op, static_cast<int64_t>(a.lower.size()), d.channels);
  return d;
}

ExtraMsaDims check_extra_msa_args(const ExtraMsaEmbeddingArgs& a) {
  const char* op = "extra_msa_embedding";
  AXF_CHECK(a.aatype.defined() && a.aatype.ndim() == 2, op, ": aatype must be [E, L]");
  ExtraMsaDims d;
  d.num_seq = a.aatype.size(0);
  d.num_res = a.aatype.size(1);
  check_residue_tensor(a.aatype, op, "aatype", {d.num_seq, d.num_res}, DType::I32);
  check_residue_tensor(a.has_deletion, op, "has_deletion", {d.num_seq, d.num_res}, DType::F32);
  check_residue_tensor(a.deletion_value, op, "deletion_value", {d.num_seq, d.num_res}, DType::F32);
  AXF_CHECK(a.out.defined() && a.out.ndim() == 3 && a.out.size(0) == d.num_seq && a.out.size(1) == d.num_res, op,
            ": out ", a.out.defined() ? a.out.describe() : "(missing)", " must be [", d.num_seq, ", ", d.num_res,
            ", C]");
  AXF_CHECK(is_float(a.out.dtype()) && (a.out.size(2) <= 1 || a.out.stride(2) == 1), op, ": out ",
            a.out.describe(), " must be fp32 or bf16 with a dense last dim");
  d.channels = a.out.size(2);
  check_table(a.w, a.bias, op, kExtraMsaFeatures, d.channels);
  return d;
}

}  // namespace features

// ---- Defaults: host-built features -----------------------------------------------------------------------------

namespace {
// [C] bias viewed as [rows, cols, C] (stride 0).
Tensor broadcast_bias(const Tensor& bias, int64_t rows, int64_t cols) {
  return bias.unsqueeze(0).unsqueeze(0).expand(0, rows).expand(1, cols);
}
}  // namespace

void Backend::template_pair_features(const TemplatePairFeatureArgs& a) {
  const features::TemplatePairFeatureDims d = features::check_template_pair_feature_args(a);
  const int64_t L = d.num_res, F = d.num_bins + features::kTemplateExtraChannels;
  const Tensor pb = download(a.pseudo_beta), pbm = download(a.pseudo_beta_mask), ca = download(a.ca),
               rot = download(a.rotation), bbm = download(a.backbone_mask), aat = download(a.aatype);
  features::TemplateResidues r;
  r.pseudo_beta = pb.data<float>();
  r.pseudo_beta_mask = pbm.data<float>();
  r.ca = ca.data<float>();
  r.rotation = rot.data<float>();
  r.backbone_mask = bbm.data<float>();
  r.aatype = aat.data<int32_t>();
  Tensor host = Tensor::empty({d.rows, L, F});
  float* f = host.data<float>();
#pragma omp parallel for schedule(static)
  for (int64_t ri = 0; ri < d.rows; ++ri)
    for (int64_t j = 0; j < L; ++j) {
      const features::TemplatePair p = features::template_pair(r, a.row_begin + ri, j, a.use_unit_vector);
      for (int64_t c = 0; c < F; ++c)
        f[(ri * L + j) * F + c] = features::template_feature(p, static_cast<int>(c), a.dgram_lower.data(),
                                                             a.dgram_upper.data(), d.num_bins);
    }
  const Tensor feat = upload(host);
  if (d.fused) {
    linear({feat, a.w, a.bias, a.out});
  } else {
    Tensor out = a.out;
    copy(feat, out);
  }
}

void Backend::relative_position_embedding(const RelativePositionEmbeddingArgs& a) {
  const features::PairEmbeddingDims d = features::check_relative_position_args(a);
  const Tensor ri = download(a.residue_index);
  const int32_t* r = ri.data<int32_t>();
  std::vector<int32_t> idx(static_cast<size_t>(d.rows * d.num_res));
  for (int64_t i = 0; i < d.rows; ++i)
    for (int64_t j = 0; j < d.num_res; ++j)
      idx[i * d.num_res + j] = features::relative_position_bin(r[a.row_begin + i], r[j], a.max_relative_feature);
  Tensor pair = a.pair;
  embedding(upload(Tensor::from_vector_i32({d.rows * d.num_res}, idx)), a.table, pair, true);
  if (a.bias.defined()) add(pair, broadcast_bias(a.bias, d.rows, d.num_res));
}

void Backend::distogram_embedding(const DistogramEmbeddingArgs& a) {
  const features::PairEmbeddingDims d = features::check_distogram_args(a);
  const Tensor pos = download(a.positions);
  const float* p = pos.data<float>();
  const int nb = static_cast<int>(a.lower.size());
  std::vector<int32_t> idx(static_cast<size_t>(d.rows * d.num_res));
  for (int64_t i = 0; i < d.rows; ++i)
    for (int64_t j = 0; j < d.num_res; ++j)
      idx[i * d.num_res + j] = features::distogram_bin(features::squared_distance(p + (a.row_begin + i) * 3, p + j * 3),
                                                       a.lower.data(), a.upper.data(), nb);
  Tensor pair = a.pair;
  embedding(upload(Tensor::from_vector_i32({d.rows * d.num_res}, idx)), a.table, pair, true);
  if (a.bias.defined()) add(pair, broadcast_bias(a.bias, d.rows, d.num_res));
}

void Backend::extra_msa_embedding(const ExtraMsaEmbeddingArgs& a) {
  const features::ExtraMsaDims d = features::check_extra_msa_args(a);
  const Tensor aa = download(a.aatype), hd = download(a.has_deletion), dv = download(a.deletion_value);
  const int64_t n = d.num_seq * d.num_res, F = features::kExtraMsaFeatures;
  Tensor feat = Tensor::zeros({d.num_seq, d.num_res, F});
  float* f = feat.data<float>();
  for (int64_t r = 0; r < n; ++r) {
    const int32_t k = aa.data<int32_t>()[r];
    AXF_CHECK(k >= 0 && k < F - 2, "extra_msa_embedding: aatype ", k, " outside [0, ", F - 2, ")");
    f[r * F + k] = 1.f;
    f[r * F + F - 2] = hd.data<float>()[r];
    f[r * F + F - 1] = dv.data<float>()[r];
  }
  linear({upload(feat), a.w, a.bias, a.out});
}

}  // namespace axf::backend
