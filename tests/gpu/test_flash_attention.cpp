// The flash attention kernels (kernels/flash_attention.cuh) behind CudaBackend::attention against the CPU backend:
// random cases with odd sizes, tails of the 64-query / 64-key tiles, fully masked rows, one key, shared key heads
// (Hk = 1), broadcast masks, with and without bias and gate, strided views (aligned and not), in fp32 (1e-5) and
// bf16 (1e-2; inputs rounded to bf16 for both backends). Output views are poisoned (NaN) first and the rest of
// their buffers must come back untouched. Then a timing table at AlphaFold sizes (printed, not asserted): the
// flash kernels against the cuBLAS + softmax path. Skipped without a GPU.
#include <gtest/gtest.h>

#ifdef AXF_WITH_CUDA

#include <cublas_v2.h>
#include <cuda_runtime_api.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <limits>
#include <ostream>
#include <string>
#include <vector>

#include "backend/backend.h"
#include "backend/cuda/cuda_backend.h"
#include "backend/cuda/cuda_check.h"
#include "core/error.h"
#include "kernels/attention.cuh"
#include "kernels/flash_attention.cuh"
#include "support/model_test_support.h"

namespace axf::test {
namespace {

using backend::Backend;
using core::DType;
using ViewFn = std::function<Tensor(const Tensor&)>;

enum class Layout { Dense, Strided, StridedAligned };

struct FlashCase {
  std::string name;
  int64_t B = 0, Q = 0, K = 0, H = 0, Hk = 0, D = 0, Dv = 0;
  bool mask = true, mask_broadcast = false, bias = true, gate = true;
  Layout layout = Layout::Dense;
  std::vector<int64_t> masked_rows;  // rows of the mask (batch elements, or the one broadcast row) fully masked
  DType dtype = DType::F32;
  DType bias_dtype = DType::F32;
  float logit_scale = 1.f;  // widens the logits' range (q and bias scaled)
};
void PrintTo(const FlashCase& c, std::ostream* os) { *os << c.name; }

FlashCase fc(std::string name, int64_t B, int64_t Q, int64_t K, int64_t H, int64_t Hk, int64_t D, int64_t Dv,
             bool mask = true, bool mask_broadcast = false, bool bias = true, bool gate = true,
             Layout layout = Layout::Dense, std::vector<int64_t> masked_rows = {}) {
  FlashCase c;
  c.name = std::move(name);
  c.B = B, c.Q = Q, c.K = K, c.H = H, c.Hk = Hk, c.D = D, c.Dv = Dv;
  c.mask = mask, c.mask_broadcast = mask_broadcast, c.bias = bias, c.gate = gate;
  c.layout = layout;
  c.masked_rows = std::move(masked_rows);
  return c;
}

uint64_t next_seed() {
  static uint64_t s = 777;
  return ++s;
}

// One operand: a host buffer and the view of it the op sees.
struct Operand {
  Tensor buffer;
  ViewFn view;
  Tensor of(const Tensor& b) const { return view ? view(b) : b; }
};

// Values exactly representable in `t` (so both backends see the same inputs).
Tensor representable(const Tensor& x, DType t) { return t == DType::F32 ? x : x.to(t).to(DType::F32); }

Operand operand(const Shape& buffer_shape, ViewFn view, float scale, DType t) {
  return {representable(random_tensor(buffer_shape, next_seed(), scale), t), std::move(view)};
}

// q, k, v, mask, bias, gate, out (mask/bias/gate buffers are placeholders when absent).
std::vector<Operand> build_operands(const FlashCase& c) {
  const int64_t B = c.B, Q = c.Q, K = c.K, H = c.H, Hk = c.Hk, D = c.D, Dv = c.Dv;
  const DType t = c.dtype;
  std::vector<Operand> ops(7);
  auto slice3 = [](int64_t begin, int64_t n) { return [=](const Tensor& x) { return x.slice(3, begin, begin + n); }; };
  switch (c.layout) {
    case Layout::Dense:
      ops[0] = operand({B, Q, H, D}, {}, c.logit_scale, t);
      ops[1] = operand({B, K, Hk, D}, {}, 1.f, t);
      ops[2] = operand({B, K, Hk, Dv}, {}, 1.f, t);
      ops[5] = operand({B, Q, H, Dv}, {}, 1.f, t);
      ops[6] = operand({B, Q, H, Dv}, {}, 1.f, t);
      break;
    case Layout::Strided:  // odd offsets: the kernels' element-wise load paths
      ops[0] = operand({Q, B, H, D}, [](const Tensor& x) { return x.transpose(0, 1); }, c.logit_scale, t);
      ops[1] = operand({B, Hk, K, D}, [](const Tensor& x) { return x.permute({0, 2, 1, 3}); }, 1.f, t);
      ops[2] = operand({B, K, Hk, Dv + 5}, slice3(2, Dv), 1.f, t);
      ops[5] = operand({B, Q, H, Dv + 3}, slice3(1, Dv), 1.f, t);
      ops[6] = operand({Q, B, H, Dv + 3}, [=](const Tensor& x) { return x.transpose(0, 1).slice(3, 1, 1 + Dv); },
                       1.f, t);
      break;
    case Layout::StridedAligned:  // strided, but every row starts on 32 bytes: the vector load paths
      ops[0] = operand({Q, B, H, D + 8}, [=](const Tensor& x) { return x.transpose(0, 1).slice(3, 8, 8 + D); },
                       c.logit_scale, t);
      ops[1] = operand({B, Hk, K, D}, [](const Tensor& x) { return x.permute({0, 2, 1, 3}); }, 1.f, t);
      ops[2] = operand({B, K, Hk, Dv + 8}, slice3(8, Dv), 1.f, t);
      ops[5] = operand({B, Q, H, Dv + 8}, slice3(8, Dv), 1.f, t);
      ops[6] = operand({Q, B, H, Dv + 8}, [=](const Tensor& x) { return x.transpose(0, 1).slice(3, 0, Dv); }, 1.f, t);
      break;
  }
  if (c.mask) {
    const int64_t rows = c.mask_broadcast ? 1 : B;
    Tensor m = random_mask({rows, K}, next_seed(), 0.7f);
    for (int64_t r : c.masked_rows) {
      Tensor row = m.select(0, r);
      core::copy_host(Tensor::zeros(row.shape()), row);
    }
    if (c.layout == Layout::Strided) {
      Tensor mt = Tensor::empty({K, rows});
      Tensor mv = mt.transpose(0, 1);
      core::copy_host(m, mv);
      ops[3] = {mt, [](const Tensor& x) { return x.transpose(0, 1); }};
    } else {
      ops[3] = {m, {}};
    }
  } else {
    ops[3] = {Tensor::zeros({1}), {}};
  }
  if (!c.bias) {
    ops[4] = {Tensor::zeros({1}), {}};
  } else if (c.layout == Layout::Strided) {  // key stride != 1
    ops[4] = operand({H, K, Q}, [](const Tensor& x) { return x.transpose(1, 2); }, 2.f * c.logit_scale, c.bias_dtype);
  } else if (c.layout == Layout::StridedAligned) {
    ops[4] = operand({H, Q, K + 8}, [=](const Tensor& x) { return x.slice(2, 0, K); }, 2.f * c.logit_scale,
                     c.bias_dtype);
  } else {
    ops[4] = operand({H, Q, K}, {}, 2.f * c.logit_scale, c.bias_dtype);
  }
  if (!c.gate) ops[5] = {Tensor::zeros({1}), {}};
  return ops;
}

backend::AttentionArgs make_args(const FlashCase& c, const std::vector<Tensor>& v) {
  backend::AttentionArgs a;
  a.q = v[0];
  a.k = v[1];
  a.v = v[2];
  if (c.mask) a.key_mask = v[3];
  if (c.bias) a.bias = v[4];
  if (c.gate) a.gate = v[5];
  a.out = v[6];
  a.scale = 1.0f / std::sqrt(static_cast<float>(c.D));
  return a;
}

class FlashAttention : public ::testing::TestWithParam<FlashCase> {
 protected:
  static void SetUpTestSuite() {
    if (backend::cuda_device_count() == 0) return;
    cpu_ = backend::make_cpu_backend().release();
    cuda_ = backend::make_cuda_backend(0).release();
  }
  static void TearDownTestSuite() {
    delete cpu_;
    delete cuda_;
    cpu_ = cuda_ = nullptr;
  }
  void SetUp() override {
    if (backend::cuda_device_count() == 0) GTEST_SKIP() << "no CUDA device";
  }
  static Backend* cpu_;
  static Backend* cuda_;
};
Backend* FlashAttention::cpu_ = nullptr;
Backend* FlashAttention::cuda_ = nullptr;

TEST_P(FlashAttention, MatchesCpu) {
  const FlashCase& c = GetParam();
  const std::vector<Operand> ops = build_operands(c);

  // CPU reference on fp32 host views.
  std::vector<Tensor> host;
  for (const Operand& o : ops) host.push_back(o.buffer.clone());
  std::vector<Tensor> host_views;
  for (size_t i = 0; i < ops.size(); ++i) host_views.push_back(ops[i].of(host[i]));
  cpu_->attention(make_args(c, host_views));
  const Tensor want = host_views[6];

  // GPU: q, k, v, gate, out in the case's dtype (bias in its own, mask fp32); the out view poisoned.
  std::vector<Tensor> dev, dev_views;
  for (size_t i = 0; i < ops.size(); ++i) {
    Tensor h = ops[i].buffer.clone();
    if (i == 6) {
      Tensor view = ops[i].of(h);
      core::copy_host(Tensor::full(view.shape(), std::numeric_limits<float>::quiet_NaN()), view);
    }
    const DType t = i == 3 ? DType::F32 : i == 4 ? c.bias_dtype : c.dtype;
    dev.push_back(cuda_->upload(t == DType::F32 ? h : h.to(t)));
    dev_views.push_back(ops[i].of(dev.back()));
  }
  cuda_->attention(make_args(c, dev_views));
  const Tensor got_buffer = cuda_->download(dev[6]).to(DType::F32);

  // Inside the view: close to the CPU; outside: the buffer as it was.
  Tensor expected = ops[6].buffer.clone(), inside = Tensor::zeros(expected.shape());
  Tensor ev = ops[6].of(expected), iv = ops[6].of(inside);
  core::copy_host(want, ev);
  core::copy_host(Tensor::full(iv.shape(), 1.f), iv);
  const float* g = got_buffer.data<float>();
  const float* e = expected.data<float>();
  const float* in = inside.data<float>();
  double err = 0, ref = 0;
  for (int64_t i = 0; i < expected.numel(); ++i) {
    if (in[i] == 0.f) {
      ASSERT_EQ(g[i], e[i]) << "element " << i << " outside the output view was changed";
      continue;
    }
    ASSERT_TRUE(std::isfinite(e[i])) << "CPU output element " << i;
    ASSERT_TRUE(std::isfinite(g[i])) << "GPU output element " << i << " is " << g[i] << " (not written?)";
    err = std::max(err, std::fabs(static_cast<double>(g[i]) - e[i]));
    ref = std::max(ref, std::fabs(static_cast<double>(e[i])));
  }
  const double rel = err / (ref + 1e-30), tol = c.dtype == DType::F32 ? 1e-5 : 1e-2;
  RecordProperty("max_rel_error", std::to_string(rel));
  std::printf("  %-36s max rel error %.3g\n", c.name.c_str(), rel);
  EXPECT_LE(rel, tol);
}

std::vector<FlashCase> flash_cases() {
  std::vector<FlashCase> cs;
  auto add = [&](FlashCase c) { cs.push_back(std::move(c)); };
  const Layout S = Layout::Strided, A = Layout::StridedAligned;
  // name, B, Q, K, H, Hk, D, Dv, mask, broadcast, bias, gate, layout, masked rows
  add(fc("odd_sizes", 2, 7, 9, 3, 3, 5, 6));
  add(fc("tile_tails_fully_masked_row", 3, 130, 200, 2, 2, 32, 32, true, false, true, true, Layout::Dense, {1}));
  add(fc("one_key", 3, 5, 1, 2, 2, 8, 8, true, false, true, true, Layout::Dense, {0}));
  add(fc("one_key_many_queries", 2, 70, 1, 2, 2, 16, 16));
  add(fc("global_hk1_one_query", 5, 1, 150, 8, 1, 8, 8, true, false, false, false, Layout::Dense, {2}));
  add(fc("hk1_gated", 3, 70, 67, 3, 1, 16, 16));
  add(fc("broadcast_mask", 4, 65, 129, 4, 4, 32, 32, true, true, true, false));
  add(fc("broadcast_mask_all_masked", 2, 33, 77, 2, 2, 32, 32, true, true, true, true, Layout::Dense, {0}));
  add(fc("no_mask_bias_gate_d64", 2, 100, 100, 2, 2, 64, 64, false, false, false, false));
  add(fc("head_dims_3_13", 2, 19, 40, 3, 3, 3, 13));
  add(fc("head_dims_33_40", 2, 70, 90, 2, 2, 33, 40));
  add(fc("head_dims_17_9", 2, 64, 64, 2, 2, 17, 9));
  add(fc("strided_unaligned", 3, 66, 70, 2, 2, 32, 32, true, false, true, true, S, {2}));
  add(fc("strided_aligned", 3, 66, 136, 2, 2, 32, 32, true, false, true, true, A));
  add(fc("strided_aligned_d16_hk1", 2, 40, 72, 4, 1, 16, 16, true, true, true, true, A));
  add(fc("long_keys", 1, 64, 1000, 1, 1, 32, 32));
  FlashCase wide = fc("wide_logits", 2, 80, 300, 2, 2, 32, 32);
  wide.logit_scale = 8.f;
  add(wide);
  add(fc("fallback_head_dim_80", 2, 9, 11, 2, 2, 80, 72));
  // bf16 inputs (tensor cores), fp32 or bf16 bias.
  for (FlashCase c : std::vector<FlashCase>{
           fc("bf16_odd_sizes", 2, 7, 9, 3, 3, 5, 6),
           fc("bf16_tile_tails_fully_masked_row", 3, 130, 200, 2, 2, 32, 32, true, false, true, true, Layout::Dense,
              {1}),
           fc("bf16_one_key", 3, 5, 1, 2, 2, 8, 8, true, false, true, true, Layout::Dense, {0}),
           fc("bf16_global_hk1_one_query", 5, 1, 150, 8, 1, 8, 8, true, false, false, false, Layout::Dense, {2}),
           fc("bf16_broadcast_mask_d64", 2, 65, 129, 4, 4, 64, 64, true, true, true, true),
           fc("bf16_no_mask_bias_gate_d16", 2, 100, 100, 2, 2, 16, 16, false, false, false, false),
           fc("bf16_head_dims_33_40", 2, 70, 90, 2, 2, 33, 40),
           fc("bf16_strided_unaligned", 3, 66, 70, 2, 2, 32, 32, true, false, true, true, S, {2}),
           fc("bf16_strided_aligned", 3, 66, 136, 2, 2, 32, 32, true, false, true, true, A),
           fc("bf16_fallback_head_dim_80", 2, 9, 11, 2, 2, 80, 72)}) {
    c.dtype = DType::BF16;
    add(c);
  }
  FlashCase bb = fc("bf16_bias_bf16", 2, 70, 130, 4, 4, 32, 32, true, false, true, true, Layout::Dense, {1});
  bb.dtype = bb.bias_dtype = DType::BF16;
  add(bb);
  FlashCase bs = fc("bf16_bias_bf16_strided", 2, 70, 130, 2, 2, 32, 32, true, false, true, true, S);
  bs.dtype = bs.bias_dtype = DType::BF16;
  add(bs);
  // bf16 bias with more batch rows: fully masked rows, head dims 16 and 32, aligned strided views, no gate.
  for (FlashCase c : std::vector<FlashCase>{
           fc("bf16_bias_bf16_rows4_d16", 4, 70, 130, 4, 4, 16, 16, true, false, true, true, Layout::Dense, {1, 3}),
           fc("bf16_bias_bf16_rows5_tails", 5, 130, 200, 2, 2, 32, 32, true, false, true, true, Layout::Dense, {4}),
           fc("bf16_bias_bf16_rows3_aligned", 3, 66, 136, 2, 2, 32, 32, true, false, true, true, A),
           fc("bf16_bias_bf16_rows7_no_gate", 7, 33, 64, 3, 3, 32, 32, true, true, true, false)}) {
    c.dtype = c.bias_dtype = DType::BF16;
    add(c);
  }
  return cs;
}

INSTANTIATE_TEST_SUITE_P(Cases, FlashAttention, ::testing::ValuesIn(flash_cases()),
                         [](const ::testing::TestParamInfo<FlashCase>& info) { return info.param.name; });

TEST(FlashAttentionSupport, HeadDimsAndDtypes) {
  kernels::FlashAttentionParams p;
  p.B = p.Q = p.K = 4;
  p.H = p.Hk = 2;
  for (int64_t d : {1, 8, 16, 32, 33, 64}) {
    p.D = p.Dv = d;
    EXPECT_TRUE(kernels::flash_attention_supported(p)) << d;
  }
  p.D = 80;
  EXPECT_FALSE(kernels::flash_attention_supported(p));
  p.D = 32;
  p.dtype = kernels::ElemType::F16;
  EXPECT_FALSE(kernels::flash_attention_supported(p));
  p.dtype = kernels::ElemType::BF16;
  p.bias_dtype = kernels::ElemType::BF16;
  EXPECT_TRUE(kernels::flash_attention_supported(p));
  p.dtype = kernels::ElemType::F32;
  EXPECT_FALSE(kernels::flash_attention_supported(p));  // bf16 bias with fp32 inputs
}

// ---- Timing ----------------------------------------------------------------------------------------------------

struct TimedCase {
  const char* name;
  int64_t B, Q, K, H, D;
  bool bias;
};

// Median of `reps` event-timed runs after `warmup` runs, in ms.
double median_ms(cudaStream_t stream, const std::function<void()>& run, int warmup = 3, int reps = 20) {
  for (int i = 0; i < warmup; ++i) run();
  cudaEvent_t a, b;
  AXF_CUDA_CHECK(cudaEventCreate(&a));
  AXF_CUDA_CHECK(cudaEventCreate(&b));
  std::vector<double> t;
  for (int i = 0; i < reps; ++i) {
    AXF_CUDA_CHECK(cudaEventRecord(a, stream));
    run();
    AXF_CUDA_CHECK(cudaEventRecord(b, stream));
    AXF_CUDA_CHECK(cudaEventSynchronize(b));
    float ms = 0;
    AXF_CUDA_CHECK(cudaEventElapsedTime(&ms, a, b));
    t.push_back(ms);
  }
  AXF_CUDA_CHECK(cudaEventDestroy(a));
  AXF_CUDA_CHECK(cudaEventDestroy(b));
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

// A device tensor of `shape` filled with random normals: one host block of `chunk` leading rows, repeated.
Tensor device_random(backend::cuda::CudaBackend& be, const Shape& shape, int64_t chunk) {
  Tensor d = be.empty(shape, DType::F32);
  chunk = std::min(chunk, shape[0]);
  Shape cs = shape;
  cs[0] = chunk;
  const Tensor src = be.upload(random_tensor(cs, next_seed()));
  for (int64_t b = 0; b < shape[0]; b += chunk) {
    const int64_t n = std::min(chunk, shape[0] - b);
    Tensor dst = d.slice(0, b, b + n);
    be.copy(src.slice(0, 0, n), dst);
  }
  return d;
}

// Worst |x - ref| / max |ref| and the count of elements off by more than tol * max |ref| (or not finite).
std::pair<double, int64_t> compare(const Tensor& x, const Tensor& ref, double tol) {
  const std::vector<float> a = x.to_vector(), b = ref.to_vector();
  double err = 0, mx = 0;
  for (float v : b) mx = std::max(mx, std::fabs(static_cast<double>(v)));
  int64_t wrong = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    const double d = std::fabs(static_cast<double>(a[i]) - b[i]);
    if (!std::isfinite(a[i]) || d > tol * mx) ++wrong;
    if (std::isfinite(d)) err = std::max(err, d);
  }
  return {err / (mx + 1e-30), wrong};
}

TEST(FlashAttentionTiming, AlphaFoldSizes) {
  if (backend::cuda_device_count() == 0) GTEST_SKIP() << "no CUDA device";
  backend::cuda::CudaBackend be(0);
  const cudaStream_t stream = be.stream();
  cublasHandle_t handle = nullptr;
  AXF_CUBLAS_CHECK(cublasCreate(&handle));
  AXF_CUBLAS_CHECK(cublasSetStream(handle, stream));
  AXF_CUBLAS_CHECK(cublasSetMathMode(handle, CUBLAS_DEFAULT_MATH));

  const std::vector<TimedCase> cases = {
      {"msa_row L=512", 512, 512, 512, 8, 32, true},    // Suppl. Alg. 7: B = sequences, bias from the pair
      {"triangle L=512", 512, 512, 512, 4, 32, true},   // Suppl. Alg. 13/14: B = residues
      {"msa_col L=512", 512, 512, 512, 8, 32, false},   // Suppl. Alg. 8: B = residues, keys = sequences
      {"extra_msa_row L=512", 1024, 512, 512, 8, 8, true},  // Suppl. Alg. 7 in the extra MSA stack, c = 8
  };
  struct Row {
    std::string name, path;
    double ms, tflops, err;
    int64_t wrong;
  };
  std::vector<Row> rows;
  for (const TimedCase& c : cases) {
    const Shape qs{c.B, c.Q, c.H, c.D}, ks{c.B, c.K, c.H, c.D};
    Tensor q = device_random(be, qs, 64), k = device_random(be, ks, 64), v = device_random(be, ks, 64);
    Tensor gate = device_random(be, qs, 64), out_old = be.empty(qs, DType::F32), out_new = be.empty(qs, DType::F32);
    Tensor bias = c.bias ? be.upload(random_tensor({c.H, c.Q, c.K}, next_seed(), 2.f)) : Tensor();
    Tensor mask = be.upload(random_mask({c.B, c.K}, next_seed(), 0.9f));
    const double flop = 2.0 * c.B * c.H * c.Q * c.K * (c.D + c.D);

    kernels::AttentionParams op;
    op.B = c.B, op.Q = c.Q, op.K = c.K, op.H = c.H, op.Hk = c.H, op.D = op.Dv = c.D;
    op.scale = 1.0f / std::sqrt(static_cast<float>(c.D));
    auto f32 = [](const Tensor& t) { return static_cast<float*>(t.raw_data()); };
    op.q = f32(q), op.q_s0 = q.stride(0), op.q_s1 = q.stride(1), op.q_s2 = q.stride(2);
    op.k = f32(k), op.k_s0 = k.stride(0), op.k_s1 = k.stride(1), op.k_s2 = k.stride(2);
    op.v = f32(v), op.v_s0 = v.stride(0), op.v_s1 = v.stride(1), op.v_s2 = v.stride(2);
    op.out = f32(out_old), op.out_s0 = out_old.stride(0), op.out_s1 = out_old.stride(1), op.out_s2 = out_old.stride(2);
    op.gate = f32(gate), op.gate_s0 = gate.stride(0), op.gate_s1 = gate.stride(1), op.gate_s2 = gate.stride(2);
    op.mask = f32(mask), op.mask_s0 = mask.stride(0), op.mask_s1 = mask.stride(1);
    if (c.bias) op.bias = f32(bias), op.bias_s0 = bias.stride(0), op.bias_s1 = bias.stride(1), op.bias_s2 = bias.stride(2);
    const kernels::AttentionPlan plan = kernels::plan_attention(op, be.workspace_budget());
    const Tensor ws = be.empty({static_cast<int64_t>(plan.workspace_bytes / sizeof(float))}, DType::F32);
    const kernels::GemmEngine engine{handle, nullptr, stream};
    const double t_old = median_ms(stream, [&] { kernels::launch_attention(op, plan, f32(ws), engine, stream); });

    kernels::FlashAttentionParams fp;
    fp.B = op.B, fp.Q = op.Q, fp.K = op.K, fp.H = op.H, fp.Hk = op.Hk, fp.D = op.D, fp.Dv = op.Dv, fp.scale = op.scale;
    fp.q = op.q, fp.q_s0 = op.q_s0, fp.q_s1 = op.q_s1, fp.q_s2 = op.q_s2;
    fp.k = op.k, fp.k_s0 = op.k_s0, fp.k_s1 = op.k_s1, fp.k_s2 = op.k_s2;
    fp.v = op.v, fp.v_s0 = op.v_s0, fp.v_s1 = op.v_s1, fp.v_s2 = op.v_s2;
    fp.gate = op.gate, fp.gate_s0 = op.gate_s0, fp.gate_s1 = op.gate_s1, fp.gate_s2 = op.gate_s2;
    fp.mask = op.mask, fp.mask_s0 = op.mask_s0, fp.mask_s1 = op.mask_s1;
    fp.bias = op.bias, fp.bias_s0 = op.bias_s0, fp.bias_s1 = op.bias_s1, fp.bias_s2 = op.bias_s2;
    fp.out = f32(out_new), fp.out_s0 = op.out_s0, fp.out_s1 = op.out_s1, fp.out_s2 = op.out_s2;
    be.fill(out_new, std::numeric_limits<float>::quiet_NaN());
    const double t_new = median_ms(stream, [&] { kernels::launch_flash_attention(fp, stream); });
    const Tensor ref = be.download(out_old);
    const auto [e_new, w_new] = compare(be.download(out_new), ref, 1e-4);

    // bf16 copies of q, k, v, gate (fp32 bias and mask), bf16 out.
    auto bf16 = [&](const Tensor& t) {
      Tensor c16 = be.empty(t.shape(), DType::BF16);
      be.copy(t, c16);
      return c16;
    };
    const Tensor q16 = bf16(q), k16 = bf16(k), v16 = bf16(v), g16 = bf16(gate);
    Tensor o16 = be.empty(qs, DType::BF16);
    kernels::FlashAttentionParams hp = fp;
    hp.dtype = kernels::ElemType::BF16;
    hp.q = q16.raw_data(), hp.k = k16.raw_data(), hp.v = v16.raw_data(), hp.gate = g16.raw_data();
    hp.out = o16.raw_data();
    const double t_bf16 = median_ms(stream, [&] { kernels::launch_flash_attention(hp, stream); });
    const auto [e_bf16, w_bf16] = compare(be.download(o16), ref, 3e-2);

    rows.push_back({c.name, "cuBLAS+softmax fp32", t_old, flop / t_old * 1e-9, 0.0, 0});
    rows.push_back({"", "flash fp32", t_new, flop / t_new * 1e-9, e_new, w_new});
    rows.push_back({"", "flash bf16 (mma)", t_bf16, flop / t_bf16 * 1e-9, e_bf16, w_bf16});
    EXPECT_EQ(w_new, 0) << c.name << ": flash fp32 differs from the cuBLAS path";
    EXPECT_EQ(w_bf16, 0) << c.name << ": flash bf16 differs from the cuBLAS path";
  }
  cublasDestroy(handle);
  std::printf("\nAttention timings on %s (median of 20, cudaEvents; FLOP = 4 B H Q K D)\n",
              backend::cuda_device_description(0).c_str());
  std::printf("%-22s %-22s %10s %9s %12s %8s\n", "case", "path", "ms", "TFLOP/s", "err vs old", "#wrong");
  for (const Row& r : rows)
    std::printf("%-22s %-22s %10.3f %9.2f %12.3g %8lld\n", r.name.c_str(), r.path.c_str(), r.ms, r.tflops, r.err,
                static_cast<long long>(r.wrong));
}

}  // namespace
}  // namespace axf::test

#else  // !AXF_WITH_CUDA

TEST(FlashAttention, RequiresCuda) { GTEST_SKIP() << "built without CUDA (AXF_CUDA=OFF)"; }

#endif
