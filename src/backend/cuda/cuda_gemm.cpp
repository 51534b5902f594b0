// CUDA backend: the GEMM family (linear layers with their epilogue, plain GEMM) and the two GEMM-based model
// operations (triangle multiplication, outer product mean). The operands' dtype decides the arithmetic: bf16
// inputs multiply on the tensor cores with fp32 accumulation, fp32 inputs in true fp32 (or TF32 when allowed).
// A weight matrix in another dtype than the activations is converted for the call (heads on bf16 pairs).
#include <algorithm>

#include "backend/cuda/cuda_backend.h"
#include "backend/cuda/cuda_check.h"
#include "backend/cuda/cuda_rows.h"
#include "backend/gated_transpose_checks.h"
#include "kernels/bias_act.cuh"
#include "kernels/gemm.cuh"
#include "kernels/outer_product_mean.cuh"
#include "kernels/triangle_gated_output.cuh"
#include "kernels/triangle_multiply.cuh"
#include "kernels/triangle_projection.cuh"

namespace axf::backend::cuda {

namespace {
kernels::Act to_act(Activation a) {
  switch (a) {
    case Activation::None: return kernels::Act::None;
    case Activation::Relu: return kernels::Act::Relu;
    case Activation::Sigmoid: return kernels::Act::Sigmoid;
  }
  return kernels::Act::None;
}

// A row-major matrix view of a 2-D-collapsible tensor (rows evenly strided, dense last dim).
struct Matrix {
  void* p;
  int64_t rows, cols, ld;
};
bool as_matrix(const Tensor& t, Matrix* m) {
  int64_t rows = 0, ld = 0;
  const int64_t cols = t.ndim() == 0 ? 1 : t.size(-1);
  if (!t.as_rows(&rows, &ld) || (rows > 1 && ld < cols)) return false;
  *m = {t.raw_data(), rows, cols, rows <= 1 ? std::max<int64_t>(cols, 1) : ld};
  return true;
}
}  // namespace

void CudaBackend::linear(const LinearArgs& a) {
  check_device_float(a.w, "linear weights");
  AXF_CHECK(a.w.ndim() == 2 && a.w.is_contiguous(), "linear: weights must be a contiguous [Cin, Cout] matrix, got ",
            a.w.describe());
  const int64_t cin = a.w.size(0), cout = a.w.size(1);
  check_device_float(a.x, "linear input");
  const DType cd = a.x.dtype();  // compute dtype
  AXF_CHECK(a.x.ndim() >= 1 && a.x.size(-1) == cin, "linear: input ", a.x.describe(), " does not match weights ",
            a.w.describe());
  AXF_CHECK(a.out.ndim() >= 1 && a.out.size(-1) == cout, "linear: output ", a.out.describe(),
            " does not match weights ", a.w.describe());
  const float* bias = a.bias.defined() ? dense_vector(a.bias, cout, "linear bias") : nullptr;
  const kernels::RowLayout out_rows = rows_of(a.out, "linear output");
  activate();
  // Inputs whose rows are not a plain matrix (transposed views, broadcasts) are gathered once.
  const Tensor x = gemm_operand(a.x, cd, "linear input");
  const Tensor w = gemm_operand(a.w, cd, "linear weights");
  Matrix mx{};
  AXF_CHECK(as_matrix(x, &mx), "linear: input ", x.describe(), " is not a matrix");
  AXF_CHECK(mx.rows == out_rows.rows, "linear: ", mx.rows, " input rows but ", out_rows.rows, " output rows");
  const int64_t n = mx.rows;
  if (n == 0 || cout == 0) return;
  // The GEMM writes straight into the output when it is a plain matrix and no epilogue must read it first
  // (the CPU backend's order of operations, so both round alike); fp32 operands need an fp32 result, so a bf16
  // output of an fp32 GEMM goes through the epilogue.
  Matrix mo{};
  const bool direct = as_matrix(a.out, &mo) && !(a.accumulate && a.activation != Activation::None) &&
                      (cd == DType::BF16 || a.out.dtype() == DType::F32);
  // cuBLASLt, with bias and ReLU in its epilogue: one pass over the output (not with a sigmoid; cuBLASLt declining
  // falls through to the path below). Plain products go through it too, for its split-K-free algorithms
  // (gemm_lt.cu): results independent of the chunk sizes.
  if (ctx_->lt && direct && a.activation != Activation::Sigmoid) {
    kernels::LtLinearParams lp;
    lp.m = n;
    lp.n = cout;
    lp.k = cin;
    lp.x = mx.p;
    lp.ldx = mx.ld;
    lp.w = w.raw_data();
    lp.out = mo.p;
    lp.ldo = mo.ld;
    lp.ab_type = elem_type(cd);
    lp.out_type = elem_type(a.out.dtype());
    lp.bias = bias;
    // cuBLASLt takes no fp32 bias with a bf16 output: the bias is rounded to bf16 once (2^-9 relative, the
    // output's own rounding); a tiny per-call conversion, so a bias written between calls is always current.
    Tensor bias_bf16;
    if (bias && a.out.dtype() == DType::BF16) {
      bias_bf16 = empty({cout}, DType::BF16);
      copy(a.bias.reshape({cout}), bias_bf16);
      lp.bias = bias_bf16.raw_data();
      lp.bias_type = kernels::ElemType::BF16;
    }
    lp.relu = a.activation == Activation::Relu;
    lp.accumulate = a.accumulate;
    lp.math = math();
    if (ctx_->lt->run(lp, ctx_->stream)) return;
  }
  Tensor tmp;
  kernels::GemmParams g;
  g.ab_type = elem_type(cd);
  g.math = math();
  g.m = n;
  g.n = cout;
  g.k = cin;
  g.a = mx.p;
  g.lda = mx.ld;
  g.b = w.raw_data();
  g.ldb = std::max<int64_t>(cout, 1);
  if (direct) {
    g.c = mo.p;
    g.c_type = elem_type(a.out.dtype());
    g.ldc = mo.ld;
    g.beta = a.accumulate ? 1.f : 0.f;
  } else {
    tmp = scratch(n * cout);
    g.c = tmp.raw_data();
    g.ldc = cout;
  }
  kernels::gemm(ctx_->gemm_engine(), g, "linear");
  if (direct && !bias && a.activation == Activation::None) return;
  kernels::BiasActParams e;
  e.src = direct ? nullptr : f32_ptr(tmp);
  e.src_ld = cout;
  e.out = a.out.raw_data();
  e.out_type = elem_type(a.out.dtype());
  e.out_rows = out_rows;
  e.bias = bias;
  e.act = to_act(a.activation);
  e.accumulate = !direct && a.accumulate;
  kernels::launch_bias_act(e, ctx_->stream);
}

void CudaBackend::gemm(const Tensor& a, bool trans_a, const Tensor& b, bool trans_b, Tensor& c, float alpha,
                       float beta) {
  AXF_CHECK(a.ndim() == 2 && b.ndim() == 2 && c.ndim() == 2, "gemm needs 2-D tensors");
  check_device_float(c, "gemm c");
  check_device_float(a, "gemm a");
  activate();
  const DType cd = a.dtype();
  const Tensor ta = gemm_operand(a, cd, "gemm a"), tb = gemm_operand(b, cd, "gemm b");
  AXF_CHECK(cd == DType::BF16 || c.dtype() == DType::F32, "gemm: fp32 operands need an fp32 result, got ",
            c.describe());
  Matrix ma{}, mb{}, mc{};
  AXF_CHECK(as_matrix(ta, &ma) && as_matrix(tb, &mb), "gemm: operands ", a.describe(), ", ", b.describe());
  AXF_CHECK(as_matrix(c, &mc), "gemm c: tensor ", c.describe(), " is not a strided matrix");
  const int64_t m = trans_a ? ma.cols : ma.rows, k = trans_a ? ma.rows : ma.cols;
  const int64_t kb = trans_b ? mb.cols : mb.rows, n = trans_b ? mb.rows : mb.cols;
  AXF_CHECK(k == kb && mc.rows == m && mc.cols == n, "gemm: shapes ", a.describe(), (trans_a ? "^T" : ""), " x ",
            b.describe(), (trans_b ? "^T" : ""), " -> ", c.describe());
  if (m == 0 || n == 0) return;
  kernels::GemmParams g;
  g.ab_type = elem_type(cd);
  g.c_type = elem_type(c.dtype());
  g.math = math();
  g.trans_a = trans_a;
  g.trans_b = trans_b;
  g.m = m;
  g.n = n;
  g.k = k;
  g.alpha = alpha;
  g.beta = beta;
  g.a = ma.p;
  g.lda = ma.ld;
  g.b = mb.p;
  g.ldb = mb.ld;
  g.c = mc.p;
  g.ldc = mc.ld;
  kernels::gemm(ctx_->gemm_engine(), g, "gemm");
}

void CudaBackend::triangle_multiply(const TriangleMultiplyArgs& a) {
  check_device_float(a.left, "triangle_multiply left");
  check_device_float(a.right, "triangle_multiply right");
  AXF_CHECK(a.left.dtype() == a.right.dtype(), "triangle_multiply: left ", a.left.describe(), " and right ",
            a.right.describe(), " differ in dtype");
  AXF_CHECK(a.left.ndim() == 3 && a.left.is_contiguous() && a.right.is_contiguous() &&
                a.left.shape() == a.right.shape(),
            "triangle_multiply: left/right must be contiguous [C, L, L], got ", a.left.describe(), " and ",
            a.right.describe());
  const int64_t C = a.left.size(0), L = a.left.size(1);
  AXF_CHECK(a.left.size(2) == L, "triangle_multiply: left is not square: ", a.left.describe());
  AXF_CHECK(a.out.ndim() == 3, "triangle_multiply: out ", a.out.describe(), " must be [rows, L, C]");
  const int64_t rows = a.out.size(0);
  AXF_CHECK(a.out.size(1) == L && a.out.size(2) == C && a.row_begin >= 0 && a.row_begin + rows <= L,
            "triangle_multiply: out ", a.out.describe(), " rows from ", a.row_begin, " for L=", L, ", C=", C);
  kernels::TriangleMultiplyParams p;
  p.left = a.left.raw_data();
  p.right = a.right.raw_data();
  p.in_type = elem_type(a.left.dtype());
  p.math = math();
  p.C = C;
  p.L = L;
  p.rows = rows;
  p.row_begin = a.row_begin;
  p.incoming = a.direction == TriangleDirection::Incoming;
  p.out_rows = rows_of(a.out, "triangle_multiply out");
  p.out = a.out.raw_data();
  p.out_type = elem_type(a.out.dtype());
  AXF_CHECK(a.center_scale.defined() == a.center_offset.defined(),
            "triangle_multiply: the center LayerNorm needs both scale and offset");
  // The center LayerNorm goes into the scatter where a position's channels fit its shared memory; otherwise the
  // rows are normalised in place afterwards.
  const bool norm_in_scatter = a.center_scale.defined() && kernels::triangle_multiply_fuses_layer_norm(C);
  if (norm_in_scatter) {
    p.ln_scale = dense_vector(a.center_scale, C, "triangle_multiply center LayerNorm scale");
    p.ln_offset = dense_vector(a.center_offset, C, "triangle_multiply center LayerNorm offset");
    p.ln_eps = a.center_eps;
  }
  if (rows == 0 || L == 0 || C == 0) return;
  activate();
  const int64_t chunk = kernels::triangle_multiply_chunk_rows(p, workspace_budget_);
  const Tensor ws = scratch(static_cast<int64_t>(kernels::triangle_multiply_workspace_bytes(p, chunk) / sizeof(float)));
  kernels::launch_triangle_multiply(p, chunk, f32_ptr(ws), ctx_->gemm_engine(), ctx_->stream);
  if (a.center_scale.defined() && !norm_in_scatter) {
    Tensor out = a.out;
    layer_norm(out, a.center_scale, a.center_offset, out, a.center_eps);
  }
}

void CudaBackend::triangle_gated_output(const TriangleGatedOutputArgs& a) {
  // bf16 rows at the kernel's widths take the fused kernel; everything else the unfused sequence.
  int64_t rows = 0, pair_ld = 0, t_rows = 0, t_ld = 0;
  const bool fusable = a.pair.dtype() == DType::BF16 && a.t.dtype() == DType::BF16 && a.pair.ndim() >= 1 &&
                       a.t.ndim() == a.pair.ndim() && a.pair.as_rows(&rows, &pair_ld) && a.t.as_rows(&t_rows, &t_ld) &&
                       rows == t_rows && kernels::triangle_gated_output_supported(a.pair.size(-1), a.t.size(-1));
  if (!fusable) {
    Backend::triangle_gated_output(a);
    return;
  }
  const int64_t cz = a.pair.size(-1), c = a.t.size(-1);
  AXF_CHECK(a.gating_w.shape() == Shape({cz, cz}) && a.output_w.shape() == Shape({c, cz}),
            "triangle_gated_output: weights ", a.gating_w.describe(), ", ", a.output_w.describe(), " for c_z=", cz,
            ", c=", c);
  const Tensor gw = gemm_operand(a.gating_w, DType::BF16, "triangle_gated_output gating_w");
  const Tensor ow = gemm_operand(a.output_w, DType::BF16, "triangle_gated_output output_w");
  kernels::TriangleGatedOutputParams p;
  p.pair = a.pair.raw_data();
  p.pair_ld = pair_ld;
  p.t = a.t.raw_data();
  p.t_ld = t_ld;
  p.gating_w = gw.raw_data();
  p.output_w = ow.raw_data();
  p.gating_b = dense_vector(a.gating_b, cz, "triangle_gated_output gating_b");
  p.output_b = dense_vector(a.output_b, cz, "triangle_gated_output output_b");
  p.ln_scale = dense_vector(a.ln_scale, cz, "triangle_gated_output scale");
  p.ln_offset = dense_vector(a.ln_offset, cz, "triangle_gated_output offset");
  p.eps = a.eps;
  p.rows = rows;
  p.cz = cz;
  p.c = c;
  if (!kernels::triangle_gated_output_fits(p)) {
    Backend::triangle_gated_output(a);
    return;
  }
  activate();
  kernels::launch_triangle_gated_output(p, ctx_->stream);
}

void CudaBackend::gated_transpose(const GatedTransposeArgs& a) {
  const GatedTransposeDims d = check_gated_transpose(a);
  check_device_float(a.proj, "gated_transpose proj");
  check_device_float(a.gate, "gated_transpose gate");
  check_device_f32(a.mask, "gated_transpose mask");
  check_device_float(a.out, "gated_transpose out");
  AXF_CHECK(a.proj.dtype() == a.gate.dtype(), "gated_transpose: proj ", a.proj.describe(), " and gate ",
            a.gate.describe(), " differ in dtype");
  kernels::GatedTransposeParams p;
  p.proj = a.proj.raw_data();
  p.gate = a.gate.raw_data();
  p.in_type = elem_type(a.proj.dtype());
  p.proj_rows = rows_of(a.proj, "gated_transpose proj");
  p.gate_rows = rows_of(a.gate, "gated_transpose gate");
  p.mask = f32_ptr(a.mask);
  p.mask_s0 = a.mask.stride(0);
  p.mask_s1 = a.mask.stride(1);
  p.out = a.out.raw_data();
  p.out_type = elem_type(a.out.dtype());
  p.rows = d.rows;
  p.L = d.L;
  p.C = d.C;
  p.row_begin = a.row_begin;
  activate();
  kernels::launch_gated_transpose(p, ctx_->stream);
}

void CudaBackend::outer_product_mean(const OuterProductMeanArgs& a) {
  check_device_float(a.left, "outer_product_mean left");
  check_device_float(a.right, "outer_product_mean right");
  AXF_CHECK(a.left.dtype() == a.right.dtype(), "outer_product_mean: left ", a.left.describe(), " and right ",
            a.right.describe(), " differ in dtype");
  const DType cd = a.left.dtype();
  AXF_CHECK(a.left.ndim() == 3 && a.right.ndim() == 3 && a.left.is_contiguous() && a.right.is_contiguous(),
            "outer_product_mean: left/right must be contiguous [S, L, c], got ", a.left.describe(), " and ",
            a.right.describe());
  const int64_t S = a.left.size(0), L = a.left.size(1), A = a.left.size(2), Bc = a.right.size(2);
  AXF_CHECK(a.right.size(0) == S && a.right.size(1) == L, "outer_product_mean: left ", a.left.describe(),
            " vs right ", a.right.describe());
  check_device_float(a.w, "outer_product_mean w");
  AXF_CHECK(a.w.ndim() == 2 && a.w.size(0) == A * Bc && a.w.is_contiguous(), "outer_product_mean: w ",
            a.w.describe(), " must be contiguous [", A * Bc, ", Cz]");
  const int64_t Cz = a.w.size(1);
  AXF_CHECK(a.out.ndim() == 3, "outer_product_mean: out ", a.out.describe(), " must be [rows, L, Cz]");
  const int64_t rows = a.out.size(0);
  AXF_CHECK(a.out.size(1) == L && a.out.size(2) == Cz && a.row_begin >= 0 && a.row_begin + rows <= L,
            "outer_product_mean: out ", a.out.describe());
  AXF_CHECK(a.norm.defined() && a.norm.ndim() == 2 && a.norm.size(0) == rows && a.norm.size(1) == L,
            "outer_product_mean: norm ", a.norm.describe(), " for ", rows, " rows");
  kernels::OuterProductMeanParams p;
  p.left = a.left.raw_data();
  p.right = a.right.raw_data();
  p.in_type = elem_type(cd);
  p.math = math();
  p.S = S;
  p.L = L;
  p.A = A;
  p.Bc = Bc;
  p.Cz = Cz;
  p.bias = dense_vector(a.bias, Cz, "outer_product_mean bias");
  check_device_f32(a.norm, "outer_product_mean norm");
  p.norm = f32_ptr(a.norm);
  p.norm_rows = rows_of(a.norm, "outer_product_mean norm");
  p.out_rows = rows_of(a.out, "outer_product_mean out");
  p.out = a.out.raw_data();
  p.out_type = elem_type(a.out.dtype());
  p.rows = rows;
  p.row_begin = a.row_begin;
  p.eps = a.eps;
  p.accumulate = a.accumulate;
  if (rows == 0 || L == 0 || Cz == 0) return;
  activate();
  const Tensor w = gemm_operand(a.w, cd, "outer_product_mean w");
  p.w = w.raw_data();
  const int64_t chunk = kernels::outer_product_mean_chunk_rows(p, workspace_budget_);
  const size_t bytes = kernels::outer_product_mean_workspace_bytes(p, chunk);
  const Tensor ws = scratch(static_cast<int64_t>((bytes + sizeof(float) - 1) / sizeof(float)));
  kernels::launch_outer_product_mean(p, chunk, ws.raw_data(), ctx_->gemm_engine(), ctx_->stream);
}

bool CudaBackend::fuses_triangle_projection(const TriangleProjectionArgs& a) const {
  // bf16 rows at the kernel's widths, 16-byte aligned, with a dense fp32 mask.
  int64_t n = 0, pair_ld = 0;
  return a.pair.dtype() == DType::BF16 && a.left.dtype() == DType::BF16 && a.right.dtype() == DType::BF16 &&
         a.pair.ndim() == 3 && a.weights.ndim() == 2 && a.pair.as_rows(&n, &pair_ld) &&
         kernels::aligned(a.pair.raw_data(), 16) && (n <= 1 || pair_ld % 8 == 0) && a.mask.dtype() == DType::F32 &&
         a.mask.is_contiguous() && a.mask.shape() == Shape({a.pair.size(0), a.pair.size(1)}) &&
         kernels::triangle_projection_supported(a.pair.size(2), a.weights.size(1) / 4);
}

void CudaBackend::triangle_projection(const TriangleProjectionArgs& a) {
  if (!fuses_triangle_projection(a)) {
    Backend::triangle_projection(a);
    return;
  }
  int64_t n = 0, pair_ld = 0;
  a.pair.as_rows(&n, &pair_ld);
  const int64_t rows = a.pair.size(0), L = a.pair.size(1), cz = a.pair.size(2), cb = a.weights.size(1) / 4;
  AXF_CHECK(a.weights.shape() == Shape({cz, 4 * cb}) && a.left.is_contiguous() && a.right.is_contiguous() &&
                a.left.shape() == Shape({cb, L, L}) && a.right.shape() == Shape({cb, L, L}) && a.row_begin >= 0 &&
                a.row_begin + rows <= L,
            "triangle_projection: weights ", a.weights.describe(), ", left ", a.left.describe(), ", right ",
            a.right.describe(), " for pair rows ", a.pair.describe(), " from row ", a.row_begin);
  check_device_float(a.pair, "triangle_projection pair");
  check_device_float(a.mask, "triangle_projection mask");
  check_device_float(a.left, "triangle_projection left");
  check_device_float(a.right, "triangle_projection right");
  const Tensor w = gemm_operand(a.weights, DType::BF16, "triangle_projection weights");
  kernels::TriangleProjectionParams p;
  p.pair = a.pair.raw_data();
  p.pair_ld = pair_ld;
  p.ln_scale = dense_vector(a.ln_scale, cz, "triangle_projection scale");
  p.ln_offset = dense_vector(a.ln_offset, cz, "triangle_projection offset");
  p.eps = a.eps;
  p.w = w.raw_data();
  p.b = dense_vector(a.bias, 4 * cb, "triangle_projection bias");
  p.mask = static_cast<const float*>(a.mask.raw_data());
  p.left = a.left.raw_data();
  p.right = a.right.raw_data();
  p.rows = rows;
  p.L = L;
  p.row_begin = a.row_begin;
  p.cz = cz;
  p.cb = cb;
  AXF_CHECK(kernels::triangle_projection_fits(p), "triangle_projection: unaligned weights ", w.describe());
  activate();
  kernels::launch_triangle_projection(p, ctx_->stream);
}

}  // namespace axf::backend::cuda
