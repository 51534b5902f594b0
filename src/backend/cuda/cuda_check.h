// Error checks for CUDA runtime and cuBLAS calls: every failure becomes an axf::Error naming file:line, the
// call and the library's own error string. Plain C++ (no device code) so host files and kernels share it.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime_api.h>

#include "core/error.h"

namespace axf::backend::cuda {

inline const char* cublas_status_text(cublasStatus_t s) {
  switch (s) {
    case CUBLAS_STATUS_SUCCESS: return "CUBLAS_STATUS_SUCCESS";
    case CUBLAS_STATUS_NOT_INITIALIZED: return "CUBLAS_STATUS_NOT_INITIALIZED";
    case CUBLAS_STATUS_ALLOC_FAILED: return "CUBLAS_STATUS_ALLOC_FAILED";
    case CUBLAS_STATUS_INVALID_VALUE: return "CUBLAS_STATUS_INVALID_VALUE";
    case CUBLAS_STATUS_ARCH_MISMATCH: return "CUBLAS_STATUS_ARCH_MISMATCH";
    case CUBLAS_STATUS_MAPPING_ERROR: return "CUBLAS_STATUS_MAPPING_ERROR";
    case CUBLAS_STATUS_EXECUTION_FAILED: return "CUBLAS_STATUS_EXECUTION_FAILED";
    case CUBLAS_STATUS_INTERNAL_ERROR: return "CUBLAS_STATUS_INTERNAL_ERROR";
    case CUBLAS_STATUS_NOT_SUPPORTED: return "CUBLAS_STATUS_NOT_SUPPORTED";
    case CUBLAS_STATUS_LICENSE_ERROR: return "CUBLAS_STATUS_LICENSE_ERROR";
    default: return "unknown cuBLAS status";
  }
}

}  // namespace axf::backend::cuda

// AXF_CUDA_CHECK(cudaMemcpyAsync(...)): throws "file:line: CUDA error in `call`: cudaErrorX (text)".
#define AXF_CUDA_CHECK(call)                                                                                 \
  do {                                                                                                       \
    const cudaError_t axf_cuda_status_ = (call);                                                             \
    if (axf_cuda_status_ != cudaSuccess) {                                                                   \
      ::axf::detail::throw_error(__FILE__, __LINE__,                                                         \
                                 ::axf::detail::concat("CUDA error in `", #call, "`: ",                      \
                                                       cudaGetErrorName(axf_cuda_status_), " (",             \
                                                       cudaGetErrorString(axf_cuda_status_), ")"));          \
    }                                                                                                        \
  } while (0)

// AXF_CUBLAS_CHECK(cublasGemmEx(...)): throws "file:line: cuBLAS error in `call`: CUBLAS_STATUS_X".
#define AXF_CUBLAS_CHECK(call)                                                                               \
  do {                                                                                                       \
    const cublasStatus_t axf_cublas_status_ = (call);                                                        \
    if (axf_cublas_status_ != CUBLAS_STATUS_SUCCESS) {                                                       \
      ::axf::detail::throw_error(                                                                            \
          __FILE__, __LINE__,                                                                                \
          ::axf::detail::concat("cuBLAS error in `", #call, "`: ",                                           \
                                ::axf::backend::cuda::cublas_status_text(axf_cublas_status_)));              \
    }                                                                                                        \
  } while (0)

// After every kernel launch: reports bad launch configurations and earlier asynchronous faults at the launch
// site (named by `what`).
#define AXF_CUDA_CHECK_LAUNCH(what)                                                                          \
  do {                                                                                                       \
    const cudaError_t axf_cuda_status_ = cudaGetLastError();                                                 \
    if (axf_cuda_status_ != cudaSuccess) {                                                                   \
      ::axf::detail::throw_error(__FILE__, __LINE__,                                                         \
                                 ::axf::detail::concat("CUDA error launching ", what, ": ",                  \
                                                       cudaGetErrorName(axf_cuda_status_), " (",             \
                                                       cudaGetErrorString(axf_cuda_status_), ")"));          \
    }                                                                                                        \
  } while (0)
