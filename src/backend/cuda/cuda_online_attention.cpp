// CUDA backend: the online softmax over keys given one at a time (kernels/online_attention.cuh); checks shared
// with the CPU backend (backend/online_attention_checks.h). Neither operation synchronises or allocates.
#include "backend/cuda/cuda_backend.h"
#include "backend/cuda/cuda_rows.h"
#include "backend/online_attention_checks.h"
#include "kernels/online_attention.cuh"

namespace axf::backend::cuda {

void CudaBackend::attention_accumulate(const OnlineAttentionArgs& a) {
  const OnlineAttentionDims d = check_attention_accumulate(a, core::Device::CUDA);
  kernels::OnlineAttentionParams p;
  p.B = d.B;
  p.H = d.H;
  p.D = d.D;
  p.Dv = d.Dv;
  p.q = a.q.raw_data();
  p.k = a.k.raw_data();
  p.v = a.v.raw_data();
  p.qkv_type = elem_type(a.q.dtype());
  p.q_s0 = a.q.stride(0);
  p.q_s1 = a.q.stride(1);
  p.k_s0 = a.k.stride(0);
  p.k_s1 = a.k.stride(1);
  p.v_s0 = a.v.stride(0);
  p.v_s1 = a.v.stride(1);
  p.m = f32_ptr(a.m);
  p.m_s0 = a.m.stride(0);
  p.m_s1 = a.m.stride(1);
  p.l = f32_ptr(a.l);
  p.l_s0 = a.l.stride(0);
  p.l_s1 = a.l.stride(1);
  p.acc = a.acc.raw_data();
  p.acc_type = elem_type(a.acc.dtype());
  p.acc_s0 = a.acc.stride(0);
  p.acc_s1 = a.acc.stride(1);
  p.scale = a.scale;
  activate();
  kernels::launch_attention_accumulate(p, ctx_->stream);
}

void CudaBackend::attention_normalize(const Tensor& acc, const Tensor& l, Tensor& out) {
  const OnlineAttentionDims d = check_attention_normalize(acc, l, out, core::Device::CUDA);
  kernels::AttentionNormalizeParams p;
  p.B = d.B;
  p.H = d.H;
  p.Dv = d.Dv;
  p.acc = acc.raw_data();
  p.acc_type = elem_type(acc.dtype());
  p.acc_s0 = acc.stride(0);
  p.acc_s1 = acc.stride(1);
  p.l = f32_ptr(l);
  p.l_s0 = l.stride(0);
  p.l_s1 = l.stride(1);
  p.out = out.raw_data();
  p.out_type = elem_type(out.dtype());
  p.out_s0 = out.stride(0);
  p.out_s1 = out.stride(1);
  activate();
  kernels::launch_attention_normalize(p, ctx_->stream);
}

}  // namespace axf::backend::cuda
