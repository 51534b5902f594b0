// Measured ceilings of the benchmark's device: a large GEMM (fp32 as the backend computes; TF32 and BF16 through
// cublasGemmEx on CUDA) and a large device-to-device copy (bytes read + bytes written); on CUDA also the L2 read
// bandwidth and the SFU's exp2 rate (kernels/ceiling_probes.cuh), the limits of the attention kernels. CPU: OpenBLAS
// sgemm and a threaded memcpy. Every result is checked: sampled GEMM elements against double precision, the copy in
// full, every block's L2 sum and every thread's exp2 chains against the host.
#include <cblas.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/random.h"
#include "runtime/bench.h"
#include "runtime/bench_data.h"
#ifdef AXF_WITH_CUDA
#include "backend/cuda/cuda_backend.h"
#include "backend/cuda/cuda_check.h"
#include "kernels/ceiling_probes.cuh"
#endif

namespace axf::runtime::bench {

namespace {

constexpr int kGemmSamples = 64;

Row gemm_row(const std::string& name, int64_t n, double elem_bytes, const Timing& t) {
  Row r;
  r.name = name;
  r.shape = std::to_string(n) + "x" + std::to_string(n) + "x" + std::to_string(n);
  r.time = t;
  r.flops = 2.0 * static_cast<double>(n) * static_cast<double>(n) * static_cast<double>(n);
  r.bytes = 3.0 * static_cast<double>(n) * static_cast<double>(n) * elem_bytes;
  return r;
}

Row copy_row(const std::string& name, size_t bytes, const Timing& t) {
  Row r;
  r.name = name;
  r.shape = std::to_string(bytes >> 20) + " MiB";
  r.time = t;
  r.bytes = 2.0 * static_cast<double>(bytes);
  return r;
}

double rate(double amount, const Timing& t) { return t.median > 0 ? amount / t.median : 0.0; }

// C = A B for row-major n x n matrices, element (i, j) in double from the inputs as the device saw them.
double gemm_ref(const float* a, const float* b, int64_t n, int64_t i, int64_t j) {
  double s = 0;
  for (int64_t k = 0; k < n; ++k) s += static_cast<double>(a[i * n + k]) * b[k * n + j];
  return s;
}

Ceilings cpu_ceilings(backend::Backend& be, int repeat) {
  Ceilings c;
  DeviceTimer timer(be);
  // GEMM: the largest power-of-two size up to 4096 whose single run stays short.
  int64_t n = 256;
  for (;;) {
    const Tensor a = random_host({n, n}, 1), b = random_host({n, n}, 2);
    Tensor out = Tensor::empty({n, n});
    const auto t0 = std::chrono::steady_clock::now();
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, static_cast<int>(n), static_cast<int>(n),
                static_cast<int>(n), 1.f, a.data<float>(), static_cast<int>(n), b.data<float>(), static_cast<int>(n),
                0.f, out.data<float>(), static_cast<int>(n));
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (s > 0.03 || n >= 4096) break;
    n *= 2;
  }
  const Tensor a = random_host({n, n}, 3), b = random_host({n, n}, 4);
  Tensor out = Tensor::full({n, n}, NAN);
  const Timing tg = timer.run(1, repeat, [&](int) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, static_cast<int>(n), static_cast<int>(n),
                static_cast<int>(n), 1.f, a.data<float>(), static_cast<int>(n), b.data<float>(), static_cast<int>(n),
                0.f, out.data<float>(), static_cast<int>(n));
  });
  Row gemm = gemm_row("gemm fp32 (OpenBLAS sgemm)", n, 4, tg);
  Checker check(1e-4);
  check.add_nonfinite_scan(out);
  core::Random rng(5);
  for (int s = 0; s < kGemmSamples; ++s) {
    const int64_t i = static_cast<int64_t>(rng.below(n)), j = static_cast<int64_t>(rng.below(n));
    check.add(out.data<float>()[i * n + j], gemm_ref(a.data<float>(), b.data<float>(), n, i, j));
  }
  gemm.wrong = check.wrong();
  gemm.checked = check.checked();
  gemm.max_error = check.max_error();
  c.gemm_fp32 = rate(gemm.flops, tg);
  c.rows.push_back(gemm);

  // Copy: a buffer far larger than the last-level cache, copied by all threads.
  const size_t bytes = size_t{128} << 20, count = bytes / sizeof(float);
  const Tensor src = random_host({static_cast<int64_t>(count)}, 6);
  Tensor dst = Tensor::full({static_cast<int64_t>(count)}, NAN);
  const int64_t pieces = 256, piece = static_cast<int64_t>(count) / pieces;
  const Timing tc = timer.run(1, repeat, [&](int) {
#pragma omp parallel for schedule(static)
    for (int64_t p = 0; p < pieces; ++p)
      std::memcpy(dst.data<float>() + p * piece, src.data<float>() + p * piece, sizeof(float) * piece);
  });
  Row copy = copy_row("copy (memcpy, all threads)", bytes, tc);
  copy.wrong = 0;
  for (size_t i = 0; i < count; ++i) copy.wrong += src.data<float>()[i] == dst.data<float>()[i] ? 0 : 1;
  copy.checked = static_cast<int64_t>(count);
  c.copy = rate(copy.bytes, tc);
  c.rows.push_back(copy);
  return c;
}

