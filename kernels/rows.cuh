// Row layout shared by the row-wise kernels: a tensor whose last dim is dense is a list of rows of `cols`
// elements; row r lives at element offset row_offset(r), for any strides of the leading dims (slices,
// transposes, broadcast views with stride 0). The host side fills it from a Tensor (backend/cuda/cuda_rows.h).
#pragma once

#include <cstddef>
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

// Packets of 8 consecutive elements: the kernels' vector paths (one 16-byte access for bf16, two for fp32).
constexpr int kPacket = 8;

inline bool aligned(const void* p, size_t bytes) { return reinterpret_cast<uintptr_t>(p) % bytes == 0; }

// True when every leading stride (of a dim longer than 1) is a multiple of kPacket, so that rows starting at a
// 16-byte aligned base stay 16-byte aligned.
inline bool leading_strides_fit_packets(int nd, const int64_t* shape, const int64_t* stride) {
  for (int i = 0; i < nd; ++i)
    if (shape[i] > 1 && stride[i] % kPacket != 0) return false;
  return true;
}
// True when every row of `m` starting at `base` can be read in 16-byte packets of kPacket elements: the row length
// is a multiple of kPacket, the base is 16-byte aligned and the leading strides fit (above).
inline bool packets_fit(const RowLayout& m, const void* base) {
  return m.cols % kPacket == 0 && aligned(base, 16) && leading_strides_fit_packets(m.nd, m.shape, m.stride);
}

// Threads per row group for the row-wise kernels: a warp, or fewer lanes for very short rows so a warp
// covers several rows at once.
inline int row_group_size(int64_t cols) {
  int g = 1;
  while (g < 32 && g < cols) g *= 2;
  return g;
}

}  // namespace axf::kernels
