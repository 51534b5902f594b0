// Row addressing for CPU kernels: a tensor whose last dim is dense is a list of rows; RowMap turns a flat
// row index into the element offset of that row for any strides of the leading dims (views, transposes).
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>

#include "core/error.h"
#include "core/tensor.h"

namespace axf::backend::cpu {

class RowMap {
 public:
  RowMap(const core::Tensor& t, const char* what) {
    AXF_CHECK(t.defined(), what, ": undefined tensor");
    AXF_CHECK(t.device() == core::Device::CPU, what, ": tensor ", t.describe(), " is not on the host");
    AXF_CHECK(t.dtype() == core::DType::F32, what, ": CPU backend computes in fp32, got ", t.describe());
    nd_ = t.ndim() == 0 ? 0 : t.ndim() - 1;
    cols_ = t.ndim() == 0 ? 1 : t.size(-1);
    AXF_CHECK(t.ndim() == 0 || cols_ <= 1 || t.stride(-1) == 1, what, ": last dim of ", t.describe(),
              " must be dense");
    AXF_CHECK(nd_ <= kMaxDims, what, ": too many dims");
    rows_ = 1;
    for (int i = 0; i < nd_; ++i) {
      shape_[i] = t.shape()[i];
      strides_[i] = t.strides()[i];
      rows_ *= shape_[i];
    }
    base_ = t.data<float>();
  }
  int64_t rows() const { return rows_; }
  int64_t cols() const { return cols_; }
  float* row(int64_t r) const {
    int64_t off = 0;
    for (int i = nd_ - 1; i >= 0; --i) {
      const int64_t idx = r % shape_[i];
      r /= shape_[i];
      off += idx * strides_[i];
    }
    return base_ + off;
  }

 private:
  static constexpr int kMaxDims = 8;
  float* base_ = nullptr;
  int nd_ = 0;
  int64_t rows_ = 0, cols_ = 0;
  int64_t shape_[kMaxDims] = {};
  int64_t strides_[kMaxDims] = {};
};

// Leading-dims-collapsed 2-D view for BLAS: true when rows are evenly strided.
struct Matrix {
  float* p;
  int64_t rows, cols, ld;
};
inline Matrix as_matrix(const core::Tensor& t, const char* what) {
  AXF_CHECK(t.dtype() == core::DType::F32 && t.device() == core::Device::CPU, what, ": need a host fp32 tensor, got ",
            t.describe());
  int64_t rows = 0, ld = 0;
  AXF_CHECK(t.as_rows(&rows, &ld), what, ": tensor ", t.describe(), " is not a strided matrix");
  const int64_t cols = t.ndim() == 0 ? 1 : t.size(-1);
  AXF_CHECK(rows <= 1 || ld >= cols, what, ": rows of ", t.describe(), " overlap (row stride ", ld, ")");
  return {t.data<float>(), rows, cols, rows <= 1 ? std::max<int64_t>(cols, 1) : ld};
}

}  // namespace axf::backend::cpu