#ifdef AXF_WITH_CUDA

class DeviceBuffer {
 public:
  explicit DeviceBuffer(size_t bytes) : bytes_(bytes) { AXF_CUDA_CHECK(cudaMalloc(&p_, bytes)); }
  ~DeviceBuffer() { cudaFree(p_); }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  void* get() const { return p_; }
  void upload(const void* host, size_t bytes, size_t offset = 0) {
    AXF_CHECK(offset + bytes <= bytes_, "device buffer overflow");
    AXF_CUDA_CHECK(cudaMemcpy(static_cast<char*>(p_) + offset, host, bytes, cudaMemcpyHostToDevice));
  }
  void download(void* host, size_t bytes, size_t offset = 0) const {
    AXF_CHECK(offset + bytes <= bytes_, "device buffer overrun");
    AXF_CUDA_CHECK(cudaMemcpy(host, static_cast<const char*>(p_) + offset, bytes, cudaMemcpyDeviceToHost));
  }

 private:
  void* p_ = nullptr;
  size_t bytes_;
};

class CublasHandle {
 public:
  explicit CublasHandle(cudaStream_t stream) {
    AXF_CUBLAS_CHECK(cublasCreate(&h_));
    AXF_CUBLAS_CHECK(cublasSetStream(h_, stream));
    AXF_CUBLAS_CHECK(cublasSetMathMode(h_, CUBLAS_DEFAULT_MATH));
  }
  ~CublasHandle() { cublasDestroy(h_); }
  CublasHandle(const CublasHandle&) = delete;
  CublasHandle& operator=(const CublasHandle&) = delete;
  cublasHandle_t get() const { return h_; }

 private:
  cublasHandle_t h_ = nullptr;
};

// Element (i, j) of the row-major n x n result stored in a device buffer of `elem_bytes` wide elements.
float device_element(const DeviceBuffer& c, int64_t n, int64_t i, int64_t j, bool bf16) {
  if (bf16) {
    uint16_t h = 0;
    c.download(&h, sizeof h, static_cast<size_t>(i * n + j) * sizeof h);
    return core::bf16_to_float(h);
  }
  float f = 0;
  c.download(&f, sizeof f, static_cast<size_t>(i * n + j) * sizeof f);
  return f;
}

