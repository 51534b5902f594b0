// Argument checks shared by the backends' attention_accumulate / attention_normalize (backend.h
// OnlineAttentionArgs): shapes, dtypes, dense last dims and device, every failure naming the tensor.
#pragma once

#include <cstdint>

#include "backend/backend.h"
#include "core/error.h"

namespace axf::backend {

struct OnlineAttentionDims {
  int64_t B = 0, H = 0, D = 0, Dv = 0;
};

namespace online_attention_detail {

inline void check_on(const Tensor& t, const char* op, const char* what, core::Device device) {
  AXF_CHECK(t.defined(), op, ": ", what, " is undefined");
  AXF_CHECK(t.device() == device, op, ": ", what, " ", t.describe(), " is not on the ",
            device == core::Device::CPU ? "host" : "GPU");
}

// fp32 or bf16 [B, H, C] with a dense last dim.
inline void check_rows3(const Tensor& t, const char* op, const char* what, core::Device device) {
  check_on(t, op, what, device);
  AXF_CHECK(t.dtype() == core::DType::F32 || t.dtype() == core::DType::BF16, op, ": ", what, " ", t.describe(),
            " must be fp32 or bf16");
  AXF_CHECK(t.ndim() == 3, op, ": ", what, " ", t.describe(), " must be [B, H, C]");
  AXF_CHECK(t.size(2) <= 1 || t.stride(2) == 1, op, ": last dim of ", what, " ", t.describe(), " must be dense");
}

// fp32 [B, H] running statistics.
inline void check_stat(const Tensor& t, const char* op, const char* what, core::Device device, int64_t B, int64_t H) {
  check_on(t, op, what, device);
  AXF_CHECK(t.dtype() == core::DType::F32 && t.ndim() == 2 && t.size(0) == B && t.size(1) == H, op, ": ", what, " ",
            t.describe(), " must be fp32 [", B, ", ", H, "]");
}

}  // namespace online_attention_detail

inline OnlineAttentionDims check_attention_accumulate(const OnlineAttentionArgs& a, core::Device device) {
  using namespace online_attention_detail;
  constexpr const char* op = "attention_accumulate";
  check_rows3(a.q, op, "q", device);
  check_rows3(a.k, op, "k", device);
  check_rows3(a.v, op, "v", device);
  check_rows3(a.acc, op, "acc", device);
  OnlineAttentionDims d{a.q.size(0), a.q.size(1), a.q.size(2), a.v.size(2)};
  AXF_CHECK(a.k.shape() == a.q.shape(), op, ": k ", a.k.describe(), " must have the shape of q ", a.q.describe());
  AXF_CHECK(a.v.size(0) == d.B && a.v.size(1) == d.H, op, ": v ", a.v.describe(), " must be [", d.B, ", ", d.H,
            ", Dv]");
  AXF_CHECK(a.acc.shape() == a.v.shape(), op, ": acc ", a.acc.describe(), " must have the shape of v ",
            a.v.describe());
  AXF_CHECK(a.k.dtype() == a.q.dtype() && a.v.dtype() == a.q.dtype(), op, ": q ", a.q.describe(), ", k ",
            a.k.describe(), " and v ", a.v.describe(), " must share one dtype");
  check_stat(a.m, op, "m", device, d.B, d.H);
  check_stat(a.l, op, "l", device, d.B, d.H);
  return d;
}

inline OnlineAttentionDims check_attention_normalize(const Tensor& acc, const Tensor& l, const Tensor& out,
                                                     core::Device device) {
  using namespace online_attention_detail;
  constexpr const char* op = "attention_normalize";
  check_rows3(acc, op, "acc", device);
  check_rows3(out, op, "out", device);
  AXF_CHECK(out.shape() == acc.shape(), op, ": out ", out.describe(), " must have the shape of acc ",
            acc.describe());
  const OnlineAttentionDims d{acc.size(0), acc.size(1), 0, acc.size(2)};
  check_stat(l, op, "l", device, d.B, d.H);
  return d;
}

}  // namespace axf::backend
