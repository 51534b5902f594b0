// Row layout shared by the row-wise kernels: a tensor whose last dim is dense is a list of rows of `cols`
// elements; row r lives at element offset row_offset(r), for any strides of the leading dims (slices,
// transposes, broadcast views with stride 0). The host side fills it from a Tensor (backend/cuda/cuda_rows.h).
#pragma once

#include <cstdint>

namespace axf::kernels {

constexpr int kMaxRowDims = 8;

struct RowLayout {
  int nd = 0;             // leading dims (rank - 1); 0 for a single row
  int64_t rows = 1;       // product of the leading dims
  int64_t cols = 1;       // the dense last dim
  int64_t shape[kMaxRowDims] = {};
  int64_t stride[kMaxRowDims] = {};  // in elements
};

// Threads per row group for the row-wise kernels: a warp, or fewer lanes for very short rows so a warp
// covers several rows at once.
inline int row_group_size(int64_t cols) {
  int g = 1;
  while (g < 32 && g < cols) g *= 2;
  return g;
}

}  // namespace axf::kernels
