// CUDA backend: the outer product mean's masked input projections (Suppl. Alg. 10 lines 1-2: LayerNorm, the left
// and right linear layers, the MSA mask) in one kernel for bf16 rows at the kernel's widths
// (kernels/masked_projections.cuh); everything else runs Backend::outer_product_projections's unfused sequence.
#include "backend/cuda/cuda_backend.h"
#include "backend/cuda/cuda_check.h"
#include "backend/cuda/cuda_rows.h"
#include "kernels/masked_projections.cuh"

namespace axf::backend::cuda {

namespace {

bool bf16_rows_on_gpu(const Tensor& t, int64_t* rows, int64_t* ld) {
  return t.defined() && t.dtype() == DType::BF16 && t.device() == core::Device::CUDA && t.as_rows(rows, ld);
}

// The kernel's description of the arguments, or false where the fused kernel does not take them. Taken: bf16 MSA,
// left and right rows on the GPU forming matrices (dense channels, one row stride each), a dense fp32 mask on the
// GPU, fp32 vectors, contiguous weights (described as given: the caller replaces them by their bf16 form), the
// kernel's widths, rows in whole 16-byte pieces.
bool fused_params(const OuterProductProjectionArgs& a, kernels::MaskedProjectionParams* p) {
  if (!a.msa.defined() || !a.w_left.defined() || !a.w_right.defined() || a.msa.ndim() != 3 ||
      a.w_left.ndim() != 2 || a.w_right.ndim() != 2)
    return false;
  const int64_t c = a.msa.size(2), A = a.w_left.size(1), B = a.w_right.size(1);
  const Shape lead{a.msa.size(0), a.msa.size(1)};
  if (!kernels::masked_projections_supported(c, A, B) || a.w_left.size(0) != c || a.w_right.size(0) != c ||
      !a.w_left.is_contiguous() || !a.w_right.is_contiguous() || a.left.shape() != Shape({lead[0], lead[1], A}) ||
      a.right.shape() != Shape({lead[0], lead[1], B}) || a.mask.shape() != lead)
    return false;
  if (!is_dense_f32_vector(a.ln_scale, c) || !is_dense_f32_vector(a.ln_offset, c) ||
      !is_dense_f32_vector(a.b_left, A) || !is_dense_f32_vector(a.b_right, B) ||
      !is_dense_f32_vector(a.mask, lead[0] * lead[1]) || a.mask.device() != core::Device::CUDA)
    return false;
  int64_t rows = 0, ld = 0, l_rows = 0, l_ld = 0, r_rows = 0, r_ld = 0;
  if (!bf16_rows_on_gpu(a.msa, &rows, &ld) || !bf16_rows_on_gpu(a.left, &l_rows, &l_ld) ||
      !bf16_rows_on_gpu(a.right, &r_rows, &r_ld) || l_rows != rows || r_rows != rows)
    return false;
  p->msa = a.msa.raw_data();
  p->msa_ld = rows <= 1 ? c : ld;
  p->mask = static_cast<const float*>(a.mask.raw_data());
  p->mask_ld = 1;
  p->w_left = a.w_left.raw_data();
  p->w_right = a.w_right.raw_data();
  p->b_left = static_cast<const float*>(a.b_left.raw_data());
  p->b_right = static_cast<const float*>(a.b_right.raw_data());
  p->ln_scale = static_cast<const float*>(a.ln_scale.raw_data());
  p->ln_offset = static_cast<const float*>(a.ln_offset.raw_data());
  p->eps = a.eps;
  p->left = a.left.raw_data();
  p->left_ld = rows <= 1 ? A : l_ld;
  p->right = a.right.raw_data();
  p->right_ld = rows <= 1 ? B : r_ld;
  p->rows = rows;
  p->c = c;
  p->a = A;
  p->b = B;
  return kernels::masked_projections_fit(*p);
}

}  // namespace

bool CudaBackend::fuses_outer_product_projections(const OuterProductProjectionArgs& a) const {
  kernels::MaskedProjectionParams p;
  return fused_params(a, &p);
}

void CudaBackend::outer_product_projections(const OuterProductProjectionArgs& a) {
  kernels::MaskedProjectionParams p;
  if (!fused_params(a, &p)) {
    Backend::outer_product_projections(a);
    return;
  }
  check_device_f32(a.ln_scale, "outer_product_projections scale");  // on this GPU (fused_params checked the form)
  check_device_f32(a.ln_offset, "outer_product_projections offset");
  check_device_f32(a.b_left, "outer_product_projections left bias");
  check_device_f32(a.b_right, "outer_product_projections right bias");
  const Tensor wl = gemm_operand(a.w_left, DType::BF16, "outer_product_projections left weights");
  const Tensor wr = gemm_operand(a.w_right, DType::BF16, "outer_product_projections right weights");
  AXF_CHECK(wl.is_contiguous() && wr.is_contiguous(), "outer_product_projections: weights ", wl.describe(), ", ",
            wr.describe(), " are not contiguous");
  p.w_left = wl.raw_data();
  p.w_right = wr.raw_data();
  AXF_CHECK(kernels::masked_projections_fit(p), "outer_product_projections: weights ", wl.describe(), ", ",
            wr.describe(), " for rows ", a.msa.describe());
  activate();
  kernels::launch_masked_projections(p, ctx_->stream);
}

}  // namespace axf::backend::cuda
