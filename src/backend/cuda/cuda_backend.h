// The CUDA backend: every Backend operation on one NVIDIA GPU, on fp32 or bf16 activations (fp32 accumulation,
// statistics and softmax; bf16 GEMMs and attention on the tensor cores). fp32 products are true fp32 unless TF32
// is allowed. It owns the device's compute stream and a cuBLAS handle; memory comes from the stream-ordered
// allocator on that stream, so temporaries cost no device synchronisation. Kernels live in kernels/ (one op per
// .cu/.cuh pair).
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime_api.h>

#include <memory>
#include <string>
#include <vector>

#include "backend/backend.h"
#include "kernels/gemm.cuh"
#include "kernels/gemm_lt.cuh"

namespace axf::backend {

// Number of usable CUDA devices; 0 when there is no driver or GPU (never throws).
int cuda_device_count();
// "NVIDIA H100 80GB HBM3 (sm_90, 132 SMs, 79.1 GiB)"; throws for a bad index.
std::string cuda_device_description(int device);
// The CUDA backend on `device`; throws when the device cannot be used.
std::unique_ptr<Backend> make_cuda_backend(int device = 0);

namespace cuda {

// Device, stream and cuBLAS handle, shared by the backend and every allocation it made, so tensors that
// outlive the backend still free onto a live stream.
struct CudaContext {
  explicit CudaContext(int device);
  ~CudaContext();
  CudaContext(const CudaContext&) = delete;
  CudaContext& operator=(const CudaContext&) = delete;

  int device = 0;
  bool async_alloc = true;  // the device supports cudaMallocAsync (memory pools)
  cudaStream_t stream = nullptr;
  cublasHandle_t cublas = nullptr;
  int32_t* d_flag = nullptr;  // one int for kernels to report errors (bad embedding index)
  // cuBLASLt: linear layers with the bias/ReLU in the GEMM epilogue, and every other GEMM it offers an algorithm for
  // (split-K free, pinned across row counts); null when AXF_NO_CUBLASLT=1 (the unfused cuBLAS path).
  std::unique_ptr<kernels::LtMatmul> lt;
  kernels::GemmEngine gemm_engine() const { return {cublas, lt.get(), stream}; }
  void* cublas_workspace = nullptr;  // cuBLAS's own, set once so no call allocates one inside a recording

  // Recording (CUDA graphs): the capture under way (0: none), how many buffers it allocated that are still alive,
  // the buffers allocated before it that it freed (a broken rule; freed once it ends), and the captures dropped
  // unlaunched, whose buffers never became memory (nothing to free).
  uint64_t capture = 0, captures = 0;
  int64_t captured_live = 0;
  std::vector<void*> frees_after_capture;
  std::vector<uint64_t> dropped_captures;
  void free_now(void* p) const;
};

class CudaBackend final : public Backend {
 public:
  explicit CudaBackend(int device);
  std::string name() const override { return "cuda"; }
  core::Device device() const override { return core::Device::CUDA; }

  Tensor empty(const Shape& shape, DType dtype) override;
  Tensor upload(const Tensor& host) override;
  Tensor download(const Tensor& t) override;
  void download_to(const Tensor& t, Tensor& host_dst) override;
  void upload_to(const Tensor& host, Tensor& device_dst) override;
  void copy(const Tensor& src, Tensor& dst) override;
  void fill(Tensor& t, float value) override;
  void synchronize() override;
  bool can_record() const override { return ctx_->async_alloc; }
  void begin_recording() override;
  std::unique_ptr<RecordedWork> end_recording() override;
  void abort_recording() override;
  void replay(const RecordedWork& work) override;

  void layer_norm(const Tensor& x, const Tensor& scale, const Tensor& offset, Tensor& out, float eps) override;
  void add(Tensor& dst, const Tensor& src) override;
  void sigmoid_mul(Tensor& dst, const Tensor& gate_logits) override;
  void gated_add(Tensor& dst, const Tensor& src, const Tensor& gate_logits) override;
  void mul_rows(Tensor& x, const Tensor& row_scale) override;
  void relu(Tensor& x) override;
  void embedding(const Tensor& index, const Tensor& table, Tensor& out, bool accumulate) override;
  void masked_mean(const Tensor& x, const Tensor& mask, Tensor& out, float eps) override;
  void softmax_expectations(const Tensor& logits, const Tensor& values, Tensor& out) override;

