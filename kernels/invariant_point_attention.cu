#include "kernels/invariant_point_attention.cuh"

#include <algorithm>
#include <cmath>

#include "backend/cuda/cuda_check.h"
#include "backend/frame_math.h"
#include "kernels/elem_io.cuh"

namespace axf::kernels {

namespace {

constexpr int kThreads = 128;        // 4 warps per query row
constexpr int kWarps = kThreads / 32;
constexpr int kTile = 32;            // keys per tile: one warp lane per key in the softmax step
constexpr int kKeyChunk = 8;         // float4s of a key row loaded at once (in flight together) for a logit
constexpr int kPrepareBlock = 128;

// Packed query/key rows: [sqk scalars, zero-padded to a multiple of 4 | 3 pqk global point coordinates (p, xyz),
// zero-padded likewise], so the attend kernel reads them as float4s and the zeros add nothing to the sums.
__host__ __device__ inline int64_t round4(int64_t x) { return (x + 3) / 4 * 4; }
__host__ __device__ inline int64_t key_width(int64_t sqk, int64_t pqk) { return round4(sqk) + round4(3 * pqk); }

// Per (residue r, head h): q_pack[r, h] and k_pack[r, h] packed as above, v_pack[r, h] = [value scalars | global
// value points (p, xyz)].
__global__ void __launch_bounds__(kPrepareBlock) ipa_prepare_kernel(const IpaParams p, float* __restrict__ q_pack,
                                                                    float* __restrict__ k_pack,
                                                                    float* __restrict__ v_pack) {
  const int64_t rh = static_cast<int64_t>(blockIdx.x) * kPrepareBlock + threadIdx.x;
  if (rh >= p.L * p.H) return;
  const int64_t r = rh / p.H, h = rh - r * p.H;
  const int64_t kd = key_width(p.sqk, p.pqk), pts = round4(p.sqk), vd = p.sv + 3 * p.pv, pkv = p.pqk + p.pv;
  float rot[9];
  backend::frame::quat_to_rot(p.affines + r * 7, rot);
  const float* t = p.affines + r * 7 + 4;
  float* q = q_pack + rh * kd;
  float* k = k_pack + rh * kd;
  float* v = v_pack + rh * vd;
  const float* qs = p.q_scalar + rh * p.sqk;
  const float* kvs = p.kv_scalar + rh * (p.sqk + p.sv);
  for (int64_t c = 0; c < kd; ++c) q[c] = k[c] = 0.f;
  for (int64_t c = 0; c < p.sqk; ++c) {
    q[c] = qs[c];
    k[c] = kvs[c];
  }
  for (int64_t c = 0; c < p.sv; ++c) v[c] = kvs[p.sqk + c];
  // Coordinate-major projections: column d * (H * P) + h * P + p holds coordinate d of point p of head h.
  const float* qp = p.q_point + r * 3 * p.H * p.pqk;
  const int64_t qw = p.H * p.pqk;
  for (int64_t pt = 0; pt < p.pqk; ++pt) {
    const int64_t col = h * p.pqk + pt;
    backend::frame::apply_point(rot, t, qp[col], qp[qw + col], qp[2 * qw + col], q + pts + 3 * pt);
  }
  const float* kvp = p.kv_point + r * 3 * p.H * pkv;
  const int64_t kvw = p.H * pkv;
  for (int64_t pt = 0; pt < pkv; ++pt) {
    const int64_t col = h * pkv + pt;
    float* dst = pt < p.pqk ? k + pts + 3 * pt : v + p.sv + 3 * (pt - p.pqk);
    backend::frame::apply_point(rot, t, kvp[col], kvp[kvw + col], kvp[2 * kvw + col], dst);
  }
}

// Shared memory of the attend kernel, in floats: offsets of each array (the weights first, 16-byte aligned).
struct SharedLayout {
  int64_t x, pen, q, pw, alpha, mx, mp, l, vacc, pacc, total;
  __host__ __device__ SharedLayout(int64_t H, int64_t kd, int64_t vd, int64_t cz) {
    x = 0;                   // [H, kTile] logits without the mask penalty, then the tile's weights
    pen = x + H * kTile;     // [H, kTile] mask penalties 1e5 (1 - m_i m_j)
    q = pen + H * kTile;     // [H, kd] this row's packed queries (kd a multiple of 4)
    pw = q + H * kd;         // [H] point weights
    alpha = pw + H;          // [H] rescale of the accumulators for this tile
    mx = alpha + H;          // [H] running maximum as (logit, penalty)
    mp = mx + H;
    l = mp + H;              // [H] running softmax denominator
    vacc = l + H;            // [H, vd] value scalars and global points
    pacc = vacc + H * vd;    // [H, cz] pair-weighted sums
    total = pacc + H * cz;
  }
};

__device__ __forceinline__ float warp_max(float v) {
  for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
  return v;
}
__device__ __forceinline__ float warp_sum(float v) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}

// sum_jj w[jj] * r[jj] over one tile; w in shared memory (16-byte aligned), r in registers.
__device__ __forceinline__ float tile_dot(const float* w, const float (&r)[kTile]) {
  const float4* w4 = reinterpret_cast<const float4*>(w);
  float a0 = 0.f, a1 = 0.f;
#pragma unroll
  for (int k = 0; k < kTile / 4; ++k) {
    const float4 v = w4[k];
    a0 += v.x * r[4 * k];
    a1 += v.y * r[4 * k + 1];
    a0 += v.z * r[4 * k + 2];
    a1 += v.w * r[4 * k + 3];
  }
  return a0 + a1;
}

// Indices inside a block are 32-bit (the launch checks H * max(kd, vd, cz) * kTile fits); global offsets 64-bit.
// TP: the pair's element type (float or bf16).
template <class TP>
__global__ void __launch_bounds__(kThreads, 4) ipa_attend_kernel(const IpaParams p, const float* __restrict__ q_pack,
                                                                 const float* __restrict__ k_pack,
                                                                 const float* __restrict__ v_pack) {
  extern __shared__ __align__(16) float smem[];
  const int H = static_cast<int>(p.H), sqk = static_cast<int>(p.sqk), sv = static_cast<int>(p.sv);
  const int pv = static_cast<int>(p.pv), cz = static_cast<int>(p.cz);
  const int kd = static_cast<int>(key_width(sqk, p.pqk)), vd = sv + 3 * pv;
  const int kd4 = kd / 4, scalar4 = static_cast<int>(round4(sqk)) / 4;
  const SharedLayout lay(H, kd, vd, cz);
  float* x_s = smem + lay.x;
  float* pen_s = smem + lay.pen;
  float* q_s = smem + lay.q;
  float* pw_s = smem + lay.pw;
  float* alpha_s = smem + lay.alpha;
  float* mx_s = smem + lay.mx;
  float* mp_s = smem + lay.mp;
  float* l_s = smem + lay.l;
  float* vacc_s = smem + lay.vacc;
  float* pacc_s = smem + lay.pacc;
  const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
  const int64_t i = blockIdx.x, L = p.L;

  const float* q_i = q_pack + i * H * kd;
  for (int e = tid; e < H * kd; e += kThreads) q_s[e] = q_i[e];
  for (int h = tid; h < H; h += kThreads) {
    pw_s[h] = p.point_weights[h];
    mx_s[h] = -INFINITY;
    mp_s[h] = 0.f;
    l_s[h] = 0.f;
  }
  for (int e = tid; e < H * vd; e += kThreads) vacc_s[e] = 0.f;
  for (int e = tid; e < H * cz; e += kThreads) pacc_s[e] = 0.f;
  const float m_i = p.mask[i];
  const float* bias_i = p.bias + i * p.bias_s0;
  const TP* pair_i = static_cast<const TP*>(p.pair) + i * p.pair_s0;
  __syncthreads();

  for (int64_t j0 = 0; j0 < L; j0 += kTile) {
    const int n = static_cast<int>(L - j0 < kTile ? L - j0 : kTile);
    // 1. Logits of the tile, (key, head) pairs with the head fastest so the bias reads are contiguous. Each
    //    chunk's key loads are issued together (one L2 latency, not one per element).
    for (int e = tid; e < H * kTile; e += kThreads) {
      const int jj = e / H, h = e - jj * H;
      float x = -INFINITY, pen = 0.f;
      if (jj < n) {
        const int64_t j = j0 + jj;
        const float4* k = reinterpret_cast<const float4*>(k_pack + (j * H + h) * kd);
        const float4* q = reinterpret_cast<const float4*>(q_s + h * kd);
        float dot = 0.f, dist2 = 0.f;
        for (int c0 = 0; c0 < kd4; c0 += kKeyChunk) {
          float4 kr[kKeyChunk];
#pragma unroll
          for (int u = 0; u < kKeyChunk; ++u) kr[u] = c0 + u < kd4 ? k[c0 + u] : make_float4(0.f, 0.f, 0.f, 0.f);
#pragma unroll
          for (int u = 0; u < kKeyChunk; ++u) {
            const int c = c0 + u;
            if (c >= kd4) continue;
            const float4 a = q[c], b = kr[u];
            if (c < scalar4) {
              dot += a.x * b.x + a.y * b.y + a.z * b.z + a.w * b.w;
            } else {
              const float dx = a.x - b.x, dy = a.y - b.y, dz = a.z - b.z, dw = a.w - b.w;
              dist2 += dx * dx + dy * dy + dz * dz + dw * dw;
            }
          }
        }
        x = p.scalar_weight * dot - 0.5f * pw_s[h] * dist2 + p.attention_2d_weight * bias_i[j * p.bias_s1 + h];
        pen = 1e5f * (1.f - m_i * p.mask[j]);
      }
      x_s[h * kTile + jj] = x;
      pen_s[h * kTile + jj] = pen;
    }
    __syncthreads();

    // 2. Online softmax, one warp per head, one lane per key. The reference point of the exponentials is kept
    //    as (logit, penalty) so exp((x - x_ref) - (pen - pen_ref)) is exact in the penalty when both are 1e5.
    for (int h = warp; h < H; h += kWarps) {
      const float x = x_s[h * kTile + lane], pen = pen_s[h * kTile + lane];
      const bool valid = lane < n;
      const float logit = valid ? x - pen : -INFINITY;
      const float tile_max = warp_max(logit);
      const unsigned at_max = __ballot_sync(0xffffffffu, valid && logit == tile_max);
      const int src = at_max ? __ffs(static_cast<int>(at_max)) - 1 : 0;
      const float x_new = __shfl_sync(0xffffffffu, x, src), pen_new = __shfl_sync(0xffffffffu, pen, src);
      const float mx_old = mx_s[h], mp_old = mp_s[h];
      const bool replace = tile_max > mx_old - mp_old;
      const float mx = replace ? x_new : mx_old, mp = replace ? pen_new : mp_old;
      const float alpha = expf((mx_old - mx) - (mp_old - mp));  // 1 when kept, 0 on the first tile
      const float w = valid ? expf((x - mx) - (pen - mp)) : 0.f;
      const float sum = warp_sum(w);
      x_s[h * kTile + lane] = w;
      __syncwarp();
      if (lane == 0) {
        l_s[h] = l_s[h] * alpha + sum;
        mx_s[h] = mx;
        mp_s[h] = mp;
        alpha_s[h] = alpha;
      }
    }
    __syncthreads();

    // 3. Accumulate; each thread loads its tile column into registers first (32 loads in flight, coalesced
    //    across threads). Values: one (head, element) per thread.
    const int hvd = H * vd;
    for (int e = tid; e < hvd; e += kThreads) {
      const int h = e / vd;
      const float* v = v_pack + j0 * hvd + e;
      float vr[kTile];
#pragma unroll
      for (int jj = 0; jj < kTile; ++jj) {
        vr[jj] = jj < n ? *v : 0.f;
        v += hvd;
      }
      vacc_s[e] = vacc_s[e] * alpha_s[h] + tile_dot(x_s + h * kTile, vr);
    }
    // Pair: one channel per thread for all heads, so each pair[i, j, c] is loaded once (coalesced over c).
    for (int c = tid; c < cz; c += kThreads) {
      const TP* pr_ptr = pair_i + j0 * p.pair_s1 + c;
      float pr[kTile];
#pragma unroll
      for (int jj = 0; jj < kTile; ++jj) {
        pr[jj] = jj < n ? ld(pr_ptr) : 0.f;
        pr_ptr += p.pair_s1;
      }
      for (int h = 0; h < H; ++h) {
        float* acc = pacc_s + h * cz + c;
        *acc = *acc * alpha_s[h] + tile_dot(x_s + h * kTile, pr);
      }
    }
    __syncthreads();
  }

  // Epilogue: normalise; value points back into frame i (invert_point), their norms; write the row.
  float* out = p.out + i * p.out_s0;
  const int f_points = H * sv, f_norms = f_points + 3 * H * pv, f_pair = f_norms + H * pv;
  for (int e = tid; e < H * sv; e += kThreads) {
    const int h = e / sv, c = e - h * sv;
    out[e] = vacc_s[h * vd + c] / l_s[h];
  }
  if (pv > 0) {
    float rot[9];
    backend::frame::quat_to_rot(p.affines + i * 7, rot);
    const float* t = p.affines + i * 7 + 4;
    for (int e = tid; e < H * pv; e += kThreads) {
      const int h = e / pv, pt = e - h * pv;
      const float inv = 1.f / l_s[h];
      const float* g = vacc_s + h * vd + sv + 3 * pt;
      const float g0 = g[0] * inv - t[0], g1 = g[1] * inv - t[1], g2 = g[2] * inv - t[2];
      float norm2 = 0.f;
      for (int d = 0; d < 3; ++d) {
        const float local = rot[d] * g0 + rot[3 + d] * g1 + rot[6 + d] * g2;
        out[f_points + d * H * pv + e] = local;
        norm2 += local * local;
      }
      out[f_norms + e] = sqrtf(1e-8f + norm2);
    }
  }
  for (int e = tid; e < H * cz; e += kThreads) out[f_pair + e] = pacc_s[e] / l_s[e / cz];
}

}  // namespace

