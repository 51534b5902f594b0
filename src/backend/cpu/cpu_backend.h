// The CPU reference backend: fp32 compute, OpenMP threads, OpenBLAS GEMMs, numerically careful
// (double-precision LayerNorm statistics, max-subtracted softmax). It is the oracle for every other backend.
#pragma once

#include "backend/backend.h"

namespace axf::backend::cpu {

class CpuBackend final : public Backend {
 public:
  explicit CpuBackend(int num_threads);
  std::string name() const override { return "cpu"; }
  core::Device device() const override { return core::Device::CPU; }

  Tensor empty(const Shape& shape, DType dtype) override;
  Tensor upload(const Tensor& host) override;
  Tensor download(const Tensor& t) override;
  void copy(const Tensor& src, Tensor& dst) override;
  void fill(Tensor& t, float value) override;

  void layer_norm(const Tensor& x, const Tensor& scale, const Tensor& offset, Tensor& out, float eps) override;
  void add(Tensor& dst, const Tensor& src) override;
  void sigmoid_mul(Tensor& dst, const Tensor& gate_logits) override;
  void gated_add(Tensor& dst, const Tensor& src, const Tensor& gate_logits) override;
  void mul_rows(Tensor& x, const Tensor& row_scale) override;
  void relu(Tensor& x) override;
  void embedding(const Tensor& index, const Tensor& table, Tensor& out, bool accumulate) override;
  void masked_mean(const Tensor& x, const Tensor& mask, Tensor& out, float eps) override;
  void softmax_expectations(const Tensor& logits, const Tensor& values, Tensor& out) override;

  void linear(const LinearArgs& args) override;
  void gemm(const Tensor& a, bool trans_a, const Tensor& b, bool trans_b, Tensor& c, float alpha,
            float beta) override;

  void attention(const AttentionArgs& args) override;
  // Online softmax over keys given one at a time (cpu_online_attention.cpp).
  void attention_accumulate(const OnlineAttentionArgs& args) override;
  void attention_normalize(const Tensor& acc, const Tensor& l, Tensor& out) override;
  void triangle_multiply(const TriangleMultiplyArgs& args) override;
  void gated_transpose(const GatedTransposeArgs& args) override;
  // Input features (cpu_features.cpp / cuda_features.cpp).
  void template_pair_features(const TemplatePairFeatureArgs& args) override;
  void relative_position_embedding(const RelativePositionEmbeddingArgs& args) override;
  void distogram_embedding(const DistogramEmbeddingArgs& args) override;
  void extra_msa_embedding(const ExtraMsaEmbeddingArgs& args) override;
  // Structure module (cpu_structure.cpp).
  void invariant_point_attention(const IpaArgs& args) override;
  void backbone_update(Tensor& affines, const Tensor& update) override;
  void outer_product_mean(const OuterProductMeanArgs& args) override;
};

}  // namespace axf::backend::cpu
