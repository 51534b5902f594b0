// Benchmark device helpers (see bench_device.h).
#include "runtime/bench_device.h"

#include <omp.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <sstream>

#include "core/error.h"
#ifdef AXF_WITH_CUDA
#include "backend/cuda/cuda_backend.h"
#include "backend/cuda/cuda_check.h"
#endif

namespace axf::runtime::bench {

namespace {

#ifdef AXF_WITH_CUDA
backend::cuda::CudaBackend* as_cuda(backend::Backend& be) { return dynamic_cast<backend::cuda::CudaBackend*>(&be); }

cudaMemPool_t default_pool(int device) {
  int supported = 0;
  if (cudaDeviceGetAttribute(&supported, cudaDevAttrMemoryPoolsSupported, device) != cudaSuccess || !supported) {
    (void)cudaGetLastError();
    return nullptr;
  }
  cudaMemPool_t pool = nullptr;
  AXF_CUDA_CHECK(cudaDeviceGetDefaultMemPool(&pool, device));
  return pool;
}
#endif

// "VmHWM:   12345 kB" -> bytes; 0 when absent.
double proc_status_bytes(const std::string& key) {
  std::ifstream in("/proc/self/status");
  for (std::string line; std::getline(in, line);)
    if (line.rfind(key + ":", 0) == 0) {
      std::istringstream fields(line.substr(key.size() + 1));
      double kb = 0;
      fields >> kb;
      return kb * 1024.0;
    }
  return 0;
}

}  // namespace

Timing summarize(std::vector<double> seconds) {
  Timing t;
  t.repeat = static_cast<int>(seconds.size());
  if (seconds.empty()) return t;
  std::sort(seconds.begin(), seconds.end());
  const size_t n = seconds.size();
  t.median = n % 2 ? seconds[n / 2] : 0.5 * (seconds[n / 2 - 1] + seconds[n / 2]);
  t.min = seconds.front();
  t.max = seconds.back();
  return t;
}

DeviceTimer::DeviceTimer(backend::Backend& be) : be_(be) {
#ifdef AXF_WITH_CUDA
  if (auto* cuda = as_cuda(be)) {
    AXF_CUDA_CHECK(cudaSetDevice(cuda->device_index()));
    stream_ = cuda->stream();
    cudaEvent_t a = nullptr, b = nullptr;
    AXF_CUDA_CHECK(cudaEventCreate(&a));
    AXF_CUDA_CHECK(cudaEventCreate(&b));
    start_ = a;
    stop_ = b;
  }
#endif
}

DeviceTimer::~DeviceTimer() {
#ifdef AXF_WITH_CUDA
  if (start_) cudaEventDestroy(static_cast<cudaEvent_t>(start_));
  if (stop_) cudaEventDestroy(static_cast<cudaEvent_t>(stop_));
#endif
}

double DeviceTimer::time_once(int i, const std::function<void(int)>& work, const std::function<void(int)>& setup) {
  if (setup) setup(i);
#ifdef AXF_WITH_CUDA
  if (start_) {
    auto stream = static_cast<cudaStream_t>(stream_);
    AXF_CUDA_CHECK(cudaEventRecord(static_cast<cudaEvent_t>(start_), stream));
    work(i);
    AXF_CUDA_CHECK(cudaEventRecord(static_cast<cudaEvent_t>(stop_), stream));
    AXF_CUDA_CHECK(cudaEventSynchronize(static_cast<cudaEvent_t>(stop_)));
    AXF_CUDA_CHECK(cudaGetLastError());
    float ms = 0;
    AXF_CUDA_CHECK(cudaEventElapsedTime(&ms, static_cast<cudaEvent_t>(start_), static_cast<cudaEvent_t>(stop_)));
    return 1e-3 * static_cast<double>(ms);
  }
#endif
  be_.synchronize();
  const auto t0 = std::chrono::steady_clock::now();
  work(i);
  be_.synchronize();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

Timing DeviceTimer::run(int warmup, int repeat, const std::function<void(int)>& work,
                        const std::function<void(int)>& setup) {
  AXF_CHECK(repeat >= 1, "benchmark: repeat must be >= 1, got ", repeat);
  for (int i = 0; i < warmup; ++i) time_once(i, work, setup);
  std::vector<double> seconds;
  for (int i = 0; i < repeat; ++i) seconds.push_back(time_once(warmup + i, work, setup));
  return summarize(std::move(seconds));
}

std::string device_description(backend::Backend& be) {
#ifdef AXF_WITH_CUDA
  if (auto* cuda = as_cuda(be)) return backend::cuda_device_description(cuda->device_index());
#endif
  std::string model = "unknown CPU";
  std::ifstream in("/proc/cpuinfo");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("model name", 0) == 0) {
      const auto colon = line.find(':');
      if (colon != std::string::npos) model = line.substr(line.find_first_not_of(" \t", colon + 1));
      break;
    }
  return "CPU: " + model + " (" + std::to_string(omp_get_max_threads()) + " threads)";
}

int64_t last_level_cache_bytes(backend::Backend& be) {
#ifdef AXF_WITH_CUDA
  if (auto* cuda = as_cuda(be)) {
    int bytes = 0;
    AXF_CUDA_CHECK(cudaDeviceGetAttribute(&bytes, cudaDevAttrL2CacheSize, cuda->device_index()));
    return bytes > 0 ? bytes : int64_t{50} << 20;
  }
#endif
  (void)be;
  const long l3 = sysconf(_SC_LEVEL3_CACHE_SIZE);
  return l3 > 0 ? static_cast<int64_t>(l3) : int64_t{32} << 20;
}

void reset_memory_peaks(backend::Backend& be) {
  be.synchronize();
#ifdef AXF_WITH_CUDA
  if (auto* cuda = as_cuda(be)) {
    if (cudaMemPool_t pool = default_pool(cuda->device_index())) {
      AXF_CUDA_CHECK(cudaMemPoolTrimTo(pool, 0));
      uint64_t zero = 0;
      AXF_CUDA_CHECK(cudaMemPoolSetAttribute(pool, cudaMemPoolAttrUsedMemHigh, &zero));
      AXF_CUDA_CHECK(cudaMemPoolSetAttribute(pool, cudaMemPoolAttrReservedMemHigh, &zero));
    }
    AXF_CUDA_CHECK(cudaDeviceGraphMemTrim(cuda->device_index()));
    uint64_t zero = 0;
    AXF_CUDA_CHECK(cudaDeviceSetGraphMemAttribute(cuda->device_index(), cudaGraphMemAttrUsedMemHigh, &zero));
    return;
  }
#endif
  // "5" resets the peak resident set size (VmHWM) of this process (Linux >= 4.0); best effort.
  std::ofstream clear("/proc/self/clear_refs");
  if (clear) clear << "5";
}

MemoryStats memory_stats(backend::Backend& be) {
  MemoryStats m;
  be.synchronize();
#ifdef AXF_WITH_CUDA
  if (auto* cuda = as_cuda(be)) {
    AXF_CUDA_CHECK(cudaSetDevice(cuda->device_index()));
    size_t free_bytes = 0, total_bytes = 0;
    AXF_CUDA_CHECK(cudaMemGetInfo(&free_bytes, &total_bytes));
    m.device_used = static_cast<double>(total_bytes - free_bytes);
    m.device_total = static_cast<double>(total_bytes);
    if (cudaMemPool_t pool = default_pool(cuda->device_index())) {
      uint64_t used_high = 0, reserved_high = 0;
      AXF_CUDA_CHECK(cudaMemPoolGetAttribute(pool, cudaMemPoolAttrUsedMemHigh, &used_high));
      AXF_CUDA_CHECK(cudaMemPoolGetAttribute(pool, cudaMemPoolAttrReservedMemHigh, &reserved_high));
      m.pool_used_high = static_cast<double>(used_high);
      m.pool_reserved_high = static_cast<double>(reserved_high);
    }
    uint64_t graph_high = 0;
    AXF_CUDA_CHECK(cudaDeviceGetGraphMemAttribute(cuda->device_index(), cudaGraphMemAttrUsedMemHigh, &graph_high));
    m.graph_pool_high = static_cast<double>(graph_high);
    m.valid = true;
    return m;
  }
#endif
  m.device_used = proc_status_bytes("VmRSS");
  m.pool_used_high = proc_status_bytes("VmHWM");
  m.valid = m.device_used > 0;
  return m;
}

}  // namespace axf::runtime::bench
