// CUDA backend: the attention pair bias (Suppl. Alg. 7 lines 1-3, Alg. 13/14 lines 1-3: b = LinearNoBias(LayerNorm(z))
// into [H, rows, L]) in one kernel for bf16 pair rows at the kernel's widths (kernels/pair_bias.cuh); everything
// else runs Backend::pair_bias's unfused sequence.
#include "backend/cuda/cuda_backend.h"
#include "backend/cuda/cuda_check.h"
#include "backend/cuda/cuda_rows.h"
#include "kernels/pair_bias.cuh"

namespace axf::backend::cuda {

namespace {

// The [rows, L] grid of a [rows, L, ...] view (kernels::PairGrid).
kernels::PairGrid grid_of(const Tensor& t) {
  return kernels::pair_grid(t.size(0), t.size(1), t.stride(0), t.stride(1));
}

bool bf16_on_gpu(const Tensor& t) { return t.dtype() == DType::BF16 && t.device() == core::Device::CUDA; }

// The kernel's description of the arguments, or false where the fused kernel does not take them. Taken: bf16 rows,
// out and normed on the GPU with dense channels, fp32 LayerNorm parameters (or none), the kernel's widths, rows (and
// normed rows) in whole 16-byte pieces; out with any strides. The weights are described as given: the caller
// replaces them by their bf16 form.
bool fused_params(const PairBiasArgs& a, kernels::PairBiasParams* p) {
  if (!a.rows.defined() || !a.w.defined() || !a.out.defined() || a.rows.ndim() != 3 || a.w.ndim() != 2 ||
      a.out.ndim() != 3)
    return false;
  const int64_t rows = a.rows.size(0), L = a.rows.size(1), cz = a.rows.size(2), H = a.w.size(1);
  const bool ln = a.ln_scale.defined();
  if (a.w.size(0) != cz || a.out.shape() != Shape({H, rows, L}) || ln != a.ln_offset.defined() ||
      !kernels::pair_bias_supported(cz, H))
    return false;
  if (ln && !(is_dense_f32_vector(a.ln_scale, cz) && is_dense_f32_vector(a.ln_offset, cz))) return false;
  if (!bf16_on_gpu(a.rows) || a.rows.stride(2) != 1 || !bf16_on_gpu(a.out)) return false;
  if (a.normed.defined() &&
      (!bf16_on_gpu(a.normed) || a.normed.shape() != a.rows.shape() || a.normed.stride(2) != 1))
    return false;
  p->pair = a.rows.raw_data();
  p->pair_grid = grid_of(a.rows);
  p->ln_scale = ln ? static_cast<const float*>(a.ln_scale.raw_data()) : nullptr;
  p->ln_offset = ln ? static_cast<const float*>(a.ln_offset.raw_data()) : nullptr;
  p->eps = a.eps;
  p->w = a.w.raw_data();
  p->w_ld = H;
  p->out = a.out.raw_data();
  p->out_sh = a.out.stride(0);
  p->out_grid = kernels::pair_grid(rows, L, a.out.stride(1), a.out.stride(2));
  p->normed = a.normed.defined() ? a.normed.raw_data() : nullptr;
  if (a.normed.defined()) p->normed_grid = grid_of(a.normed);
  p->rows = rows;
  p->L = L;
  p->cz = cz;
  p->heads = H;
  return kernels::pair_bias_fits(*p);
}

}  // namespace

bool CudaBackend::fuses_pair_bias(const PairBiasArgs& a) const {
  kernels::PairBiasParams p;
  return fused_params(a, &p);
}

void CudaBackend::pair_bias(const PairBiasArgs& a) {
  kernels::PairBiasParams p;
  if (!fused_params(a, &p)) {
    Backend::pair_bias(a);
    return;
  }
  if (a.ln_scale.defined()) {
    p.ln_scale = dense_vector(a.ln_scale, p.cz, "pair_bias scale");
    p.ln_offset = dense_vector(a.ln_offset, p.cz, "pair_bias offset");
  }
  const Tensor w = gemm_operand(a.w, DType::BF16, "pair_bias weights");
  int64_t w_rows = 0, w_ld = 0;
  AXF_CHECK(w.as_rows(&w_rows, &w_ld), "pair_bias: weights ", w.describe(), " are not a matrix");
  p.w = w.raw_data();
  p.w_ld = w_rows <= 1 ? p.heads : w_ld;
  AXF_CHECK(kernels::pair_bias_fits(p), "pair_bias: weights ", w.describe(), " for pair rows ", a.rows.describe());
  activate();
  kernels::launch_pair_bias(p, ctx_->stream);
}

}  // namespace axf::backend::cuda
