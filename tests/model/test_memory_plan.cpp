// The memory planner (model/memory_plan.h) against the measured high-water mark of the model's own buffers: a
// whole prediction (two passes, heads) on the CPU backend through a CountingBackend, which tracks every tensor the
// model allocates, must peak within 10% of the plan, unchunked, chunked, without the distogram logits and without
// the template cache (templates streamed: the peak does not grow with the number of templates); the structure
// module's buffers alone against its stage.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "model/alphafold.h"
#include "model/heads.h"
#include "model/memory_plan.h"
#include "model/structure_module.h"
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
                 const runtime::ChunkConfig& chunks, bool template_cache, bool distogram_logits = true) {
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
    model::HeadsOptions head_options;
    head_options.distogram_logits = distogram_logits;
    head_options.pae_logits = distogram_logits;  // predict: PAE from its expectations, logits not downloaded
    const model::HeadOutputs heads = model::run_heads(ctx, params, cfg, result.trunk.single, result.trunk.pair,
                                                      result.trunk.msa, result.structure.single, head_options);
    EXPECT_TRUE(std::isfinite(heads.plddt_logits.to_vector()[0]));
    EXPECT_EQ(heads.distogram_logits.defined(), distogram_logits);
  }
  EXPECT_EQ(counting.live_bytes().live, 0) << "every tracked buffer is freed at the end";
  m.peak = counting.live_bytes().peak;
  model::MemoryPlanOptions o;
  o.chunks = chunks;
  o.template_cache = template_cache;
  o.distogram_logits = distogram_logits;
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
  // Few distogram bins (the heads no longer peak), params8.npz written, and the chunks of the streamed-template
  // tests: the template stage decides.
  runtime::ChunkConfig streamed_template_setup() {
    cfg_.heads.distogram_num_bins = 8;
    cfg_.heads.pae_num_bins = 8;
    model::write_random_params(dir_ / "params8.npz", cfg_, 4);
    runtime::ChunkConfig c;
    c.template_rows = 24;
    c.pair_rows = 40;
    c.msa_rows = 2;
    return c;
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

// Without the distogram logits (predict --pair-arrays no) the heads no longer peak: the plan follows the lower
// measured peak, and plans less than with them.
TEST_F(MemoryPlan, WithoutDistogramLogitsWithinTenPercentAndLower) {
  const Measured without = measure(cfg_, dir_ / "params.npz", in_, {}, true, false);
  expect_within(without, 0.10, "no distogram logits");
  const Measured with = measure(cfg_, dir_ / "params.npz", in_, {}, true, true);
  EXPECT_LT(without.peak, with.peak);
  EXPECT_LT(without.plan.peak_bytes(), with.plan.peak_bytes());
  EXPECT_NE(without.plan.stages[without.plan.peak_stage].name, "heads");
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
  // Unchunked triangle attention peaks in the Evoformer stack (the MSA, built after the extra-MSA stack, beside it).
  const model::MemoryStage& peak = attention.plan.stages[attention.plan.peak_stage];
  EXPECT_EQ(peak.name, "Evoformer stack");
  bool triangle_attention = false;
  for (const model::MemoryItem& i : peak.items) triangle_attention |= i.name.rfind("triangle attention", 0) == 0;
  EXPECT_TRUE(triangle_attention);
  c.pair_rows = 40;  // and row chunks: the triangle multiplication's [c, L, L] projections peak
  c.msa_rows = 2;
  const Measured multiplication = measure(cfg_, dir_ / "params8.npz", in_, c, false);
  expect_within(multiplication, 0.10, "template rows 16, pair rows 40, no template cache, 8 bins");
}

// Without the template cache the templates are streamed: the template stage peaks (chunked rows, 8 bins) within 10%
// of the plan, and two more templates add less than one template representation to the measured peak (the cached
// stack would add two), as the plan says.
TEST_F(MemoryPlan, StreamedTemplatesWithinTenPercentAndIndependentOfTheirNumber) {
  const runtime::ChunkConfig c = streamed_template_setup();
  const model::ModelInputs four = random_model_inputs(L, 6, 10, 4, 19);
  const Measured two_templates = measure(cfg_, dir_ / "params8.npz", in_, c, false);
  const Measured four_templates = measure(cfg_, dir_ / "params8.npz", four, c, false);
  expect_within(four_templates, 0.10, "4 templates streamed, template rows 24, pair rows 40, 8 bins");
  const model::MemoryPlan& plan = four_templates.plan;
  const model::MemoryStage& stage = plan.stages[plan.peak_stage];
  ASSERT_EQ(stage.name, "template stack");
  const int64_t rep = L * L * cfg_.templates.num_channels() * 4;
  bool one_rep = false;
  for (const model::MemoryItem& i : stage.items) {
    EXPECT_EQ(i.name.find("[T, L, L"), std::string::npos) << i.name;
    one_rep = one_rep || (i.name.rfind("template representation", 0) == 0 && i.bytes == rep);
  }
  EXPECT_TRUE(one_rep);
  EXPECT_LT(four_templates.peak - two_templates.peak, rep);
  EXPECT_LT(four_templates.plan.peak_bytes() - two_templates.plan.peak_bytes(), rep);
  const Measured cached = measure(cfg_, dir_ / "params8.npz", four, c, true);
  EXPECT_GT(cached.peak - four_templates.peak, 2 * rep) << "the cached stack holds all four representations";
}

// --offload-pair: the template representation and the accumulator live in the pair's buffer while the pair waits
// in host memory, so the template stage drops by about one representation and one accumulator, in the plan and in
// the tracked peak, and the plan stays within 10%.
TEST_F(MemoryPlan, OffloadedPairWithinTenPercentAndLowersTheTemplateStage) {
  runtime::ChunkConfig c = streamed_template_setup();
  const model::ModelInputs four = random_model_inputs(L, 6, 10, 4, 19);
  const Measured streamed = measure(cfg_, dir_ / "params8.npz", four, c, false);
  c.offload_pair = true;
  const Measured offloaded = measure(cfg_, dir_ / "params8.npz", four, c, false);
  expect_within(offloaded, 0.10, "4 templates streamed, pair offloaded, template rows 24, pair rows 40, 8 bins");
  auto template_stage = [](const model::MemoryPlan& p) {
    for (const model::MemoryStage& s : p.stages)
      if (s.name == "template stack") return p.persistent_bytes() + s.bytes();
    return int64_t{0};
  };
  const int64_t rep = L * L * cfg_.templates.num_channels() * 4;
  EXPECT_LT(template_stage(offloaded.plan), template_stage(streamed.plan) - rep);
  EXPECT_LT(offloaded.peak, streamed.peak);
}

// The structure module's own buffers (LayerNorm(pair) in the compute dtype, the fp32 attention_2d logits and the
// small per-residue ones) against the plan's structure-module stage.
TEST_F(MemoryPlan, StructureModuleWithinTenPercentOfItsStage) {
  auto cpu = backend::make_cpu_backend();
  runtime::bench::CountingBackend counting(*cpu);
  parallel::SelfCommunicator comm;
  runtime::ExecutionContext ctx(counting, comm);
  const model::Params params = model::load_params(dir_ / "params.npz", cfg_, counting);
  const Tensor single = counting.upload(random_tensor({L, cfg_.seq_channel}, 31));
  const Tensor pair = counting.upload(random_tensor({L, L, cfg_.pair_channel}, 32));
  const int64_t before = counting.live_bytes().live;
  counting.reset_peak();
  {
    const model::StructureOutputs out =
        model::run_structure_module(ctx, params, cfg_, single, pair, in_.aatype, in_.seq_mask);
    EXPECT_TRUE(std::isfinite(out.final_atom_positions.to_vector()[0]));
  }
  const double measured = static_cast<double>(counting.live_bytes().peak - before);
  const model::MemoryPlan plan = model::plan_memory(cfg_, {L, in_.num_msa(), in_.num_extra(), 2}, {});
  const model::MemoryStage* stage = nullptr;
  for (const model::MemoryStage& st : plan.stages)
    if (st.name == "structure module") stage = &st;
  ASSERT_NE(stage, nullptr);
  const double predicted = static_cast<double>(stage->bytes());
  std::printf("structure module: measured %.3f MB, stage %.3f MB\n", measured / 1e6, predicted / 1e6);
  EXPECT_LT(std::fabs(predicted - measured) / measured, 0.10);
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
  // The structure module's normalised pair is in the compute dtype, its attention_2d logits fp32.
  auto item = [](const model::MemoryPlan& p, const std::string& stage, const std::string& prefix) {
    for (const model::MemoryStage& st : p.stages)
      if (st.name == stage)
        for (const model::MemoryItem& i : st.items)
          if (i.name.rfind(prefix, 0) == 0) return i.bytes;
    return int64_t{-1};
  };
  EXPECT_EQ(item(a, "structure module", "normalised pair"), 1024LL * 1024 * 128 * 4);
  EXPECT_EQ(item(b, "structure module", "normalised pair"), 1024LL * 1024 * 128 * 2);
  EXPECT_EQ(item(b, "structure module", "IPA pair logits"), 1024LL * 1024 * 12 * 4);
}

// Recorded stacks (CUDA graphs) keep the MSA and extra-MSA buffers from pass to pass: both move from their stages
// into the persistent part, so the peak can only grow, by at most the two buffers.
TEST(MemoryPlanShape, RecordedStacksKeepBothMsaBuffers) {
  const model::ModelConfig cfg = model::model_config("model_1_ptm");
  const model::RunShape shape{128, 512, 1024, 4};
  model::MemoryPlanOptions plain, recorded;
  plain.dtype = recorded.dtype = core::DType::BF16;
  recorded.recorded_stacks = true;
  const model::MemoryPlan a = model::plan_memory(cfg, shape, plain), b = model::plan_memory(cfg, shape, recorded);
  const int64_t msa = (512 + 4) * 128 * 256 * 2, extra = 1024 * 128 * 64 * 2;
  EXPECT_EQ(b.persistent_bytes() - a.persistent_bytes(), msa + extra);
  auto stage = [](const model::MemoryPlan& p, const std::string& name) {
    for (const model::MemoryStage& st : p.stages)
      if (st.name == name) return st.bytes();
    return int64_t{-1};
  };
  EXPECT_EQ(stage(a, "Evoformer stack") - stage(b, "Evoformer stack"), msa);
  EXPECT_EQ(stage(a, "extra-MSA stack") - stage(b, "extra-MSA stack"), extra);
  EXPECT_GE(b.peak_bytes(), a.peak_bytes());
  EXPECT_LE(b.peak_bytes(), a.peak_bytes() + msa + extra);
}

// Streamed templates at L = 10,000 in bf16: the template stage holds one [L, L, 64] representation (12.8 GB, not
// the 51 GB of four) and the online softmax state (m, l fp32 [L, L, 4], acc bf16 [L, L, 64]), whatever T is.
TEST(MemoryPlanShape, StreamedTemplatesHoldOneRepresentationAndTheSoftmaxState) {
  const model::ModelConfig cfg = model::model_config("model_1_ptm");
  model::MemoryPlanOptions o;
  o.dtype = core::DType::BF16;
  o.template_cache = false;
  o.chunks.template_rows = o.chunks.pair_rows = 64;
  const int64_t L = 10000;
  auto stage_items = [&](int64_t T) {
    const model::MemoryPlan p = model::plan_memory(cfg, {L, 512, 1024, T}, o);
    for (const model::MemoryStage& st : p.stages)
      if (st.name == "template stack") return st.items;
    return std::vector<model::MemoryItem>{};
  };
  const std::vector<model::MemoryItem> four = stage_items(4);
  ASSERT_GE(four.size(), 2u);
  EXPECT_EQ(four[0].bytes, L * L * 64 * 2);
  EXPECT_EQ(four[1].bytes, L * L * (2 * 4 * 4 + 64 * 2));
  const std::vector<model::MemoryItem> one = stage_items(1);
  ASSERT_EQ(one.size(), four.size());
  for (size_t i = 0; i < four.size(); ++i) EXPECT_EQ(one[i].bytes, four[i].bytes) << four[i].name;
}

}  // namespace
}  // namespace axf::test
