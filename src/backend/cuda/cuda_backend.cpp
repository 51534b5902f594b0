// CUDA backend: device context, memory, copies, element-wise operations, LayerNorm, embedding, masked mean.
// Activations may be fp32 or bf16 (each tensor its own); scales, offsets and masks are fp32.
#include "backend/cuda/cuda_backend.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <sstream>

#include "backend/cuda/cuda_check.h"
#include "backend/cuda/cuda_rows.h"
#include "kernels/copy.cuh"
#include "kernels/elementwise.cuh"
#include "kernels/embedding.cuh"
#include "kernels/layer_norm.cuh"
#include "kernels/masked_mean.cuh"
#include "kernels/softmax_expectations.cuh"

namespace axf::backend {

int cuda_device_count() {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) {
    (void)cudaGetLastError();  // clear the sticky "no driver"/"no device" status
    return 0;
  }
  return n;
}

std::string cuda_device_description(int device) {
  const int n = cuda_device_count();
  AXF_CHECK(device >= 0 && device < n, "CUDA device ", device, " requested but ", n, " found");
  cudaDeviceProp prop{};
  AXF_CUDA_CHECK(cudaGetDeviceProperties(&prop, device));
  std::ostringstream os;
  os.precision(1);
  os << prop.name << " (sm_" << prop.major << prop.minor << ", " << prop.multiProcessorCount << " SMs, " << std::fixed
     << static_cast<double>(prop.totalGlobalMem) / (1024.0 * 1024.0 * 1024.0) << " GiB)";
  return os.str();
}

std::unique_ptr<Backend> make_cuda_backend(int device) { return std::make_unique<cuda::CudaBackend>(device); }

namespace cuda {

namespace {
// Restores the caller's current device after work on another one.
class DeviceGuard {
 public:
  explicit DeviceGuard(int device) {
    if (cudaGetDevice(&previous_) != cudaSuccess) previous_ = -1;
    if (previous_ != device) cudaSetDevice(device);
  }
  ~DeviceGuard() {
    int now = -1;
    if (previous_ >= 0 && cudaGetDevice(&now) == cudaSuccess && now != previous_) cudaSetDevice(previous_);
  }

