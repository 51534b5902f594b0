// runtime::RecordedRegions and the recording policy on the CPU, through a backend that records its fill and add
// operations as closures (what a CUDA graph does with kernels): a region runs as usual first, is recorded and
// replayed the second time, replayed after; a new key runs as usual again; Auto records only with enough runs
// ahead; a refused recording turns recording off for good and the region still runs. records_stacks' decision.
#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <vector>

#include "core/error.h"
#include "parallel/communicator.h"
#include "runtime/execution_context.h"
#include "runtime/recorded_regions.h"

namespace axf::test {
namespace {

using backend::Backend;
using core::DType;
using core::Shape;
using core::Tensor;

// fill and add are recorded between begin_recording and end_recording; the rest forwards to the CPU backend or is
// not used here.
class ClosureRecordingBackend final : public Backend {
 public:
  struct Work final : backend::RecordedWork {
    std::vector<std::function<void()>> ops;
  };

  std::string name() const override { return "closure-recording"; }
  core::Device device() const override { return core::Device::CPU; }
  Tensor empty(const Shape& shape, DType dtype) override { return cpu_->empty(shape, dtype); }
  Tensor upload(const Tensor& host) override { return cpu_->upload(host); }
  Tensor download(const Tensor& t) override {
    AXF_CHECK(!recording_, "download inside a recording");
    return cpu_->download(t);
  }
  void copy(const Tensor& src, Tensor& dst) override { cpu_->copy(src, dst); }
  void fill(Tensor& t, float value) override {
    issue([this, t, value]() mutable { cpu_->fill(t, value); });
  }
  void add(Tensor& dst, const Tensor& src) override {
    issue([this, dst, src]() mutable { cpu_->add(dst, src); });
  }

  bool can_record() const override { return true; }
  void begin_recording() override {
    AXF_CHECK(!recording_, "nested recording");
    recording_ = std::make_unique<Work>();
  }
  std::unique_ptr<backend::RecordedWork> end_recording() override {
    AXF_CHECK(recording_, "end_recording without begin_recording");
    std::unique_ptr<Work> work = std::move(recording_);
    if (refuse_) {
      ++refusals;
      AXF_FAIL("recording refused");
    }
    return work;
  }
  void abort_recording() override { recording_.reset(); }
  void replay(const backend::RecordedWork& work) override {
    ++replays;
    for (const auto& op : dynamic_cast<const Work&>(work).ops) op();
  }

  void refuse_recordings() { refuse_ = true; }
  int refusals = 0, replays = 0;

  // Not used by these tests.
  void layer_norm(const Tensor&, const Tensor&, const Tensor&, Tensor&, float) override { unused(); }
  void sigmoid_mul(Tensor&, const Tensor&) override { unused(); }
  void gated_add(Tensor&, const Tensor&, const Tensor&) override { unused(); }
  void mul_rows(Tensor&, const Tensor&) override { unused(); }
  void relu(Tensor&) override { unused(); }
  void embedding(const Tensor&, const Tensor&, Tensor&, bool) override { unused(); }
  void masked_mean(const Tensor&, const Tensor&, Tensor&, float) override { unused(); }
  void softmax_expectations(const Tensor&, const Tensor&, Tensor&) override { unused(); }
  void linear(const backend::LinearArgs&) override { unused(); }
  void gemm(const Tensor&, bool, const Tensor&, bool, Tensor&, float, float) override { unused(); }
  void attention(const backend::AttentionArgs&) override { unused(); }
  void attention_accumulate(const backend::OnlineAttentionArgs&) override { unused(); }
  void attention_normalize(const Tensor&, const Tensor&, Tensor&) override { unused(); }
  void triangle_multiply(const backend::TriangleMultiplyArgs&) override { unused(); }
  void gated_transpose(const backend::GatedTransposeArgs&) override { unused(); }
  void outer_product_mean(const backend::OuterProductMeanArgs&) override { unused(); }

 private:
  [[noreturn]] static void unused() { AXF_FAIL("not used by this test backend"); }
  void issue(std::function<void()> op) {
    if (recording_) {
      recording_->ops.push_back(std::move(op));
    } else {
      op();
    }
  }
  std::unique_ptr<Backend> cpu_ = backend::make_cpu_backend(1);
  std::unique_ptr<Work> recording_;
  bool refuse_ = false;
};

// Elements of the test buffers: enough that a region's work (about a millisecond) dwarfs the timer's resolution, so
// the launch-bound test of the first run (the CPU backend computes while launching) is never a coin toss.
constexpr int64_t kN = int64_t{1} << 20;

// v[i] = i + offset.
std::vector<float> ramp(float offset) {
  std::vector<float> v(static_cast<size_t>(kN));
  for (int64_t i = 0; i < kN; ++i) v[static_cast<size_t>(i)] = static_cast<float>(i % 1000) + offset;
  return v;
}

class RecordedRegionsTest : public ::testing::Test {
 protected:
  RecordedRegionsTest() : ctx_(be_, comm_) {
    x_ = be_.upload(Tensor::from_vector({kN}, ramp(1.f)));
    out_ = be_.empty({kN}, DType::F32);
  }
  // out = x + 1 (fill, then two adds through a temporary), counting the host runs of the region.
  void region() {
    ++host_runs_;
    Tensor one = be_.empty({kN}, DType::F32);
    be_.fill(one, 1.f);
    be_.fill(out_, 0.f);
    be_.add(out_, x_);
    be_.add(out_, one);
  }
  std::vector<float> run_once(runtime::RecordedRegions& regions, const Tensor& key_buffer) {
    be_.fill(out_, -7.f);
    regions.run(ctx_, "stack", {x_, key_buffer}, [&] { region(); });
    return be_.download(out_).to_vector();
  }

