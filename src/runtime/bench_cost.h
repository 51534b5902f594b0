// Work counts for the benchmark (axialfold bench): the floating-point operations and the fewest device-memory
// bytes of every Backend operation, from its arguments' shapes, and a Backend that forwards to another one while
// tallying those counts per operation (so module and model FLOPs are counted from the operations they really issue,
// chunking included).
//
// Conventions (one formula per op, used by every table of the benchmark):
//   FLOPs  GEMM-type ops (linear, gemm, attention, triangle_multiply, outer_product_mean) count 2 per multiply-add
//          of their matrix products only; their epilogues (bias, activation, softmax, gating, normalisation) are
//          lower order and not counted. Element-wise ops count their arithmetic per element (layer_norm 8:
//          mean 1, variance 3, normalise + scale + offset 4; add, mul_rows, relu 1; sigmoid_mul 4).
//   bytes  each input read once and each output written once (read too when accumulated into), at the tensors'
//          element size: the traffic of an ideal kernel, never the temporaries a real one may add. Bias
//          broadcasts and index tensors count once. upload/download are host<->device and tallied apart.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "backend/backend.h"

namespace axf::runtime::bench {

using backend::Tensor;

struct OpCost {
  double flops = 0;
  double bytes = 0;
};

double tensor_bytes(const Tensor& t);  // numel * element size; 0 when undefined

OpCost layer_norm_cost(const Tensor& x, const Tensor& scale, const Tensor& offset, const Tensor& out);
OpCost elementwise_cost(const Tensor& dst, const Tensor& src, double flops_per_element);  // dst op= f(src)
OpCost mul_rows_cost(const Tensor& x, const Tensor& row_scale);
OpCost relu_cost(const Tensor& x);
OpCost embedding_cost(const Tensor& index, const Tensor& table, const Tensor& out, bool accumulate);
OpCost masked_mean_cost(const Tensor& x, const Tensor& mask, const Tensor& out);
// logits [rows, bins], V expectations: (3 + 2 V) FLOPs per logit (max, exp, sum, V multiply-adds); bytes logits +
// values + out.
OpCost softmax_expectations_cost(const Tensor& logits, const Tensor& values, const Tensor& out);
OpCost copy_cost(const Tensor& src, const Tensor& dst);
OpCost fill_cost(const Tensor& t);
// x [M, K] @ w [K, N]: 2*M*N*K FLOPs; bytes x + w + bias + out (twice when accumulating).
OpCost linear_cost(const backend::LinearArgs& a);
OpCost gemm_cost(const Tensor& a, bool trans_a, const Tensor& b, bool trans_b, const Tensor& c, float beta);
// 2*B*H*Q*K*(D + Dv) FLOPs (QK^T and PV); bytes q + k + v + key_mask + bias + gate + out.
OpCost attention_cost(const backend::AttentionArgs& a);
// One online-softmax step over B*H rows: 2*B*H*(D + Dv) FLOPs (the score and the rescaled update); bytes q, k, v,
// m and l read and written, acc read and written. attention_normalize: B*H*Dv FLOPs, acc + l + out.
OpCost attention_accumulate_cost(const backend::OnlineAttentionArgs& a);
OpCost attention_normalize_cost(const Tensor& acc, const Tensor& l, const Tensor& out);
// rows R of out, C channels, L residues: 2*C*R*L*L FLOPs; bytes (C*R*L + C*L*L) inputs + R*L*C out.
OpCost triangle_multiply_cost(const backend::TriangleMultiplyArgs& a);
// rows R, S sequences, A x Bc outer channels, Cz out: 2*S*R*L*A*Bc + 2*R*L*A*Bc*Cz FLOPs;
// bytes S*R*A (left rows) + right + w + bias + norm + out (twice when accumulating).
OpCost outer_product_mean_cost(const backend::OuterProductMeanArgs& a);
OpCost triangle_projection_cost(const backend::TriangleProjectionArgs& a);
// rows R x L of c_z channels, H heads: 8*R*L*c_z (LayerNorm, when given) + 2*R*L*c_z*H FLOPs; bytes rows + LayerNorm
// parameters + w + out + normed (one pass).
OpCost pair_bias_cost(const backend::PairBiasArgs& a);
OpCost gated_transpose_cost(const backend::GatedTransposeArgs& a);
// rows R of c_m channels, A + B outputs: 8*R*c_m + 2*R*c_m*(A+B) + R*(A+B) FLOPs; bytes: the rows, mask and
// parameters read, the outputs written.
OpCost outer_product_projections_cost(const backend::OuterProductProjectionArgs& a);
// rows R of c channels, hidden H: 8*R*c (LayerNorm) + 4*R*c*H FLOPs; bytes rows read and written + parameters.
OpCost transition_cost(const backend::TransitionArgs& a);
OpCost triangle_gated_output_cost(const backend::TriangleGatedOutputArgs& a);  // 6 FLOPs per output element
// IPA core: 2*L*L*H*(sqk + 3*pqk + sv + 3*pv + cz) FLOPs (logits, value/point/pair sums); bytes: projections,
// pair, bias_2d, affines, mask, out.
OpCost invariant_point_attention_cost(const backend::IpaArgs& a);
OpCost backbone_update_cost(const Tensor& affines, const Tensor& update);  // ~60 FLOPs per residue
// Feature embeddings: the output written (read too where added into) and the per-residue inputs; template pair
// features fused with embedding2d count 2*rows*L*F*Cout FLOPs.
OpCost template_pair_features_cost(const backend::TemplatePairFeatureArgs& a);
OpCost pair_embedding_cost(const Tensor& table, const Tensor& bias, const Tensor& pair);
OpCost extra_msa_embedding_cost(const backend::ExtraMsaEmbeddingArgs& a);

struct OpTally {
  int64_t calls = 0;
  double flops = 0;
  double bytes = 0;
};

// Totals over a run: per operation name, plus host<->device transfer bytes kept apart.
struct OpTallies {
  std::map<std::string, OpTally> ops;
  double upload_bytes = 0;
  double download_bytes = 0;
  void add(const std::string& op, const OpCost& cost);
  void add(const OpTallies& other);
  OpTallies minus(const OpTallies& earlier) const;  // what was added since `earlier` (a copy of this, before)
  double flops() const;
  double bytes() const;
  int64_t calls() const;
};

// Bytes of the tensors a CountingBackend handed out (empty, upload) that are still alive, and their high-water
// mark: the model's own buffers, without what a backend allocates inside an operation (scratch, workspaces).
struct LiveBytes {
  int64_t live = 0;
  int64_t peak = 0;
};

// Forwards every operation to `inner` unchanged and tallies its cost and the live bytes of the tensors it makes
// (the inner backend's memory, wrapped so that freeing is seen).
class CountingBackend final : public backend::Backend {
 public:
  explicit CountingBackend(backend::Backend& inner) : inner_(inner), live_(std::make_shared<LiveBytes>()) {}
  const OpTallies& tallies() const { return tallies_; }
  void reset() { tallies_ = {}; }
  const LiveBytes& live_bytes() const { return *live_; }
  void reset_peak() { live_->peak = live_->live; }
  backend::Backend& inner() const { return inner_; }

