// Tensor: a typed, strided view of shared storage on one device. Views (slice, select, permute,
// reshape of contiguous data) share storage without copying; representations are updated in place.
#pragma once

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "core/dtype.h"

namespace axf::core {

enum class Device : uint8_t { CPU, CUDA };
std::string device_name(Device d);

using Shape = std::vector<int64_t>;

// Owns one allocation. The deleter knows how the memory was obtained (aligned host, cudaMalloc, arena).
class Storage {
 public:
  Storage(void* data, size_t bytes, Device device, int device_index, std::function<void(void*)> deleter);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  void* data() const { return data_; }
  size_t bytes() const { return bytes_; }
  Device device() const { return device_; }
  int device_index() const { return device_index_; }

 private:
  void* data_;
  size_t bytes_;
  Device device_;
  int device_index_;
  std::function<void(void*)> deleter_;
};

// Allocates 64-byte aligned host memory.
std::shared_ptr<Storage> allocate_host(size_t bytes);

class Tensor {
 public:
  Tensor() = default;
  Tensor(std::shared_ptr<Storage> storage, int64_t offset, Shape shape, Shape strides, DType dtype);

  // Host tensors. `empty` leaves memory uninitialised; tests poison it where that matters.
  static Tensor empty(const Shape& shape, DType dtype = DType::F32);
  static Tensor zeros(const Shape& shape, DType dtype = DType::F32);
  static Tensor full(const Shape& shape, float value);
  static Tensor from_vector(const Shape& shape, const std::vector<float>& values);
  static Tensor from_vector_i32(const Shape& shape, const std::vector<int32_t>& values);
  static Shape contiguous_strides(const Shape& shape);

  bool defined() const { return storage_ != nullptr; }
  DType dtype() const { return dtype_; }
  Device device() const;
  int ndim() const { return static_cast<int>(shape_.size()); }
  const Shape& shape() const { return shape_; }
  const Shape& strides() const { return strides_; }
  int64_t size(int dim) const;    // negative dims count from the end
  int64_t stride(int dim) const;
  int64_t numel() const;
  int64_t offset() const { return offset_; }
  bool is_contiguous() const;
  // Views the tensor as `rows` rows of size(-1) elements, row r at element r * row_stride: true when the
  // last dim is dense and the leading dims collapse to one stride (the layout row-wise kernels accept).
  bool as_rows(int64_t* rows, int64_t* row_stride) const;
  const std::shared_ptr<Storage>& storage() const { return storage_; }

  void* raw_data() const;  // address of element 0 of this view
  template <typename T>
  T* data() const {
    check_host_access(sizeof(T));
    return static_cast<T*>(raw_data());
  }

  // Views (no copy).
  Tensor slice(int dim, int64_t start, int64_t end) const;
  Tensor select(int dim, int64_t index) const;  // removes `dim`
  Tensor reshape(const Shape& shape) const;     // contiguous only; one entry may be -1
  Tensor permute(const std::vector<int>& dims) const;
  Tensor transpose(int a, int b) const;
  Tensor unsqueeze(int dim) const;
  Tensor expand(int dim, int64_t size) const;  // broadcast a size-1 dim to `size` (stride 0, read-only use)

  // Copies (host).
  Tensor contiguous() const;          // returns *this when already contiguous
  Tensor clone() const;               // always a fresh contiguous host copy
  Tensor to(DType dtype) const;       // host dtype conversion; fresh contiguous tensor
  std::vector<float> to_vector() const;  // any host dtype, converted to fp32, logical order

  std::string shape_str() const;      // "[73, 73, 128]"
  std::string describe() const;       // "fp32[73, 73, 128] cpu"

 private:
  void check_host_access(size_t element_size) const;
  int wrap_dim(int dim, int ndim_plus = 0) const;

  std::shared_ptr<Storage> storage_;
  int64_t offset_ = 0;  // in elements
  Shape shape_;
  Shape strides_;       // in elements
  DType dtype_ = DType::F32;
};

std::string shape_to_string(const Shape& shape);
int64_t shape_numel(const Shape& shape);

// Element-wise strided copy with dtype conversion between host tensors of equal shape.
void copy_host(const Tensor& src, Tensor& dst);

}  // namespace axf::core