  ClosureRecordingBackend be_;
  parallel::SelfCommunicator comm_;
  runtime::ExecutionContext ctx_;
  Tensor x_, out_;
  int host_runs_ = 0;
};

TEST_F(RecordedRegionsTest, OnRunsAsUsualThenRecordsThenReplays) {
  ctx_.set_graphs(runtime::GraphMode::On);
  runtime::RecordedRegions regions;
  for (int pass = 0; pass < 4; ++pass)
    EXPECT_EQ(run_once(regions, out_), ramp(2.f)) << "pass " << pass;
  EXPECT_EQ(host_runs_, 2);  // as usual, then while recording
  EXPECT_EQ(regions.recordings(), 1);
  EXPECT_EQ(regions.replays(), 3);
  EXPECT_EQ(be_.replays, 3);
}

TEST_F(RecordedRegionsTest, ReplayReadsTheBuffersCurrentContents) {
  ctx_.set_graphs(runtime::GraphMode::On);
  runtime::RecordedRegions regions;
  run_once(regions, out_);
  run_once(regions, out_);
  be_.copy(be_.upload(Tensor::from_vector({kN}, ramp(10.f))), x_);
  EXPECT_EQ(run_once(regions, out_), ramp(11.f));
  EXPECT_EQ(host_runs_, 2);
}

TEST_F(RecordedRegionsTest, AnotherKeyRunsAsUsualAgain) {
  ctx_.set_graphs(runtime::GraphMode::On);
  runtime::RecordedRegions regions;
  run_once(regions, out_);
  run_once(regions, out_);
  const Tensor other = be_.empty({kN}, DType::F32);
  run_once(regions, other);  // a new key: as usual
  EXPECT_EQ(host_runs_, 3);
  run_once(regions, other);  // recorded anew
  EXPECT_EQ(host_runs_, 4);
  EXPECT_EQ(regions.recordings(), 2);
}

// The CPU backend finishes its work while launching it: every first run is launch-bound, so Auto decides on the
// runs ahead alone.
TEST_F(RecordedRegionsTest, AutoRecordsOnlyWithEnoughRunsAhead) {
  ASSERT_EQ(ctx_.graphs(), runtime::GraphMode::Auto);
  runtime::RecordedRegions few;
  few.set_runs_ahead(runtime::kAutoRecordRunsAhead - 1);
  for (int pass = 0; pass < 3; ++pass) run_once(few, out_);
  EXPECT_EQ(few.recordings(), 0);
  EXPECT_EQ(host_runs_, 3);
  runtime::RecordedRegions many;
  many.set_runs_ahead(runtime::kAutoRecordRunsAhead);
  for (int pass = 0; pass < 3; ++pass)
    EXPECT_EQ(run_once(many, out_), ramp(2.f));
  EXPECT_EQ(many.recordings(), 1);
  EXPECT_EQ(many.replays(), 2);
}

TEST_F(RecordedRegionsTest, OffNeverRecords) {
  ctx_.set_graphs(runtime::GraphMode::Off);
  // (The trunk does not use regions when ctx.record_stacks() is false; a region run directly still obeys Off.)
  runtime::RecordedRegions regions;
  regions.set_runs_ahead(1 << 20);
  for (int pass = 0; pass < 3; ++pass) run_once(regions, out_);
  EXPECT_EQ(regions.recordings(), 0);
  EXPECT_EQ(host_runs_, 3);
}

TEST_F(RecordedRegionsTest, RefusedRecordingRunsAsUsualAndTurnsRecordingOff) {
  ctx_.set_graphs(runtime::GraphMode::On);
  be_.refuse_recordings();
  runtime::RecordedRegions regions;
  for (int pass = 0; pass < 4; ++pass)
    EXPECT_EQ(run_once(regions, out_), ramp(2.f)) << "pass " << pass;
  EXPECT_EQ(be_.refusals, 1);   // tried once
  EXPECT_EQ(host_runs_, 5);     // as usual, recording (refused), as usual again, then as usual twice
  EXPECT_EQ(regions.recordings(), 0);
  EXPECT_EQ(regions.replays(), 0);
}

TEST(RecordsStacks, ModeLengthAndPasses) {
  using runtime::GraphMode;
  using runtime::records_stacks;
  const int enough = 2 + runtime::kAutoRecordRunsAhead;
  EXPECT_FALSE(records_stacks(GraphMode::On, false, 64, enough));  // a backend that cannot record
  EXPECT_FALSE(records_stacks(GraphMode::On, true, 64, 1));        // one pass: nothing to replay
  EXPECT_TRUE(records_stacks(GraphMode::On, true, 4096, 2));
  EXPECT_FALSE(records_stacks(GraphMode::Off, true, 64, enough));
  EXPECT_TRUE(records_stacks(GraphMode::Auto, true, runtime::kGraphAutoMaxResidues, enough));
  EXPECT_FALSE(records_stacks(GraphMode::Auto, true, runtime::kGraphAutoMaxResidues + 1, enough));
  EXPECT_FALSE(records_stacks(GraphMode::Auto, true, 64, enough - 1));
  EXPECT_FALSE(records_stacks(GraphMode::Auto, true, 64, 4));  // AlphaFold's usual 4 passes
}

}  // namespace
}  // namespace axf::test
