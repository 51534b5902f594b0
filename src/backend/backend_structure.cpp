// Structure-module operations at the Backend level: the shared argument checks, and the host fallback of the two
// operations for a backend that does not implement them (the CPU and CUDA backends do; the benchmark's counting
// wrapper forwards): inputs downloaded, the CPU reference run, the result uploaded into place.
#include <string>
#include <utility>

#include "backend/structure_ops.h"
#include "core/error.h"

namespace axf::backend {

namespace {

void check_tensor(const Tensor& t, const char* what, core::Device device) {
  AXF_CHECK(t.defined(), "invariant point attention: ", what, " is undefined");
  AXF_CHECK(t.dtype() == DType::F32, "invariant point attention: ", what, " ", t.describe(), " must be fp32");
  AXF_CHECK(t.device() == device, "invariant point attention: ", what, " ", t.describe(), " is not on the ",
            device == core::Device::CPU ? "host" : "GPU");
}

// A contiguous [L, ...] tensor of L * per_row elements.
void check_rows(const Tensor& t, const char* what, core::Device device, int64_t L, int64_t per_row) {
  check_tensor(t, what, device);
  AXF_CHECK(t.ndim() >= 1 && t.size(0) == L && t.numel() == L * per_row && t.is_contiguous(),
            "invariant point attention: ", what, " ", t.describe(), " must be contiguous [", L, ", ", per_row, "]");
}

// [L, L, C] with a dense last dim (any strides of the first two); fp32, or bf16 where allow_bf16.
void check_square(const Tensor& t, const char* what, core::Device device, int64_t L, int64_t C,
                  bool allow_bf16 = false) {
  if (allow_bf16 && t.defined() && t.dtype() == DType::BF16) {
    AXF_CHECK(t.device() == device, "invariant point attention: ", what, " ", t.describe(), " is not on the ",
              device == core::Device::CPU ? "host" : "GPU");
  } else {
    check_tensor(t, what, device);
  }
  AXF_CHECK(t.ndim() == 3 && t.size(0) == L && t.size(1) == L && (C < 0 || t.size(2) == C),
            "invariant point attention: ", what, " ", t.describe(), " must be [", L, ", ", L, ", ",
            C < 0 ? std::string("C") : std::to_string(C), "]");
  AXF_CHECK(t.size(2) <= 1 || t.stride(2) == 1, "invariant point attention: last dim of ", what, " ", t.describe(),
            " must be dense");
}

}  // namespace

IpaDims check_ipa_args(const IpaArgs& a, core::Device device) {
  IpaDims d;
  d.H = a.num_head;
  d.sqk = a.num_scalar_qk;
  d.sv = a.num_scalar_v;
  d.pqk = a.num_point_qk;
  d.pv = a.num_point_v;
  AXF_CHECK(d.H > 0 && d.sqk >= 0 && d.sv >= 0 && d.pqk >= 0 && d.pv >= 0,
            "invariant point attention: bad head sizes H=", d.H, ", sqk=", d.sqk, ", sv=", d.sv, ", pqk=", d.pqk,
            ", pv=", d.pv);
  check_tensor(a.affines, "affines", device);
  AXF_CHECK(a.affines.ndim() == 2 && a.affines.size(1) == 7 && a.affines.is_contiguous(),
            "invariant point attention: affines ", a.affines.describe(), " must be contiguous [L, 7]");
  d.L = a.affines.size(0);
  const int64_t L = d.L;
  check_rows(a.q_scalar, "q_scalar", device, L, d.H * d.sqk);
  check_rows(a.kv_scalar, "kv_scalar", device, L, d.H * (d.sqk + d.sv));
  check_rows(a.q_point, "q_point", device, L, 3 * d.H * d.pqk);
  check_rows(a.kv_point, "kv_point", device, L, 3 * d.H * (d.pqk + d.pv));
  check_rows(a.mask, "mask", device, L, 1);
  check_tensor(a.point_weights, "point_weights", device);
  AXF_CHECK(a.point_weights.numel() == d.H && a.point_weights.is_contiguous(), "invariant point attention: ",
            "point_weights ", a.point_weights.describe(), " must be ", d.H, " contiguous values");
  check_square(a.bias_2d, "bias_2d", device, L, d.H);
  check_square(a.pair, "pair", device, L, -1, true);
  d.cz = a.pair.size(2);
  d.width = d.H * (d.sv + 4 * d.pv + d.cz);
  check_tensor(a.out, "out", device);
  AXF_CHECK(a.out.ndim() == 2 && a.out.size(0) == L && a.out.size(1) == d.width, "invariant point attention: out ",
            a.out.describe(), " must be [", L, ", ", d.width, "]");
  AXF_CHECK(d.width <= 1 || a.out.stride(1) == 1, "invariant point attention: last dim of out ", a.out.describe(),
            " must be dense");
  AXF_CHECK(L <= 1 || a.out.stride(0) >= d.width, "invariant point attention: rows of out ", a.out.describe(),
            " overlap");
  return d;
}

int64_t check_backbone_update_args(const Tensor& affines, const Tensor& update, core::Device device) {
  for (const auto& [t, what] : {std::pair{&affines, "affines"}, std::pair{&update, "update"}}) {
    AXF_CHECK(t->defined(), "backbone_update: ", what, " is undefined");
    AXF_CHECK(t->dtype() == DType::F32 && t->device() == device && t->is_contiguous(), "backbone_update: ", what,
              " ", t->describe(), " must be a contiguous fp32 tensor on the ",
              device == core::Device::CPU ? "host" : "GPU");
  }
  AXF_CHECK(affines.ndim() == 2 && affines.size(1) == 7, "backbone_update: affines ", affines.describe(),
            " must be [L, 7]");
  AXF_CHECK(update.ndim() == 2 && update.size(0) == affines.size(0) && update.size(1) == 6,
            "backbone_update: update ", update.describe(), " must be [", affines.size(0), ", 6]");
  return affines.size(0);
}

void Backend::invariant_point_attention(const IpaArgs& a) {
  check_ipa_args(a, device());
  auto cpu = make_cpu_backend();
  IpaArgs h = a;
  for (Tensor* t : {&h.q_scalar, &h.kv_scalar, &h.q_point, &h.kv_point, &h.affines, &h.bias_2d, &h.pair, &h.mask,
                    &h.point_weights, &h.out})
    *t = download(*t);
  cpu->invariant_point_attention(h);
  Tensor dst = a.out;
  copy(upload(h.out), dst);
}

void Backend::backbone_update(Tensor& affines, const Tensor& update) {
  check_backbone_update_args(affines, update, device());
  auto cpu = make_cpu_backend();
  Tensor h = download(affines);
  cpu->backbone_update(h, download(update));
  copy(upload(h), affines);
}

}  // namespace axf::backend
