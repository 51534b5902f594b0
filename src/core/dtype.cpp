#include "core/dtype.h"

#include "core/error.h"

namespace axf::core {

size_t dtype_size(DType t) {
  switch (t) {
    case DType::F32: return 4;
    case DType::BF16: return 2;
    case DType::F16: return 2;
    case DType::I32: return 4;
  }
  AXF_FAIL("unknown dtype");
}

std::string dtype_name(DType t) {
  switch (t) {
    case DType::F32: return "fp32";
    case DType::BF16: return "bf16";
    case DType::F16: return "fp16";
    case DType::I32: return "int32";
  }
  AXF_FAIL("unknown dtype");
}

DType parse_dtype(const std::string& name) {
  if (name == "fp32" || name == "float32") return DType::F32;
  if (name == "bf16" || name == "bfloat16") return DType::BF16;
  if (name == "fp16" || name == "float16") return DType::F16;
  if (name == "int32") return DType::I32;
  AXF_FAIL("unknown precision '", name, "' (expected fp32, bf16, fp16 or int32)");
}

}  // namespace axf::core
