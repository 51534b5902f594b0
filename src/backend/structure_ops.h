// Argument checks shared by every backend's structure-module operations (invariant_point_attention,
// backbone_update): shapes, dtypes (fp32, except the IPA pair: fp32 or bf16), layouts and device, each failure
// naming the tensor.
#pragma once

#include <cstdint>

#include "backend/backend.h"

namespace axf::backend {

struct IpaDims {
  int64_t L = 0, H = 0, sqk = 0, sv = 0, pqk = 0, pv = 0, cz = 0;
  int64_t width = 0;  // H * (sv + 4 * pv + cz): the out row
};

// Throws (naming the tensor) unless `a` is a valid invariant_point_attention call on `device`.
IpaDims check_ipa_args(const IpaArgs& a, core::Device device);
// affines [L, 7] and update [L, 6], contiguous fp32 on `device`; returns L.
int64_t check_backbone_update_args(const Tensor& affines, const Tensor& update, core::Device device);

}  // namespace axf::backend
