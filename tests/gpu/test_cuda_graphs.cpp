// Recording and replay on the CUDA backend (CUDA graphs: Backend::begin_recording .. replay,
// runtime::RecordedRegions) and the model's recorded stacks: a replay gives the bits an eager run gives, reads the
// buffers' contents at replay time, and every broken recording rule is an error that leaves the backend usable.
// Skipped without a GPU.
#include <gtest/gtest.h>

#ifdef AXF_WITH_CUDA

#include <cmath>
#include <vector>

#include "backend/cuda/cuda_backend.h"
#include "core/error.h"
#include "model/alphafold.h"
#include "runtime/bench_cost.h"
#include "runtime/precision.h"
#include "runtime/recorded_regions.h"
#include "support/model_test_support.h"
#include "support/test_support.h"

namespace axf::test {
namespace {

class CudaGraphs : public ::testing::Test {
 protected:
  void SetUp() override {
    if (backend::cuda_device_count() == 0) GTEST_SKIP() << "no CUDA device";
    be_ = backend::make_cuda_backend(0);
    x_ = be_->upload(random_tensor({37, 24}, 1));
    w_ = be_->upload(random_tensor({24, 40}, 2, 0.2f));
    scale_ = be_->upload(random_tensor({40}, 3));
    offset_ = be_->upload(random_tensor({40}, 4));
    out_ = be_->empty({37, 40}, core::DType::F32);
  }

  // out = LayerNorm(relu(x @ w)) + 1 through a temporary allocated and freed inside.
  void region() {
    Tensor hidden = be_->empty({37, 40}, core::DType::F32);
    be_->linear({x_, w_, Tensor(), hidden, backend::Activation::Relu, false});
    be_->layer_norm(hidden, scale_, offset_, out_, 1e-5f);
    Tensor one = be_->empty({37, 40}, core::DType::F32);
    be_->fill(one, 1.f);
    be_->add(out_, one);
  }

  std::vector<double> output() { return to_doubles(be_->download(out_)); }

  // The backend still computes after a refused recording.
  void expect_usable() {
    be_->fill(out_, 0.f);
    region();
    const std::vector<double> v = output();
    for (double e : v) ASSERT_TRUE(std::isfinite(e));
    EXPECT_EQ(v, eager_);
  }

