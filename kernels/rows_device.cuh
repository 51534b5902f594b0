// Device-side helpers for the row-wise kernels (included by .cu files only).
#pragma once

#include <cstdint>

#include "kernels/rows.cuh"

namespace axf::kernels {

// Element offset of row r. Rows and dims of a layout fit 32 bits in practice; 32-bit division is several times
// cheaper than 64-bit on the GPU, so it is used whenever the host said so.
__device__ __forceinline__ int64_t row_offset(const RowLayout& m, int64_t r) {
  int64_t off = 0;
  if (m.rows <= 0xffffffffll) {
    uint32_t rr = static_cast<uint32_t>(r);
    for (int i = m.nd - 1; i >= 0; --i) {
      const uint32_t n = static_cast<uint32_t>(m.shape[i]);
      const uint32_t q = rr / n;
      off += static_cast<int64_t>(rr - q * n) * m.stride[i];
      rr = q;
    }
  } else {
    for (int i = m.nd - 1; i >= 0; --i) {
      const int64_t q = r / m.shape[i];
      off += (r - q * m.shape[i]) * m.stride[i];
      r = q;
    }
  }
  return off;
}

// q = n / d and the remainder, in 32 bits when both fit (several times cheaper than a 64-bit division).
__device__ __forceinline__ int64_t div_rem(int64_t n, int64_t d, int64_t* rem) {
  if (n <= 0xffffffffll && d <= 0xffffffffll) {
    const uint32_t q = static_cast<uint32_t>(n) / static_cast<uint32_t>(d);
    *rem = static_cast<int64_t>(static_cast<uint32_t>(n) - q * static_cast<uint32_t>(d));
    return q;
  }
  const int64_t q = n / d;
  *rem = n - q * d;
  return q;
}

__device__ __forceinline__ float sigmoidf_ref(float x) { return 1.0f / (1.0f + expf(-x)); }

// Sum over the `width` lanes of a row group (width a power of two <= 32, groups aligned within the warp).
__device__ __forceinline__ float group_sum(float v, int width) {
  for (int o = width / 2; o > 0; o /= 2) v += __shfl_xor_sync(0xffffffffu, v, o, width);
  return v;
}
__device__ __forceinline__ float group_max(float v, int width) {
  for (int o = width / 2; o > 0; o /= 2) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o, width));
  return v;
}

// Grid-stride distribution of `items` over row groups of `group` threads in blocks of kRowBlock threads.
constexpr int kRowBlock = 256;

// Item `base + sub` belongs to this thread's group. `base` is the same for every lane of a warp, so loops over
// it run the same number of times on the whole warp and group shuffles stay convergent; a group whose item is
// past the end idles through the last iteration.
struct GroupIndex {
  int64_t base, step;
  int sub;   // group index within the warp
  int lane;  // lane within the group
};
__device__ __forceinline__ GroupIndex group_index(int group) {
  const int groups_per_warp = 32 / group;
  const int warp = static_cast<int>(threadIdx.x) / 32, lane32 = static_cast<int>(threadIdx.x) % 32;
  GroupIndex g;
  g.sub = lane32 / group;
  g.lane = lane32 % group;
  g.base = static_cast<int64_t>(blockIdx.x) * (kRowBlock / group) + static_cast<int64_t>(warp) * groups_per_warp;
  g.step = static_cast<int64_t>(gridDim.x) * (kRowBlock / group);
  return g;
}

// Blocks for `items` row-group items: enough to fill the GPU, capped (the kernels loop).
inline unsigned row_grid(int64_t items, int group) {
  const int64_t per_block = kRowBlock / group;
  int64_t blocks = (items + per_block - 1) / per_block;
  if (blocks < 1) blocks = 1;
  if (blocks > (1 << 20)) blocks = 1 << 20;
  return static_cast<unsigned>(blocks);
}

// f(r, c) for every packet of `rows` rows of `cols` elements (cols a multiple of kPacket): row r, first column c;
// one packet per thread and grid-stride step over blocks of kRowBlock threads (launch with row_grid(packets, 1)).
template <class F>
__device__ __forceinline__ void for_each_packet(int64_t rows, int64_t cols, F&& f) {
  const int64_t per_row = cols / kPacket, packets = rows * per_row;
  for (int64_t x = static_cast<int64_t>(blockIdx.x) * kRowBlock + threadIdx.x; x < packets;
       x += static_cast<int64_t>(gridDim.x) * kRowBlock) {
    int64_t c = 0;
    const int64_t r = div_rem(x, per_row, &c);
    f(r, c * kPacket);
  }
}

}  // namespace axf::kernels