Ceilings cuda_ceilings(backend::cuda::CudaBackend& be, int repeat) {
  Ceilings c;
  AXF_CUDA_CHECK(cudaSetDevice(be.device_index()));
  DeviceTimer timer(be);
  const cudaStream_t stream = be.stream();
  CublasHandle handle(stream);

  const int64_t n = 8192;
  const size_t elems = static_cast<size_t>(n * n);
  const Tensor a = random_host({n, n}, 11), b = random_host({n, n}, 12);
  // Row-major C = A B is column-major C^T = B^T A^T: pass B first.
  DeviceBuffer d_a(elems * 4), d_b(elems * 4), d_c(elems * 4);
  d_a.upload(a.data<float>(), elems * 4);
  d_b.upload(b.data<float>(), elems * 4);
  const float one = 1.f, zero = 0.f;
  const int ni = static_cast<int>(n);

  // Plain cudaMemcpy/cudaMemset run on the legacy stream, which the backend's non-blocking stream does not wait
  // for: finish them before timing.
  AXF_CUDA_CHECK(cudaDeviceSynchronize());

  // Times one GEMM variant, checks 64 sampled elements, records the row; returns FLOP/s (0 when the device or
  // library refuses the variant, which is then noted in its row).
  auto run_gemm = [&](const std::string& name, double elem_bytes, double tolerance, bool bf16, const float* ha,
                      const float* hb, const DeviceBuffer& out, const std::function<void()>& call) -> double {
    try {
      AXF_CUDA_CHECK(cudaMemsetAsync(out.get(), 0xff, elems * static_cast<size_t>(elem_bytes), stream));  // NaN
      const Timing t = timer.run(3, repeat, [&](int) { call(); });
      Row r = gemm_row(name, n, elem_bytes, t);
      Checker check(tolerance);
      core::Random rng(13);
      for (int s = 0; s < kGemmSamples; ++s) {
        const int64_t i = static_cast<int64_t>(rng.below(n)), j = static_cast<int64_t>(rng.below(n));
        check.add(device_element(out, n, i, j, bf16), gemm_ref(ha, hb, n, i, j));
      }
      r.wrong = check.wrong();
      r.checked = check.checked();
      r.max_error = check.max_error();
      c.rows.push_back(r);
      return rate(r.flops, t);
    } catch (const std::exception& e) {
      Row r = gemm_row(name, n, elem_bytes, Timing{});
      r.note = std::string("failed: ") + e.what();
      r.failed = true;
      c.rows.push_back(r);
      (void)cudaGetLastError();
      return 0.0;
    }
  };

  c.gemm_fp32 = run_gemm("gemm fp32 (cublasSgemm)", 4, 1e-4, false, a.data<float>(), b.data<float>(), d_c, [&] {
    AXF_CUBLAS_CHECK(cublasSgemm(handle.get(), CUBLAS_OP_N, CUBLAS_OP_N, ni, ni, ni, &one,
                                 static_cast<const float*>(d_b.get()), ni, static_cast<const float*>(d_a.get()), ni,
                                 &zero, static_cast<float*>(d_c.get()), ni));
  });
  AXF_CHECK(c.gemm_fp32 > 0, "the fp32 GEMM ceiling could not be measured: ", c.rows.back().note);
  c.gemm_tf32 = run_gemm("gemm tf32 (cublasGemmEx)", 4, 1e-2, false, a.data<float>(), b.data<float>(), d_c, [&] {
    AXF_CUBLAS_CHECK(cublasGemmEx(handle.get(), CUBLAS_OP_N, CUBLAS_OP_N, ni, ni, ni, &one, d_b.get(), CUDA_R_32F, ni,
                                  d_a.get(), CUDA_R_32F, ni, &zero, d_c.get(), CUDA_R_32F, ni,
                                  CUBLAS_COMPUTE_32F_FAST_TF32, CUBLAS_GEMM_DEFAULT));
  });
  {
    // bf16 operands and result, fp32 accumulation; the reference uses the bf16-rounded operands.
    std::vector<uint16_t> ha(elems), hb(elems);
    Tensor ra = Tensor::empty({n, n}), rb = Tensor::empty({n, n});
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < static_cast<int64_t>(elems); ++i) {
      ha[i] = core::float_to_bf16(a.data<float>()[i]);
      hb[i] = core::float_to_bf16(b.data<float>()[i]);
      ra.data<float>()[i] = core::bf16_to_float(ha[i]);
      rb.data<float>()[i] = core::bf16_to_float(hb[i]);
    }
    DeviceBuffer d_a16(elems * 2), d_b16(elems * 2), d_c16(elems * 2);
    d_a16.upload(ha.data(), elems * 2);
    d_b16.upload(hb.data(), elems * 2);
    AXF_CUDA_CHECK(cudaDeviceSynchronize());
    c.gemm_bf16 = run_gemm("gemm bf16 (cublasGemmEx)", 2, 1e-2, true, ra.data<float>(), rb.data<float>(), d_c16, [&] {
      AXF_CUBLAS_CHECK(cublasGemmEx(handle.get(), CUBLAS_OP_N, CUBLAS_OP_N, ni, ni, ni, &one, d_b16.get(), CUDA_R_16BF,
                                    ni, d_a16.get(), CUDA_R_16BF, ni, &zero, d_c16.get(), CUDA_R_16BF, ni,
                                    CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
    });
  }

  // Copy: 1 GiB device to device (20x the L2), source filled from a 64 MiB random pattern.
  const size_t bytes = size_t{1} << 30, pattern_bytes = size_t{64} << 20;
  const Tensor pattern = random_host({static_cast<int64_t>(pattern_bytes / 4)}, 14);
  DeviceBuffer d_src(bytes), d_dst(bytes);
  for (size_t off = 0; off < bytes; off += pattern_bytes) d_src.upload(pattern.data<float>(), pattern_bytes, off);
  AXF_CUDA_CHECK(cudaMemset(d_dst.get(), 0xff, bytes));
  AXF_CUDA_CHECK(cudaDeviceSynchronize());
  const Timing tc = timer.run(3, repeat, [&](int) {
    AXF_CUDA_CHECK(cudaMemcpyAsync(d_dst.get(), d_src.get(), bytes, cudaMemcpyDeviceToDevice, stream));
  });
  Row copy = copy_row("copy (cudaMemcpyAsync D2D)", bytes, tc);
  std::vector<float> back(pattern_bytes / 4);
  copy.wrong = 0;
  for (size_t off = 0; off < bytes; off += pattern_bytes) {
    d_dst.download(back.data(), pattern_bytes, off);
    for (size_t i = 0; i < back.size(); ++i) copy.wrong += back[i] == pattern.data<float>()[i] ? 0 : 1;
  }
  copy.checked = static_cast<int64_t>(bytes / 4);
  c.copy = rate(copy.bytes, tc);
  c.rows.push_back(copy);

  // The probes' rows, as the GEMM variants': one that throws is noted in its row and its ceiling stays 0.
  auto run_probe = [&](const std::string& name, const std::function<void(Row&)>& measure) -> Row {
    Row r;
    r.name = name;
    try {
      measure(r);
    } catch (const std::exception& e) {
      r.time = Timing{};
      r.note = std::string("failed: ") + e.what();
      r.failed = true;
      (void)cudaGetLastError();
    }
    c.rows.push_back(r);
    return r;
  };

  // L2 read: 40% of the L2 (20 MiB of an H100's 50 MB, so it stays resident between reads), read three times over
  // by every resident block; bytes = bytes read. The words are a hash of their index, so a block that skipped or
  // repeated part of the buffer writes a different sum.
  const Row l2 = run_probe("L2 read (ld.global.cg, 16 B)", [&](Row& r) {
    const size_t granule = kernels::kL2ReadGranule;
    const auto l2_bytes = static_cast<double>(last_level_cache_bytes(be));
    const size_t buffer_bytes = std::max(granule, static_cast<size_t>(0.4 * l2_bytes) / granule * granule);
    const size_t words = buffer_bytes / 4;
    std::vector<uint32_t> h_words(words);
#pragma omp parallel for schedule(static)
    for (int64_t k = 0; k < static_cast<int64_t>(words); ++k)
      h_words[k] = static_cast<uint32_t>(k) * 2654435761u ^ static_cast<uint32_t>(k >> 16);
    const int passes = 3;
    const int64_t blocks = kernels::l2_read_grid();
    DeviceBuffer d_words(buffer_bytes), d_sums(static_cast<size_t>(blocks) * 4);
    d_words.upload(h_words.data(), buffer_bytes);
    AXF_CUDA_CHECK(cudaMemset(d_sums.get(), 0xff, static_cast<size_t>(blocks) * 4));
    AXF_CUDA_CHECK(cudaDeviceSynchronize());
    r.time = timer.run(1, repeat, [&](int) {
      kernels::launch_l2_read(d_words.get(), buffer_bytes, passes, blocks, static_cast<uint32_t*>(d_sums.get()),
                              stream);
    });
    r.shape = std::to_string(buffer_bytes >> 20) + " MiB x" + std::to_string(blocks * passes);
    r.bytes = static_cast<double>(buffer_bytes) * static_cast<double>(blocks * passes);
    std::vector<uint32_t> sums(static_cast<size_t>(blocks));
    d_sums.download(sums.data(), sums.size() * 4);
    const uint32_t want = kernels::l2_read_expected(h_words.data(), words, passes);
    r.wrong = std::count_if(sums.begin(), sums.end(), [&](uint32_t s) { return s != want; });
    r.checked = blocks;
  });
  c.l2_read = rate(l2.bytes, l2.time);

  // SFU exp2: 8 chains of 4096 steps in every thread of every resident block (~2 ms on an H100). The row's flops
  // are exp2 evaluations, so its TFLOP/s column reads Texp2/s; bytes = the outputs written.
  const Row sfu = run_probe("SFU ex2.approx.f32 [Texp2/s]", [&](Row& r) {
    const int iterations = 4096;
    const int64_t blocks = kernels::exp2_grid(), threads = blocks * kernels::kExp2Block;
    DeviceBuffer d_out(static_cast<size_t>(threads) * 4);
    AXF_CUDA_CHECK(cudaMemsetAsync(d_out.get(), 0xff, static_cast<size_t>(threads) * 4, stream));  // NaN
    r.time = timer.run(1, repeat, [&](int) {
      kernels::launch_exp2_chains(blocks, iterations, static_cast<float*>(d_out.get()), stream);
    });
    r.shape = std::to_string(threads) + "x" + std::to_string(kernels::kExp2Chains) + "x" + std::to_string(iterations);
    r.flops = static_cast<double>(threads) * kernels::kExp2Chains * iterations;
    r.bytes = static_cast<double>(threads) * 4;
    std::vector<float> out(static_cast<size_t>(threads));
    d_out.download(out.data(), out.size() * 4);
    const std::vector<float> ends = kernels::exp2_chain_ends(iterations);
    Checker check(1e-4);  // ex2.approx is within a few ulp of exp2f and the chains contract
    for (int64_t t = 0; t < threads; ++t) check.add(out[t], kernels::exp2_thread_expected(ends, t));
    r.wrong = check.wrong();
    r.checked = check.checked();
    r.max_error = check.max_error();
  });
  c.sfu_exp2 = rate(sfu.flops, sfu.time);
  AXF_CUDA_CHECK(cudaStreamSynchronize(stream));
  return c;
}

#endif

}  // namespace

Ceilings measure_ceilings(backend::Backend& be, int repeat) {
  Ceilings c;
#ifdef AXF_WITH_CUDA
  if (auto* cuda = dynamic_cast<backend::cuda::CudaBackend*>(&be)) {
    c = cuda_ceilings(*cuda, std::max(repeat, 20));
    c.device = device_description(be);
    return c;
  }
#endif
  c = cpu_ceilings(be, std::max(repeat, 3));
  c.device = device_description(be);
  return c;
}

}  // namespace axf::runtime::bench
