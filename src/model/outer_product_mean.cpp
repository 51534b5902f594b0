#include "model/outer_product_mean.h"

#include "core/error.h"

namespace axf::model {

void outer_product_mean(runtime::ExecutionContext& ctx, const Scope& scope, const Tensor& msa, const Tensor& msa_mask,
                        Tensor& pair) {
  backend::Backend& be = ctx.backend();
  const Scope ln = scope.sub("layer_norm_input");
  const Scope left_proj = scope.sub("left_projection"), right_proj = scope.sub("right_projection");
  const Tensor w_left = left_proj["weights"], w_right = right_proj["weights"];  // [c_m, c]
  AXF_CHECK(msa.ndim() == 3 && msa_mask.ndim() == 2 && msa_mask.size(0) == msa.size(0) &&
                msa_mask.size(1) == msa.size(1),
            "outer product mean '", scope.path(), "': msa ", msa.describe(), " and mask ", msa_mask.describe(),
            " must be [S, L, c_m] and [S, L]");
  const int64_t S = msa.size(0), L = msa.size(1);
  AXF_CHECK(w_left.size(0) == msa.size(2) && w_right.size(0) == msa.size(2), "outer product mean '", scope.path(),
            "': projections ", w_left.describe(), ", ", w_right.describe(), " for msa ", msa.describe());
  const int64_t A = w_left.size(1), B = w_right.size(1);
  const Tensor w_out_full = scope["output_w"];  // [A, B, c_z]
  AXF_CHECK(w_out_full.ndim() == 3 && w_out_full.size(0) == A && w_out_full.size(1) == B, "outer product mean '",
            scope.path(), "': output_w ", w_out_full.describe(), " for ", A, "x", B, " outer channels");
  const int64_t Cz = w_out_full.size(2);
  AXF_CHECK(pair.ndim() == 3 && pair.size(0) == L && pair.size(1) == L && pair.size(2) == Cz, "outer product mean '",
            scope.path(), "': pair ", pair.describe(), " for L=", L, ", c_z=", Cz);
  const Tensor w_out = w_out_full.reshape({A * B, Cz});

  // Masked projections of the normalised MSA, a block of sequences at a time (only that block is normalised).
  const core::DType dt = ctx.dtype();
  Tensor left = be.empty({S, L, A}, dt);
  Tensor right = be.empty({S, L, B}, dt);
  runtime::for_each_chunk(S, ctx.chunks().msa_rows, [&](int64_t begin, int64_t end) {
    backend::OuterProductProjectionArgs args;
    args.msa = msa.slice(0, begin, end);
    args.mask = msa_mask.slice(0, begin, end);
    args.ln_scale = ln["scale"];
    args.ln_offset = ln["offset"];
    args.w_left = w_left;
    args.b_left = left_proj["bias"];
    args.w_right = w_right;
    args.b_right = right_proj["bias"];
    args.left = left.slice(0, begin, end);
    args.right = right.slice(0, begin, end);
    be.outer_product_projections(args);
  });

  // norm[i,j] = sum_s mask[s,i] mask[s,j] = (mask^T mask)[i,j]; exact in fp32 for 0/1 masks.
  Tensor mask = msa_mask;
  int64_t rows = 0, ld = 0;
  if (!mask.as_rows(&rows, &ld)) {
    mask = be.empty(msa_mask.shape());
    be.copy(msa_mask, mask);
  }
  Tensor norm = be.empty({L, L});
  be.gemm(mask, true, mask, false, norm);

  runtime::for_each_chunk(L, ctx.chunks().opm_rows, [&](int64_t begin, int64_t end) {
    backend::OuterProductMeanArgs args;
    args.left = left;
    args.right = right;
    args.w = w_out;
    args.bias = scope["output_b"];
    args.norm = norm.slice(0, begin, end);
    args.out = pair.slice(0, begin, end);
    args.row_begin = begin;
    args.eps = 1e-3f;
    args.accumulate = true;
    be.outer_product_mean(args);
  });
}

}  // namespace axf::model
