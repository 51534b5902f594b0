#include "model/triangle_multiplication.h"

#include <string>
#include <vector>

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

  // Lines 1-3: the four projections of the normalised rows as one op (fused weights [c_z, 4 cb] for a block of
  // cb channels: left, right, left gate, right gate), mask * projection * sigmoid(gate) stored channel-major
  // [cb, L, L] (one GEMM per channel in line 4).
  const core::DType dt = ctx.dtype();
  const int64_t block = runtime::chunk_length(ctx.chunks().triangle_channels, c);
  auto project_block = [&](int64_t c0, int64_t c1, Tensor& left, Tensor& right) {
    const std::string range = c0 == 0 && c1 == c ? "" : "_" + std::to_string(c0) + "_" + std::to_string(c1);
    const Tensor w_fused = scope.derived("fused_projection_weights" + range, [&] {
      std::vector<Tensor> parts;
      for (const Scope* s : {&left_proj, &right_proj, &left_gate, &right_gate}) parts.push_back((*s)["weights"].slice(1, c0, c1));
      return concat_columns(be, parts);
    });
    const Tensor b_fused = scope.derived("fused_projection_bias" + range, [&] {
      std::vector<Tensor> parts;
      for (const Scope* s : {&left_proj, &right_proj, &left_gate, &right_gate}) parts.push_back((*s)["bias"].slice(0, c0, c1));
      return concat_columns(be, parts);
    });
    runtime::for_each_chunk(L, chunk, [&](int64_t begin, int64_t end) {
      backend::TriangleProjectionArgs args;
      args.pair = pair.slice(0, begin, end);
      args.ln_scale = ln_scale;
      args.ln_offset = ln_offset;
      args.weights = w_fused;
      args.bias = b_fused;
      args.mask = pair_mask.slice(0, begin, end);
      args.left = left;
      args.right = right;
      args.row_begin = begin;
      be.triangle_projection(args);
    });
  };
  // Line 4 into out; with every channel at once (center_normalised) also line 5's center LayerNorm, from the
  // products before they are rounded to the compute dtype.
  auto multiply = [&](const Tensor& left, const Tensor& right, int64_t row_begin, Tensor out, bool center_normalised) {
    backend::TriangleMultiplyArgs args;
    args.left = left;
    args.right = right;
    args.out = out;
    args.row_begin = row_begin;
    args.direction = dir;
    if (center_normalised) {
      args.center_scale = ln_center["scale"];
      args.center_offset = ln_center["offset"];
    }
    be.triangle_multiply(args);
  };
  // Line 5 for a block of output rows whose line-4 result t [rows, L, c] is ready (center-normalised or not):
  // center LayerNorm, output projection, gated by the still unmodified input rows, added into the pair.
  auto update_rows = [&](int64_t begin, int64_t end, Tensor& t, bool center_normalised) {
    if (!center_normalised) be.layer_norm(t, ln_center["scale"], ln_center["offset"], t);
    backend::TriangleGatedOutputArgs args;
    args.pair = pair.slice(0, begin, end);
    args.t = t;
    args.ln_scale = ln_scale;
    args.ln_offset = ln_offset;
    args.gating_w = gating["weights"];
    args.gating_b = gating["bias"];
    args.output_w = out_proj["weights"];
    args.output_b = out_proj["bias"];
    be.triangle_gated_output(args);  // pair += sigmoid(LN(pair) W_g + b_g) * (t W_o + b_o)
  };

  if (block >= c) {
    // All channels at once: left/right [c, L, L], then line 4-5 a block of output rows at a time.
    Tensor left = be.empty({c, L, L}, dt), right = be.empty({c, L, L}, dt);
    project_block(0, c, left, right);
    runtime::for_each_chunk(L, chunk, [&](int64_t begin, int64_t end) {
      Tensor t = be.empty({end - begin, L, c}, dt);
      multiply(left, right, begin, t, true);
      update_rows(begin, end, t, true);
    });
    return;
  }
  // Channel blocks (long sequences): only [cb, L, L] of left/right are alive; line 4 fills t [L, L, c] block by
  // block (the center LayerNorm needs every channel), then line 5 runs by rows.
  Tensor t = be.empty({L, L, c}, dt);
  runtime::for_each_chunk(c, block, [&](int64_t c0, int64_t c1) {
    Tensor left = be.empty({c1 - c0, L, L}, dt), right = be.empty({c1 - c0, L, L}, dt);
    project_block(c0, c1, left, right);
    multiply(left, right, 0, t.slice(2, c0, c1), false);
  });
  runtime::for_each_chunk(L, chunk, [&](int64_t begin, int64_t end) {
    Tensor rows = t.slice(0, begin, end);
    update_rows(begin, end, rows, false);
  });
}

}  // namespace axf::model
