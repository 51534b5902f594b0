#include "backend/backend.h"

#include <cstring>

#include "core/error.h"

namespace axf::backend {

void Backend::download_to(const Tensor& t, Tensor& host_dst) {
  check_download_target(t, host_dst);
  const Tensor h = download(t);
  std::memcpy(host_dst.raw_data(), h.raw_data(), static_cast<size_t>(h.numel()) * core::dtype_size(h.dtype()));
}

void check_download_target(const Tensor& t, const Tensor& host_dst) {
  AXF_CHECK(host_dst.defined() && host_dst.device() == core::Device::CPU && host_dst.is_contiguous() &&
                host_dst.shape() == t.shape() && host_dst.dtype() == t.dtype(),
            "download_to: ", t.describe(), " into ", host_dst.describe(),
            " (needs a contiguous host tensor of the same shape and dtype)");
}

void Backend::throw_no_tf32() const { AXF_FAIL("the ", name(), " backend has no TF32 mode (use --precision fp32)"); }

}  // namespace axf::backend
