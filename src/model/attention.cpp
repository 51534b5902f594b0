#include "model/attention.h"

#include <cmath>
#include <vector>

#include "core/error.h"

namespace axf::model {

using backend::LinearArgs;

namespace {

// residual += x @ w + b. Into rows that form a matrix the GEMM accumulates in place; into a strided view (the MSA
// columns, the transposed pair of the ending node) the update goes to a contiguous buffer in the compute dtype and
// is added, rather than the backend's fp32 result of a linear into a strided output (half the bytes in bf16).
void add_projection(runtime::ExecutionContext& ctx, const Tensor& x, const Tensor& w, const Tensor& b,
                    Tensor& residual) {
  backend::Backend& be = ctx.backend();
  int64_t rows = 0, row_stride = 0;
  if (residual.as_rows(&rows, &row_stride)) {
    LinearArgs proj{x, w, b, residual};
    proj.accumulate = true;
    be.linear(proj);
    return;
  }
  Tensor update = be.empty(residual.shape(), ctx.dtype());
  be.linear({x, w, b, update});
  be.add(residual, update);
}

// The same elements in the same layout: q and m data of self-attention.
bool same_view(const Tensor& a, const Tensor& b) {
  return a.storage() == b.storage() && a.offset() == b.offset() && a.shape() == b.shape() &&
         a.strides() == b.strides() && a.dtype() == b.dtype();
}

}  // namespace

void gated_attention_add(runtime::ExecutionContext& ctx, const Scope& scope, const AttentionConfig& cfg,
                         const AttentionInputs& in, Tensor& residual) {
  backend::Backend& be = ctx.backend();
  AXF_CHECK(in.q_data.ndim() == 3 && in.m_data.ndim() == 3, "attention '", scope.path(), "': q_data ",
            in.q_data.describe(), " and m_data ", in.m_data.describe(), " must be [B, N, C]");
  const int64_t B = in.q_data.size(0), Q = in.q_data.size(1), K = in.m_data.size(1);
  const int64_t H = cfg.num_head, kd = cfg.key_dim / H, vd = cfg.value_dim / H;
  const int64_t c_out = residual.size(-1);
  const core::DType dt = ctx.dtype();

  Tensor q, k, v, gate;
  if (same_view(in.q_data, in.m_data) && kd == vd) {
    // Self-attention: q, k, v and the gate from one GEMM over the inputs, read once ([C, parts * H * d] weights
    // made once per module; zero bias but for the gate). Views of [B, Q, parts, H, d].
    const int64_t parts = cfg.gating ? 4 : 3;
    const Tensor w = scope.derived("fused_qkvg_weights", [&] {
      std::vector<Tensor> cols{scope.matrix("query_w"), scope.matrix("key_w"), scope.matrix("value_w")};
      if (cfg.gating) cols.push_back(scope.matrix("gating_w"));
      return concat_columns(be, cols);
    });
    Tensor b;
    if (cfg.gating)
      b = scope.derived("fused_qkvg_bias", [&] {
        const Tensor gating_b = scope["gating_b"].reshape({H * vd});
        Tensor zeros = be.empty({3 * H * kd}, gating_b.dtype());
        be.fill(zeros, 0.f);
        return concat_columns(be, {zeros, gating_b});
      });
    Tensor fused = be.empty({B, Q, parts, H, kd}, dt);
    be.linear({in.q_data, w, b, fused.reshape({B, Q, parts * H * kd})});
    q = fused.select(2, 0);
    k = fused.select(2, 1);
    v = fused.select(2, 2);
    if (cfg.gating) gate = fused.select(2, 3);
  } else {
    q = be.empty({B, Q, H, kd}, dt);
    k = be.empty({B, K, H, kd}, dt);
    v = be.empty({B, K, H, vd}, dt);
    be.linear({in.q_data, scope.matrix("query_w"), Tensor(), q.reshape({B, Q, H * kd})});
    be.linear({in.m_data, scope.matrix("key_w"), Tensor(), k.reshape({B, K, H * kd})});
    be.linear({in.m_data, scope.matrix("value_w"), Tensor(), v.reshape({B, K, H * vd})});
    if (cfg.gating) {
      gate = be.empty({B, Q, H, vd}, dt);
      be.linear({in.q_data, scope.matrix("gating_w"), scope["gating_b"].reshape({H * vd}),
                 gate.reshape({B, Q, H * vd})});
    }
  }
  // A residual whose transpose is rows (the MSA columns, the ending node's transposed pair, unchunked) gets the
  // attention output in its own memory order, [Q, B, H, vd]: the output projection then accumulates into the
  // residual's rows in place, with no contiguous update and no strided add.
  Tensor residual_rows = residual;
  bool transposed = false;
  int64_t rows = 0, row_stride = 0;
  if (!residual.as_rows(&rows, &row_stride) && residual.transpose(0, 1).as_rows(&rows, &row_stride)) {
    residual_rows = residual.transpose(0, 1);
    transposed = true;
  }
  Tensor out_buffer = transposed ? be.empty({Q, B, H, vd}, dt) : be.empty({B, Q, H, vd}, dt);
  backend::AttentionArgs args;
  args.q = q;
  args.k = k;
  args.v = v;
  args.key_mask = in.key_mask;
  args.bias = in.bias;
  args.gate = gate;
  args.out = transposed ? out_buffer.transpose(0, 1) : out_buffer;
  args.scale = 1.0f / std::sqrt(static_cast<float>(kd));
  be.attention(args);

  add_projection(ctx, out_buffer.reshape({out_buffer.size(0), out_buffer.size(1), H * vd}),
                 scope["output_w"].reshape({H * vd, c_out}), scope["output_b"], residual_rows);
}

void global_attention_add(runtime::ExecutionContext& ctx, const Scope& scope, const AttentionConfig& cfg,
                          const Tensor& x, const Tensor& mask, Tensor& residual) {
  backend::Backend& be = ctx.backend();
  AXF_CHECK(x.ndim() == 3 && mask.ndim() == 2, "global attention '", scope.path(), "': x ", x.describe(), ", mask ",
            mask.describe());
  const int64_t B = x.size(0), K = x.size(1), C = x.size(2);
  const int64_t H = cfg.num_head, kd = cfg.key_dim / H, vd = cfg.value_dim / H;

  const core::DType dt = ctx.dtype();
  Tensor q_avg = be.empty({B, C}, dt);
  be.masked_mean(x, mask, q_avg);
  Tensor q = be.empty({B, 1, H, kd}, dt);
  be.linear({q_avg, scope.matrix("query_w"), Tensor(), q.reshape({B, H * kd})});
  Tensor k = be.empty({B, K, 1, kd}, dt);
  Tensor v = be.empty({B, K, 1, vd}, dt);
  be.linear({x, scope["key_w"], Tensor(), k.reshape({B, K, kd})});
  be.linear({x, scope["value_w"], Tensor(), v.reshape({B, K, vd})});
  Tensor avg = be.empty({B, 1, H, vd}, dt);
  backend::AttentionArgs args;
  args.q = q;
  args.k = k;
  args.v = v;
  args.key_mask = mask;
  args.out = avg;
  args.scale = 1.0f / std::sqrt(static_cast<float>(kd));
  be.attention(args);

  // Every row k of a column gets the column's average, gated by its own query: a[b,k,h,:] = avg[b,h,:] * g[b,k,h,:].
  Tensor gate = be.empty({B, K, H, vd}, dt);
  be.linear({x, scope.matrix("gating_w"), scope["gating_b"].reshape({H * vd}), gate.reshape({B, K, H * vd})});
  Tensor gated = be.empty({B, K, H, vd}, dt);
  be.copy(avg.expand(1, K), gated);
  be.sigmoid_mul(gated, gate);
  add_projection(ctx, gated.reshape({B, K, H * vd}), scope["output_w"].reshape({H * vd, C}), scope["output_b"],
                 residual);
}

}  // namespace axf::model
