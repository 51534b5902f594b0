// Backend: the one interface through which model code computes. One typed method per operation; the CPU
// backend is the readable reference and test oracle, the CUDA backend the fast one. Tensors passed to a
// backend live on its device. Shapes below: B batch, Q queries, K keys, H heads, D/Dv head dims, C channels.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace axf::backend {

using core::DType;
using core::Shape;
using core::Tensor;

enum class Activation { None, Relu, Sigmoid };

// Default bound on one operation's scratch in a GPU backend (attention logits, triangle-multiply and outer-product
// GEMM temporaries); the memory planner counts it as the backend's workspace.
constexpr int64_t kDefaultWorkspaceBytes = int64_t{256} << 20;

// out = act(x @ w + bias), or out += act(x @ w + bias) when accumulate.
struct LinearArgs {
  Tensor x;       // [..., Cin], last dim dense, leading dims collapse to rows
  Tensor w;       // [Cin, Cout] contiguous (AlphaFold's layout)
  Tensor bias;    // [Cout] or undefined
  Tensor out;     // [..., Cout]
  Activation activation = Activation::None;
  bool accumulate = false;
};

// Gated multi-head attention with optional key mask and shared (non-batched) bias:
//   logits[b,h,q,k] = scale * <q[b,q,h,:], k[b,k,h',:]> + bias[h,q,k];  masked keys get -1e9 (AlphaFold's value)
//   out[b,q,h,:] = softmax_k(logits) @ v[b,:,h',:]  (* sigmoid(gate[b,q,h,:]) when gate is given)
// h' = h, or 0 when k/v have a single head shared by all query heads (global attention, Suppl. Alg. 19).
struct AttentionArgs {
  Tensor q;         // [B, Q, H, D]
  Tensor k;         // [B, K, H or 1, D]
  Tensor v;         // [B, K, H or 1, Dv]
  Tensor key_mask;  // [B, K] or [1, K] (broadcast over B), 1 = attend, 0 = masked; or undefined
  Tensor bias;      // [H, Q, K] shared across B, or undefined
  Tensor gate;      // [B, Q, H, Dv] gate logits, or undefined
  Tensor out;       // [B, Q, H, Dv]
  float scale = 1.0f;
};

// One step of an online softmax over keys that arrive one at a time (FlashAttention's rescaling), for B rows of H
// heads with one query each and the new key's key/value per row and head (Suppl. Alg. 17 streamed over templates:
// B = the (i, j) pairs of a row chunk, one template per call):
//   s = scale * <q[b,h,:], k[b,h,:]>;  m' = max(m[b,h], s);  a = exp(m[b,h] - m'), p = exp(s - m')
//   acc[b,h,:] = acc[b,h,:] * a + p * v[b,h,:];  l[b,h] = l[b,h] * a + p;  m[b,h] = m'
// The empty state is m = -inf; l and acc are then not read (the first key gives acc = v, l = 1, m = s). Arithmetic in
// fp32 (the CPU reference in double), acc rounded once per step to its dtype. attention_normalize ends the softmax.
struct OnlineAttentionArgs {
  Tensor q;    // [B, H, D], dense last dim (fp32 or bf16, as k and v)
  Tensor k;    // [B, H, D], dense last dim
  Tensor v;    // [B, H, Dv], dense last dim
  Tensor m;    // [B, H] fp32 running maximum
  Tensor l;    // [B, H] fp32 running sum of exp(s - m)
  Tensor acc;  // [B, H, Dv], dense last dim (fp32 or bf16): running sum of exp(s - m) * v
  float scale = 1.f;
};

enum class TriangleDirection { Outgoing, Incoming };

// Triangle multiplication's gated, masked projections (Suppl. Alg. 11/12 lines 2-3, AlphaFold's order
// mask * projection, then * sigmoid(gate)) written channel-major for the per-channel GEMMs:
//   out[c, row_begin + r, j] = (proj[r, j, c] * mask[r, j]) * sigmoid(gate[r, j, c])
struct GatedTransposeArgs {
  Tensor proj;  // [rows, L, C], dense last dim (e.g. a slice of a fused projection)
  Tensor gate;  // [rows, L, C], dense last dim
  Tensor mask;  // [rows, L] fp32
  Tensor out;   // [C, L, L] contiguous; rows [row_begin, row_begin + rows) of every channel are written
  int64_t row_begin = 0;
};

