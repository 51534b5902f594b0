#include "runtime/recorded_regions.h"

#include <chrono>
#include <cstdint>

#include "core/error.h"
#include "runtime/log.h"

namespace axf::runtime {

namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

std::vector<int64_t> buffer_key(const std::vector<core::Tensor>& buffers) {
  std::vector<int64_t> key;
  for (const core::Tensor& t : buffers) {
    key.push_back(static_cast<int64_t>(reinterpret_cast<uintptr_t>(t.raw_data())));
    key.push_back(static_cast<int64_t>(t.dtype()));
    key.push_back(t.ndim());
    for (int d = 0; d < t.ndim(); ++d) {
      key.push_back(t.size(d));
      key.push_back(t.stride(d));
    }
  }
  return key;
}

}  // namespace

void RecordedRegions::run(ExecutionContext& ctx, const std::string& name, const std::vector<core::Tensor>& buffers,
                          const std::function<void()>& region) {
  backend::Backend& be = ctx.backend();
  if (refused_ || !be.can_record() || ctx.graphs() == GraphMode::Off) {
    region();
    return;
  }
  Region& r = regions_[name];
  const std::vector<int64_t> key = buffer_key(buffers);
  if (r.key != key) {
    r = Region{};
    r.key = key;
  }
  if (!r.ran) {
    const auto start = std::chrono::steady_clock::now();
    region();
    const double launched = seconds_since(start);
    be.synchronize();
    const double done = seconds_since(start);
    r.ran = true;
    r.launch_bound = done - launched <= kLaunchBoundTail * done;
    log_info(name, ": launched in ", launched, " s, done in ", done, " s",
             r.launch_bound ? " (launch-bound)" : "");
    return;
  }
  const bool worth_recording =
      ctx.graphs() == GraphMode::On || (r.launch_bound && runs_ahead_ >= kAutoRecordRunsAhead);
  if (!r.work && !worth_recording) {
    region();
    return;
  }
  if (!r.work) {
    const auto start = std::chrono::steady_clock::now();
    be.begin_recording();
    try {
      region();
      r.work = be.end_recording();
    } catch (const std::exception& e) {
      be.abort_recording();
      refused_ = true;
      log_info("warning: CUDA graphs off for this prediction: recording ", name, " failed: ", e.what());
      region();
      return;
    }
    ++recordings_;
    log_info(name, ": recorded as a CUDA graph in ", seconds_since(start), " s (host)");
  }
  be.replay(*r.work);
  ++replays_;
}

}  // namespace axf::runtime
