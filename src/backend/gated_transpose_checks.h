// Shape checks shared by the backends' gated_transpose (backend.h GatedTransposeArgs): every failure names the
// tensor. Returns rows, L and C.
#pragma once

#include "backend/backend.h"
#include "core/error.h"

namespace axf::backend {

struct GatedTransposeDims {
  int64_t rows = 0, L = 0, C = 0;
};

inline GatedTransposeDims check_gated_transpose(const GatedTransposeArgs& a) {
  for (const auto* t : {&a.proj, &a.gate, &a.mask, &a.out})
    AXF_CHECK(t->defined(), "gated_transpose: undefined tensor");
  AXF_CHECK(a.proj.ndim() == 3 && a.gate.shape() == a.proj.shape(), "gated_transpose: proj ", a.proj.describe(),
            " and gate ", a.gate.describe(), " must be equal [rows, L, C]");
  const int64_t rows = a.proj.size(0), L = a.proj.size(1), C = a.proj.size(2);
  AXF_CHECK(a.mask.ndim() == 2 && a.mask.size(0) == rows && a.mask.size(1) == L, "gated_transpose: mask ",
            a.mask.describe(), " for ", rows, " rows of ", L);
  AXF_CHECK(a.mask.dtype() == core::DType::F32, "gated_transpose: mask ", a.mask.describe(), " must be fp32");
  AXF_CHECK(a.out.ndim() == 3 && a.out.size(0) == C && a.out.size(1) == L && a.out.size(2) == L &&
                a.out.is_contiguous(),
            "gated_transpose: out ", a.out.describe(), " must be contiguous [", C, ", ", L, ", ", L, "]");
  AXF_CHECK(a.row_begin >= 0 && a.row_begin + rows <= L, "gated_transpose: rows [", a.row_begin, ", ",
            a.row_begin + rows, ") of ", L);
  for (const auto* t : {&a.proj, &a.gate})
    AXF_CHECK(C <= 1 || t->stride(2) == 1, "gated_transpose: last dim of ", t->describe(), " must be dense");
  return {rows, L, C};
}

}  // namespace axf::backend
