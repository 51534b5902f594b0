#include "core/tensor.h"

#include <algorithm>
#include <cstdlib>
#include <numeric>
#include <sstream>

#include "core/error.h"

namespace axf::core {

std::string device_name(Device d) { return d == Device::CPU ? "cpu" : "cuda"; }

Storage::Storage(void* data, size_t bytes, Device device, int device_index, std::function<void(void*)> deleter)
    : data_(data), bytes_(bytes), device_(device), device_index_(device_index), deleter_(std::move(deleter)) {}

Storage::~Storage() {
  if (deleter_ && data_) deleter_(data_);
}

std::shared_ptr<Storage> allocate_host(size_t bytes) {
  const size_t rounded = std::max<size_t>(64, (bytes + 63) / 64 * 64);
  void* p = std::aligned_alloc(64, rounded);
  AXF_CHECK(p != nullptr, "out of host memory allocating ", bytes, " bytes");
  return std::make_shared<Storage>(p, bytes, Device::CPU, 0, [](void* q) { std::free(q); });
}

std::string shape_to_string(const Shape& shape) {
  std::ostringstream os;
  os << '[';
  for (size_t i = 0; i < shape.size(); ++i) os << (i ? ", " : "") << shape[i];
  os << ']';
  return os.str();
}

int64_t shape_numel(const Shape& shape) {
  int64_t n = 1;
  for (int64_t s : shape) n *= s;
  return n;
}

Tensor::Tensor(std::shared_ptr<Storage> storage, int64_t offset, Shape shape, Shape strides, DType dtype)
    : storage_(std::move(storage)), offset_(offset), shape_(std::move(shape)), strides_(std::move(strides)), dtype_(dtype) {
  AXF_CHECK(shape_.size() == strides_.size(), "shape and strides differ in rank");
  for (int64_t s : shape_) AXF_CHECK(s >= 0, "negative dimension in shape ", shape_to_string(shape_));
}

Shape Tensor::contiguous_strides(const Shape& shape) {
  Shape strides(shape.size());
  int64_t s = 1;
  for (int i = static_cast<int>(shape.size()) - 1; i >= 0; --i) {
    strides[i] = s;
    s *= std::max<int64_t>(shape[i], 1);
  }
  return strides;
}

Tensor Tensor::empty(const Shape& shape, DType dtype) {
  const int64_t n = shape_numel(shape);
  AXF_CHECK(n >= 0, "invalid shape ", shape_to_string(shape));
  return Tensor(allocate_host(static_cast<size_t>(n) * dtype_size(dtype)), 0, shape, contiguous_strides(shape), dtype);
}

Tensor Tensor::zeros(const Shape& shape, DType dtype) {
  Tensor t = empty(shape, dtype);
  std::memset(t.raw_data(), 0, static_cast<size_t>(t.numel()) * dtype_size(dtype));
  return t;
}

Tensor Tensor::full(const Shape& shape, float value) {
  Tensor t = empty(shape, DType::F32);
  std::fill_n(t.data<float>(), t.numel(), value);
  return t;
}

Tensor Tensor::from_vector(const Shape& shape, const std::vector<float>& values) {
  AXF_CHECK(static_cast<int64_t>(values.size()) == shape_numel(shape), "from_vector: ", values.size(),
            " values for shape ", shape_to_string(shape));
  Tensor t = empty(shape, DType::F32);
  std::copy(values.begin(), values.end(), t.data<float>());
  return t;
}

Tensor Tensor::from_vector_i32(const Shape& shape, const std::vector<int32_t>& values) {
  AXF_CHECK(static_cast<int64_t>(values.size()) == shape_numel(shape), "from_vector_i32: ", values.size(),
            " values for shape ", shape_to_string(shape));
  Tensor t = empty(shape, DType::I32);
  std::copy(values.begin(), values.end(), t.data<int32_t>());
  return t;
}

Device Tensor::device() const { return storage_ ? storage_->device() : Device::CPU; }

int Tensor::wrap_dim(int dim, int ndim_plus) const {
  const int n = ndim() + ndim_plus;
  const int d = dim < 0 ? dim + n : dim;
  AXF_CHECK(d >= 0 && d < n, "dimension ", dim, " out of range for tensor ", describe());
  return d;
}

int64_t Tensor::size(int dim) const { return shape_[wrap_dim(dim)]; }
int64_t Tensor::stride(int dim) const { return strides_[wrap_dim(dim)]; }
int64_t Tensor::numel() const { return shape_numel(shape_); }

bool Tensor::is_contiguous() const {
  int64_t expected = 1;
  for (int i = ndim() - 1; i >= 0; --i) {
    if (shape_[i] != 1 && strides_[i] != expected) return false;
    expected *= shape_[i];
  }
  return true;
}

bool Tensor::as_rows(int64_t* rows, int64_t* row_stride) const {
  const int64_t cols = ndim() == 0 ? 1 : shape_.back();
  if (ndim() > 0 && cols > 1 && strides_.back() != 1) return false;
  int64_t n = 1, stride = cols, expected = -1;
  for (int i = ndim() - 2; i >= 0; --i) {
    if (shape_[i] == 1) continue;
    if (expected < 0) {
      stride = strides_[i];
    } else if (strides_[i] != expected) {
      return false;
    }
    expected = strides_[i] * shape_[i];
    n *= shape_[i];
  }
  *rows = n;
  *row_stride = stride;
  return true;
}

void* Tensor::raw_data() const {
  AXF_CHECK(storage_ != nullptr, "access to an undefined tensor");
  return static_cast<char*>(storage_->data()) + offset_ * static_cast<int64_t>(dtype_size(dtype_));
}

void Tensor::check_host_access(size_t element_size) const {
  AXF_CHECK(storage_ != nullptr, "access to an undefined tensor");
  AXF_CHECK(device() == Device::CPU, "host access to device tensor ", describe());
  AXF_CHECK(element_size == dtype_size(dtype_), "element type of size ", element_size, " does not match tensor ",
            describe());
}

Tensor Tensor::slice(int dim, int64_t start, int64_t end) const {
  const int d = wrap_dim(dim);
  AXF_CHECK(0 <= start && start <= end && end <= shape_[d], "slice [", start, ", ", end, ") out of range for dim ",
            d, " of ", describe());
  Shape shape = shape_;
  shape[d] = end - start;
  return Tensor(storage_, offset_ + start * strides_[d], shape, strides_, dtype_);
}

Tensor Tensor::select(int dim, int64_t index) const {
  const int d = wrap_dim(dim);
  AXF_CHECK(0 <= index && index < shape_[d], "index ", index, " out of range for dim ", d, " of ", describe());
  Shape shape = shape_, strides = strides_;
  shape.erase(shape.begin() + d);
  strides.erase(strides.begin() + d);
  return Tensor(storage_, offset_ + index * strides_[d], shape, strides, dtype_);
}

Tensor Tensor::reshape(const Shape& new_shape) const {
  Shape shape = new_shape;
  int infer = -1;
  int64_t known = 1;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == -1) {
      AXF_CHECK(infer < 0, "reshape: more than one -1 in ", shape_to_string(new_shape));
      infer = static_cast<int>(i);
    } else {
      known *= shape[i];
    }
  }
  if (infer >= 0) {
    AXF_CHECK(known > 0 && numel() % known == 0, "reshape of ", describe(), " to ", shape_to_string(new_shape));
    shape[infer] = numel() / known;
  }
  AXF_CHECK(shape_numel(shape) == numel(), "reshape of ", describe(), " to ", shape_to_string(new_shape),
            " changes the element count");
  AXF_CHECK(is_contiguous(), "reshape of non-contiguous tensor ", describe());
  return Tensor(storage_, offset_, shape, contiguous_strides(shape), dtype_);
}