// Triangle multiplicative update, lines 1-3 of Suppl. Alg. 11/12, for a block of pair rows and the channels of
// one fused projection: x = LayerNorm(pair rows), p = x @ weights + bias (columns: left, right, left gate, right
// gate, cb each), then the gated transposes (GatedTransposeArgs) of (left, left gate) into left and of (right, right
// gate) into right, rows [row_begin, row_begin + rows) of every channel plane.
struct TriangleProjectionArgs {
  Tensor pair;                 // [rows, L, c_z]
  Tensor ln_scale, ln_offset;  // [c_z]
  Tensor weights, bias;        // [c_z, 4 cb], [4 cb]
  Tensor mask;                 // [rows, L] fp32
  Tensor left, right;          // [cb, L, L] contiguous
  int64_t row_begin = 0;
  float eps = 1e-5f;
};

// Attention pair bias for a block of pair rows: MSA row attention with pair bias (Suppl. Alg. 7 lines 1-3) and
// triangle attention (Suppl. Alg. 13/14 lines 1-3), b = LinearNoBias(LayerNorm(z)) stored head-major:
//   x[r, j, :] = LayerNorm(rows[r, j, :])   (rows itself when ln_scale and ln_offset are both undefined)
//   out[h, r, j] = sum_c x[r, j, c] w[c, h];   normed[r, j, :] = x[r, j, :] when normed is defined
// (triangle attention in one chunk keeps the normalised rows for the attention itself).
struct PairBiasArgs {
  Tensor rows;                 // [rows, L, c_z], dense last dim (strided leading dims: the ending node's pair^T)
  Tensor ln_scale, ln_offset;  // [c_z] fp32, or both undefined: the rows are already normalised
  float eps = 1e-5f;
  Tensor w;                    // [c_z, H] (feat_2d_weights, no bias)
  Tensor out;                  // [H, rows, L], any strides (a slice of the bias [H, L, L] from the block's first row)
  Tensor normed;               // [rows, L, c_z], dense last dim, or undefined
};

// Triangle multiplicative update core (Suppl. Alg. 11/12 line 4, AlphaFold's einsum equations), for output
// rows [row_begin, row_begin + out.size(0)):
//   Outgoing 'ikc,jkc->ijc': out[i,j,c] = sum_k left[c,i,k] * right[c,j,k]
//   Incoming 'kjc,kic->ijc': out[i,j,c] = sum_k left[c,k,j] * right[c,k,i]
// left/right are channel-major [C, L, L] so each channel is one GEMM. With center_scale and center_offset ([C]
// fp32) the rows are then normalised over c, line 5's center LayerNorm, from the products before any rounding to
// out's dtype: out[i,j,:] = LayerNorm(out[i,j,:]) (fp32 statistics, biased variance, center_eps).
struct TriangleMultiplyArgs {
  Tensor left;   // [C, L, L] contiguous
  Tensor right;  // [C, L, L] contiguous
  Tensor out;    // [rows, L, C]
  int64_t row_begin = 0;
  TriangleDirection direction = TriangleDirection::Outgoing;
  Tensor center_scale, center_offset;  // [C] fp32, or both undefined
  float center_eps = 1e-5f;
};

// Triangle multiplicative update, line 5 of Suppl. Alg. 11/12 after the center LayerNorm, for rows of the pair:
//   pair[r,:] += sigmoid(LayerNorm(pair[r,:]) @ gating_w + gating_b) * (t[r,:] @ output_w + output_b)
// with the module's input LayerNorm (ln_scale, ln_offset, eps) of the rows before the update.
struct TriangleGatedOutputArgs {
  Tensor pair;  // [..., c_z] rows (updated in place)
  Tensor t;     // [..., c] rows, the same leading shape (the center-normalised line-4 result)
  Tensor ln_scale, ln_offset;  // [c_z]
  Tensor gating_w, gating_b;   // [c_z, c_z], [c_z]
  Tensor output_w, output_b;   // [c, c_z], [c_z]
  float eps = 1e-5f;
};

// MSA / pair transition (Suppl. Alg. 9, 15) for rows of the activations:
//   act[r,:] += relu(LayerNorm(act[r,:]) @ w1 + b1) @ w2 + b2
struct TransitionArgs {
  Tensor act;                  // [..., c] rows (updated in place)
  Tensor ln_scale, ln_offset;  // [c]
  Tensor w1, b1;               // [c, hidden], [hidden]
  Tensor w2, b2;               // [hidden, c], [c]
  float eps = 1e-5f;
};

