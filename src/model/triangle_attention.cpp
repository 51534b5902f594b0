#include "model/triangle_attention.h"

#include "core/error.h"
#include "model/attention.h"

namespace axf::model {

void triangle_attention(runtime::ExecutionContext& ctx, const Scope& scope, const AttentionConfig& cfg,
                        TriangleNode node, Tensor& pair, const Tensor& pair_mask) {
  backend::Backend& be = ctx.backend();
  AXF_CHECK(pair.ndim() == 3 && pair.size(0) == pair.size(1), "triangle attention '", scope.path(),
            "': pair must be [L, L, c_z], got ", pair.describe());
  const int64_t L = pair.size(0), cz = pair.size(2);
  AXF_CHECK(pair_mask.ndim() == 2 && pair_mask.size(0) == L && pair_mask.size(1) == L, "triangle attention '",
            scope.path(), "': pair mask ", pair_mask.describe(), " for pair ", pair.describe());
  if (L == 0) return;

  // per_column (ending node): attend along the other axis by working on the transposed views.
  Tensor x = node == TriangleNode::Ending ? pair.transpose(0, 1) : pair;
  const Tensor mask = node == TriangleNode::Ending ? pair_mask.transpose(0, 1) : pair_mask;

  const Scope norm = scope.sub("query_norm");
  const Tensor norm_scale = norm["scale"], norm_offset = norm["offset"];
  const Tensor feat_2d = scope["feat_2d_weights"];  // [c_z, H]
  const int64_t H = cfg.num_head;
  AXF_CHECK(feat_2d.ndim() == 2 && feat_2d.size(0) == cz && feat_2d.size(1) == H, "triangle attention '",
            scope.path(), "': feat_2d_weights ", feat_2d.describe(), " for c_z=", cz, ", ", H, " heads");
  const int64_t chunk = ctx.chunks().pair_rows;

  // Nonbatched bias [H, L, L] from the layer-normed input of every row (before any row is updated). In one
  // chunk the normalised rows serve the attention below too (the bias op writes them out); in several they are
  // normalised again per chunk (only one chunk of them is alive at a time), and a backend that builds the bias
  // without temporaries takes every row at once.
  const core::DType dt = ctx.dtype();
  const bool one_chunk = runtime::chunk_length(chunk, L) >= L;
  Tensor bias = be.empty({H, L, L}, dt);
  Tensor normed_all;
  auto bias_rows = [&](int64_t begin, int64_t end) {
    backend::PairBiasArgs args;
    args.rows = x.slice(0, begin, end);  // [rows, L, c_z], strided for the ending node
    args.ln_scale = norm_scale;
    args.ln_offset = norm_offset;
    args.w = feat_2d;
    args.out = bias.slice(1, begin, end);  // [H, rows, L]
    return args;
  };
  if (one_chunk) {
    normed_all = be.empty({L, L, cz}, dt);
    backend::PairBiasArgs all = bias_rows(0, L);
    all.normed = normed_all;
    be.pair_bias(all);
  } else if (const backend::PairBiasArgs all = bias_rows(0, L); be.fuses_pair_bias(all)) {
    be.pair_bias(all);
  } else {
    runtime::for_each_chunk(L, chunk, [&](int64_t begin, int64_t end) { be.pair_bias(bias_rows(begin, end)); });
  }

  // Attention per row chunk, added into the (possibly transposed) pair rows.
  const Scope attention = scope.sub("attention");
  runtime::for_each_chunk(L, chunk, [&](int64_t begin, int64_t end) {
    const int64_t rows = end - begin;
    Tensor rows_view = x.slice(0, begin, end);  // [rows, L, c_z], strided for the ending node
    Tensor y = normed_all;
    if (!one_chunk) {
      y = be.empty({rows, L, cz}, dt);
      be.layer_norm(rows_view, norm_scale, norm_offset, y);
    }
    Tensor key_mask = be.empty({rows, L});
    be.copy(mask.slice(0, begin, end), key_mask);
    AttentionInputs in;
    in.q_data = y;
    in.m_data = y;
    in.key_mask = key_mask;
    in.bias = bias;
    gated_attention_add(ctx, attention, cfg, in, rows_view);
  });
}

}  // namespace axf::model