Tensor Tensor::permute(const std::vector<int>& dims) const {
  AXF_CHECK(static_cast<int>(dims.size()) == ndim(), "permute needs ", ndim(), " dims for ", describe());
  Shape shape(dims.size()), strides(dims.size());
  std::vector<bool> used(dims.size(), false);
  for (size_t i = 0; i < dims.size(); ++i) {
    const int d = wrap_dim(dims[i]);
    AXF_CHECK(!used[d], "permute repeats dim ", d);
    used[d] = true;
    shape[i] = shape_[d];
    strides[i] = strides_[d];
  }
  return Tensor(storage_, offset_, shape, strides, dtype_);
}

Tensor Tensor::transpose(int a, int b) const {
  std::vector<int> dims(ndim());
  std::iota(dims.begin(), dims.end(), 0);
  std::swap(dims[wrap_dim(a)], dims[wrap_dim(b)]);
  return permute(dims);
}

Tensor Tensor::unsqueeze(int dim) const {
  const int d = wrap_dim(dim, 1);
  Shape shape = shape_, strides = strides_;
  const int64_t stride = d < ndim() ? strides_[d] * shape_[d] : 1;
  shape.insert(shape.begin() + d, 1);
  strides.insert(strides.begin() + d, stride);
  return Tensor(storage_, offset_, shape, strides, dtype_);
}