// The outer product mean's masked input projections (Suppl. Alg. 10 lines 1-2) for rows of the MSA:
//   x = LayerNorm(msa[r,:]);  left[r,:] = mask[r] * (x @ w_left + b_left);
//   right[r,:] = mask[r] * (x @ w_right + b_right)
struct OuterProductProjectionArgs {
  Tensor msa;                    // [S, L, c_m]
  Tensor mask;                   // [S, L] fp32
  Tensor ln_scale, ln_offset;    // [c_m]
  Tensor w_left, b_left;         // [c_m, A], [A]
  Tensor w_right, b_right;       // [c_m, B], [B]
  Tensor left, right;            // [S, L, A], [S, L, B]
  float eps = 1e-5f;
};

// Outer product mean core (Suppl. Alg. 10 lines 2-4, AlphaFold's order: bias before the mask normalisation):
//   out[i,j,:] (+)= (sum_{a,b} (sum_s left[s,i,a] * right[s,j,b]) * w[a,b,:] + bias) / (eps + norm[i,j])
// for output rows i in [row_begin, row_begin + out.size(0)); norm[i,j] = sum_s mask[s,i] mask[s,j] is given
// for those rows.
struct OuterProductMeanArgs {
  Tensor left;   // [S, L, A] (already masked)
  Tensor right;  // [S, L, Bc] (already masked)
  Tensor w;      // [A*Bc, Cz] contiguous
  Tensor bias;   // [Cz]
  Tensor norm;   // [rows, L]
  Tensor out;    // [rows, L, Cz]
  int64_t row_begin = 0;
  float eps = 1e-3f;
  bool accumulate = false;
};

// ---- Input features computed on the device (model/embedders.h, model/template_embedding.h) ----
// Per-residue tensors below are contiguous fp32 (int32 where noted); dgram bin edges are host values, squared.
// out/pair/table/w/bias may each be F32 or BF16 (arithmetic in fp32, one rounding at the store).

// Template pair features of one template (Suppl. Alg. 2 line 9; channel order and operation order as
// model::template_pair_features) for rows i in [row_begin, row_begin + out.size(0)), from per-residue inputs:
//   w undefined: out[i,j,:] = features(i,j)                [rows, L, num_bins + 49]
//   w given:     out[i,j,:] = features(i,j) @ w (+ bias)   [rows, L, Cout] (embedding2d, no feature tensor)
// Dgram bin k is hot when lower[k] < |pb_i - pb_j|^2 < upper[k]; the unit vector is rotation_i (ca_j - ca_i)
// * rsqrt(1e-6 + |.|^2); every channel is multiplied by backbone_mask[i] * backbone_mask[j].
struct TemplatePairFeatureArgs {
  Tensor pseudo_beta;       // [L, 3]
  Tensor pseudo_beta_mask;  // [L]
  Tensor ca;                // [L, 3] CA positions
  Tensor rotation;          // [L, 9] row-major rotation into residue i's backbone frame (QuatAffine.invert_point)
  Tensor backbone_mask;     // [L] mask(N) * mask(CA) * mask(C)
  Tensor aatype;            // [L] int32; values outside [0, 22) give an all-zero one-hot
  std::vector<float> dgram_lower, dgram_upper;  // [num_bins] squared bin edges
  bool use_unit_vector = false;
  Tensor w;                 // [num_bins + 49, Cout] or undefined
  Tensor bias;              // [Cout] or undefined (only with w)
  Tensor out;               // [rows, L, C], last dim dense
  int64_t row_begin = 0;
};

