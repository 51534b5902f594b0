#include "model/msa_attention.h"

#include "core/error.h"
#include "model/attention.h"

namespace axf::model {

namespace {

void check_msa(const char* what, const Scope& scope, const AttentionConfig& cfg, const Tensor& msa,
               const Tensor& msa_mask) {
  AXF_CHECK(msa.ndim() == 3 && msa_mask.ndim() == 2 && msa_mask.size(0) == msa.size(0) &&
                msa_mask.size(1) == msa.size(1),
            what, " '", scope.path(), "': msa ", msa.describe(), " and mask ", msa_mask.describe(),
            " must be [S, L, c] and [S, L]");
  AXF_CHECK(cfg.num_head > 0 && cfg.key_dim > 0 && cfg.value_dim > 0 && cfg.key_dim % cfg.num_head == 0 &&
                cfg.value_dim % cfg.num_head == 0,
            what, " '", scope.path(), "': attention config is not resolved (num_head=", cfg.num_head,
            ", key_dim=", cfg.key_dim, ", value_dim=", cfg.value_dim, ")");
}

// mask^T as a contiguous [L, S] tensor: the key mask of column attention (batch = residue column).
Tensor transposed_mask(backend::Backend& be, const Tensor& msa_mask) {
  Tensor mask_t = be.empty({msa_mask.size(1), msa_mask.size(0)});
  be.copy(msa_mask.transpose(0, 1), mask_t);
  return mask_t;
}

}  // namespace

void msa_row_attention_with_pair_bias(runtime::ExecutionContext& ctx, const Scope& scope, const AttentionConfig& cfg,
                                      Tensor& msa, const Tensor& msa_mask, const Tensor& pair) {
  backend::Backend& be = ctx.backend();
  check_msa("msa row attention", scope, cfg, msa, msa_mask);
  const int64_t S = msa.size(0), L = msa.size(1), C = msa.size(2), H = cfg.num_head;
  const Scope query_norm = scope.sub("query_norm"), pair_norm = scope.sub("feat_2d_norm");
  const Tensor w2d = scope["feat_2d_weights"];  // [c_z, H]
  AXF_CHECK(pair.ndim() == 3 && pair.size(0) == L && pair.size(1) == L && w2d.ndim() == 2 &&
                w2d.size(0) == pair.size(2) && w2d.size(1) == H,
            "msa row attention '", scope.path(), "': pair ", pair.describe(), " and feat_2d_weights ", w2d.describe(),
            " for L=", L, ", ", H, " heads");

  // Pair bias b[h,q,k] = LayerNorm(pair)[q,k,:] @ feat_2d_weights, stored head-major [H, L, L] as the attention
  // kernel wants it. Unfused, a block of query rows at a time so only one block of the normalised pair and its
  // logits is alive; a backend that fuses it (no temporaries) takes every row at once.
  const core::DType dt = ctx.dtype();
  Tensor bias = be.empty({H, L, L}, dt);
  auto bias_rows = [&](int64_t begin, int64_t end) {
    backend::PairBiasArgs args;
    args.rows = pair.slice(0, begin, end);
    args.ln_scale = pair_norm["scale"];
    args.ln_offset = pair_norm["offset"];
    args.w = w2d;
    args.out = bias.slice(1, begin, end);
    return args;
  };
  if (const backend::PairBiasArgs all = bias_rows(0, L); be.fuses_pair_bias(all)) {
    be.pair_bias(all);
  } else {
    runtime::for_each_chunk(L, ctx.chunks().pair_rows,
                            [&](int64_t begin, int64_t end) { be.pair_bias(bias_rows(begin, end)); });
  }

  const Scope attention = scope.sub("attention");
  runtime::for_each_chunk(S, ctx.chunks().msa_rows, [&](int64_t begin, int64_t end) {
    Tensor residual = msa.slice(0, begin, end);  // [n, L, C]: batch = sequence, queries = keys = residues
    Tensor q_data = be.empty({end - begin, L, C}, dt);
    be.layer_norm(residual, query_norm["scale"], query_norm["offset"], q_data);
    AttentionInputs in{q_data, q_data, msa_mask.slice(0, begin, end), bias};
    gated_attention_add(ctx, attention, cfg, in, residual);
  });
}

void msa_column_attention(runtime::ExecutionContext& ctx, const Scope& scope, const AttentionConfig& cfg, Tensor& msa,
                          const Tensor& msa_mask) {
  backend::Backend& be = ctx.backend();
  check_msa("msa column attention", scope, cfg, msa, msa_mask);
  const int64_t S = msa.size(0), L = msa.size(1), C = msa.size(2);
  const Scope query_norm = scope.sub("query_norm"), attention = scope.sub("attention");
  const Tensor mask_t = transposed_mask(be, msa_mask);  // [L, S]
  const Tensor msa_t = msa.transpose(0, 1);              // [L, S, C] view
  runtime::for_each_chunk(L, ctx.chunks().msa_columns, [&](int64_t begin, int64_t end) {
    Tensor residual = msa_t.slice(0, begin, end);  // strided [n, S, C]: batch = column, queries = keys = sequences
    Tensor q_data = be.empty({end - begin, S, C}, ctx.dtype());
    be.layer_norm(residual, query_norm["scale"], query_norm["offset"], q_data);
    AttentionInputs in{q_data, q_data, mask_t.slice(0, begin, end), Tensor()};
    gated_attention_add(ctx, attention, cfg, in, residual);
  });
}

void msa_column_global_attention(runtime::ExecutionContext& ctx, const Scope& scope, const AttentionConfig& cfg,
                                 Tensor& msa, const Tensor& msa_mask) {
  backend::Backend& be = ctx.backend();
  check_msa("msa column global attention", scope, cfg, msa, msa_mask);
  AXF_CHECK(cfg.gating, "msa column global attention '", scope.path(),
            "': only the gated form (AlphaFold's configuration) is implemented");
  const int64_t S = msa.size(0), L = msa.size(1), C = msa.size(2);
  const Scope query_norm = scope.sub("query_norm"), attention = scope.sub("attention");
  const Tensor mask_t = transposed_mask(be, msa_mask);  // [L, S]
  const Tensor msa_t = msa.transpose(0, 1);              // [L, S, C] view
  runtime::for_each_chunk(L, ctx.chunks().msa_columns, [&](int64_t begin, int64_t end) {
    Tensor residual = msa_t.slice(0, begin, end);
    Tensor normed = be.empty({end - begin, S, C}, ctx.dtype());
    be.layer_norm(residual, query_norm["scale"], query_norm["offset"], normed);
    global_attention_add(ctx, attention, cfg, normed, mask_t.slice(0, begin, end), residual);
  });
}

}  // namespace axf::model
