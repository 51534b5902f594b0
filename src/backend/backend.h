// Backend: the one interface through which model code computes. One typed method per operation; the CPU
// backend is the readable reference and test oracle, the CUDA backend the fast one. Tensors passed to a
// backend live on its device. Shapes below: B batch, Q queries, K keys, H heads, D/Dv head dims, C channels.
#pragma once

#include <memory>
#include <string>

#include "core/tensor.h"

namespace axf::backend {

using core::DType;
using core::Shape;
using core::Tensor;

enum class Activation { None, Relu, Sigmoid };

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

enum class TriangleDirection { Outgoing, Incoming };

// Triangle multiplicative update core (Suppl. Alg. 11/12 line 4, AlphaFold's einsum equations), for output
// rows [row_begin, row_begin + out.size(0)):
//   Outgoing 'ikc,jkc->ijc': out[i,j,c] = sum_k left[c,i,k] * right[c,j,k]
//   Incoming 'kjc,kic->ijc': out[i,j,c] = sum_k left[c,k,j] * right[c,k,i]
// left/right are channel-major [C, L, L] so each channel is one GEMM.
struct TriangleMultiplyArgs {
  Tensor left;   // [C, L, L] contiguous
  Tensor right;  // [C, L, L] contiguous
  Tensor out;    // [rows, L, C]
  int64_t row_begin = 0;
  TriangleDirection direction = TriangleDirection::Outgoing;
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

class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string name() const = 0;
  virtual core::Device device() const = 0;

  // Memory.
  virtual Tensor empty(const Shape& shape, DType dtype = DType::F32) = 0;
  virtual Tensor upload(const Tensor& host) = 0;    // host tensor -> this device (same dtype)
  virtual Tensor download(const Tensor& t) = 0;     // this device -> contiguous host copy
  virtual void copy(const Tensor& src, Tensor& dst) = 0;  // strided copy, dtype conversion, same device
  virtual void fill(Tensor& t, float value) = 0;
  virtual void synchronize() {}

  // Normalisation and element-wise.
  virtual void layer_norm(const Tensor& x, const Tensor& scale, const Tensor& offset, Tensor& out,
                          float eps = 1e-5f) = 0;                          // over the last dim; out may alias x
  virtual void add(Tensor& dst, const Tensor& src) = 0;                    // dst += src (same shape)
  virtual void sigmoid_mul(Tensor& dst, const Tensor& gate_logits) = 0;    // dst *= sigmoid(gate_logits)
  virtual void mul_rows(Tensor& x, const Tensor& row_scale) = 0;           // x[r,:] *= row_scale[r] (x [..., C], scale [...])
  virtual void relu(Tensor& x) = 0;
  // out[n,:] (+)= table[index[n],:] for index[n] >= 0 (one-hot @ table, exactly); index int32 [N].
  virtual void embedding(const Tensor& index, const Tensor& table, Tensor& out, bool accumulate) = 0;
  // out[b,:] = sum_k mask[b,k] x[b,k,:] / (sum_k mask[b,k] + eps)   (AlphaFold's mask_mean over keys)
  virtual void masked_mean(const Tensor& x, const Tensor& mask, Tensor& out, float eps = 1e-10f) = 0;

  // GEMM family.
  virtual void linear(const LinearArgs& args) = 0;
  // c = alpha * op(a) @ op(b) + beta * c for 2-D row-dense tensors.
  virtual void gemm(const Tensor& a, bool trans_a, const Tensor& b, bool trans_b, Tensor& c, float alpha = 1.f,
                    float beta = 0.f) = 0;

  // Fused model operations.
  virtual void attention(const AttentionArgs& args) = 0;
  virtual void triangle_multiply(const TriangleMultiplyArgs& args) = 0;
  virtual void outer_product_mean(const OuterProductMeanArgs& args) = 0;
};

// The CPU reference backend (threads + OpenBLAS), fp32 compute.
std::unique_ptr<Backend> make_cpu_backend(int num_threads = 0);

}  // namespace axf::backend