// One-hot pair embeddings without index tensors, for rows i in [row_begin, row_begin + pair.size(0)):
//   pair[i,j,:] = (pair[i,j,:] + table[bin(i,j),:]) + bias     (no table row where there is no bin)
// the order of `embedding(accumulate)` followed by `add(bias)`.
// Relative positions (Alg. 4-5): bin = clamp(residue_index[i] - residue_index[j] + R, 0, 2R), table [2R+1, C].
struct RelativePositionEmbeddingArgs {
  Tensor residue_index;  // [L] int32
  int32_t max_relative_feature = 32;  // R
  Tensor table;          // [2R + 1, C]
  Tensor bias;           // [C] or undefined
  Tensor pair;           // [rows, L, C], last dim dense
  int64_t row_begin = 0;
};
// Recycled distogram (Alg. 32 line 1, dgram_from_positions): bin = first k with lower[k] < d2 < upper[k],
// d2 = |positions[i] - positions[j]|^2; none: only the bias.
struct DistogramEmbeddingArgs {
  Tensor positions;      // [L, 3]
  std::vector<float> lower, upper;  // [num_bins] squared bin edges
  Tensor table;          // [num_bins, C]
  Tensor bias;           // [C] or undefined
  Tensor pair;           // [rows, L, C], last dim dense
  int64_t row_begin = 0;
};

// Extra-MSA embedding (Alg. 2 line 14) without the [E, L, 25] one-hot features:
//   out[s,i,:] = ((w[aatype[s,i]] + has_deletion[s,i] * w[23]) + deletion_value[s,i] * w[24]) + bias
// (the one-hot linear summed in feature order). aatype in [0, 23); the CPU backend rejects others, the CUDA
// backend (which never synchronises to check) adds no row for them.
struct ExtraMsaEmbeddingArgs {
  Tensor aatype;          // [E, L] int32
  Tensor has_deletion;    // [E, L]
  Tensor deletion_value;  // [E, L]
  Tensor w;               // [25, C]
  Tensor bias;            // [C] or undefined
  Tensor out;             // [E, L, C], last dim dense
};

// Invariant point attention core (Suppl. Alg. 22 lines 4-10, AlphaFold folding.InvariantPointAttention) from the
// projections, for query rows i and keys j with frames T = (R(quat), t) from affines [L, 7] (w, x, y, z, t):
//   logits[h,i,j] = scalar_weight <q_ih, k_jh> - point_weights[h]/2 sum_p |T_i q~_ihp - T_j k~_jhp|^2
//                   + attention_2d_weight bias_2d[i,j,h] - 1e5 (1 - mask_i mask_j)
//   a = softmax_j(logits);  out[i] = [ sum_j a v_jh (H*sv) | T_i^-1 (sum_j a T_j v~_jhp) x, y, z (3 * H*pv)
//                                   | point norms sqrt(1e-8 + |.|^2) (H*pv) | sum_j a pair[i,j,:] (H*cz) ]
// Point projections are coordinate-major as AlphaFold's Linear gives them: column d*(H*P) + h*P + p. fp32, except
// the pair, which may be bf16 (a bf16 run's normalised pair; fp32 arithmetic either way); the [H, L, L] attention
// weights are never stored.
struct IpaArgs {
  Tensor q_scalar;       // [L, H*sqk] (or [L, H, sqk]) contiguous
  Tensor kv_scalar;      // [L, H*(sqk+sv)] contiguous: per head sqk keys then sv values
  Tensor q_point;        // [L, 3*H*pqk] contiguous, local frame
  Tensor kv_point;       // [L, 3*H*(pqk+pv)] contiguous, local frame: per head pqk key points then pv value points
  Tensor affines;        // [L, 7] contiguous, module-internal unit
  Tensor bias_2d;        // [L, L, H], dense last dim: attention_2d(pair) before attention_2d_weight
  Tensor pair;           // [L, L, cz], dense last dim, fp32 or bf16
  Tensor mask;           // [L] contiguous, 1 = residue present
  Tensor point_weights;  // [H] contiguous: softplus(trainable_point_weights) * sqrt(1 / (3 * 9/2 * pqk))
  Tensor out;            // [L, H*(sv + 4*pv + cz)], dense last dim
  int64_t num_head = 0, num_scalar_qk = 0, num_scalar_v = 0, num_point_qk = 0, num_point_v = 0;
  float scalar_weight = 1.f;        // sqrt(1 / (3 * sqk))
  float attention_2d_weight = 1.f;  // sqrt(1 / 3)
};

// Device work recorded once and replayed (a CUDA graph): Backend::end_recording hands it out, Backend::replay runs it
// again on the same buffers.
class RecordedWork {
 public:
  virtual ~RecordedWork() = default;
};

class Backend {
 public:
  virtual ~Backend() = default;
  [[noreturn]] void throw_no_tf32() const;
  virtual std::string name() const = 0;
  virtual core::Device device() const = 0;

