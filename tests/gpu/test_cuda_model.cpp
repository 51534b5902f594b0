// The whole trunk (embeddings, templates, extra-MSA stack, two Evoformer blocks; model_1_ptm widths) on the CUDA
// backend against the CPU backend, from the same parameter file and inputs, in fp32 (tight) and in bf16 (the
// trunk's activations and weight matrices in bf16, against the fp32 CPU reference). Skipped without a GPU.
#include <gtest/gtest.h>

#ifdef AXF_WITH_CUDA

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "backend/cuda/cuda_backend.h"
#include "model/alphafold.h"
#include "model/structure_module.h"
#include "model/template_embedding.h"
#include "model/trunk.h"
#include "runtime/precision.h"
#include "support/model_test_support.h"
#include "support/test_support.h"

namespace axf::test {
namespace {

struct TrunkResult {
  std::vector<double> single, pair, first_row;
};

class CudaTrunk : public ::testing::Test {
 protected:
  void SetUp() override {
    if (backend::cuda_device_count() == 0) GTEST_SKIP() << "no CUDA device";
    cfg_ = model::model_config("model_1_ptm");
    cfg_.evoformer_num_block = 2;
    const auto dir = scratch_dir("cuda_trunk");
    model::write_random_params(dir / "params.npz", cfg_, 5);
    cpu_ = backend::make_cpu_backend();
    cuda_ = backend::make_cuda_backend(0);
    cpu_params_ = model::load_params(dir / "params.npz", cfg_, *cpu_);
    cuda_params_ = model::load_params(dir / "params.npz", cfg_, *cuda_);
    bf16_params_ = model::load_params(dir / "params.npz", cfg_, *cuda_);
    EXPECT_GT(model::convert_trunk_weights(bf16_params_, *cuda_, core::DType::BF16), 0);
  }

  TrunkResult run(backend::Backend& be, const model::Params& params, const model::ModelInputs& in,
                  runtime::ChunkConfig chunks = {}, runtime::Precision precision = runtime::Precision::Fp32) {
    runtime::ExecutionContext ctx(be, comm_, chunks);
    runtime::apply_precision(precision, ctx);
    const auto prev = model::RecyclingState::zeros(ctx, cfg_, in.num_res());
    const model::TrunkOutputs out = model::run_trunk(ctx, params, cfg_, in, prev);
    auto host = [&](const Tensor& t) { return to_doubles(be.download(t).to(core::DType::F32)); };
    if (precision == runtime::Precision::Bf16) {
      EXPECT_EQ(out.pair.dtype(), core::DType::BF16);
    }
    return {host(out.single), host(out.pair), host(out.msa_first_row)};
  }

  void expect_close(const TrunkResult& got, const TrunkResult& want, double tol = 1e-4) {
    for (const auto* v : {&got.single, &got.pair, &got.first_row})
      for (double x : *v) ASSERT_TRUE(std::isfinite(x));
    EXPECT_GT(max_abs(want.pair), 0.0);
    const double e_single = max_rel_error(got.single, want.single), e_pair = max_rel_error(got.pair, want.pair),
                 e_first = max_rel_error(got.first_row, want.first_row);
    std::printf("CUDA vs CPU trunk, max rel error: single %.3g, pair %.3g, msa_first_row %.3g\n", e_single, e_pair,
                e_first);
    EXPECT_LT(e_single, tol) << "single";
    EXPECT_LT(e_pair, tol) << "pair";
    EXPECT_LT(e_first, tol) << "msa_first_row";
  }