Tensor Tensor::expand(int dim, int64_t size) const {
  const int d = wrap_dim(dim);
  AXF_CHECK(shape_[d] == 1, "expand of dim ", d, " of ", describe(), ": size is not 1");
  Shape shape = shape_, strides = strides_;
  shape[d] = size;
  strides[d] = 0;
  return Tensor(storage_, offset_, shape, strides, dtype_);
}

namespace {

float load_as_float(const char* p, DType t) {
  switch (t) {
    case DType::F32: { float v; std::memcpy(&v, p, 4); return v; }
    case DType::BF16: { uint16_t h; std::memcpy(&h, p, 2); return bf16_to_float(h); }
    case DType::F16: { uint16_t h; std::memcpy(&h, p, 2); return fp16_to_float(h); }
    case DType::I32: { int32_t v; std::memcpy(&v, p, 4); return static_cast<float>(v); }
  }
  return 0.f;
}

void store_from_float(char* p, DType t, float v) {
  switch (t) {
    case DType::F32: std::memcpy(p, &v, 4); break;
    case DType::BF16: { uint16_t h = float_to_bf16(v); std::memcpy(p, &h, 2); break; }
    case DType::F16: { uint16_t h = float_to_fp16(v); std::memcpy(p, &h, 2); break; }
    case DType::I32: { int32_t i = static_cast<int32_t>(v); std::memcpy(p, &i, 4); break; }
  }
}

// Calls fn(src_offset, dst_offset) in elements for every logical index, last dim fastest.
template <typename Fn>
void for_each_index(const Shape& shape, const Shape& s1, const Shape& s2, Fn fn) {
  const int nd = static_cast<int>(shape.size());
  if (shape_numel(shape) == 0) return;
  std::vector<int64_t> idx(nd, 0);
  int64_t o1 = 0, o2 = 0;
  while (true) {
    fn(o1, o2);
    int d = nd - 1;
    for (; d >= 0; --d) {
      if (++idx[d] < shape[d]) {
        o1 += s1[d];
        o2 += s2[d];
        break;
      }
      o1 -= s1[d] * (shape[d] - 1);
      o2 -= s2[d] * (shape[d] - 1);
      idx[d] = 0;
    }
    if (d < 0) break;
  }
}

}  // namespace

void copy_host(const Tensor& src, Tensor& dst) {
  AXF_CHECK(src.shape() == dst.shape(), "copy from ", src.describe(), " to ", dst.describe());
  AXF_CHECK(src.device() == Device::CPU && dst.device() == Device::CPU, "copy_host needs host tensors");
  const char* s = static_cast<const char*>(src.raw_data());
  char* d = static_cast<char*>(dst.raw_data());
  const size_t ss = dtype_size(src.dtype()), ds = dtype_size(dst.dtype());
  if (src.dtype() == dst.dtype() && src.is_contiguous() && dst.is_contiguous()) {
    std::memmove(d, s, static_cast<size_t>(src.numel()) * ss);
    return;
  }
  if (src.dtype() == dst.dtype()) {
    for_each_index(src.shape(), src.strides(), dst.strides(),
                   [&](int64_t a, int64_t b) { std::memcpy(d + b * ds, s + a * ss, ss); });
    return;
  }
  for_each_index(src.shape(), src.strides(), dst.strides(), [&](int64_t a, int64_t b) {
    store_from_float(d + b * ds, dst.dtype(), load_as_float(s + a * ss, src.dtype()));
  });
}

Tensor Tensor::contiguous() const {
  if (is_contiguous()) return *this;
  return clone();
}

Tensor Tensor::clone() const {
  Tensor out = empty(shape_, dtype_);
  copy_host(*this, out);
  return out;
}

Tensor Tensor::to(DType dtype) const {
  Tensor out = empty(shape_, dtype);
  copy_host(*this, out);
  return out;
}

std::vector<float> Tensor::to_vector() const {
  Tensor f = dtype_ == DType::F32 ? contiguous() : to(DType::F32);
  const float* p = f.data<float>();
  return std::vector<float>(p, p + f.numel());
}

std::string Tensor::shape_str() const { return shape_to_string(shape_); }

std::string Tensor::describe() const {
  return dtype_name(dtype_) + shape_str() + " " + device_name(device());
}

}  // namespace axf::core
