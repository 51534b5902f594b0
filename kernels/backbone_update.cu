#include "kernels/backbone_update.cuh"

#include "backend/cuda/cuda_check.h"
#include "backend/frame_math.h"

namespace axf::kernels {

namespace {

constexpr int kBlock = 128;

__global__ void __launch_bounds__(kBlock) backbone_update_kernel(float* __restrict__ affines,
                                                                 const float* __restrict__ update, int64_t L) {
  const int64_t i = static_cast<int64_t>(blockIdx.x) * kBlock + threadIdx.x;
  if (i >= L) return;
  float a[7], u[6];
  for (int k = 0; k < 7; ++k) a[k] = affines[i * 7 + k];
  for (int k = 0; k < 6; ++k) u[k] = update[i * 6 + k];
  backend::frame::pre_compose(a, u, a);
  for (int k = 0; k < 7; ++k) affines[i * 7 + k] = a[k];
}

}  // namespace

void launch_backbone_update(const BackboneUpdateParams& p, cudaStream_t stream) {
  if (p.L == 0) return;
  const int64_t blocks = (p.L + kBlock - 1) / kBlock;
  AXF_CHECK(blocks <= 0x7fffffffll, "backbone_update: ", p.L, " residues exceed the grid limit");
  backbone_update_kernel<<<static_cast<unsigned>(blocks), kBlock, 0, stream>>>(p.affines, p.update, p.L);
  AXF_CUDA_CHECK_LAUNCH("backbone_update_kernel");
}

}  // namespace axf::kernels