 private:
  int previous_ = -1;
};
}  // namespace

CudaContext::CudaContext(int dev) : device(dev) {
  const int n = cuda_device_count();
  AXF_CHECK(dev >= 0 && dev < n, "CUDA device ", dev, " requested but ", n, " found");
  AXF_CUDA_CHECK(cudaSetDevice(dev));
  int pools = 0;
  AXF_CUDA_CHECK(cudaDeviceGetAttribute(&pools, cudaDevAttrMemoryPoolsSupported, dev));
  async_alloc = pools != 0;
  if (async_alloc) {
    // Keep freed memory in the pool instead of returning it to the driver at every synchronisation: the model
    // frees and reallocates the same activation sizes block after block.
    cudaMemPool_t pool = nullptr;
    AXF_CUDA_CHECK(cudaDeviceGetDefaultMemPool(&pool, dev));
    uint64_t threshold = std::numeric_limits<uint64_t>::max();
    AXF_CUDA_CHECK(cudaMemPoolSetAttribute(pool, cudaMemPoolAttrReleaseThreshold, &threshold));
  }
  AXF_CUDA_CHECK(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
  AXF_CUBLAS_CHECK(cublasCreate(&cublas));
  AXF_CUBLAS_CHECK(cublasSetStream(cublas, stream));
  // Default math with CUBLAS_COMPUTE_32F is full fp32; TF32 would need CUBLAS_TF32_TENSOR_OP_MATH or a _FAST_TF32
  // compute type, which this backend never asks for.
  AXF_CUBLAS_CHECK(cublasSetMathMode(cublas, CUBLAS_DEFAULT_MATH));
  // cuBLAS's workspace, ours (the size cuBLAS takes on Hopper), so that no cuBLAS call allocates one inside a
  // recording.
  constexpr size_t kCublasWorkspaceBytes = size_t{32} << 20;
  AXF_CUDA_CHECK(cudaMalloc(&cublas_workspace, kCublasWorkspaceBytes));
  AXF_CUBLAS_CHECK(cublasSetWorkspace(cublas, cublas_workspace, kCublasWorkspaceBytes));
  void* flag = nullptr;
  AXF_CUDA_CHECK(cudaMalloc(&flag, sizeof(int32_t)));
  d_flag = static_cast<int32_t*>(flag);
  const char* no_lt = std::getenv("AXF_NO_CUBLASLT");
  if (!(no_lt && std::string(no_lt) == "1")) lt = std::make_unique<kernels::LtMatmul>();
}

CudaContext::~CudaContext() {
  // No throwing here: errors at teardown (e.g. the runtime already unloading at exit) are ignored.
  DeviceGuard guard(device);
  if (stream) cudaStreamSynchronize(stream);
  if (d_flag) cudaFree(d_flag);
  lt.reset();
  if (cublas) cublasDestroy(cublas);
  if (cublas_workspace) cudaFree(cublas_workspace);
  if (stream) cudaStreamDestroy(stream);
}

CudaBackend::CudaBackend(int device) : ctx_(std::make_shared<CudaContext>(device)) {}

void CudaBackend::activate() const {
  int current = -1;
  AXF_CUDA_CHECK(cudaGetDevice(&current));
  if (current != ctx_->device) AXF_CUDA_CHECK(cudaSetDevice(ctx_->device));
}

std::shared_ptr<core::Storage> CudaBackend::allocate(size_t bytes) {
  activate();
  void* p = nullptr;
  if (bytes > 0) {
    if (ctx_->async_alloc) {
      AXF_CUDA_CHECK(cudaMallocAsync(&p, bytes, ctx_->stream));
    } else {
      AXF_CUDA_CHECK(cudaMalloc(&p, bytes));
    }
  }
  std::shared_ptr<CudaContext> ctx = ctx_;
  // Inside a recording the allocation is the graph's own; it must be freed inside the recording too, and memory
  // from outside it must not be (CudaContext::capture).
  const uint64_t made_in = p ? ctx_->capture : 0;
  if (made_in != 0) ++ctx_->captured_live;
  return std::make_shared<core::Storage>(p, bytes, core::Device::CUDA, ctx_->device, [ctx, made_in](void* q) {
    if (!q) return;
    if (made_in != 0 && made_in == ctx->capture) --ctx->captured_live;
    const auto& dropped = ctx->dropped_captures;
    if (made_in != 0 && std::find(dropped.begin(), dropped.end(), made_in) != dropped.end()) return;
    if (ctx->capture != 0 && made_in != ctx->capture) {
      ctx->frees_after_capture.push_back(q);
      return;
    }
    ctx->free_now(q);
  });
}

void CudaContext::free_now(void* p) const {
  DeviceGuard guard(device);
  const cudaError_t e = async_alloc ? cudaFreeAsync(p, stream) : cudaFree(p);
  // (An invalidated recording that is being unwound refuses its own frees; its graph is dropped with them.)
  if (e != cudaSuccess && e != cudaErrorCudartUnloading && e != cudaErrorStreamCaptureInvalidated) {
    std::fprintf(stderr, "axialfold: freeing GPU memory failed: %s\n", cudaGetErrorString(e));
  }
  (void)cudaGetLastError();
}

Tensor CudaBackend::empty(const Shape& shape, DType dtype) {
  const int64_t n = core::shape_numel(shape);
  AXF_CHECK(n >= 0, "invalid shape ", core::shape_to_string(shape));
  return Tensor(allocate(static_cast<size_t>(n) * core::dtype_size(dtype)), 0, shape, Tensor::contiguous_strides(shape),
                dtype);
}

Tensor CudaBackend::scratch(int64_t n) { return empty({n}, DType::F32); }

Tensor CudaBackend::upload(const Tensor& host) {
  AXF_CHECK(host.defined(), "upload of an undefined tensor");
  AXF_CHECK(host.device() == core::Device::CPU, "upload of non-host tensor ", host.describe());
  const Tensor src = host.contiguous();
  Tensor out = empty(src.shape(), src.dtype());
  const size_t bytes = static_cast<size_t>(src.numel()) * core::dtype_size(src.dtype());
  // From pageable memory the call returns once the data is staged, so `src` may go away right after.
  if (bytes > 0)
    AXF_CUDA_CHECK(cudaMemcpyAsync(out.raw_data(), src.raw_data(), bytes, cudaMemcpyHostToDevice, ctx_->stream));
  return out;
}

Tensor CudaBackend::download(const Tensor& t) {
  AXF_CHECK(t.defined(), "download of an undefined tensor");
  AXF_CHECK(t.device() == core::Device::CUDA, "download of non-GPU tensor ", t.describe());
  activate();
  Tensor src = t;
  if (!t.is_contiguous()) {
    src = empty(t.shape(), t.dtype());
    copy_views(t, src);
  }
  Tensor out = Tensor::empty(t.shape(), t.dtype());
  const size_t bytes = static_cast<size_t>(t.numel()) * core::dtype_size(t.dtype());
  if (bytes > 0)
    AXF_CUDA_CHECK(cudaMemcpyAsync(out.raw_data(), src.raw_data(), bytes, cudaMemcpyDeviceToHost, ctx_->stream));
  AXF_CUDA_CHECK(cudaStreamSynchronize(ctx_->stream));
  return out;
}

void CudaBackend::download_to(const Tensor& t, Tensor& host_dst) {
  AXF_CHECK(t.defined() && t.device() == core::Device::CUDA, "download_to of non-GPU tensor ", t.describe());
  check_download_target(t, host_dst);
  activate();
  Tensor src = t;
  if (!t.is_contiguous()) {
    src = empty(t.shape(), t.dtype());
    copy_views(t, src);
  }
  const size_t bytes = static_cast<size_t>(t.numel()) * core::dtype_size(t.dtype());
  if (bytes > 0)
    AXF_CUDA_CHECK(cudaMemcpyAsync(host_dst.raw_data(), src.raw_data(), bytes, cudaMemcpyDeviceToHost, ctx_->stream));
  AXF_CUDA_CHECK(cudaStreamSynchronize(ctx_->stream));
}

void CudaBackend::upload_to(const Tensor& host, Tensor& device_dst) {
  check_upload_target(host, device_dst, core::Device::CUDA);
  activate();
  const Tensor src = host.contiguous();
  const size_t bytes = static_cast<size_t>(src.numel()) * core::dtype_size(src.dtype());
  // From pageable memory the call returns once the data is staged, so `src` may go away right after.
  if (bytes > 0)
    AXF_CUDA_CHECK(cudaMemcpyAsync(device_dst.raw_data(), src.raw_data(), bytes, cudaMemcpyHostToDevice, ctx_->stream));
}

void CudaBackend::copy_views(const Tensor& src, Tensor& dst) {
  if (src.numel() == 0) return;
  if (src.dtype() == dst.dtype() && src.is_contiguous() && dst.is_contiguous()) {
    const size_t bytes = static_cast<size_t>(src.numel()) * core::dtype_size(src.dtype());
    const char* s = static_cast<const char*>(src.raw_data());
    const char* d = static_cast<const char*>(dst.raw_data());
    if (s == d) return;
    AXF_CHECK(s + bytes <= d || d + bytes <= s, "copy from ", src.describe(), " to ", dst.describe(),
              ": source and destination overlap");
    AXF_CUDA_CHECK(cudaMemcpyAsync(dst.raw_data(), src.raw_data(), bytes, cudaMemcpyDeviceToDevice, ctx_->stream));
    return;
  }
  kernels::launch_copy(src.ndim(), src.shape().data(), src.strides().data(), dst.strides().data(), src.raw_data(),
                       elem_type(src.dtype()), dst.raw_data(), elem_type(dst.dtype()), ctx_->stream);
}

void CudaBackend::copy(const Tensor& src, Tensor& dst) {
  AXF_CHECK(src.defined() && dst.defined(), "copy of an undefined tensor");
  AXF_CHECK(src.shape() == dst.shape(), "copy from ", src.describe(), " to ", dst.describe());
  AXF_CHECK(src.device() == core::Device::CUDA && dst.device() == core::Device::CUDA, "copy from ", src.describe(),
            " to ", dst.describe(), ": the CUDA backend copies between GPU tensors (use upload/download)");
  AXF_CHECK(src.ndim() <= kernels::kMaxCopyDims, "copy: rank of ", src.describe(), " exceeds ",
            kernels::kMaxCopyDims);
  activate();
  copy_views(src, dst);
}

Tensor CudaBackend::gemm_operand(const Tensor& t, DType dtype, const char* what) {
  check_device_float(t, what);
  int64_t rows = 0, ld = 0;
  const int64_t cols = t.ndim() == 0 ? 1 : t.size(-1);
  if (t.dtype() == dtype && t.as_rows(&rows, &ld) && (rows <= 1 || ld >= cols)) return t;
  Tensor c = empty(t.shape(), dtype);
  copy_views(t, c);
  return c;
}

void CudaBackend::fill(Tensor& t, float value) {
  kernels::ElementwiseParams p;
  p.op = kernels::ElementwiseOp::Fill;
  p.dst_rows = rows_of(t, "fill");
  p.dst = t.raw_data();
  p.dst_type = elem_type(t.dtype());
  p.value = value;
  activate();
  kernels::launch_elementwise(p, ctx_->stream);
}

void CudaBackend::synchronize() {
  activate();
  AXF_CUDA_CHECK(cudaStreamSynchronize(ctx_->stream));
}

void CudaBackend::layer_norm(const Tensor& x, const Tensor& scale, const Tensor& offset, Tensor& out, float eps) {
  AXF_CHECK(x.shape() == out.shape(), "layer_norm: input ", x.describe(), " and output ", out.describe(), " differ");
  kernels::LayerNormParams p;
  p.x_rows = rows_of(x, "layer_norm input");
  p.out_rows = rows_of(out, "layer_norm output");
  const int64_t c = p.x_rows.cols;
  AXF_CHECK(scale.numel() == c && offset.numel() == c, "layer_norm: scale/offset of size ", scale.numel(), "/",
            offset.numel(), " for ", c, " channels");
  p.x = x.raw_data();
  p.x_type = elem_type(x.dtype());
  p.out = out.raw_data();
  p.out_type = elem_type(out.dtype());
  p.scale = dense_vector(scale, c, "layer_norm scale");
  p.offset = dense_vector(offset, c, "layer_norm offset");
  p.eps = eps;
  activate();
  kernels::launch_layer_norm(p, ctx_->stream);
}

namespace {
kernels::ElementwiseParams binary(kernels::ElementwiseOp op, Tensor& dst, const Tensor& src, const char* what) {
  AXF_CHECK(dst.shape() == src.shape(), what, ": shapes ", dst.describe(), " and ", src.describe(), " differ");
  kernels::ElementwiseParams p;
  p.op = op;
  p.dst_rows = rows_of(dst, what);
  p.dst = dst.raw_data();
  p.dst_type = elem_type(dst.dtype());
  p.src_rows = rows_of(src, what);
  p.src = src.raw_data();
  p.src_type = elem_type(src.dtype());
  return p;
}
}  // namespace

void CudaBackend::add(Tensor& dst, const Tensor& src) {
  const auto p = binary(kernels::ElementwiseOp::Add, dst, src, "add");
  activate();
  kernels::launch_elementwise(p, ctx_->stream);
}

void CudaBackend::sigmoid_mul(Tensor& dst, const Tensor& gate_logits) {
  const auto p = binary(kernels::ElementwiseOp::SigmoidMul, dst, gate_logits, "sigmoid_mul");
  activate();
  kernels::launch_elementwise(p, ctx_->stream);
}

void CudaBackend::gated_add(Tensor& dst, const Tensor& src, const Tensor& gate_logits) {
  auto p = binary(kernels::ElementwiseOp::GatedAdd, dst, src, "gated_add");
  AXF_CHECK(gate_logits.shape() == dst.shape(), "gated_add: gate ", gate_logits.describe(), " vs ", dst.describe());
  p.gate_rows = rows_of(gate_logits, "gated_add gate");
  p.gate = gate_logits.raw_data();
  p.gate_type = elem_type(gate_logits.dtype());
  activate();
  kernels::launch_elementwise(p, ctx_->stream);
}

void CudaBackend::mul_rows(Tensor& x, const Tensor& row_scale) {
  kernels::ElementwiseParams p;
  p.op = kernels::ElementwiseOp::MulRows;
  p.dst_rows = rows_of(x, "mul_rows");
  AXF_CHECK(row_scale.defined() && row_scale.numel() == p.dst_rows.rows && x.ndim() == row_scale.ndim() + 1,
            "mul_rows: scale ", row_scale.describe(), " does not match rows of ", x.describe());
  for (int i = 0; i < row_scale.ndim(); ++i)
    AXF_CHECK(row_scale.size(i) == x.size(i), "mul_rows: scale ", row_scale.describe(), " vs ", x.describe());
  p.dst = x.raw_data();
  p.dst_type = elem_type(x.dtype());
  p.src_rows = scalar_rows_of(row_scale, "mul_rows scale");
  p.src = row_scale.raw_data();
  p.src_type = elem_type(row_scale.dtype());
  activate();
  kernels::launch_elementwise(p, ctx_->stream);
}

void CudaBackend::relu(Tensor& x) {
  kernels::ElementwiseParams p;
  p.op = kernels::ElementwiseOp::Relu;
  p.dst_rows = rows_of(x, "relu");
  p.dst = x.raw_data();
  p.dst_type = elem_type(x.dtype());
  activate();
  kernels::launch_elementwise(p, ctx_->stream);
}

void CudaBackend::embedding(const Tensor& index, const Tensor& table, Tensor& out, bool accumulate) {
  AXF_CHECK(index.defined() && index.dtype() == DType::I32, "embedding: index must be int32, got ",
            index.describe());
  AXF_CHECK(index.device() == core::Device::CUDA, "embedding: index ", index.describe(), " is not on the GPU");
  kernels::EmbeddingParams p;
  p.out_rows = rows_of(out, "embedding output");
  p.table_rows = rows_of(table, "embedding table");
  AXF_CHECK(index.numel() == p.out_rows.rows && p.table_rows.cols == p.out_rows.cols, "embedding: index ",
            index.describe(), ", table ", table.describe(), ", out ", out.describe());
  activate();
  Tensor idx = index;
  if (!index.is_contiguous()) {
    idx = empty(index.shape(), DType::I32);
    copy_views(index, idx);
  }
  p.index = static_cast<const int32_t*>(idx.raw_data());
  p.table = table.raw_data();
  p.table_type = elem_type(table.dtype());
  p.out = out.raw_data();
  p.out_type = elem_type(out.dtype());
  p.accumulate = accumulate;
  p.bad_index = ctx_->d_flag;
  if (p.out_rows.rows == 0) return;
  AXF_CUDA_CHECK(cudaMemsetAsync(ctx_->d_flag, 0, sizeof(int32_t), ctx_->stream));
  kernels::launch_embedding(p, ctx_->stream);
  // The CPU backend rejects out-of-range indices; so does this one, at the price of one synchronisation (the
  // embedding runs a handful of times per model pass).
  int32_t bad = 0;
  AXF_CUDA_CHECK(cudaMemcpyAsync(&bad, ctx_->d_flag, sizeof(int32_t), cudaMemcpyDeviceToHost, ctx_->stream));
  AXF_CUDA_CHECK(cudaStreamSynchronize(ctx_->stream));
  AXF_CHECK(bad == 0, "embedding: an index is out of range for table of ", p.table_rows.rows, " rows (index ",
            index.describe(), ")");
}

void CudaBackend::masked_mean(const Tensor& x, const Tensor& mask, Tensor& out, float eps) {
  AXF_CHECK(x.ndim() == 3 && mask.ndim() == 2 && out.ndim() == 2, "masked_mean: x [B,K,C], mask [B,K], out [B,C]");
  const int64_t B = x.size(0), K = x.size(1), C = x.size(2);
  AXF_CHECK(mask.size(0) == B && mask.size(1) == K && out.size(0) == B && out.size(1) == C, "masked_mean: x ",
            x.describe(), ", mask ", mask.describe(), ", out ", out.describe());
  check_device_float(x, "masked_mean x");
  check_device_f32(mask, "masked_mean mask");
  check_device_float(out, "masked_mean out");
  AXF_CHECK(C <= 1 || (x.stride(2) == 1 && out.stride(1) == 1), "masked_mean: last dims of x ", x.describe(),
            " and out ", out.describe(), " must be dense");
  kernels::MaskedMeanParams p;
  p.B = B;
  p.K = K;
  p.C = C;
  p.x = x.raw_data();
  p.x_type = elem_type(x.dtype());
  p.x_sb = x.stride(0);
  p.x_sk = x.stride(1);
  p.mask = f32_ptr(mask);
  p.mask_sb = mask.stride(0);
  p.mask_sk = mask.stride(1);
  p.out = out.raw_data();
  p.out_type = elem_type(out.dtype());
  p.out_sb = out.stride(0);
  p.eps = eps;
  activate();
  kernels::launch_masked_mean(p, ctx_->stream);
}

void CudaBackend::softmax_expectations(const Tensor& logits, const Tensor& values, Tensor& out) {
  const int64_t V = check_softmax_expectations(logits, values, out);
  check_device_f32(logits, "softmax_expectations logits");
  check_device_f32(values, "softmax_expectations values");
  check_device_f32(out, "softmax_expectations out");
  kernels::SoftmaxExpectationParams p;
  p.logits = f32_ptr(logits);
  p.logits_rows = rows_of(logits, "softmax_expectations logits");
  p.values = f32_ptr(values);
  p.V = static_cast<int>(V);
  p.out = f32_ptr(out);
  p.out_rows = rows_of(out, "softmax_expectations out");
  activate();
  kernels::launch_softmax_expectations(p, ctx_->stream);
}

}  // namespace cuda
}  // namespace axf::backend
