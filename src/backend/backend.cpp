#include "backend/backend.h"

#include <cstring>

#include "core/error.h"

namespace axf::backend {

void Backend::download_to(const Tensor& t, Tensor& host_dst) {
  check_download_target(t, host_dst);
  const Tensor h = download(t);
  std::memcpy(host_dst.raw_data(), h.raw_data(), static_cast<size_t>(h.numel()) * core::dtype_size(h.dtype()));
}

void Backend::upload_to(const Tensor& host, Tensor& device_dst) {
  check_upload_target(host, device_dst, device());
  copy(upload(host), device_dst);
}

void Backend::triangle_projection(const TriangleProjectionArgs& a) {
  AXF_CHECK(a.pair.ndim() == 3 && a.weights.ndim() == 2 && a.weights.size(0) == a.pair.size(2) &&
                a.weights.size(1) % 4 == 0 && a.left.defined() && a.right.defined() &&
                a.left.dtype() == a.right.dtype(),
            "triangle_projection: pair ", a.pair.describe(), " (needs [rows, L, c_z]), weights ", a.weights.describe(),
            " (needs [c_z, 4 cb]), left ", a.left.describe(), ", right ", a.right.describe());
  const int64_t rows = a.pair.size(0), L = a.pair.size(1), cb = a.weights.size(1) / 4;
  Tensor x = empty(a.pair.shape(), a.left.dtype());
  layer_norm(a.pair, a.ln_scale, a.ln_offset, x, a.eps);
  Tensor projections = empty({rows, L, 4 * cb}, a.left.dtype());
  linear({x, a.weights, a.bias, projections});
  gated_transpose({projections.slice(2, 0, cb), projections.slice(2, 2 * cb, 3 * cb), a.mask, a.left, a.row_begin});
  gated_transpose({projections.slice(2, cb, 2 * cb), projections.slice(2, 3 * cb, 4 * cb), a.mask, a.right,
                   a.row_begin});
}

void Backend::triangle_gated_output(const TriangleGatedOutputArgs& a) {
  AXF_CHECK(a.pair.ndim() >= 1 && a.t.ndim() == a.pair.ndim(), "triangle_gated_output: pair ", a.pair.describe(),
            " and t ", a.t.describe(), " must be rows of the same leading shape");
  Tensor pair = a.pair;
  Tensor x = empty(a.pair.shape(), a.t.dtype());
  layer_norm(pair, a.ln_scale, a.ln_offset, x, a.eps);
  Tensor gate = empty(a.pair.shape(), a.t.dtype());
  linear({x, a.gating_w, a.gating_b, gate});
  Tensor update = x;  // the normed rows are no longer needed: reuse their buffer
  linear({a.t, a.output_w, a.output_b, update});
  gated_add(pair, update, gate);
}

void Backend::outer_product_projections(const OuterProductProjectionArgs& a) {
  AXF_CHECK(a.msa.ndim() == 3 && a.mask.shape() == Shape({a.msa.size(0), a.msa.size(1)}) && a.left.ndim() == 3 &&
                a.right.ndim() == 3,
            "outer_product_projections: msa ", a.msa.describe(), " (needs [S, L, c_m]), mask ", a.mask.describe(),
            " (needs [S, L]), left ", a.left.describe(), ", right ", a.right.describe());
  Tensor normed = empty(a.msa.shape(), a.left.dtype());
  layer_norm(a.msa, a.ln_scale, a.ln_offset, normed, a.eps);
  Tensor left = a.left, right = a.right;
  linear({normed, a.w_left, a.b_left, left});
  linear({normed, a.w_right, a.b_right, right});
  mul_rows(left, a.mask);
  mul_rows(right, a.mask);
}

void Backend::transition(const TransitionArgs& a) {
  AXF_CHECK(a.act.ndim() >= 1 && a.w1.ndim() == 2 && a.w2.ndim() == 2 && a.w1.size(0) == a.act.size(-1) &&
                a.w2.shape() == Shape({a.w1.size(1), a.act.size(-1)}),
            "transition: rows ", a.act.describe(), ", weights ", a.w1.describe(), " (needs [c, hidden]) and ",
            a.w2.describe(), " (needs [hidden, c])");
  Tensor act = a.act;
  Tensor normed = empty(act.shape(), act.dtype());
  layer_norm(act, a.ln_scale, a.ln_offset, normed, a.eps);
  Shape hidden_shape = act.shape();
  hidden_shape.back() = a.w1.size(1);
  Tensor hidden = empty(hidden_shape, act.dtype());
  linear({normed, a.w1, a.b1, hidden, Activation::Relu});
  LinearArgs out{hidden, a.w2, a.b2, act};
  out.accumulate = true;
  linear(out);
}

void Backend::pair_bias(const PairBiasArgs& a) {
  const bool ln = a.ln_scale.defined() || a.ln_offset.defined();
  AXF_CHECK(a.rows.defined() && a.rows.ndim() == 3 && a.w.defined() && a.w.ndim() == 2 &&
                a.w.size(0) == a.rows.size(2) && a.out.defined() &&
                a.out.shape() == Shape({a.w.size(1), a.rows.size(0), a.rows.size(1)}) &&
                (!a.normed.defined() || a.normed.shape() == a.rows.shape()) &&
                (!ln || (a.ln_scale.defined() && a.ln_offset.defined())),
            "pair_bias: rows ", a.rows.describe(), " (needs [rows, L, c_z]), weights ", a.w.describe(),
            " (needs [c_z, H]), out ", a.out.describe(), " (needs [H, rows, L]), normed ", a.normed.describe(),
            ", LayerNorm scale ", a.ln_scale.describe(), " and offset ", a.ln_offset.describe(), " (both or neither)");
  const DType dt = a.out.dtype();
  Tensor x = a.rows;
  if (ln) {
    x = a.normed.defined() ? a.normed : empty(a.rows.shape(), dt);
    layer_norm(a.rows, a.ln_scale, a.ln_offset, x, a.eps);
  } else if (a.normed.defined()) {
    x = a.normed;
    copy(a.rows, x);
  }
  Tensor logits = empty({a.rows.size(0), a.rows.size(1), a.w.size(1)}, dt);
  linear({x, a.w, Tensor(), logits});
  Tensor dst = a.out;
  copy(logits.permute({2, 0, 1}), dst);
}

void check_upload_target(const Tensor& host, const Tensor& device_dst, core::Device device) {
  AXF_CHECK(host.defined() && host.device() == core::Device::CPU && device_dst.defined() &&
                device_dst.device() == device && device_dst.is_contiguous() && device_dst.shape() == host.shape() &&
                device_dst.dtype() == host.dtype(),
            "upload_to: ", host.describe(), " into ", device_dst.describe(),
            " (needs a host tensor and a contiguous tensor of the backend's device of the same shape and dtype)");
}

void check_download_target(const Tensor& t, const Tensor& host_dst) {
  AXF_CHECK(host_dst.defined() && host_dst.device() == core::Device::CPU && host_dst.is_contiguous() &&
                host_dst.shape() == t.shape() && host_dst.dtype() == t.dtype(),
            "download_to: ", t.describe(), " into ", host_dst.describe(),
            " (needs a contiguous host tensor of the same shape and dtype)");
}

int64_t check_softmax_expectations(const Tensor& logits, const Tensor& values, const Tensor& out) {
  AXF_CHECK(logits.defined() && values.defined() && out.defined() && logits.ndim() >= 1 && values.ndim() == 2 &&
                out.ndim() == logits.ndim() && logits.dtype() == DType::F32 && values.dtype() == DType::F32 &&
                out.dtype() == DType::F32,
            "softmax_expectations: logits [..., bins], values [V, bins] and out [..., V], all fp32; got ",
            logits.describe(), ", ", values.describe(), ", ", out.describe());
  const int64_t bins = logits.size(-1), V = values.size(0);
  bool same_rows = true;
  for (int d = 0; d + 1 < logits.ndim(); ++d) same_rows = same_rows && out.size(d) == logits.size(d);
  AXF_CHECK(bins >= 1 && values.size(1) == bins && V >= 1 && V <= Backend::kMaxSoftmaxExpectations &&
                out.size(-1) == V && same_rows && values.is_contiguous(),
            "softmax_expectations: logits ", logits.describe(), ", values ", values.describe(), " (contiguous, 1 to ",
            Backend::kMaxSoftmaxExpectations, " rows of the bins), out ", out.describe());
  return V;
}

void Backend::throw_no_tf32() const { AXF_FAIL("the ", name(), " backend has no TF32 mode (use --precision fp32)"); }

void Backend::begin_recording() { AXF_FAIL("the ", name(), " backend cannot record operations (CUDA graphs)"); }
std::unique_ptr<RecordedWork> Backend::end_recording() {
  AXF_FAIL("the ", name(), " backend cannot record operations (CUDA graphs)");
}
void Backend::abort_recording() {}
void Backend::replay(const RecordedWork&) { AXF_FAIL("the ", name(), " backend cannot replay recorded operations"); }

}  // namespace axf::backend
