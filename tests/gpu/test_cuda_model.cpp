// The whole trunk (embeddings, templates, extra-MSA stack, two Evoformer blocks; model_1_ptm widths) on the CUDA
// backend against the CPU backend, from the same parameter file and inputs, in fp32 (tight) and in bf16 (the
// trunk's activations and weight matrices in bf16, against the fp32 CPU reference). Skipped without a GPU.
#include <gtest/gtest.h>

#ifdef AXF_WITH_CUDA

#include <cmath>
#include <cstdio>

#include "backend/cuda/cuda_backend.h"
#include "model/alphafold.h"
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

}  // namespace
}  // namespace axf::test

#else  // !AXF_WITH_CUDA

TEST(CudaTrunk, RequiresCuda) { GTEST_SKIP() << "built without CUDA (AXF_CUDA=OFF)"; }

#endif
