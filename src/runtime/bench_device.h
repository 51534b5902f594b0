// Device-side helpers of the benchmark: timing device work (CUDA events on the backend's stream, or a steady clock
// around a synchronize on the CPU), memory high-water marks (the stream-ordered pool on CUDA, peak RSS on the
// CPU) and a few device facts (description, last-level cache size).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "backend/backend.h"

namespace axf::runtime::bench {

// Seconds of the timed repetitions: median (the reported time), fastest, slowest.
struct Timing {
  double median = 0;
  double min = 0;
  double max = 0;
  int repeat = 0;
};

Timing summarize(std::vector<double> seconds);

// Times work(i) on `be`: `warmup` untimed runs, then `repeat` timed ones. setup(i), when given, runs before each
// run outside the timed region (restoring in-place inputs). On CUDA each run is bracketed by events recorded on
// the backend's stream; on the CPU by steady_clock reads after backend synchronisation.
class DeviceTimer {
 public:
  explicit DeviceTimer(backend::Backend& be);
  ~DeviceTimer();
  DeviceTimer(const DeviceTimer&) = delete;
  DeviceTimer& operator=(const DeviceTimer&) = delete;

  Timing run(int warmup, int repeat, const std::function<void(int)>& work,
             const std::function<void(int)>& setup = nullptr);
  bool uses_events() const { return start_ != nullptr; }

 private:
  double time_once(int i, const std::function<void(int)>& work, const std::function<void(int)>& setup);
  backend::Backend& be_;
  void* stream_ = nullptr;  // cudaStream_t of a CUDA backend
  void* start_ = nullptr;   // cudaEvent_t
  void* stop_ = nullptr;
};

// "NVIDIA H100 80GB HBM3 (sm_90, 132 SMs, 79.1 GiB)" or "CPU: <model name> (N threads)".
std::string device_description(backend::Backend& be);

// Bytes of the device's last-level cache (CUDA L2; CPU L3 or 32 MiB when unknown). Inputs smaller than a few
// times this are rotated among several copies so repeated runs do not time the cache.
int64_t last_level_cache_bytes(backend::Backend& be);

// Memory in use, and high-water marks since the last reset_memory_peaks().
struct MemoryStats {
  bool valid = false;
  double device_used = 0;    // CUDA: total - free (cudaMemGetInfo); CPU: resident set size
  double device_total = 0;   // CUDA: total device memory; CPU: 0
  double pool_used_high = 0;      // CUDA: cudaMemPoolAttrUsedMemHigh of the default pool; CPU: peak RSS (VmHWM)
  double pool_reserved_high = 0;  // CUDA: cudaMemPoolAttrReservedMemHigh; CPU: 0
  double graph_pool_high = 0;     // CUDA: cudaGraphMemAttrUsedMemHigh (the replayed stacks' temporaries); CPU: 0
};

// Returns the pool's unused memory to the device and resets the high-water marks (CPU: clears VmHWM when the
// kernel allows it). Synchronises the backend first.
void reset_memory_peaks(backend::Backend& be);
MemoryStats memory_stats(backend::Backend& be);

}  // namespace axf::runtime::bench
