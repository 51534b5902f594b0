// CPU backend: memory, element-wise operations and LayerNorm.
#include "backend/cpu/cpu_backend.h"

#include <omp.h>

#include <algorithm>
#include <cmath>

#include "backend/cpu/cpu_rows.h"
#include "core/error.h"

namespace axf::backend {

std::unique_ptr<Backend> make_cpu_backend(int num_threads) {
  return std::make_unique<cpu::CpuBackend>(num_threads);
}

namespace cpu {

CpuBackend::CpuBackend(int num_threads) {
  if (num_threads > 0) omp_set_num_threads(num_threads);
}

Tensor CpuBackend::empty(const Shape& shape, DType dtype) { return Tensor::empty(shape, dtype); }

Tensor CpuBackend::upload(const Tensor& host) {
  AXF_CHECK(host.device() == core::Device::CPU, "upload of non-host tensor ", host.describe());
  return host.clone();
}

Tensor CpuBackend::download(const Tensor& t) { return t.clone(); }

void CpuBackend::copy(const Tensor& src, Tensor& dst) { core::copy_host(src, dst); }

void CpuBackend::fill(Tensor& t, float value) {
  RowMap m(t, "fill");
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < m.rows(); ++r) {
    float* p = m.row(r);
    for (int64_t c = 0; c < m.cols(); ++c) p[c] = value;
  }
}

void CpuBackend::layer_norm(const Tensor& x, const Tensor& scale, const Tensor& offset, Tensor& out, float eps) {
  RowMap mx(x, "layer_norm input"), mo(out, "layer_norm output");
  AXF_CHECK(x.shape() == out.shape(), "layer_norm: input ", x.describe(), " and output ", out.describe(), " differ");
  const int64_t c = mx.cols();
  AXF_CHECK(scale.numel() == c && offset.numel() == c, "layer_norm: scale/offset of size ", scale.numel(), "/",
            offset.numel(), " for ", c, " channels");
  const float* g = scale.data<float>();
  const float* b = offset.data<float>();
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < mx.rows(); ++r) {
    const float* xr = mx.row(r);
    float* orow = mo.row(r);
    double mean = 0;
    for (int64_t i = 0; i < c; ++i) mean += xr[i];
    mean /= static_cast<double>(c);
    double var = 0;
    for (int64_t i = 0; i < c; ++i) {
      const double d = xr[i] - mean;
      var += d * d;
    }
    var /= static_cast<double>(c);
    const double inv = 1.0 / std::sqrt(var + eps);
    for (int64_t i = 0; i < c; ++i) orow[i] = static_cast<float>((xr[i] - mean) * inv) * g[i] + b[i];
  }
}

namespace {
template <typename Fn>
void binary_rows(Tensor& dst, const Tensor& src, const char* what, Fn fn) {
  AXF_CHECK(dst.shape() == src.shape(), what, ": shapes ", dst.describe(), " and ", src.describe(), " differ");
  RowMap md(dst, what), ms(src, what);
  const int64_t c = md.cols();
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < md.rows(); ++r) {
    float* d = md.row(r);
    const float* s = ms.row(r);
    for (int64_t i = 0; i < c; ++i) d[i] = fn(d[i], s[i]);
  }
}
}  // namespace

void CpuBackend::add(Tensor& dst, const Tensor& src) {
  binary_rows(dst, src, "add", [](float a, float b) { return a + b; });
}

void CpuBackend::sigmoid_mul(Tensor& dst, const Tensor& gate_logits) {
  binary_rows(dst, gate_logits, "sigmoid_mul", [](float a, float g) { return a * (1.0f / (1.0f + std::exp(-g))); });
}

void CpuBackend::gated_add(Tensor& dst, const Tensor& src, const Tensor& gate_logits) {
  AXF_CHECK(dst.shape() == src.shape() && dst.shape() == gate_logits.shape(), "gated_add: shapes ", dst.describe(),
            ", ", src.describe(), ", ", gate_logits.describe(), " differ");
  RowMap md(dst, "gated_add"), ms(src, "gated_add source"), mg(gate_logits, "gated_add gate");
  const int64_t c = md.cols();
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < md.rows(); ++r) {
    float* d = md.row(r);
    const float* s = ms.row(r);
    const float* g = mg.row(r);
    for (int64_t i = 0; i < c; ++i) d[i] += s[i] * (1.0f / (1.0f + std::exp(-g[i])));
  }
}