  std::string name() const override { return inner_.name(); }
  core::Device device() const override { return inner_.device(); }
  bool supports_bf16() const override { return inner_.supports_bf16(); }
  void set_allow_tf32(bool allow) override { inner_.set_allow_tf32(allow); }
  Tensor empty(const core::Shape& shape, core::DType dtype) override { return tracked(inner_.empty(shape, dtype)); }
  Tensor upload(const Tensor& host) override;
  Tensor download(const Tensor& t) override;
  void download_to(const Tensor& t, Tensor& host_dst) override;
  void upload_to(const Tensor& host, Tensor& device_dst) override;
  void copy(const Tensor& src, Tensor& dst) override;
  void fill(Tensor& t, float value) override;
  void synchronize() override { inner_.synchronize(); }
  // Recorded operations are tallied when they run: at every replay, not while being recorded.
  bool can_record() const override { return inner_.can_record(); }
  void begin_recording() override;
  std::unique_ptr<backend::RecordedWork> end_recording() override;
  void abort_recording() override;
  void replay(const backend::RecordedWork& work) override;

  void layer_norm(const Tensor& x, const Tensor& scale, const Tensor& offset, Tensor& out, float eps) override;
  void add(Tensor& dst, const Tensor& src) override;
  void sigmoid_mul(Tensor& dst, const Tensor& gate_logits) override;
  void gated_add(Tensor& dst, const Tensor& src, const Tensor& gate_logits) override;
  void mul_rows(Tensor& x, const Tensor& row_scale) override;
  void relu(Tensor& x) override;
  void embedding(const Tensor& index, const Tensor& table, Tensor& out, bool accumulate) override;
  void masked_mean(const Tensor& x, const Tensor& mask, Tensor& out, float eps) override;
  void softmax_expectations(const Tensor& logits, const Tensor& values, Tensor& out) override;