  void linear(const LinearArgs& args) override;
  void gemm(const Tensor& a, bool trans_a, const Tensor& b, bool trans_b, Tensor& c, float alpha,
            float beta) override;

  void attention(const AttentionArgs& args) override;
  // Online softmax over keys given one at a time (cuda_online_attention.cpp).
  void attention_accumulate(const OnlineAttentionArgs& args) override;
  void attention_normalize(const Tensor& acc, const Tensor& l, Tensor& out) override;
  void triangle_multiply(const TriangleMultiplyArgs& args) override;
  void gated_transpose(const GatedTransposeArgs& args) override;
  void triangle_projection(const TriangleProjectionArgs& args) override;
  bool fuses_triangle_projection(const TriangleProjectionArgs& args) const override;
  void triangle_gated_output(const TriangleGatedOutputArgs& args) override;
  // The outer product mean's masked input projections (cuda_outer_product_projections.cpp).
  void outer_product_projections(const OuterProductProjectionArgs& args) override;
  bool fuses_outer_product_projections(const OuterProductProjectionArgs& args) const override;
  // MSA / pair transition (cuda_transition.cpp).
  void transition(const TransitionArgs& args) override;
  bool fuses_transition(const TransitionArgs& args) const override;
  // Attention pair bias (cuda_pair_bias.cpp).
  void pair_bias(const PairBiasArgs& args) override;
  bool fuses_pair_bias(const PairBiasArgs& args) const override;
  // Input features (cpu_features.cpp / cuda_features.cpp).
  void template_pair_features(const TemplatePairFeatureArgs& args) override;
  void relative_position_embedding(const RelativePositionEmbeddingArgs& args) override;
  void distogram_embedding(const DistogramEmbeddingArgs& args) override;
  void extra_msa_embedding(const ExtraMsaEmbeddingArgs& args) override;
  // Structure module (cuda_structure.cpp).
  void invariant_point_attention(const IpaArgs& args) override;
  void backbone_update(Tensor& affines, const Tensor& update) override;
  void outer_product_mean(const OuterProductMeanArgs& args) override;

  int device_index() const { return ctx_->device; }
  cudaStream_t stream() const { return ctx_->stream; }
  // Upper bound for one operation's scratch (attention logits, triangle-multiply and outer-product-mean GEMM
  // temporaries); operations work in chunks to stay below it. Tests lower it to exercise the chunking.
  void set_workspace_budget(size_t bytes) { workspace_budget_ = bytes; }
  size_t workspace_budget() const { return workspace_budget_; }
  // fp32 GEMMs on the TF32 tensor cores (`--precision tf32`); off by default.
  bool supports_bf16() const override { return true; }
  void set_allow_tf32(bool allow) override { allow_tf32_ = allow; }
  bool allow_tf32() const { return allow_tf32_; }

 private:
  // Makes this backend's GPU current on the calling thread (other backends may have switched it).
  void activate() const;
  // Raw stream-ordered device memory, freed (stream-ordered) when the last tensor using it goes away.
  std::shared_ptr<core::Storage> allocate(size_t bytes);
  // fp32 scratch of n elements for one operation.
  Tensor scratch(int64_t n);
  kernels::GemmMath math() const { return allow_tf32_ ? kernels::GemmMath::Tf32 : kernels::GemmMath::Fp32; }
  // `t` itself when it has `dtype` and its rows form a matrix cuBLAS can read (dense last dim, row stride >=
  // cols), else a contiguous device copy in `dtype`.
  Tensor gemm_operand(const Tensor& t, DType dtype, const char* what);
  void copy_views(const Tensor& src, Tensor& dst);

  std::shared_ptr<CudaContext> ctx_;
  size_t workspace_budget_ = static_cast<size_t>(kDefaultWorkspaceBytes);
  bool allow_tf32_ = false;
};

}  // namespace cuda
}  // namespace axf::backend