void CpuBackend::mul_rows(Tensor& x, const Tensor& row_scale) {
  RowMap mx(x, "mul_rows");
  AXF_CHECK(row_scale.numel() == mx.rows() && x.ndim() == row_scale.ndim() + 1, "mul_rows: scale ",
            row_scale.describe(), " does not match rows of ", x.describe());
  for (int i = 0; i < row_scale.ndim(); ++i)
    AXF_CHECK(row_scale.size(i) == x.size(i), "mul_rows: scale ", row_scale.describe(), " vs ", x.describe());
  const Tensor s = row_scale.contiguous();
  const float* sp = s.data<float>();
  const int64_t c = mx.cols();
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < mx.rows(); ++r) {
    float* p = mx.row(r);
    for (int64_t i = 0; i < c; ++i) p[i] *= sp[r];
  }
}

void CpuBackend::relu(Tensor& x) {
  RowMap m(x, "relu");
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < m.rows(); ++r) {
    float* p = m.row(r);
    for (int64_t i = 0; i < m.cols(); ++i) p[i] = p[i] > 0.f ? p[i] : 0.f;
  }
}

void CpuBackend::embedding(const Tensor& index, const Tensor& table, Tensor& out, bool accumulate) {
  AXF_CHECK(index.dtype() == DType::I32, "embedding: index must be int32, got ", index.describe());
  RowMap mo(out, "embedding output"), mt(table, "embedding table");
  AXF_CHECK(index.numel() == mo.rows() && mt.cols() == mo.cols(), "embedding: index ", index.describe(), ", table ",
            table.describe(), ", out ", out.describe());
  const Tensor idx = index.contiguous();
  const int32_t* ip = idx.data<int32_t>();
  const int64_t c = mo.cols();
  const int64_t vocab = mt.rows();
  for (int64_t r = 0; r < mo.rows(); ++r)
    AXF_CHECK(ip[r] < vocab, "embedding: index ", ip[r], " out of range for table of ", vocab, " rows");
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < mo.rows(); ++r) {
    float* o = mo.row(r);
    if (ip[r] < 0) {
      if (!accumulate)
        for (int64_t i = 0; i < c; ++i) o[i] = 0.f;
      continue;
    }
    const float* t = mt.row(ip[r]);
    if (accumulate) {
      for (int64_t i = 0; i < c; ++i) o[i] += t[i];
    } else {
      for (int64_t i = 0; i < c; ++i) o[i] = t[i];
    }
  }
}

void CpuBackend::masked_mean(const Tensor& x, const Tensor& mask, Tensor& out, float eps) {
  AXF_CHECK(x.ndim() == 3 && mask.ndim() == 2 && out.ndim() == 2, "masked_mean: x [B,K,C], mask [B,K], out [B,C]");
  const int64_t B = x.size(0), K = x.size(1), C = x.size(2);
  AXF_CHECK(mask.size(0) == B && mask.size(1) == K && out.size(0) == B && out.size(1) == C, "masked_mean: x ",
            x.describe(), ", mask ", mask.describe(), ", out ", out.describe());
  RowMap mx(x, "masked_mean x"), mo(out, "masked_mean out");
  const Tensor m = mask.contiguous();
  const float* mp = m.data<float>();
#pragma omp parallel for schedule(static)
  for (int64_t b = 0; b < B; ++b) {
    std::vector<double> acc(C, 0.0);
    double msum = 0;
    for (int64_t k = 0; k < K; ++k) {
      const double w = mp[b * K + k];
      msum += w;
      const float* xr = mx.row(b * K + k);
      for (int64_t c = 0; c < C; ++c) acc[c] += w * xr[c];
    }
    float* o = mo.row(b);
    for (int64_t c = 0; c < C; ++c) o[c] = static_cast<float>(acc[c] / (msum + eps));
  }
}

void CpuBackend::softmax_expectations(const Tensor& logits, const Tensor& values, Tensor& out) {
  const int64_t V = check_softmax_expectations(logits, values, out);
  RowMap ml(logits, "softmax_expectations logits"), mo(out, "softmax_expectations out");
  const int64_t bins = ml.cols();
  const float* vals = values.data<float>();
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < ml.rows(); ++r) {
    const float* x = ml.row(r);
    double m = x[0];
    for (int64_t b = 1; b < bins; ++b) m = std::max(m, static_cast<double>(x[b]));
    double z = 0, acc[kMaxSoftmaxExpectations] = {};
    for (int64_t b = 0; b < bins; ++b) {
      const double e = std::exp(static_cast<double>(x[b]) - m);
      z += e;
      for (int64_t v = 0; v < V; ++v) acc[v] += e * vals[v * bins + b];
    }
    float* o = mo.row(r);
    for (int64_t v = 0; v < V; ++v) o[v] = static_cast<float>(acc[v] / z);
  }
}

}  // namespace cpu
}  // namespace axf::backend
