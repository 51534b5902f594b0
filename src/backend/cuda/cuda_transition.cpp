// CUDA backend: the MSA / pair transition (Suppl. Alg. 9, 15: act += Linear(relu(Linear(LayerNorm(act))))) in one
// kernel for bf16 rows at the kernel's widths (kernels/transition_mlp.cuh); everything else runs
// Backend::transition's unfused sequence.
#include <algorithm>
#include <cstdint>

#include "backend/cuda/cuda_backend.h"
#include "backend/cuda/cuda_check.h"
#include "backend/cuda/cuda_rows.h"
#include "kernels/transition_mlp.cuh"

namespace axf::backend::cuda {

namespace {


// The kernel's description of the arguments, or false where the fused kernel does not take them. Taken: bf16 rows
// on the GPU forming a matrix (dense channels, one row stride) in whole 16-byte pieces, the kernel's widths,
// contiguous weights (described as given: the caller replaces them by their bf16 form), fp32 vectors. The scratch
// of the two-pass widths is the caller's.
bool fused_params(const TransitionArgs& a, kernels::TransitionParams* p) {
  if (!a.act.defined() || !a.w1.defined() || !a.w2.defined() || a.act.ndim() < 1 || a.w1.ndim() != 2 ||
      a.w2.ndim() != 2)
    return false;
  const int64_t c = a.act.size(-1), hidden = a.w1.size(1);
  if (!kernels::transition_supported(c, hidden) || a.w1.size(0) != c || a.w2.shape() != Shape({hidden, c}) ||
      !a.w1.is_contiguous() || !a.w2.is_contiguous())
    return false;
  if (!is_dense_f32_vector(a.ln_scale, c) || !is_dense_f32_vector(a.ln_offset, c) ||
      !is_dense_f32_vector(a.b1, hidden) || !is_dense_f32_vector(a.b2, c))
    return false;
  int64_t rows = 0, ld = 0;
  if (a.act.dtype() != DType::BF16 || a.act.device() != core::Device::CUDA || !a.act.as_rows(&rows, &ld) ||
      !kernels::aligned(a.act.raw_data(), 16) || (rows > 1 && ld % 8 != 0))
    return false;
  p->act = a.act.raw_data();
  p->act_ld = rows <= 1 ? c : ld;
  p->w1 = a.w1.raw_data();
  p->w2 = a.w2.raw_data();
  p->b1 = static_cast<const float*>(a.b1.raw_data());
  p->b2 = static_cast<const float*>(a.b2.raw_data());
  p->ln_scale = static_cast<const float*>(a.ln_scale.raw_data());
  p->ln_offset = static_cast<const float*>(a.ln_offset.raw_data());
  p->eps = a.eps;
  p->rows = rows;
  p->c = c;
  p->hidden = hidden;
  return true;
}

}  // namespace

bool CudaBackend::fuses_transition(const TransitionArgs& a) const {
  kernels::TransitionParams p;
  return fused_params(a, &p);
}

void CudaBackend::transition(const TransitionArgs& a) {
  kernels::TransitionParams p;
  if (!fused_params(a, &p)) {
    Backend::transition(a);
    return;
  }
  check_device_f32(a.b1, "transition b1");  // the vectors are on this GPU (fused_params checked their form)
  check_device_f32(a.b2, "transition b2");
  check_device_f32(a.ln_scale, "transition scale");
  check_device_f32(a.ln_offset, "transition offset");
  const Tensor w1 = gemm_operand(a.w1, DType::BF16, "transition w1");
  const Tensor w2 = gemm_operand(a.w2, DType::BF16, "transition w2");
  AXF_CHECK(w1.is_contiguous() && w2.is_contiguous(), "transition: weights ", w1.describe(), ", ", w2.describe(),
            " are not contiguous");
  p.w1 = w1.raw_data();
  p.w2 = w2.raw_data();
  activate();
  if (kernels::transition_passes(p.c, p.hidden) == 1) {
    AXF_CHECK(kernels::transition_fits(p), "transition: weights ", w1.describe(), " for rows ", a.act.describe());
    kernels::launch_transition(p, ctx_->stream);
    return;
  }
  // Two passes: the first half's share of the update goes through bf16 scratch, as many rows at a time as fit the
  // workspace budget (model::cuda_transition_workspace).
  const int64_t total = p.rows;
  const int64_t chunk =
      kernels::transition_scratch_rows(total, p.c, p.hidden, static_cast<int64_t>(workspace_budget_));
  const Tensor partial = empty({chunk, p.c}, DType::BF16);
  uint16_t* const act = static_cast<uint16_t*>(p.act);
  for (int64_t begin = 0; begin < total; begin += chunk) {
    p.act = act + begin * p.act_ld;
    p.rows = std::min(chunk, total - begin);
    p.partial = partial.raw_data();
    AXF_CHECK(kernels::transition_fits(p), "transition: weights ", w1.describe(), " for rows ", a.act.describe());
    kernels::launch_transition(p, ctx_->stream);
  }
}

}  // namespace axf::backend::cuda