  // Memory.
  virtual Tensor empty(const Shape& shape, DType dtype = DType::F32) = 0;
  virtual Tensor upload(const Tensor& host) = 0;    // host tensor -> this device (same dtype)
  virtual Tensor download(const Tensor& t) = 0;     // this device -> contiguous host copy
  // this device -> an existing contiguous host tensor of t's shape and dtype (e.g. rows of a larger result), with
  // no intermediate host copy where the backend can avoid one. The default downloads and copies.
  virtual void download_to(const Tensor& t, Tensor& host_dst);
  // host -> an existing contiguous tensor of this device of the same shape and dtype (e.g. rows of a
  // representation brought back from host memory). The default uploads and copies.
  virtual void upload_to(const Tensor& host, Tensor& device_dst);
  virtual void copy(const Tensor& src, Tensor& dst) = 0;  // strided copy, dtype conversion, same device
  virtual void fill(Tensor& t, float value) = 0;
  virtual void synchronize() {}

  // Recording (CUDA graphs). Between begin_recording and end_recording the operations issued are recorded, not run;
  // replay runs them, as often as wanted, reading and writing the same buffers. The recorded operations may
  // allocate temporaries but must free them before end_recording, free nothing allocated before, and read no
  // device value on the host (no download or synchronize). end_recording throws when they broke a rule, and
  // abort_recording drops a recording after an exception. Backends that cannot record return false here, and
  // the others throw.
  virtual bool can_record() const { return false; }
  virtual void begin_recording();
  virtual std::unique_ptr<RecordedWork> end_recording();
  virtual void abort_recording();
  virtual void replay(const RecordedWork& work);

  // Precision capabilities: bf16 activations (fp32 accumulation) and TF32 products for fp32 GEMMs.
  virtual bool supports_bf16() const { return false; }
  virtual void set_allow_tf32(bool allow) {
    if (allow) throw_no_tf32();
  }

  // Normalisation and element-wise.
  virtual void layer_norm(const Tensor& x, const Tensor& scale, const Tensor& offset, Tensor& out,
                          float eps = 1e-5f) = 0;                          // over the last dim; out may alias x
  virtual void add(Tensor& dst, const Tensor& src) = 0;                    // dst += src (same shape)
  virtual void sigmoid_mul(Tensor& dst, const Tensor& gate_logits) = 0;    // dst *= sigmoid(gate_logits)
  // dst += src * sigmoid(gate_logits) (a gated residual update; same shapes).
  virtual void gated_add(Tensor& dst, const Tensor& src, const Tensor& gate_logits) = 0;
  virtual void mul_rows(Tensor& x, const Tensor& row_scale) = 0;           // x[r,:] *= row_scale[r] (x [..., C], scale [...])
  virtual void relu(Tensor& x) = 0;
  // out[n,:] (+)= table[index[n],:] for index[n] >= 0 (one-hot @ table, exactly); index int32 [N].
  virtual void embedding(const Tensor& index, const Tensor& table, Tensor& out, bool accumulate) = 0;
  // out[b,:] = sum_k mask[b,k] x[b,k,:] / (sum_k mask[b,k] + eps)   (AlphaFold's mask_mean over keys)
  virtual void masked_mean(const Tensor& x, const Tensor& mask, Tensor& out, float eps = 1e-10f) = 0;

  // Expectations under a softmax over the last dim (the confidence metrics: PAE and the pTM terms per residue pair):
  //   out[r, v] = sum_b softmax(logits[r, :])_b * values[v, b],   v < V <= kMaxSoftmaxExpectations
  // logits [..., bins] fp32 (dense last dim, leading dims collapse to rows), values [V, bins] fp32 contiguous on this
  // device, out [..., V] fp32 (dense last dim, the same leading dims). The row maximum is subtracted first; fp32
  // arithmetic (the CPU backend accumulates in double).
  virtual void softmax_expectations(const Tensor& logits, const Tensor& values, Tensor& out) = 0;
  static constexpr int64_t kMaxSoftmaxExpectations = 4;

  // GEMM family.
  virtual void linear(const LinearArgs& args) = 0;
  // c = alpha * op(a) @ op(b) + beta * c for 2-D row-dense tensors.
  virtual void gemm(const Tensor& a, bool trans_a, const Tensor& b, bool trans_b, Tensor& c, float alpha = 1.f,
                    float beta = 0.f) = 0;

