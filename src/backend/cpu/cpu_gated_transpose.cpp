// CPU backend: triangle multiplication's gated projections, channel-major (backend.h GatedTransposeArgs).
#include <cmath>

#include "backend/cpu/cpu_backend.h"
#include "backend/cpu/cpu_rows.h"
#include "backend/gated_transpose_checks.h"

namespace axf::backend::cpu {

void CpuBackend::gated_transpose(const GatedTransposeArgs& a) {
  const GatedTransposeDims d = check_gated_transpose(a);
  RowMap mp(a.proj, "gated_transpose proj"), mg(a.gate, "gated_transpose gate");
  AXF_CHECK(a.out.dtype() == core::DType::F32, "gated_transpose: out ", a.out.describe(), " must be fp32 here");
  const Tensor mask = a.mask.contiguous();
  const float* m = mask.data<float>();
  float* out = a.out.data<float>();
#pragma omp parallel for schedule(static)
  for (int64_t n = 0; n < d.rows * d.L; ++n) {
    const float* p = mp.row(n);
    const float* g = mg.row(n);
    const int64_t r = n / d.L, j = n - r * d.L;
    for (int64_t c = 0; c < d.C; ++c)
      out[(c * d.L + a.row_begin + r) * d.L + j] = (p[c] * m[n]) * (1.0f / (1.0f + std::exp(-g[c])));
  }
}

}  // namespace axf::backend::cpu
