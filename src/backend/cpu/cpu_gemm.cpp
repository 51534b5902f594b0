// CPU backend: GEMM-based operations (linear layers, plain GEMM, triangle multiplication, outer product mean).
#include <cblas.h>

#include <cmath>
#include <vector>

#include "backend/cpu/cpu_backend.h"
#include "backend/cpu/cpu_rows.h"
#include "core/error.h"

namespace axf::backend::cpu {

namespace {
float apply_activation(float v, Activation a) {
  switch (a) {
    case Activation::None: return v;
    case Activation::Relu: return v > 0.f ? v : 0.f;
    case Activation::Sigmoid: return 1.0f / (1.0f + std::exp(-v));
  }
  return v;
}
}  // namespace

void CpuBackend::linear(const LinearArgs& a) {
  AXF_CHECK(a.w.ndim() == 2 && a.w.is_contiguous(), "linear: weights must be a contiguous [Cin, Cout] matrix, got ",
            a.w.describe());
  const int64_t cin = a.w.size(0), cout = a.w.size(1);
  AXF_CHECK(a.x.size(-1) == cin, "linear: input ", a.x.describe(), " does not match weights ", a.w.describe());
  AXF_CHECK(a.out.size(-1) == cout, "linear: output ", a.out.describe(), " does not match weights ", a.w.describe());
  AXF_CHECK(!a.bias.defined() || a.bias.numel() == cout, "linear: bias ", a.bias.describe(), " for ", cout,
            " outputs");
  // Inputs whose rows are not evenly strided (e.g. transposed views) are gathered once.
  int64_t rows = 0, ld = 0;
  const Tensor x = a.x.as_rows(&rows, &ld) ? a.x : a.x.contiguous();
  Matrix mx = as_matrix(x, "linear input");
  RowMap mo(a.out, "linear output");
  AXF_CHECK(mx.rows == mo.rows(), "linear: ", mx.rows, " input rows but ", mo.rows(), " output rows");
  const int64_t n = mx.rows;
  if (n == 0) return;
  // The GEMM writes straight into the output when it is a plain matrix and no epilogue reads it first.
  const bool out_is_matrix = a.out.as_rows(&rows, &ld) && (n <= 1 || ld >= cout);
  const bool direct = out_is_matrix && !(a.accumulate && a.activation != Activation::None);
  std::vector<float> tmp;
  float* dst;
  int64_t ldd;
  if (direct) {
    dst = a.out.data<float>();
    ldd = n <= 1 ? cout : ld;
  } else {
    tmp.assign(static_cast<size_t>(n * cout), 0.f);
    dst = tmp.data();
    ldd = cout;
  }
  const bool beta_one = direct && a.accumulate;
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, static_cast<int>(n), static_cast<int>(cout),
              static_cast<int>(cin), 1.0f, mx.p, static_cast<int>(mx.ld), a.w.data<float>(), static_cast<int>(cout),
              beta_one ? 1.0f : 0.0f, dst, static_cast<int>(ldd));
  const float* bias = a.bias.defined() ? a.bias.data<float>() : nullptr;
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < n; ++r) {
    float* g = dst + r * ldd;
    float* o = mo.row(r);
    for (int64_t c = 0; c < cout; ++c) {
      if (beta_one) {  // GEMM already accumulated into the output
        if (bias) o[c] += bias[c];
        continue;
      }
      const float v = apply_activation(g[c] + (bias ? bias[c] : 0.f), a.activation);
      o[c] = a.accumulate ? o[c] + v : v;
    }
  }
}

void CpuBackend::gemm(const Tensor& a, bool trans_a, const Tensor& b, bool trans_b, Tensor& c, float alpha,
                      float beta) {
  AXF_CHECK(a.ndim() == 2 && b.ndim() == 2 && c.ndim() == 2, "gemm needs 2-D tensors");
  Matrix ma = as_matrix(a, "gemm a"), mb = as_matrix(b, "gemm b"), mc = as_matrix(c, "gemm c");
  const int64_t m = trans_a ? ma.cols : ma.rows, k = trans_a ? ma.rows : ma.cols;
  const int64_t kb = trans_b ? mb.cols : mb.rows, n = trans_b ? mb.rows : mb.cols;
  AXF_CHECK(k == kb && mc.rows == m && mc.cols == n, "gemm: shapes ", a.describe(), (trans_a ? "^T" : ""), " x ",
            b.describe(), (trans_b ? "^T" : ""), " -> ", c.describe());
  if (m == 0 || n == 0) return;
  cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans,
              static_cast<int>(m), static_cast<int>(n), static_cast<int>(k), alpha, ma.p, static_cast<int>(ma.ld),
              mb.p, static_cast<int>(mb.ld), beta, mc.p, static_cast<int>(mc.ld));
}

