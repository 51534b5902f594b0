#include "runtime/precision.h"

#include "core/error.h"

namespace axf::runtime {

Precision parse_precision(const std::string& text) {
  if (text == "fp32") return Precision::Fp32;
  if (text == "tf32") return Precision::Tf32;
  if (text == "bf16") return Precision::Bf16;
  AXF_FAIL("--precision ", text, ": expected fp32, tf32 or bf16");
}

std::string precision_name(Precision p) {
  switch (p) {
    case Precision::Fp32: return "fp32";
    case Precision::Tf32: return "tf32";
    case Precision::Bf16: return "bf16";
  }
  return "?";
}

void apply_precision(Precision p, ExecutionContext& ctx) {
  backend::Backend& be = ctx.backend();
  if (p == Precision::Bf16)
    AXF_CHECK(be.supports_bf16(), "--precision bf16: the ", be.name(),
              " backend computes in fp32 only (use --device cuda for bf16)");
  be.set_allow_tf32(p == Precision::Tf32);
  ctx.set_dtype(p == Precision::Bf16 ? core::DType::BF16 : core::DType::F32);
}

}  // namespace axf::runtime
