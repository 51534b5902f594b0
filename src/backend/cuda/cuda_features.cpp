// CUDA backend: the input features computed on the GPU (template pair features and their embedding2d, one-hot
// pair embeddings of relative positions and recycled distances, the extra-MSA embedding). Host checks here, kernels
// in kernels/template_pair_features, pair_embedding and extra_msa_embedding. None of them synchronises.
#include <algorithm>

#include "backend/cuda/cuda_backend.h"
#include "backend/cuda/cuda_check.h"
#include "backend/cuda/cuda_rows.h"
#include "backend/feature_ops.h"
#include "kernels/extra_msa_embedding.cuh"
#include "kernels/pair_embedding.cuh"
#include "kernels/template_pair_features.cuh"

namespace axf::backend::cuda {

namespace {

// Optional arguments may be undefined; defined ones must be on the GPU.
void check_on_gpu(const Tensor& t, const char* op) {
  if (t.defined()) check_device_tensor(t, op);
}

template <class T>
const T* cptr(const Tensor& t) {
  return t.defined() ? static_cast<const T*>(t.raw_data()) : nullptr;
}

void copy_breaks(const std::vector<float>& lower, const std::vector<float>& upper, float* lo, float* up) {
  std::copy(lower.begin(), lower.end(), lo);
  std::copy(upper.begin(), upper.end(), up);
}

}  // namespace

void CudaBackend::template_pair_features(const TemplatePairFeatureArgs& a) {
  const features::TemplatePairFeatureDims d = features::check_template_pair_feature_args(a);
  for (const Tensor* t : {&a.pseudo_beta, &a.pseudo_beta_mask, &a.ca, &a.rotation, &a.backbone_mask, &a.aatype,
                          &a.w, &a.bias, &a.out})
    check_on_gpu(*t, "template_pair_features");
  kernels::TemplatePairFeatureParams p;
  p.res.pseudo_beta = cptr<float>(a.pseudo_beta);
  p.res.pseudo_beta_mask = cptr<float>(a.pseudo_beta_mask);
  p.res.ca = cptr<float>(a.ca);
  p.res.rotation = cptr<float>(a.rotation);
  p.res.backbone_mask = cptr<float>(a.backbone_mask);
  p.res.aatype = cptr<int32_t>(a.aatype);
  p.num_res = d.num_res;
  p.rows = d.rows;
  p.row_begin = a.row_begin;
  p.num_bins = d.num_bins;
  copy_breaks(a.dgram_lower, a.dgram_upper, p.lower, p.upper);
  p.use_unit_vector = a.use_unit_vector;
  if (d.fused) {
    p.w = a.w.raw_data();
    p.bias = a.bias.defined() ? a.bias.raw_data() : nullptr;
    p.w_type = elem_type(a.w.dtype());
    if (a.bias.defined()) p.bias_type = elem_type(a.bias.dtype());
  }
  p.out = a.out.raw_data();
  p.out_type = elem_type(a.out.dtype());
  p.out_s0 = a.out.stride(0);
  p.out_s1 = a.out.stride(1);
  p.channels = d.channels;
  activate();
  kernels::launch_template_pair_features(p, ctx_->stream);
}

namespace {
kernels::PairEmbeddingParams pair_params(const features::PairEmbeddingDims& d, const Tensor& table, const Tensor& bias,
                                         const Tensor& pair, int64_t row_begin) {
  kernels::PairEmbeddingParams p;
  p.table = table.raw_data();
  p.bias = bias.defined() ? bias.raw_data() : nullptr;
  p.table_type = elem_type(table.dtype());
  if (bias.defined()) p.bias_type = elem_type(bias.dtype());
  p.pair = pair.raw_data();
  p.pair_type = elem_type(pair.dtype());
  p.pair_s0 = pair.stride(0);
  p.pair_s1 = pair.stride(1);
  p.num_res = d.num_res;
  p.rows = d.rows;
  p.row_begin = row_begin;
  p.channels = d.channels;
  return p;
}
}  // namespace

void CudaBackend::relative_position_embedding(const RelativePositionEmbeddingArgs& a) {
  const features::PairEmbeddingDims d = features::check_relative_position_args(a);
  for (const Tensor* t : {&a.residue_index, &a.table, &a.bias, &a.pair}) check_on_gpu(*t, "relative_position_embedding");
  kernels::PairEmbeddingParams p = pair_params(d, a.table, a.bias, a.pair, a.row_begin);
  p.bin = kernels::PairBin::RelativePosition;
  p.residue_index = cptr<int32_t>(a.residue_index);
  p.max_relative_feature = a.max_relative_feature;
  activate();
  kernels::launch_pair_embedding(p, ctx_->stream);
}

void CudaBackend::distogram_embedding(const DistogramEmbeddingArgs& a) {
  const features::PairEmbeddingDims d = features::check_distogram_args(a);
  for (const Tensor* t : {&a.positions, &a.table, &a.bias, &a.pair}) check_on_gpu(*t, "distogram_embedding");
  kernels::PairEmbeddingParams p = pair_params(d, a.table, a.bias, a.pair, a.row_begin);
  p.bin = kernels::PairBin::Distogram;
  p.positions = cptr<float>(a.positions);
  p.num_bins = static_cast<int>(a.lower.size());
  copy_breaks(a.lower, a.upper, p.lower, p.upper);
  activate();
  kernels::launch_pair_embedding(p, ctx_->stream);
}

void CudaBackend::extra_msa_embedding(const ExtraMsaEmbeddingArgs& a) {
  const features::ExtraMsaDims d = features::check_extra_msa_args(a);
  for (const Tensor* t : {&a.aatype, &a.has_deletion, &a.deletion_value, &a.w, &a.bias, &a.out})
    check_on_gpu(*t, "extra_msa_embedding");
  kernels::ExtraMsaEmbeddingParams p;
  p.aatype = cptr<int32_t>(a.aatype);
  p.has_deletion = cptr<float>(a.has_deletion);
  p.deletion_value = cptr<float>(a.deletion_value);
  p.w = a.w.raw_data();
  p.bias = a.bias.defined() ? a.bias.raw_data() : nullptr;
  p.w_type = elem_type(a.w.dtype());
  if (a.bias.defined()) p.bias_type = elem_type(a.bias.dtype());
  p.out = a.out.raw_data();
  p.out_type = elem_type(a.out.dtype());
  p.out_s0 = a.out.stride(0);
  p.out_s1 = a.out.stride(1);
  p.num_seq = d.num_seq;
  p.num_res = d.num_res;
  p.channels = d.channels;
  activate();
  kernels::launch_extra_msa_embedding(p, ctx_->stream);
}

}  // namespace axf::backend::cuda