  void linear(const backend::LinearArgs& args) override;
  void gemm(const Tensor& a, bool trans_a, const Tensor& b, bool trans_b, Tensor& c, float alpha,
            float beta) override;

  void attention(const backend::AttentionArgs& args) override;
  void attention_accumulate(const backend::OnlineAttentionArgs& args) override;
  void attention_normalize(const Tensor& acc, const Tensor& l, Tensor& out) override;
  void triangle_multiply(const backend::TriangleMultiplyArgs& args) override;
  void triangle_projection(const backend::TriangleProjectionArgs& args) override;
  bool fuses_triangle_projection(const backend::TriangleProjectionArgs& args) const override {
    return inner_.fuses_triangle_projection(args);
  }
  void outer_product_projections(const backend::OuterProductProjectionArgs& args) override;
  bool fuses_outer_product_projections(const backend::OuterProductProjectionArgs& args) const override {
    return inner_.fuses_outer_product_projections(args);
  }
  void transition(const backend::TransitionArgs& args) override;
  bool fuses_transition(const backend::TransitionArgs& args) const override { return inner_.fuses_transition(args); }
  void pair_bias(const backend::PairBiasArgs& args) override;
  bool fuses_pair_bias(const backend::PairBiasArgs& args) const override { return inner_.fuses_pair_bias(args); }
  void gated_transpose(const backend::GatedTransposeArgs& args) override;
  void triangle_gated_output(const backend::TriangleGatedOutputArgs& args) override;
  void outer_product_mean(const backend::OuterProductMeanArgs& args) override;
  void invariant_point_attention(const backend::IpaArgs& args) override;
  void backbone_update(Tensor& affines, const Tensor& update) override;
  void template_pair_features(const backend::TemplatePairFeatureArgs& args) override;
  void relative_position_embedding(const backend::RelativePositionEmbeddingArgs& args) override;
  void distogram_embedding(const backend::DistogramEmbeddingArgs& args) override;
  void extra_msa_embedding(const backend::ExtraMsaEmbeddingArgs& args) override;

 private:
  Tensor tracked(const Tensor& t);
  // A fused operation (fuses: whether the inner backend runs these arguments in one kernel): then counted as one op
  // and run by the inner backend; else run as Backend's default here, whose unfused sequence goes through this
  // wrapper, so that its ops are counted and its temporaries tracked.
  template <class Cost, class Unfused, class Fused>
  void count_fused_or_default(bool fuses, const char* name, Cost&& cost, Unfused&& unfused, Fused&& fused) {
    if (!fuses) {
      unfused();
      return;
    }
    tallies_.add(name, cost());
    fused();
  }
  backend::Backend& inner_;
  OpTallies tallies_;
  OpTallies before_recording_;
  std::shared_ptr<LiveBytes> live_;
};

}  // namespace axf::runtime::bench
