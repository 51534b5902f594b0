#include "model/triangle_multiplication.h"

#include "core/error.h"

namespace axf::model {

void triangle_multiplication(runtime::ExecutionContext& ctx, const Scope& scope, backend::TriangleDirection dir,
                             Tensor& pair, const Tensor& pair_mask) {
  backend::Backend& be = ctx.backend();
  AXF_CHECK(pair.ndim() == 3 && pair.size(0) == pair.size(1), "triangle multiplication '", scope.path(),
            "': pair must be [L, L, c_z], got ", pair.describe());
  const int64_t L = pair.size(0), cz = pair.size(2);
  AXF_CHECK(pair_mask.ndim() == 2 && pair_mask.size(0) == L && pair_mask.size(1) == L, "triangle multiplication '",
            scope.path(), "': pair mask ", pair_mask.describe(), " for pair ", pair.describe());
  if (L == 0) return;

  const Scope ln_input = scope.sub("layer_norm_input"), ln_center = scope.sub("center_layer_norm");
  const Scope left_proj = scope.sub("left_projection"), left_gate = scope.sub("left_gate");
  const Scope right_proj = scope.sub("right_projection"), right_gate = scope.sub("right_gate");
  const Scope out_proj = scope.sub("output_projection"), gating = scope.sub("gating_linear");
  const Tensor ln_scale = ln_input["scale"], ln_offset = ln_input["offset"];
  const int64_t c = left_proj["weights"].size(1);
  AXF_CHECK(left_proj["weights"].size(0) == cz, "triangle multiplication '", scope.path(), "': weights ",
            left_proj["weights"].describe(), " for pair channels ", cz);
  const int64_t chunk = ctx.chunks().pair_rows;

  // Lines 1-3: the four projections of the normalised rows as one GEMM (fused weights [c_z, 4c]: left, right,
  // left gate, right gate), then mask * projection * sigmoid(gate) stored channel-major [c, L, L] (one GEMM per
  // channel below).
  const core::DType dt = ctx.dtype();
  const Tensor w_fused = scope.derived("fused_projection_weights", [&] {
    return concat_columns(be, {left_proj["weights"], right_proj["weights"], left_gate["weights"],
                               right_gate["weights"]});
  });
  const Tensor b_fused = scope.derived("fused_projection_bias", [&] {
    return concat_columns(be, {left_proj["bias"], right_proj["bias"], left_gate["bias"], right_gate["bias"]});
  });
  Tensor left = be.empty({c, L, L}, dt);
  Tensor right = be.empty({c, L, L}, dt);
  runtime::for_each_chunk(L, chunk, [&](int64_t begin, int64_t end) {
    const int64_t rows = end - begin;
    const Tensor part = pair.slice(0, begin, end);
    const Tensor mask_rows = pair_mask.slice(0, begin, end);
    Tensor x = be.empty({rows, L, cz}, dt);
    be.layer_norm(part, ln_scale, ln_offset, x);
    Tensor projections = be.empty({rows, L, 4 * c}, dt);
    be.linear({x, w_fused, b_fused, projections});
    be.gated_transpose({projections.slice(2, 0, c), projections.slice(2, 2 * c, 3 * c), mask_rows, left, begin});
    be.gated_transpose({projections.slice(2, c, 2 * c), projections.slice(2, 3 * c, 4 * c), mask_rows, right, begin});
  });

  // Lines 4-5 per output row chunk: the gate from the still unmodified input rows, then the update.
  runtime::for_each_chunk(L, chunk, [&](int64_t begin, int64_t end) {
    const int64_t rows = end - begin;
    Tensor part = pair.slice(0, begin, end);
    Tensor x = be.empty({rows, L, cz}, dt);
    be.layer_norm(part, ln_scale, ln_offset, x);
    Tensor gate = be.empty({rows, L, cz}, dt);
    be.linear({x, gating["weights"], gating["bias"], gate});

    Tensor t = be.empty({rows, L, c}, dt);
    backend::TriangleMultiplyArgs args;
    args.left = left;
    args.right = right;
    args.out = t;
    args.row_begin = begin;
    args.direction = dir;
    be.triangle_multiply(args);
    be.layer_norm(t, ln_center["scale"], ln_center["offset"], t);

    Tensor update = x;  // the normed input is no longer needed: reuse its buffer
    be.linear({t, out_proj["weights"], out_proj["bias"], update});
    be.gated_add(part, update, gate);  // pair += update * sigmoid(gate)
  });
}

}  // namespace axf::model