  std::unique_ptr<backend::Backend> be_;
  Tensor x_, w_, scale_, offset_, out_;
  std::vector<double> eager_;
};

TEST_F(CudaGraphs, ReplayMatchesEagerAndReadsCurrentInputs) {
  ASSERT_TRUE(be_->can_record());
  region();
  const std::vector<double> eager = output();
  be_->fill(out_, NAN);
  be_->begin_recording();
  region();
  const auto work = be_->end_recording();
  // Recording ran nothing: the poison is still there.
  for (double e : output()) ASSERT_TRUE(std::isnan(e));
  for (int i = 0; i < 2; ++i) {
    be_->fill(out_, NAN);
    be_->replay(*work);
    EXPECT_EQ(output(), eager) << "replay " << i;
  }
  // New contents in the same input buffer: the replay reads them.
  Tensor host = random_tensor({37, 24}, 9);
  be_->upload_to(host, x_);
  region();
  const std::vector<double> eager_new = output();
  EXPECT_NE(eager_new, eager);
  be_->fill(out_, NAN);
  be_->replay(*work);
  EXPECT_EQ(output(), eager_new);
}

TEST_F(CudaGraphs, TemporaryKeptAliveIsRefused) {
  region();
  eager_ = output();
  Tensor kept;
  be_->begin_recording();
  region();
  kept = be_->empty({16}, core::DType::F32);
  EXPECT_THROW(be_->end_recording(), axf::Error);
  expect_usable();
}

TEST_F(CudaGraphs, FreeingOlderBufferIsRefused) {
  region();
  eager_ = output();
  Tensor older = be_->empty({16}, core::DType::F32);
  be_->begin_recording();
  region();
  older = Tensor();
  EXPECT_THROW(be_->end_recording(), axf::Error);
  expect_usable();
}

TEST_F(CudaGraphs, SynchronizeInsideIsRefused) {
  region();
  eager_ = output();
  be_->begin_recording();
  bool threw = false;
  try {
    region();
    be_->synchronize();
    be_->end_recording();
  } catch (const axf::Error&) {
    threw = true;
    be_->abort_recording();
  }
  EXPECT_TRUE(threw);
  expect_usable();
}

// RecordedRegions: as usual first, recorded and replayed second, replayed after; a new key runs as usual again; the
// counting backend tallies the replayed operations once per replay.
TEST_F(CudaGraphs, RegionsRunRecordReplayAndCount) {
  runtime::bench::CountingBackend counting(*be_);
  parallel::SelfCommunicator comm;
  runtime::ExecutionContext ctx(counting, comm);
  ctx.set_graphs(runtime::GraphMode::On);
  runtime::RecordedRegions regions;
  int host_runs = 0;
  auto body = [&] {
    ++host_runs;
    Tensor hidden = counting.empty({37, 40}, core::DType::F32);
    counting.linear({x_, w_, Tensor(), hidden, backend::Activation::Relu, false});
    counting.layer_norm(hidden, scale_, offset_, out_, 1e-5f);
  };
  std::vector<std::vector<double>> outs;
  for (int pass = 0; pass < 3; ++pass) {
    be_->fill(out_, NAN);
    regions.run(ctx, "stack", {x_, out_}, body);
    outs.push_back(output());
  }
  EXPECT_EQ(host_runs, 2);  // as usual, then recorded
  EXPECT_EQ(regions.recordings(), 1);
  EXPECT_EQ(regions.replays(), 2);
  EXPECT_EQ(outs[1], outs[0]);
  EXPECT_EQ(outs[2], outs[0]);
  EXPECT_EQ(counting.tallies().ops.at("layer_norm").calls, 3);
  EXPECT_EQ(counting.tallies().ops.at("linear").calls, 3);
  // Another output buffer: another key, so as usual again.
  Tensor other = be_->empty({37, 40}, core::DType::F32);
  regions.run(ctx, "stack", {x_, other}, body);
  EXPECT_EQ(host_runs, 3);
  EXPECT_EQ(regions.replays(), 2);
}

// Auto records only with at least kAutoRecordRunsAhead runs still to come (recording costs about three runs of host
// work).
TEST_F(CudaGraphs, AutoRecordsOnlyWithReplaysAhead) {
  parallel::SelfCommunicator comm;
  runtime::ExecutionContext ctx(*be_, comm);
  ASSERT_EQ(ctx.graphs(), runtime::GraphMode::Auto);
  runtime::RecordedRegions regions;
  regions.set_runs_ahead(runtime::kAutoRecordRunsAhead - 1);
  for (int pass = 0; pass < 3; ++pass) regions.run(ctx, "stack", {x_, out_}, [&] { region(); });
  EXPECT_EQ(regions.recordings(), 0);
  EXPECT_EQ(regions.replays(), 0);
}

// The model with its stacks replayed as CUDA graphs gives the bits of the model run op by op: three passes (as
// usual, recorded, replayed), fp32 and bf16, with the extra-MSA stack and templates.
TEST(CudaGraphModel, ReplayedStacksEqualEagerBitwise) {
  if (backend::cuda_device_count() == 0) GTEST_SKIP() << "no CUDA device";
  model::ModelConfig cfg = model::model_config("model_1_ptm");
  cfg.evoformer_num_block = 2;
  const auto dir = scratch_dir("cuda_graph_model");
  model::write_random_params(dir / "params.npz", cfg, 5);
  auto be = backend::make_cuda_backend(0);
  parallel::SelfCommunicator comm;
  const auto in = random_model_inputs(29, 8, 12, 2, 3);
  for (const runtime::Precision p : {runtime::Precision::Fp32, runtime::Precision::Bf16}) {
    model::Params params = model::load_params(dir / "params.npz", cfg, *be);
    if (p == runtime::Precision::Bf16) model::convert_trunk_weights(params, *be, core::DType::BF16);
    auto whole = [&](runtime::GraphMode mode) {
      runtime::ExecutionContext ctx(*be, comm);
      runtime::apply_precision(p, ctx);
      ctx.set_graphs(mode);
      return model::run_alphafold(ctx, params, cfg, in, {2, 0.0});
    };
    const model::AlphaFoldResult eager = whole(runtime::GraphMode::Off);
    const model::AlphaFoldResult graphs = whole(runtime::GraphMode::On);
    EXPECT_EQ(eager.graph_replays, 0);
    EXPECT_EQ(graphs.graph_replays, 4) << "two stacks replayed in passes 2 and 3";
    const std::vector<double> a = to_doubles(eager.structure.final_atom_positions);
    const std::vector<double> b = to_doubles(graphs.structure.final_atom_positions);
    for (double v : b) ASSERT_TRUE(std::isfinite(v));
    EXPECT_EQ(a, b) << runtime::precision_name(p);
    EXPECT_EQ(to_doubles(be->download(eager.trunk.pair).to(core::DType::F32)),
              to_doubles(be->download(graphs.trunk.pair).to(core::DType::F32)));
  }
}

}  // namespace
}  // namespace axf::test

#else

TEST(CudaGraphs, RequiresCuda) { GTEST_SKIP() << "built without CUDA (AXF_CUDA=OFF)"; }

#endif
