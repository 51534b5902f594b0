// Conversions between file arrays (NpyArray, as read from .npz/.npy/HDF5) and core tensors: floating types
// become fp32 tensors, integer and boolean types int32 tensors (range-checked); tensors write back as
// float32 / int32 arrays.
#pragma once

#include <string>

#include "core/tensor.h"
#include "io/npy.h"

namespace axf::io {

// `context` (file and key) prefixes every error message.
core::Tensor tensor_from_npy(const NpyArray& array, const std::string& context);
NpyArray npy_from_tensor(const core::Tensor& tensor);

}  // namespace axf::io
