// The memory planner (model/memory_plan.h) against the measured high-water mark of the model's own buffers: a
// whole prediction (two passes, heads) on the CPU backend through a CountingBackend, which tracks every tensor the
// model allocates, must peak within 10% of the plan, unchunked, chunked and without the template cache.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>

#include "model/alphafold.h"
#include "model/heads.h"
#include "model/memory_plan.h"
#include "runtime/bench_cost.h"
#include "support/model_test_support.h"
#include "support/test_support.h"

namespace axf::test {
namespace {

struct Measured {
  int64_t peak = 0;
  model::MemoryPlan plan;
};

Measured measure(const model::ModelConfig& cfg, const std::filesystem::path& params_file, const model::ModelInputs& in,
                 const runtime::ChunkConfig& chunks, bool template_cache) {
  auto cpu = backend::make_cpu_backend();
  runtime::bench::CountingBackend counting(*cpu);
  parallel::SelfCommunicator comm;
  runtime::ExecutionContext ctx(counting, comm, chunks);
  Measured m;
  {
    const model::Params params = model::load_params(params_file, cfg, counting);
    model::RecyclingOptions recycling;
    recycling.num_recycle = 1;
    recycling.cache_template_stack = template_cache;
    const model::AlphaFoldResult result = model::run_alphafold(ctx, params, cfg, in, recycling);
    const model::HeadOutputs heads =
        model::run_heads(ctx, params, cfg, result.trunk.single, result.trunk.pair, result.trunk.msa,
                         result.structure.single);
    EXPECT_TRUE(std::isfinite(heads.distogram_logits.to_vector()[0]));
  }
  EXPECT_EQ(counting.live_bytes().live, 0) << "every tracked buffer is freed at the end";
  m.peak = counting.live_bytes().peak;
  model::MemoryPlanOptions o;
  o.chunks = chunks;
  o.template_cache = template_cache;
  m.plan = model::plan_memory(cfg, {in.num_res(), in.num_msa(), in.num_extra(), in.templates.count()}, o);
  return m;
}

void expect_within(const Measured& m, double tolerance, const char* what) {
  const double predicted = static_cast<double>(m.plan.peak_bytes()), measured = static_cast<double>(m.peak);
  const model::MemoryStage& st = m.plan.stages[m.plan.peak_stage];
  std::printf("%s: measured peak %.3f MB, plan %.3f MB (peak stage: %s), rel. diff %+.3f\n", what, measured / 1e6,
              predicted / 1e6, st.name.c_str(), (predicted - measured) / measured);
  for (const model::MemoryStage& s : m.plan.stages) {
    std::printf("  %-18s %8.3f MB:", s.name.c_str(), (m.plan.persistent_bytes() + s.bytes()) / 1e6);
    for (const model::MemoryItem& i : s.items) std::printf(" [%s %.3f]", i.name.c_str(), i.bytes / 1e6);
    std::printf("\n");
  }
  EXPECT_LT(std::fabs(predicted - measured) / measured, tolerance) << what << ", peak stage " << st.name;
}

class MemoryPlan : public ::testing::Test {
 protected:
  void SetUp() override {
    cfg_ = small_config();
    dir_ = scratch_dir("memory_plan");
    model::write_random_params(dir_ / "params.npz", cfg_, 3);
    in_ = random_model_inputs(L, 6, 10, 2, 17);
  }
  static constexpr int64_t L = 160;
  model::ModelConfig cfg_;
  std::filesystem::path dir_;
  model::ModelInputs in_;
};

TEST_F(MemoryPlan, UnchunkedWithinTenPercentOfMeasuredPeak) {
  expect_within(measure(cfg_, dir_ / "params.npz", in_, {}, true), 0.10, "unchunked");
}

TEST_F(MemoryPlan, ChunkedWithinTenPercentOfMeasuredPeak) {
  runtime::ChunkConfig c;
  c.msa_rows = 3;
  c.msa_columns = 40;
  c.pair_rows = 24;
  c.opm_rows = 32;
  c.template_rows = 48;
  c.triangle_channels = 5;
  const Measured chunked = measure(cfg_, dir_ / "params.npz", in_, c, true);
  expect_within(chunked, 0.10, "chunked");
  const Measured whole = measure(cfg_, dir_ / "params.npz", in_, {}, true);
  EXPECT_LT(chunked.peak, whole.peak) << "chunking lowers the peak";
}

TEST_F(MemoryPlan, WithoutTemplateCacheWithinTenPercentOfMeasuredPeak) {
  expect_within(measure(cfg_, dir_ / "params.npz", in_, {}, false), 0.10, "no template cache");
}

// With few distogram bins the heads no longer peak: the trunk's stages (triangle attention, the template stack)
// decide, unchunked and chunked.
TEST_F(MemoryPlan, TrunkStagesWithinTenPercentOfMeasuredPeak) {
  cfg_.heads.distogram_num_bins = 8;
  cfg_.heads.pae_num_bins = 8;
  model::write_random_params(dir_ / "params8.npz", cfg_, 4);
  runtime::ChunkConfig c;
  c.template_rows = 16;  // the template stage small: unchunked triangle attention peaks
  const Measured attention = measure(cfg_, dir_ / "params8.npz", in_, c, true);
  expect_within(attention, 0.10, "template rows 16, 8 bins");
  EXPECT_EQ(attention.plan.stages[attention.plan.peak_stage].name, "extra-MSA stack");
  c.pair_rows = 40;  // and row chunks: the triangle multiplication's [c, L, L] projections peak
  c.msa_rows = 2;
  const Measured multiplication = measure(cfg_, dir_ / "params8.npz", in_, c, false);
  expect_within(multiplication, 0.10, "template rows 16, pair rows 40, no template cache, 8 bins");
}

TEST(MemoryPlanShape, Bf16HalvesTheRepresentationsAndFindsTheLargestStage) {
  const model::ModelConfig cfg = model::model_config("model_1_ptm");
  model::MemoryPlanOptions f32, bf16;
  bf16.dtype = core::DType::BF16;
  const model::RunShape shape{1024, 512, 1024, 4};
  const model::MemoryPlan a = model::plan_memory(cfg, shape, f32), b = model::plan_memory(cfg, shape, bf16);
  EXPECT_LT(b.peak_bytes(), a.peak_bytes());
  for (const auto* p : {&a, &b})
    for (const model::MemoryStage& st : p->stages) EXPECT_LE(st.bytes(), p->stages[p->peak_stage].bytes());
  // The pair representation: L^2 * 128 channels * 4 or 2 bytes.
  auto pair = [](const model::MemoryPlan& p) {
    for (const model::MemoryItem& i : p.persistent)
      if (i.name.rfind("pair representation", 0) == 0) return i.bytes;
    return int64_t{-1};
  };
  EXPECT_EQ(pair(a), 1024LL * 1024 * 128 * 4);
  EXPECT_EQ(pair(b), 1024LL * 1024 * 128 * 2);
}

}  // namespace
}  // namespace axf::test
