// Backbone update (Suppl. Alg. 23; AlphaFold QuatAffine.pre_compose) on [L, 7] frame rows in place: one thread
// per residue, the float arithmetic of src/backend/frame_math.h (shared with the CPU backend).
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

namespace axf::kernels {

struct BackboneUpdateParams {
  float* affines = nullptr;       // [L, 7] contiguous (w, x, y, z, tx, ty, tz)
  const float* update = nullptr;  // [L, 6] contiguous (b, c, d, tx, ty, tz)
  int64_t L = 0;
};

void launch_backbone_update(const BackboneUpdateParams& p, cudaStream_t stream);

}  // namespace axf::kernels