  // Fused model operations.
  virtual void attention(const AttentionArgs& args) = 0;
  // Online softmax over keys given one at a time (OnlineAttentionArgs above), then its end:
  //   out[b,h,:] = acc[b,h,:] / l[b,h]   acc, out [B, H, Dv] (dense last dim; out may alias acc), l [B, H] fp32
  virtual void attention_accumulate(const OnlineAttentionArgs& args) = 0;
  virtual void attention_normalize(const Tensor& acc, const Tensor& l, Tensor& out) = 0;
  virtual void triangle_multiply(const TriangleMultiplyArgs& args) = 0;
  virtual void gated_transpose(const GatedTransposeArgs& args) = 0;
  // The default runs it as LayerNorm, one linear layer and two gated_transpose (compute-dtype temporaries).
  virtual void triangle_projection(const TriangleProjectionArgs& args);
  // Whether triangle_projection runs these arguments without temporaries (a fused kernel). The counting wrapper runs
  // the default sequence itself otherwise, so that it sees (and tracks) what the backend allocates.
  virtual bool fuses_triangle_projection(const TriangleProjectionArgs&) const { return false; }
  // The default runs it as LayerNorm, two linear layers and gated_add (compute-dtype temporaries of the rows).
  virtual void triangle_gated_output(const TriangleGatedOutputArgs& args);
  // The default runs it as LayerNorm, two linear layers and mul_rows (a compute-dtype temporary of the rows).
  virtual void outer_product_projections(const OuterProductProjectionArgs& args);
  // Whether outer_product_projections runs these arguments without that temporary; as fuses_pair_bias.
  virtual bool fuses_outer_product_projections(const OuterProductProjectionArgs&) const { return false; }
  // The default runs it as LayerNorm, the hidden linear layer with ReLU and the accumulating output layer
  // (compute-dtype temporaries of the rows and of the hidden activations).
  virtual void transition(const TransitionArgs& args);
  // Whether transition runs these arguments without those temporaries (a fused kernel); as fuses_pair_bias.
  virtual bool fuses_transition(const TransitionArgs&) const { return false; }
  // The default runs it as LayerNorm (into normed or a temporary), one linear layer into [rows, L, H] logits and
  // their head-major copy into out (temporaries in out's dtype).
  virtual void pair_bias(const PairBiasArgs& args);
  // Whether pair_bias runs these arguments without temporaries (a fused kernel); as fuses_triangle_projection.
  virtual bool fuses_pair_bias(const PairBiasArgs&) const { return false; }
  // Input features (argument structs above). The CPU and CUDA backends compute them in place (the counting wrapper
  // forwards); the defaults (backend/feature_ops.cpp) build them on the host from downloaded inputs and use the ops
  // above, for a backend without kernels for them.
  virtual void template_pair_features(const TemplatePairFeatureArgs& args);
  virtual void relative_position_embedding(const RelativePositionEmbeddingArgs& args);
  virtual void distogram_embedding(const DistogramEmbeddingArgs& args);
  virtual void extra_msa_embedding(const ExtraMsaEmbeddingArgs& args);
  // Structure module (backend_structure.cpp has the host fallback for a backend that does not override them).
  virtual void invariant_point_attention(const IpaArgs& args);
  // affines [L, 7] <- QuatAffine(affines).pre_compose(update [L, 6]) per row (Suppl. Alg. 23, quat_affine.py).
  virtual void backbone_update(Tensor& affines, const Tensor& update);
  virtual void outer_product_mean(const OuterProductMeanArgs& args) = 0;
};

// Throws unless host_dst is a contiguous host tensor of t's shape and dtype (Backend::download_to's target).
void check_download_target(const Tensor& t, const Tensor& host_dst);
// Throws unless logits [..., bins], values [V, bins] and out [..., V] fit Backend::softmax_expectations; returns V.
int64_t check_softmax_expectations(const Tensor& logits, const Tensor& values, const Tensor& out);
// Throws unless host is a host tensor and device_dst a contiguous tensor on `device` of its shape and dtype
// (Backend::upload_to).
void check_upload_target(const Tensor& host, const Tensor& device_dst, core::Device device);

// The CPU reference backend (threads + OpenBLAS), fp32 compute.
std::unique_ptr<Backend> make_cpu_backend(int num_threads = 0);

}  // namespace axf::backend
