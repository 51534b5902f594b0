#include "kernels/masked_mean.cuh"

#include "backend/cuda/cuda_check.h"
#include "kernels/elem_io.cuh"

namespace axf::kernels {

namespace {

constexpr int kTileCols = 32;
constexpr int kKeySplit = 8;

template <class TX, class TO>
__global__ void __launch_bounds__(kTileCols * kKeySplit) masked_mean_kernel(const MaskedMeanParams p) {
  __shared__ float acc_s[kKeySplit][kTileCols];
  __shared__ float msum_s[kKeySplit];
  const int64_t b = blockIdx.x;
  const int tx = threadIdx.x, ty = threadIdx.y;
  const int64_t c = static_cast<int64_t>(blockIdx.y) * kTileCols + tx;
  const bool valid = c < p.C;
  const TX* xb = static_cast<const TX*>(p.x) + b * p.x_sb;
  const float* mb = p.mask + b * p.mask_sb;
  float acc = 0.f, msum = 0.f;
  for (int64_t k = ty; k < p.K; k += kKeySplit) {
    const float w = mb[k * p.mask_sk];
    msum += w;
    if (valid) acc += w * ld(xb + k * p.x_sk + c);
  }
  acc_s[ty][tx] = acc;
  if (tx == 0) msum_s[ty] = msum;
  __syncthreads();
  if (ty == 0) {
    float a = 0.f, m = 0.f;
    for (int i = 0; i < kKeySplit; ++i) {
      a += acc_s[i][tx];
      m += msum_s[i];
    }
    if (valid) st(static_cast<TO*>(p.out) + b * p.out_sb + c, a / (m + p.eps));
  }
}

}  // namespace

void launch_masked_mean(const MaskedMeanParams& p, cudaStream_t stream) {
  if (p.B == 0 || p.C == 0) return;
  AXF_CHECK(p.B <= 0x7fffffffll, "masked_mean: batch ", p.B, " too large for one launch");
  const int64_t tiles = (p.C + kTileCols - 1) / kTileCols;
  AXF_CHECK(tiles <= 65535, "masked_mean: ", p.C, " channels exceed the grid limit");
  const dim3 grid(static_cast<unsigned>(p.B), static_cast<unsigned>(tiles));
  dispatch_float_types(p.x_type, p.out_type, "masked_mean", [&](auto tx, auto to) {
    masked_mean_kernel<decltype(tx), decltype(to)><<<grid, dim3(kTileCols, kKeySplit), 0, stream>>>(p);
  });
  AXF_CUDA_CHECK_LAUNCH("masked_mean_kernel");
}

}  // namespace axf::kernels
