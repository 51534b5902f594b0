// CUDA backend: the structure module's invariant point attention core (kernels/invariant_point_attention.cuh) and
// backbone update (kernels/backbone_update.cuh), fp32 but for the IPA pair (fp32 or bf16); checks shared with the
// CPU backend (backend/structure_ops.h).
#include "backend/cuda/cuda_backend.h"
#include "backend/cuda/cuda_check.h"
#include "backend/cuda/cuda_rows.h"
#include "backend/structure_ops.h"
#include "kernels/backbone_update.cuh"
#include "kernels/invariant_point_attention.cuh"

namespace axf::backend::cuda {

namespace {
float* f32(const Tensor& t) { return static_cast<float*>(t.raw_data()); }
}  // namespace

void CudaBackend::invariant_point_attention(const IpaArgs& a) {
  const IpaDims d = check_ipa_args(a, core::Device::CUDA);
  if (d.L == 0) return;
  kernels::IpaParams p;
  p.L = d.L;
  p.H = d.H;
  p.sqk = d.sqk;
  p.sv = d.sv;
  p.pqk = d.pqk;
  p.pv = d.pv;
  p.cz = d.cz;
  p.q_scalar = f32(a.q_scalar);
  p.kv_scalar = f32(a.kv_scalar);
  p.q_point = f32(a.q_point);
  p.kv_point = f32(a.kv_point);
  p.affines = f32(a.affines);
  p.mask = f32(a.mask);
  p.point_weights = f32(a.point_weights);
  p.bias = f32(a.bias_2d);
  p.bias_s0 = a.bias_2d.stride(0);
  p.bias_s1 = a.bias_2d.stride(1);
  p.pair = a.pair.raw_data();
  p.pair_type = elem_type(a.pair.dtype());
  p.pair_s0 = a.pair.stride(0);
  p.pair_s1 = a.pair.stride(1);
  p.out = f32(a.out);
  p.out_s0 = a.out.stride(0);
  p.scalar_weight = a.scalar_weight;
  p.attention_2d_weight = a.attention_2d_weight;
  activate();
  const Tensor workspace = scratch(kernels::ipa_workspace_elements(p));
  kernels::launch_invariant_point_attention(p, f32(workspace), ctx_->stream);
}

void CudaBackend::backbone_update(Tensor& affines, const Tensor& update) {
  const int64_t L = check_backbone_update_args(affines, update, core::Device::CUDA);
  activate();
  kernels::launch_backbone_update({f32(affines), f32(update), L}, ctx_->stream);
}

}  // namespace axf::backend::cuda
