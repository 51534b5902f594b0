#include "io/tensor_npy.h"

#include <cmath>
#include <limits>

#include "core/error.h"

namespace axf::io {

namespace {
template <typename T>
void copy_float(const NpyArray& a, float* out) {
  const auto v = a.values<T>();
  for (size_t i = 0; i < v.size(); ++i) out[i] = static_cast<float>(v[i]);
}

template <typename T>
void copy_int(const NpyArray& a, int32_t* out, const std::string& context) {
  const auto v = a.values<T>();
  for (size_t i = 0; i < v.size(); ++i) {
    const int64_t x = static_cast<int64_t>(v[i]);
    AXF_CHECK(x >= std::numeric_limits<int32_t>::min() && x <= std::numeric_limits<int32_t>::max(), context,
              ": integer value ", x, " at element ", i, " does not fit in int32");
    out[i] = static_cast<int32_t>(x);
  }
}
}  // namespace

core::Tensor tensor_from_npy(const NpyArray& a, const std::string& context) {
  const core::Shape shape(a.shape.begin(), a.shape.end());
  switch (a.type) {
    case NpyType::F32: {
      core::Tensor t = core::Tensor::empty(shape, core::DType::F32);
      copy_float<float>(a, t.data<float>());
      return t;
    }
    case NpyType::F64: {
      core::Tensor t = core::Tensor::empty(shape, core::DType::F32);
      copy_float<double>(a, t.data<float>());
      return t;
    }
    case NpyType::F16: {
      core::Tensor t = core::Tensor::empty(shape, core::DType::F32);
      const auto* p = reinterpret_cast<const uint16_t*>(a.data.data());
      float* out = t.data<float>();
      for (int64_t i = 0; i < a.numel(); ++i) {
        uint16_t h;
        std::memcpy(&h, p + i, 2);
        out[i] = core::fp16_to_float(h);
      }
      return t;
    }
    default: break;
  }
  core::Tensor t = core::Tensor::empty(shape, core::DType::I32);
  int32_t* out = t.data<int32_t>();
  switch (a.type) {
    case NpyType::I8: copy_int<int8_t>(a, out, context); break;
    case NpyType::I16: copy_int<int16_t>(a, out, context); break;
    case NpyType::I32: copy_int<int32_t>(a, out, context); break;
    case NpyType::I64: copy_int<int64_t>(a, out, context); break;
    case NpyType::U8: copy_int<uint8_t>(a, out, context); break;
    case NpyType::Bool: copy_int<bool>(a, out, context); break;
    default: AXF_FAIL(context, ": unsupported array type ", to_string(a.type));
  }
  return t;
}

NpyArray npy_from_tensor(const core::Tensor& tensor) {
  const std::vector<int64_t> shape(tensor.shape().begin(), tensor.shape().end());
  if (tensor.dtype() == core::DType::I32) {
    const core::Tensor c = tensor.contiguous();
    return NpyArray::from_values<int32_t>(shape, std::span<const int32_t>(c.data<int32_t>(), c.numel()));
  }
  const std::vector<float> v = tensor.to_vector();
  return NpyArray::from_values<float>(shape, std::span<const float>(v));
}

}  // namespace axf::io