void CpuBackend::triangle_multiply(const TriangleMultiplyArgs& a) {
  AXF_CHECK(a.left.ndim() == 3 && a.left.is_contiguous() && a.right.is_contiguous() &&
                a.left.shape() == a.right.shape(),
            "triangle_multiply: left/right must be contiguous [C, L, L], got ", a.left.describe(), " and ",
            a.right.describe());
  const int64_t C = a.left.size(0), L = a.left.size(1);
  AXF_CHECK(a.left.size(2) == L, "triangle_multiply: left is not square: ", a.left.describe());
  const int64_t rows = a.out.size(0);
  AXF_CHECK(a.out.ndim() == 3 && a.out.size(1) == L && a.out.size(2) == C && a.row_begin >= 0 &&
                a.row_begin + rows <= L,
            "triangle_multiply: out ", a.out.describe(), " rows from ", a.row_begin, " for L=", L, ", C=", C);
  RowMap mo(a.out, "triangle_multiply out");
  const float* left = a.left.data<float>();
  const float* right = a.right.data<float>();
#pragma omp parallel
  {
    std::vector<float> tmp(static_cast<size_t>(rows * L));
#pragma omp for schedule(dynamic)
    for (int64_t c = 0; c < C; ++c) {
      const float* lc = left + c * L * L;
      const float* rc = right + c * L * L;
      if (a.direction == TriangleDirection::Outgoing) {
        // tmp[i,j] = sum_k left[c,i,k] right[c,j,k]
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<int>(rows), static_cast<int>(L),
                    static_cast<int>(L), 1.0f, lc + a.row_begin * L, static_cast<int>(L), rc, static_cast<int>(L),
                    0.0f, tmp.data(), static_cast<int>(L));
      } else {
        // tmp[i,j] = sum_k right[c,k,i] left[c,k,j]
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, static_cast<int>(rows), static_cast<int>(L),
                    static_cast<int>(L), 1.0f, rc + a.row_begin, static_cast<int>(L), lc, static_cast<int>(L), 0.0f,
                    tmp.data(), static_cast<int>(L));
      }
      for (int64_t i = 0; i < rows; ++i)
        for (int64_t j = 0; j < L; ++j) mo.row(i * L + j)[c] = tmp[i * L + j];
    }
  }
  AXF_CHECK(a.center_scale.defined() == a.center_offset.defined(),
            "triangle_multiply: the center LayerNorm needs both scale and offset");
  if (a.center_scale.defined()) {
    Tensor out = a.out;
    layer_norm(out, a.center_scale, a.center_offset, out, a.center_eps);
  }
}

void CpuBackend::outer_product_mean(const OuterProductMeanArgs& a) {
  AXF_CHECK(a.left.ndim() == 3 && a.right.ndim() == 3 && a.left.is_contiguous() && a.right.is_contiguous(),
            "outer_product_mean: left/right must be contiguous [S, L, c], got ", a.left.describe(), " and ",
            a.right.describe());
  const int64_t S = a.left.size(0), L = a.left.size(1), A = a.left.size(2), Bc = a.right.size(2);
  AXF_CHECK(a.right.size(0) == S && a.right.size(1) == L, "outer_product_mean: left ", a.left.describe(),
            " vs right ", a.right.describe());
  AXF_CHECK(a.w.ndim() == 2 && a.w.size(0) == A * Bc && a.w.is_contiguous(), "outer_product_mean: w ",
            a.w.describe(), " must be contiguous [", A * Bc, ", Cz]");
  const int64_t Cz = a.w.size(1), rows = a.out.size(0);
  AXF_CHECK(a.out.ndim() == 3 && a.out.size(1) == L && a.out.size(2) == Cz && a.row_begin >= 0 &&
                a.row_begin + rows <= L,
            "outer_product_mean: out ", a.out.describe());
  AXF_CHECK(a.norm.ndim() == 2 && a.norm.size(0) == rows && a.norm.size(1) == L, "outer_product_mean: norm ",
            a.norm.describe(), " for ", rows, " rows");
  AXF_CHECK(a.bias.numel() == Cz, "outer_product_mean: bias ", a.bias.describe());
  RowMap mo(a.out, "outer_product_mean out"), mn(a.norm, "outer_product_mean norm");
  const float* left = a.left.data<float>();
  const float* right = a.right.data<float>();
  const float* w = a.w.data<float>();
  const float* bias = a.bias.data<float>();
#pragma omp parallel
  {
    std::vector<float> left_i(static_cast<size_t>(S * A)), outer(static_cast<size_t>(A * L * Bc)),
        outer_jab(static_cast<size_t>(L * A * Bc)), result(static_cast<size_t>(L * Cz));
#pragma omp for schedule(dynamic)
    for (int64_t r = 0; r < rows; ++r) {
      const int64_t i = a.row_begin + r;
      for (int64_t s = 0; s < S; ++s)
        for (int64_t x = 0; x < A; ++x) left_i[s * A + x] = left[(s * L + i) * A + x];
      // outer[a, (j, b)] = sum_s left[s,i,a] right[s,j,b]
      cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, static_cast<int>(A), static_cast<int>(L * Bc),
                  static_cast<int>(S), 1.0f, left_i.data(), static_cast<int>(A), right, static_cast<int>(L * Bc), 0.0f,
                  outer.data(), static_cast<int>(L * Bc));
      for (int64_t x = 0; x < A; ++x)
        for (int64_t j = 0; j < L; ++j)
          for (int64_t y = 0; y < Bc; ++y) outer_jab[(j * A + x) * Bc + y] = outer[(x * L + j) * Bc + y];
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, static_cast<int>(L), static_cast<int>(Cz),
                  static_cast<int>(A * Bc), 1.0f, outer_jab.data(), static_cast<int>(A * Bc), w, static_cast<int>(Cz),
                  0.0f, result.data(), static_cast<int>(Cz));
      const float* norm_row = mn.row(r);
      for (int64_t j = 0; j < L; ++j) {
        float* o = mo.row(r * L + j);
        const float denom = a.eps + norm_row[j];
        for (int64_t c = 0; c < Cz; ++c) {
          const float v = (result[j * Cz + c] + bias[c]) / denom;
          o[c] = a.accumulate ? o[c] + v : v;
        }
      }
    }
  }
}

}  // namespace axf::backend::cpu