  parallel::SelfCommunicator comm_;
  model::ModelConfig cfg_;
  std::unique_ptr<backend::Backend> cpu_, cuda_;
  model::Params cpu_params_, cuda_params_, bf16_params_;
};

// bf16 trunk against the fp32 CPU trunk: normwise relative error of a few bf16 roundings per module.
constexpr double kBf16TrunkTolerance = 5e-2;

// Chunk sizes that divide none of the odd-size test's axes, triangle-multiplication channel blocks included.
runtime::ChunkConfig odd_chunks() {
  runtime::ChunkConfig c;
  c.msa_rows = 4;
  c.msa_columns = 5;
  c.pair_rows = 3;
  c.opm_rows = 2;
  c.template_rows = 4;
  c.triangle_channels = 48;  // blocks of 48, 48, 32 of the 128 channels
  return c;
}

TEST_F(CudaTrunk, L24MatchesCpu) {
  const auto in = random_model_inputs(24, 12, 20, 2, 99);
  expect_close(run(*cuda_, cuda_params_, in), run(*cpu_, cpu_params_, in));
}

TEST_F(CudaTrunk, OddSizesChunkedMatchCpu) {
  const auto in = random_model_inputs(13, 1, 9, 1, 7);
  const runtime::ChunkConfig c = odd_chunks();
  expect_close(run(*cuda_, cuda_params_, in, c), run(*cpu_, cpu_params_, in));
}

TEST_F(CudaTrunk, Bf16L24CloseToFp32Cpu) {
  const auto in = random_model_inputs(24, 12, 20, 2, 99);
  expect_close(run(*cuda_, bf16_params_, in, {}, runtime::Precision::Bf16), run(*cpu_, cpu_params_, in),
               kBf16TrunkTolerance);
}

TEST_F(CudaTrunk, Bf16OddSizesChunkedCloseToFp32Cpu) {
  const auto in = random_model_inputs(13, 1, 9, 1, 7);
  const runtime::ChunkConfig c = odd_chunks();
  expect_close(run(*cuda_, bf16_params_, in, c, runtime::Precision::Bf16), run(*cpu_, cpu_params_, in),
               kBf16TrunkTolerance);
}

TEST_F(CudaTrunk, Tf32L24CloseToFp32Cpu) {
  const auto in = random_model_inputs(24, 12, 20, 2, 99);
  expect_close(run(*cuda_, cuda_params_, in, {}, runtime::Precision::Tf32), run(*cpu_, cpu_params_, in), 2e-2);
  cuda_->set_allow_tf32(false);
}

double max_atom_deviation(const model::AlphaFoldResult& x, const model::AlphaFoldResult& y) {
  const auto a = to_doubles(x.structure.final_atom_positions), b = to_doubles(y.structure.final_atom_positions);
  EXPECT_EQ(a.size(), b.size());
  double worst = 0;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) {
    EXPECT_TRUE(std::isfinite(a[i]));
    worst = std::max(worst, std::fabs(a[i] - b[i]));
  }
  return worst;
}

// The whole model (trunk, structure module, heads' inputs, one recycle) at L=64: final atom positions from the CUDA
// backend within 1e-3 Angstrom of the CPU backend's in fp32; in bf16 within a bf16 run's distance.
TEST_F(CudaTrunk, WholeModelL64AtomsWithin1e3Angstrom) {
  const auto in = random_model_inputs(64, 16, 32, 2, 64);
  auto whole = [&](backend::Backend& be, const model::Params& params, runtime::Precision p) {
    runtime::ExecutionContext ctx(be, comm_);
    runtime::apply_precision(p, ctx);
    return model::run_alphafold(ctx, params, cfg_, in, {1, 0.0});
  };
  const auto cpu = whole(*cpu_, cpu_params_, runtime::Precision::Fp32);
  const double fp32 = max_atom_deviation(whole(*cuda_, cuda_params_, runtime::Precision::Fp32), cpu);
  std::printf("CUDA vs CPU whole model L=64: max atom deviation %.3g A\n", fp32);
  EXPECT_LT(fp32, 1e-3);
  const double bf16 = max_atom_deviation(whole(*cuda_, bf16_params_, runtime::Precision::Bf16), cpu);
  std::printf("CUDA bf16 vs CPU fp32 whole model L=64: max atom deviation %.3g A\n", bf16);
  EXPECT_LT(bf16, 0.5);
}

// Template embedding on the CUDA backend: the pointwise attention streamed over the templates (no cache) equals the
// batched attention over the cached stack (fp32: to rounding; bf16: within a bf16 run's distance), and the CPU
// backend's result; one template masked, rows chunked unevenly.
TEST_F(CudaTrunk, TemplateEmbeddingStreamedMatchesBatched) {
  const int64_t L = 21;
  model::ModelInputs in = random_model_inputs(L, 4, 4, 3, 31);
  in.templates.mask = Tensor::from_vector({3}, {1.f, 0.f, 1.f});
  const Tensor pair0 = random_tensor({L, L, cfg_.pair_channel}, 32);
  Tensor mask = random_mask({L, L}, 33, 0.8f);
  for (int64_t i = 0; i < L; ++i) mask.data<float>()[i * L + i] = 1.f;
  const std::string scope = std::string(model::kRootScope) + "/evoformer/template_embedding";
  auto embed = [&](backend::Backend& be, const model::Params& params, runtime::Precision p, bool streamed,
                   bool offload = false) {
    runtime::ChunkConfig chunks;
    chunks.template_rows = 8;  // chunks of 8, 8, 5 rows
    chunks.pair_rows = 6;
    chunks.offload_pair = offload;
    runtime::ExecutionContext ctx(be, comm_, chunks);
    runtime::apply_precision(p, ctx);
    Tensor pair = be.empty(pair0.shape(), ctx.dtype());
    be.copy(be.upload(pair0), pair);
    // The pair as stored (rounded to bf16 in a bf16 run), so the difference below is the update alone.
    const std::vector<double> before = to_doubles(be.download(pair).to(core::DType::F32));
    model::TemplateStackCache cache;
    model::template_embedding_add(ctx, model::Scope(params, scope), cfg_.templates, in.templates, be.upload(mask),
                                  pair, streamed ? nullptr : &cache);
    std::vector<double> update = to_doubles(be.download(pair).to(core::DType::F32));
    for (size_t e = 0; e < update.size(); ++e) update[e] -= before[e];
    return update;
  };
  const std::vector<double> cpu = embed(*cpu_, cpu_params_, runtime::Precision::Fp32, true);
  ASSERT_GT(max_abs(cpu), 1e-2);
  const std::vector<double> streamed = embed(*cuda_, cuda_params_, runtime::Precision::Fp32, true);
  const std::vector<double> batched = embed(*cuda_, cuda_params_, runtime::Precision::Fp32, false);
  std::printf("template embedding update, max rel error: CUDA streamed vs batched %.3g, vs CPU %.3g\n",
              max_rel_error(streamed, batched), max_rel_error(streamed, cpu));
  EXPECT_LT(max_rel_error(streamed, batched), 1e-5);
  EXPECT_LT(max_rel_error(streamed, cpu), 1e-4);
  // --offload-pair: the pair in host memory, its GPU buffer holding the representation and the accumulator.
  const int ct = cfg_.templates.num_channels();
  ASSERT_LE(ct + model::ModelConfig::resolved(cfg_.templates.attention, cfg_.pair_channel, ct).value_dim,
            cfg_.pair_channel);
  const std::vector<double> offloaded = embed(*cuda_, cuda_params_, runtime::Precision::Fp32, true, true);
  std::printf("template embedding update, CUDA offloaded pair vs streamed: max rel error %.3g\n",
              max_rel_error(offloaded, streamed));
  EXPECT_LT(max_rel_error(offloaded, streamed), 1e-5);
  const std::vector<double> bf16_offloaded = embed(*cuda_, bf16_params_, runtime::Precision::Bf16, true, true);
  EXPECT_LT(max_rel_error(bf16_offloaded, cpu), kBf16TrunkTolerance);
  // bf16: the updates (rounded into a bf16 pair) against the fp32 update, normwise.
  const std::vector<double> bf16_streamed = embed(*cuda_, bf16_params_, runtime::Precision::Bf16, true);
  const std::vector<double> bf16_batched = embed(*cuda_, bf16_params_, runtime::Precision::Bf16, false);
  std::printf("bf16 template embedding update vs fp32 CPU, max rel error: streamed %.3g, batched %.3g\n",
              max_rel_error(bf16_streamed, cpu), max_rel_error(bf16_batched, cpu));
  EXPECT_LT(max_rel_error(bf16_streamed, cpu), kBf16TrunkTolerance);
  EXPECT_LT(max_rel_error(bf16_batched, cpu), kBf16TrunkTolerance);
}

// The structure module on a bf16 pair (a bf16 run: the normalised pair in bf16, IPA reading it in fp32 arithmetic)
// against the CPU in fp32 on the same (rounded) pair; in fp32 the CUDA backend within 1e-3 Angstrom of the CPU.
TEST_F(CudaTrunk, StructureModuleOnBf16PairCloseToFp32Cpu) {
  const int64_t L = 33;
  const Tensor single = random_tensor({L, cfg_.seq_channel}, 41);
  const Tensor pair = random_tensor({L, L, cfg_.pair_channel}, 42).to(core::DType::BF16).to(core::DType::F32);
  Tensor aatype = Tensor::empty({L}, core::DType::I32);
  for (int64_t i = 0; i < L; ++i) aatype.data<int32_t>()[i] = static_cast<int32_t>((i * 7) % 20);
  Tensor seq_mask = Tensor::full({L}, 1.f);
  seq_mask.data<float>()[L - 1] = 0.f;
  auto fold = [&](backend::Backend& be, runtime::Precision p) {
    runtime::ExecutionContext ctx(be, comm_);
    runtime::apply_precision(p, ctx);
    const Tensor d_pair = be.upload(ctx.dtype() == core::DType::BF16 ? pair.to(core::DType::BF16) : pair);
    const model::Params& params = &be == cpu_.get() ? cpu_params_ : cuda_params_;
    model::AlphaFoldResult r;
    r.structure = model::run_structure_module(ctx, params, cfg_, be.upload(single), d_pair, aatype, seq_mask);
    return r;
  };
  const model::AlphaFoldResult cpu = fold(*cpu_, runtime::Precision::Fp32);
  const double fp32 = max_atom_deviation(fold(*cuda_, runtime::Precision::Fp32), cpu);
  const double bf16 = max_atom_deviation(fold(*cuda_, runtime::Precision::Bf16), cpu);
  std::printf("structure module, max atom deviation from the CPU: CUDA fp32 %.3g A, bf16 pair %.3g A\n", fp32, bf16);
  EXPECT_LT(fp32, 1e-3);
  EXPECT_LT(bf16, 0.5);
}

}  // namespace
}  // namespace axf::test

#else  // !AXF_WITH_CUDA

TEST(CudaTrunk, RequiresCuda) { GTEST_SKIP() << "built without CUDA (AXF_CUDA=OFF)"; }

#endif
