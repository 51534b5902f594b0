// CUDA backend: gated multi-head attention with key mask and shared bias. Head dims up to 64 (every AlphaFold
// attention but IPA) run the one-pass flash kernels (kernels/flash_attention.cuh; fp32, or bf16 on tensor cores);
// other shapes fall back to cuBLAS GEMMs around a softmax kernel (kernels/attention.cuh), in fp32.
#include <algorithm>

#include "backend/cuda/cuda_backend.h"
#include "backend/cuda/cuda_check.h"
#include "backend/cuda/cuda_rows.h"
#include "kernels/attention.cuh"
#include "kernels/flash_attention.cuh"

namespace axf::backend::cuda {

namespace {
// True when the [.., rows, ., cols] operand can go to cuBLAS as is: dense last dim and rows (dim 1) that do
// not overlap.
bool gemm_ready(const Tensor& t) {
  const int64_t cols = t.size(3);
  if (cols > 1 && t.stride(3) != 1) return false;
  return t.size(1) <= 1 || t.stride(1) >= std::max<int64_t>(cols, 1);
}

bool dense_last_dim(const Tensor& t) { return t.size(3) <= 1 || t.stride(3) == 1; }

// The flash kernels' description of the problem, or false when they do not take it (head dims over 64, a
// non-dense last dim); the caller has checked shapes and dtypes.
bool flash_params(const AttentionArgs& a, kernels::FlashAttentionParams& p) {
  for (const Tensor* t : {&a.q, &a.k, &a.v, &a.out})
    if (!dense_last_dim(*t)) return false;
  if (a.gate.defined() && !dense_last_dim(a.gate)) return false;
  p.B = a.q.size(0);
  p.Q = a.q.size(1);
  p.H = a.q.size(2);
  p.D = a.q.size(3);
  p.K = a.k.size(1);
  p.Hk = a.k.size(2);
  p.Dv = a.v.size(3);
  p.dtype = elem_type(a.q.dtype());
  p.scale = a.scale;
  p.q = a.q.raw_data();
  p.q_s0 = a.q.stride(0);
  p.q_s1 = a.q.stride(1);
  p.q_s2 = a.q.stride(2);
  p.k = a.k.raw_data();
  p.k_s0 = a.k.stride(0);
  p.k_s1 = a.k.stride(1);
  p.k_s2 = a.k.stride(2);
  p.v = a.v.raw_data();
  p.v_s0 = a.v.stride(0);
  p.v_s1 = a.v.stride(1);
  p.v_s2 = a.v.stride(2);
  p.out = a.out.raw_data();
  p.out_s0 = a.out.stride(0);
  p.out_s1 = a.out.stride(1);
  p.out_s2 = a.out.stride(2);
  if (a.key_mask.defined()) {
    p.mask = f32_ptr(a.key_mask);
    p.mask_s0 = a.key_mask.size(0) == 1 ? 0 : a.key_mask.stride(0);
    p.mask_s1 = a.key_mask.stride(1);
  }
  if (a.bias.defined()) {
    p.bias = a.bias.raw_data();
    p.bias_dtype = elem_type(a.bias.dtype());
    p.bias_s0 = a.bias.stride(0);
    p.bias_s1 = a.bias.stride(1);
    p.bias_s2 = a.bias.stride(2);
  }
  if (a.gate.defined()) {
    p.gate = a.gate.raw_data();
    p.gate_s0 = a.gate.stride(0);
    p.gate_s1 = a.gate.stride(1);
    p.gate_s2 = a.gate.stride(2);
  }
  return kernels::flash_attention_supported(p);
}
}  // namespace

void CudaBackend::attention(const AttentionArgs& a) {
  // q, k, v, gate and out share one dtype: fp32, or bf16 (flash kernels; other shapes compute in fp32 copies).
  const DType dtype = a.q.defined() ? a.q.dtype() : DType::F32;
  AXF_CHECK(dtype == DType::F32 || dtype == DType::BF16, "attention: q must be fp32 or bf16, got ", a.q.describe());
  for (const auto& [t, what] : {std::pair{&a.q, "q"}, std::pair{&a.k, "k"}, std::pair{&a.v, "v"},
                                std::pair{&a.out, "out"}}) {
    check_device_tensor(*t, "attention");
    AXF_CHECK(t->dtype() == dtype, "attention: ", what, " ", t->describe(), " and q ", a.q.describe(),
              " differ in dtype");
    AXF_CHECK(t->ndim() == 4, "attention: ", what, " must be a 4-D tensor, got ", t->describe());
  }
  const int64_t B = a.q.size(0), Q = a.q.size(1), H = a.q.size(2), D = a.q.size(3);
  const int64_t K = a.k.size(1), Hk = a.k.size(2), Dv = a.v.size(3);
  AXF_CHECK(a.k.size(0) == B && a.k.size(3) == D && (Hk == H || Hk == 1), "attention: k ", a.k.describe(),
            " does not match q ", a.q.describe());
  AXF_CHECK(a.v.size(0) == B && a.v.size(1) == K && a.v.size(2) == Hk, "attention: v ", a.v.describe(),
            " does not match k ", a.k.describe());
  AXF_CHECK(a.out.shape() == Shape({B, Q, H, Dv}), "attention: out ", a.out.describe(), " should be ",
            core::shape_to_string({B, Q, H, Dv}));
  if (a.key_mask.defined()) {
    check_device_f32(a.key_mask, "attention key mask");
    AXF_CHECK(a.key_mask.ndim() == 2 && (a.key_mask.size(0) == B || a.key_mask.size(0) == 1) &&
                  a.key_mask.size(1) == K,
              "attention: key mask ", a.key_mask.describe(), " for B=", B, ", K=", K);
  }
  if (a.bias.defined()) {
    check_device_tensor(a.bias, "attention bias");
    AXF_CHECK(a.bias.dtype() == DType::F32 || a.bias.dtype() == dtype, "attention: bias ", a.bias.describe(),
              " must be fp32 or of q's dtype");
    AXF_CHECK(a.bias.shape() == Shape({H, Q, K}), "attention: bias ", a.bias.describe(), " should be ",
              core::shape_to_string({H, Q, K}));
  }
  if (a.gate.defined()) {
    check_device_tensor(a.gate, "attention gate");
    AXF_CHECK(a.gate.dtype() == dtype, "attention: gate ", a.gate.describe(), " and q ", a.q.describe(),
              " differ in dtype");
    AXF_CHECK(a.gate.shape() == a.out.shape(), "attention: gate ", a.gate.describe(), " vs out ", a.out.describe());
  }
  if (B == 0 || Q == 0 || H == 0) return;
  AXF_CHECK(K > 0, "attention with no keys");
  activate();

  kernels::FlashAttentionParams fp;
  if (flash_params(a, fp)) {
    kernels::launch_flash_attention(fp, ctx_->stream);
    return;
  }
  if (dtype != DType::F32 || (a.bias.defined() && a.bias.dtype() != DType::F32)) {
    // A shape the flash kernels do not take, in bf16: the fp32 path on converted copies.
    auto f32 = [&](const Tensor& t) {
      if (!t.defined() || t.dtype() == DType::F32) return t;
      Tensor c = empty(t.shape(), DType::F32);
      copy_views(t, c);
      return c;
    };
    AttentionArgs c = a;
    c.q = f32(a.q);
    c.k = f32(a.k);
    c.v = f32(a.v);
    c.bias = f32(a.bias);
    c.gate = f32(a.gate);
    c.out = empty(a.out.shape(), DType::F32);
    attention(c);
    Tensor dst = a.out;
    copy_views(c.out, dst);
    return;
  }

  kernels::AttentionParams p;
  p.B = B;
  p.Q = Q;
  p.K = K;
  p.H = H;
  p.Hk = Hk;
  p.D = D;
  p.Dv = Dv;
  p.scale = a.scale;
  if (a.key_mask.defined()) {
    p.mask = f32_ptr(a.key_mask);
    p.mask_s0 = a.key_mask.size(0) == 1 ? 0 : a.key_mask.stride(0);
    p.mask_s1 = a.key_mask.stride(1);
  }
  if (a.bias.defined()) {
    p.bias = f32_ptr(a.bias);
    p.bias_s0 = a.bias.stride(0);
    p.bias_s1 = a.bias.stride(1);
    p.bias_s2 = a.bias.stride(2);
  }
  if (a.gate.defined()) {
    AXF_CHECK(Dv <= 1 || a.gate.stride(3) == 1, "attention: last dim of gate ", a.gate.describe(), " must be dense");
    p.gate = f32_ptr(a.gate);
    p.gate_s0 = a.gate.stride(0);
    p.gate_s1 = a.gate.stride(1);
    p.gate_s2 = a.gate.stride(2);
  }
  // Operands cuBLAS cannot read as they are are gathered once; an output it cannot write is computed densely
  // and copied into place.
  auto ready = [&](const Tensor& t) {
    if (gemm_ready(t)) return t;
    Tensor c = empty(t.shape(), DType::F32);
    copy_views(t, c);
    return c;
  };
  const Tensor q = ready(a.q), k = ready(a.k), v = ready(a.v);
  const bool out_ready = gemm_ready(a.out);
  Tensor out = out_ready ? a.out : empty(a.out.shape(), DType::F32);
  p.q = f32_ptr(q);
  p.q_s0 = q.stride(0);
  p.q_s1 = q.stride(1);
  p.q_s2 = q.stride(2);
  p.k = f32_ptr(k);
  p.k_s0 = k.stride(0);
  p.k_s1 = k.stride(1);
  p.k_s2 = k.stride(2);
  p.v = f32_ptr(v);
  p.v_s0 = v.stride(0);
  p.v_s1 = v.stride(1);
  p.v_s2 = v.stride(2);
  p.out = f32_ptr(out);
  p.out_s0 = out.stride(0);
  p.out_s1 = out.stride(1);
  p.out_s2 = out.stride(2);
  const kernels::AttentionPlan plan = kernels::plan_attention(p, workspace_budget_);
  const Tensor logits = scratch(static_cast<int64_t>(plan.workspace_bytes / sizeof(float)));
  kernels::launch_attention(p, plan, f32_ptr(logits), ctx_->gemm_engine(), ctx_->stream);
  if (!out_ready) {
    Tensor dst = a.out;
    copy_views(out, dst);
  }
}

}  // namespace axf::backend::cuda
