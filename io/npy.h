// NpyArray, a neutral in-memory n-d array (little-endian, C order), and the .npy file format
// (reads header versions 1.0, 2.0 and 3.0; writes 1.0 as numpy does).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "core/error.h"

namespace axf::io {

enum class NpyType { F16, F32, F64, I8, I16, I32, I64, U8, Bool };

std::string to_string(NpyType type);  // "float16", "float32", ..., "uint8", "bool"
size_t item_size(NpyType type);

// The NpyType that stores C++ type T (float, double, int8_t..int64_t, uint8_t, bool). F16 has no C++ type.
template <typename T>
constexpr NpyType npy_type_of() {
  if constexpr (std::is_same_v<T, float>) return NpyType::F32;
  else if constexpr (std::is_same_v<T, double>) return NpyType::F64;
  else if constexpr (std::is_same_v<T, int8_t>) return NpyType::I8;
  else if constexpr (std::is_same_v<T, int16_t>) return NpyType::I16;
  else if constexpr (std::is_same_v<T, int32_t>) return NpyType::I32;
  else if constexpr (std::is_same_v<T, int64_t>) return NpyType::I64;
  else if constexpr (std::is_same_v<T, uint8_t>) return NpyType::U8;
  else if constexpr (std::is_same_v<T, bool>) return NpyType::Bool;
  else static_assert(sizeof(T) == 0, "no NpyType for this C++ type");
}

struct NpyArray {
  NpyType type = NpyType::F32;
  std::vector<int64_t> shape;   // empty: a scalar
  std::vector<std::byte> data;  // numel() * item_size() bytes, little-endian, C order

  int64_t numel() const;
  size_t item_size() const { return io::item_size(type); }

  // A zero-filled array of the given type and shape.
  static NpyArray zeros(NpyType type, std::vector<int64_t> shape);
  // An array holding a copy of `values` (numel(shape) must equal values.size()).
  template <typename T>
  static NpyArray from_values(std::vector<int64_t> shape, std::span<const T> values) {
    NpyArray a = zeros(npy_type_of<T>(), std::move(shape));
    AXF_CHECK(static_cast<int64_t>(values.size()) == a.numel(), "NpyArray::from_values: ", values.size(),
              " values for ", a.numel(), " elements");
    if (!values.empty()) std::memcpy(a.data.data(), values.data(), a.data.size());
    return a;
  }
  // Typed views of the data; throws if T does not match `type`.
  template <typename T>
  std::span<const T> values() const {
    check_view(npy_type_of<T>());
    return {reinterpret_cast<const T*>(data.data()), data.size() / sizeof(T)};
  }
  template <typename T>
  std::span<T> values() {
    check_view(npy_type_of<T>());
    return {reinterpret_cast<T*>(data.data()), data.size() / sizeof(T)};
  }

 private:
  void check_view(NpyType wanted) const;
};

// Product of the dimensions (1 for a scalar); throws on negative dimensions or overflow.
int64_t shape_numel(const std::vector<int64_t>& shape, const std::string& context);
std::string shape_string(const std::vector<int64_t>& shape);  // "(4, 73, 37)", "(73,)", "()"

struct NpyHeader {
  NpyType type = NpyType::F32;
  std::vector<int64_t> shape;
  bool fortran_order = false;
  size_t data_offset = 0;  // bytes from the start of the .npy data to the first element
};

// Parses the magic, version and header dict. `bytes` needs to hold only the header, not the data.
// fortran_order True is reported, not refused (parse_npy refuses it). `context` prefixes every message.
NpyHeader parse_npy_header(std::span<const std::byte> bytes, const std::string& context);
// A whole .npy: refuses Fortran order and any data length other than numel * item size.
NpyArray parse_npy(std::span<const std::byte> bytes, const std::string& context);
// The same, reusing `bytes` as the array's storage (no second copy of large data).
NpyArray parse_npy(std::vector<std::byte>&& bytes, const std::string& context);
// Version 1.0 header (2.0 only when the dict exceeds 65535 bytes), padded to a multiple of 64 bytes.
std::vector<std::byte> serialize_npy_header(const NpyArray& a);
std::vector<std::byte> serialize_npy(const NpyArray& a);

}  // namespace axf::io
