// Element types of tensors and their conversions (bf16/fp16 stored as raw 16-bit words; compute is fp32).
#pragma once

#include <cstdint>
#include <cstring>
#include <string>

namespace axf::core {

enum class DType : uint8_t { F32, BF16, F16, I32 };

size_t dtype_size(DType t);
std::string dtype_name(DType t);     // "fp32", "bf16", "fp16", "int32"
DType parse_dtype(const std::string& name);  // accepts the names above; throws otherwise

// bf16: the upper 16 bits of an fp32, rounded to nearest even; NaN stays NaN.
inline uint16_t float_to_bf16(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((u >> 16) | 0x40u);
  u += 0x7fffu + ((u >> 16) & 1u);
  return static_cast<uint16_t>(u >> 16);
}
inline float bf16_to_float(uint16_t h) {
  uint32_t u = static_cast<uint32_t>(h) << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

// IEEE binary16, round to nearest even, with subnormals, infinities and NaN.
uint16_t float_to_fp16(float f);
float fp16_to_float(uint16_t h);

}  // namespace axf::core
