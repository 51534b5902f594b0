// Recorded regions: a region of device work (a function issuing backend operations, such as the 48 blocks of the
// Evoformer stack) that a prediction runs once per recycling pass, run through the backend's recording (CUDA graphs,
// Backend::begin_recording) so that later passes replay it with no host work per kernel:
//   pass 1: run as usual (weights made on first use come into being then), timed: launch-bound when the GPU
//           finished within kLaunchBoundTail of the time the host took to launch it;
//   pass 2: recorded, then replayed, if worth it: with GraphMode::On always; with Auto only when pass 1 was
//           launch-bound and at least kAutoRecordRunsAhead more runs follow. Recording (capture and
//           instantiation of some 2,500 kernels and their memory nodes) costs about three passes of host work that
//           the GPU does not overlap, and a replay saves only the gaps between kernels. On an H100 (bf16), full
//           model_1_ptm settings at L=64: the Evoformer stack took 48 ms a pass launched, 42 ms replayed, 100 ms
//           to record; 8 MSA rows, no extra MSA or templates, L=128, 8 passes: 34 ms launched, 26 ms replayed,
//           110-125 ms to record, so the 8 passes took 0.300 s recorded against 0.270 s launched;
//   pass 3..: replayed,
// as long as the region reads and writes the same buffers (its key: their addresses, shapes, strides and dtypes);
// with another key it runs as usual again. A recording the backend refuses (an operation that cannot be recorded)
// turns recording off for the rest of the prediction, with a warning, and the region runs as usual. Kept by the
// prediction (model::TrunkCache); the recorded work belongs to the context's backend.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "runtime/execution_context.h"

namespace axf::runtime {

constexpr double kLaunchBoundTail = 0.1;

class RecordedRegions {
 public:
  void run(ExecutionContext& ctx, const std::string& name, const std::vector<core::Tensor>& buffers,
           const std::function<void()>& region);
  // How many more times the caller will run each region after the coming run.
  void set_runs_ahead(int n) { runs_ahead_ = n; }
  int64_t recordings() const { return recordings_; }
  int64_t replays() const { return replays_; }

 private:
  struct Region {
    std::vector<int64_t> key;
    bool ran = false;           // once as usual with this key
    bool launch_bound = false;  // ... and the GPU was waiting for the host then
    std::unique_ptr<backend::RecordedWork> work;
  };
  std::map<std::string, Region> regions_;
  bool refused_ = false;
  int runs_ahead_ = 1 << 20;
  int64_t recordings_ = 0, replays_ = 0;
};

}  // namespace axf::runtime
