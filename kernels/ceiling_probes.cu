#include "kernels/ceiling_probes.cuh"

#include <cmath>

#include "backend/cuda/cuda_check.h"

namespace axf::kernels {

namespace {

// Volatile: a plain asm with the same address is a pure function to the compiler, which could then keep one
// pass's words for the next instead of reading L2 again.
__device__ __forceinline__ uint4 load_cg(const uint4* p) {
  uint4 v;
  asm volatile("ld.global.cg.v4.u32 {%0, %1, %2, %3}, [%4];"
               : "=r"(v.x), "=r"(v.y), "=r"(v.z), "=r"(v.w)
               : "l"(p));
  return v;
}

// Block b starts at granule b * granules / gridDim.x and wraps around, so at any moment the blocks are spread over
// the whole buffer (and so over every L2 slice) rather than all asking one slice for the same lines.
__global__ void __launch_bounds__(kL2ReadBlock) l2_read_kernel(const uint4* __restrict__ buffer, int64_t granules,
                                                              int passes, uint32_t* __restrict__ out) {
  constexpr int kGranuleWords = kL2ReadBlock * kL2ReadUnroll;  // 16-byte words
  const int64_t start = static_cast<int64_t>(blockIdx.x) * granules / gridDim.x;
  uint32_t acc = 0;
  for (int p = 0; p < passes; ++p) {
    int64_t g = start;
    for (int64_t i = 0; i < granules; ++i) {
      const uint4* q = buffer + g * kGranuleWords + threadIdx.x;
      uint4 v[kL2ReadUnroll];
#pragma unroll
      for (int u = 0; u < kL2ReadUnroll; ++u) v[u] = load_cg(q + u * kL2ReadBlock);
#pragma unroll
      for (int u = 0; u < kL2ReadUnroll; ++u) acc += v[u].x + v[u].y + v[u].z + v[u].w;
      if (++g == granules) g = 0;
    }
  }
  for (int o = 16; o > 0; o >>= 1) acc += __shfl_xor_sync(0xffffffffu, acc, o);
  __shared__ uint32_t warp_sums[kL2ReadBlock / 32];
  if (threadIdx.x % 32 == 0) warp_sums[threadIdx.x / 32] = acc;
  __syncthreads();
  if (threadIdx.x == 0) {
    uint32_t s = 0;
    for (int w = 0; w < kL2ReadBlock / 32; ++w) s += warp_sums[w];
    out[blockIdx.x] = s;
  }
}

// 2^x on the SFU (as kernels/flash_attention_device.cuh's exp2_approx).
__device__ __forceinline__ float ex2_approx(float x) {
  float y;
  asm("ex2.approx.ftz.f32 %0, %1;" : "=f"(y) : "f"(x));
  return y;
}

// Chain c of thread t starts from start s = exp2_start_index(t, c), the value exp2_start_value(s): the same on host
// and device, exact in float (s / 128 and the shift are exact), spread over [-4, 4) so neighbouring chains differ.
__host__ __device__ inline int exp2_start_index(int64_t thread, int chain) {
  return static_cast<int>((thread * 7 + chain * 131) & (kExp2Starts - 1));
}
__host__ __device__ inline float exp2_start_value(int s) { return static_cast<float>(s) / 128.f - 4.f; }

// ex2(-|x|): from any start the chain lies in (0, 1] after one step, where the map's slope is at most ln 2 (the
// fixed point 0.641 has slope 0.44), so errors shrink along the chain and the values stay finite.
__global__ void __launch_bounds__(kExp2Block) exp2_chains_kernel(int iterations, float* __restrict__ out) {
  const int64_t t = static_cast<int64_t>(blockIdx.x) * kExp2Block + threadIdx.x;
  float x[kExp2Chains];
#pragma unroll
  for (int c = 0; c < kExp2Chains; ++c) x[c] = exp2_start_value(exp2_start_index(t, c));
#pragma unroll 4
  for (int i = 0; i < iterations; ++i) {
#pragma unroll
    for (int c = 0; c < kExp2Chains; ++c) x[c] = ex2_approx(-fabsf(x[c]));
  }
  float s = x[0];
#pragma unroll
  for (int c = 1; c < kExp2Chains; ++c) s += x[c];
  out[t] = s;
}

template <typename Kernel>
int64_t resident(Kernel kernel, int threads) {
  int device = 0, sms = 0, per_sm = 0;
  AXF_CUDA_CHECK(cudaGetDevice(&device));
  AXF_CUDA_CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device));
  AXF_CUDA_CHECK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, kernel, threads, 0));
  return int64_t{per_sm > 1 ? per_sm : 1} * sms;
}

}  // namespace

int64_t l2_read_grid() { return resident(l2_read_kernel, kL2ReadBlock); }

void launch_l2_read(const void* d_buffer, size_t bytes, int passes, int64_t blocks, uint32_t* d_out,
                    cudaStream_t stream) {
  AXF_CHECK(bytes > 0 && bytes % kL2ReadGranule == 0, "L2 read probe: ", bytes, " bytes is not a positive multiple of ",
            kL2ReadGranule);
  AXF_CHECK(reinterpret_cast<uintptr_t>(d_buffer) % 16 == 0, "L2 read probe: the buffer is not 16-byte aligned");
  AXF_CHECK(passes > 0 && blocks > 0 && blocks <= 0x7fffffff, "L2 read probe: passes ", passes, ", blocks ", blocks);
  const int64_t granules = static_cast<int64_t>(bytes / kL2ReadGranule);
  l2_read_kernel<<<static_cast<unsigned>(blocks), kL2ReadBlock, 0, stream>>>(static_cast<const uint4*>(d_buffer),
                                                                             granules, passes, d_out);
  AXF_CUDA_CHECK_LAUNCH("l2_read_kernel");
}

uint32_t l2_read_expected(const uint32_t* h_words, size_t count, int passes) {
  uint32_t s = 0;
  for (size_t i = 0; i < count; ++i) s += h_words[i];
  return s * static_cast<uint32_t>(passes);
}

int64_t exp2_grid() { return resident(exp2_chains_kernel, kExp2Block); }

void launch_exp2_chains(int64_t blocks, int iterations, float* d_out, cudaStream_t stream) {
  AXF_CHECK(iterations >= 0 && blocks > 0 && blocks <= 0x7fffffff, "exp2 probe: blocks ", blocks, ", iterations ",
            iterations);
  exp2_chains_kernel<<<static_cast<unsigned>(blocks), kExp2Block, 0, stream>>>(iterations, d_out);
  AXF_CUDA_CHECK_LAUNCH("exp2_chains_kernel");
}

std::vector<float> exp2_chain_ends(int iterations) {
  std::vector<float> ends(kExp2Starts);
  for (int s = 0; s < kExp2Starts; ++s) {
    float x = exp2_start_value(s);
    for (int i = 0; i < iterations; ++i) x = std::exp2(-std::fabs(x));
    ends[s] = x;
  }
  return ends;
}

float exp2_thread_expected(const std::vector<float>& chain_ends, int64_t thread) {
  AXF_CHECK(chain_ends.size() == kExp2Starts, "exp2 probe: ", chain_ends.size(), " chain ends, not ", kExp2Starts);
  // In the device's order of summation.
  float s = chain_ends[exp2_start_index(thread, 0)];
  for (int c = 1; c < kExp2Chains; ++c) s += chain_ends[exp2_start_index(thread, c)];
  return s;
}

}  // namespace axf::kernels
