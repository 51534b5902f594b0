// Element types of tensors and their conversions (bf16/fp16 stored as raw 16-bit words; compute is fp32).
#pragma once

#include <cstdint>
#include <string>

#include "core/half_precision.h"

namespace axf::core {

enum class DType : uint8_t { F32, BF16, F16, I32 };

size_t dtype_size(DType t);
std::string dtype_name(DType t);     // "fp32", "bf16", "fp16", "int32"
DType parse_dtype(const std::string& name);  // accepts the names above; throws otherwise

// Element conversions (float_to_bf16, bf16_to_float, float_to_fp16, fp16_to_float) live in half_precision.h,
// shared with the CUDA kernels.

}  // namespace axf::core