int64_t ipa_workspace_elements(const IpaParams& p) {
  return p.L * p.H * (2 * key_width(p.sqk, p.pqk) + p.sv + 3 * p.pv);
}

size_t ipa_shared_bytes(const IpaParams& p) {
  return static_cast<size_t>(SharedLayout(p.H, key_width(p.sqk, p.pqk), p.sv + 3 * p.pv, p.cz).total) * sizeof(float);
}

void launch_invariant_point_attention(const IpaParams& p, float* workspace, cudaStream_t stream) {
  if (p.L == 0) return;
  AXF_CHECK(p.H > 0, "invariant_point_attention: no heads");
  AXF_CHECK(p.L <= 0x7fffffffll && p.L * p.H / kPrepareBlock < 0x7fffffffll, "invariant_point_attention: L=", p.L,
            " exceeds the grid limit");
  const int64_t kd = key_width(p.sqk, p.pqk), vd = p.sv + 3 * p.pv;
  AXF_CHECK(p.H * (std::max({kd, vd, p.cz, int64_t{1}}) + 4 * p.pv + p.sv) * kTile < 0x7fffffffll,
            "invariant_point_attention: H=", p.H, " heads of ", kd, "/", vd, "/", p.cz, " channels are too many");
  float* q_pack = workspace;
  float* k_pack = q_pack + p.L * p.H * kd;
  float* v_pack = k_pack + p.L * p.H * kd;
  const int64_t prep_blocks = (p.L * p.H + kPrepareBlock - 1) / kPrepareBlock;
  ipa_prepare_kernel<<<static_cast<unsigned>(prep_blocks), kPrepareBlock, 0, stream>>>(p, q_pack, k_pack, v_pack);
  AXF_CUDA_CHECK_LAUNCH("ipa_prepare_kernel");

  const size_t shared = ipa_shared_bytes(p);
  int device = 0, limit = 0;
  AXF_CUDA_CHECK(cudaGetDevice(&device));
  AXF_CUDA_CHECK(cudaDeviceGetAttribute(&limit, cudaDevAttrMaxSharedMemoryPerBlockOptin, device));
  AXF_CHECK(shared <= static_cast<size_t>(limit), "invariant_point_attention: H=", p.H, ", cz=", p.cz, " need ",
            shared, " bytes of shared memory per block, the device has ", limit);
  dispatch_float_type(p.pair_type, "invariant_point_attention pair", [&](auto tp) {
    const auto kernel = ipa_attend_kernel<decltype(tp)>;
    if (shared > 48 * 1024)
      AXF_CUDA_CHECK(
          cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(shared)));
    kernel<<<static_cast<unsigned>(p.L), kThreads, shared, stream>>>(p, q_pack, k_pack, v_pack);
  });
  AXF_CUDA_CHECK_LAUNCH("ipa_attend_kernel");
}

}  // namespace axf::kernels
