// The memory planner's count of the CUDA op workspace (model/memory_plan.h) against the kernels' own chunking
// (kernels/triangle_multiply.cuh, kernels/outer_product_mean.cuh): the rows that fit a budget and the bytes they
// take must agree, or `axialfold plan` and `--chunking auto` drift from what the backend allocates. Host code only:
// runs without a GPU wherever the CUDA code is built.
#include <gtest/gtest.h>

#ifdef AXF_WITH_CUDA

#include <cstdint>
#include <tuple>
#include <utility>
#include <vector>

#include "kernels/masked_projections.cuh"
#include "kernels/outer_product_mean.cuh"
#include "kernels/pair_bias.cuh"
#include "kernels/transition_mlp.cuh"
#include "kernels/triangle_gated_output.cuh"
#include "kernels/triangle_projection.cuh"
#include "kernels/triangle_multiply.cuh"
#include "model/memory_plan.h"

namespace axf::test {
namespace {

TEST(WorkspacePlan, TriangleProductMatchesTheKernelsChunking) {
  // (rows, L, C, budget): whole blocks, a budget of a few rows, less than one row, odd sizes.
  for (const auto& [rows, L, C, budget] : std::vector<std::tuple<int64_t, int64_t, int64_t, int64_t>>{
           {1024, 1024, 128, int64_t{256} << 20}, {8, 1200, 128, int64_t{256} << 20}, {1200, 1200, 8, int64_t{256} << 20},
           {37, 333, 64, 3 * 333 * 64 * 4 + 5}, {5, 77, 12, 100}, {1, 1, 1, 1}}) {
    kernels::TriangleMultiplyParams p;
    p.rows = rows;
    p.L = L;
    p.C = C;
    const int64_t chunk = kernels::triangle_multiply_chunk_rows(p, static_cast<size_t>(budget));
    const auto want = static_cast<int64_t>(kernels::triangle_multiply_workspace_bytes(p, chunk));
    EXPECT_EQ(model::cuda_triangle_product_workspace(rows, L, C, budget), want)
        << "rows " << rows << ", L " << L << ", C " << C << ", budget " << budget;
  }
}

TEST(WorkspacePlan, OuterProductMeanMatchesTheKernelsChunking) {
  for (const auto& [rows, S, L, A, Cz, budget] :
       std::vector<std::tuple<int64_t, int64_t, int64_t, int64_t, int64_t, int64_t>>{
           {2048, 512, 2048, 32, 128, int64_t{256} << 20}, {8, 1024, 1200, 32, 128, int64_t{256} << 20},
           {1024, 512, 10000, 32, 128, int64_t{256} << 20}, {13, 5, 77, 6, 16, 50000}, {3, 2, 5, 3, 7, 1}}) {
    for (const auto type : {kernels::ElemType::F32, kernels::ElemType::BF16}) {
      kernels::OuterProductMeanParams p;
      p.rows = rows;
      p.S = S;
      p.L = L;
      p.A = p.Bc = A;
      p.Cz = Cz;
      p.in_type = type;
      const int64_t chunk = kernels::outer_product_mean_chunk_rows(p, static_cast<size_t>(budget));
      const auto want = static_cast<int64_t>(kernels::outer_product_mean_workspace_bytes(p, chunk));
      const int64_t dtype_bytes = type == kernels::ElemType::BF16 ? 2 : 4;
      EXPECT_EQ(model::cuda_outer_product_workspace(rows, S, L, A, Cz, dtype_bytes, budget), want)
          << "rows " << rows << ", S " << S << ", L " << L << ", A " << A << ", Cz " << Cz << ", budget " << budget
          << ", " << dtype_bytes << "-byte elements";
    }
  }
}

TEST(WorkspacePlan, FusedTriangleOutputWidthsMatchTheKernel) {
  for (const int64_t cz : {16, 32, 48, 64, 96, 128, 256})
    for (const int64_t c : {16, 32, 48, 64, 96, 128, 256})
      EXPECT_EQ(model::cuda_fuses_triangle_output(cz, c), kernels::triangle_gated_output_supported(cz, c))
          << "c_z " << cz << ", c " << c;
}

TEST(WorkspacePlan, FusedOuterProductProjectionWidthsMatchTheKernel) {
  for (const int64_t c : {16, 32, 64, 128, 256, 384})
    for (const int64_t a : {16, 32, 64})
      for (const int64_t b : {16, 32, 64})
        EXPECT_EQ(model::cuda_fuses_outer_product_projections(c, a, b), kernels::masked_projections_supported(c, a, b))
            << "c " << c << ", a " << a << ", b " << b;
}

TEST(WorkspacePlan, FusedTransitionWidthsAndScratchMatchTheKernel) {
  for (const int64_t c : {16, 32, 48, 64, 96, 128, 256})
    for (const int64_t factor : {1, 2, 3, 4}) {
      const int64_t hidden = c * factor;
      EXPECT_EQ(model::cuda_fuses_transition(c, hidden), kernels::transition_supported(c, hidden))
          << "c " << c << ", hidden " << hidden;
      if (!kernels::transition_supported(c, hidden)) continue;
      // The backend's bf16 scratch of the two-pass widths (cuda_transition.cpp): c values per row.
      for (const auto& [rows, budget] : std::vector<std::pair<int64_t, int64_t>>{
               {1 << 20, int64_t{256} << 20}, {1000, int64_t{256} << 20}, {1000, 3000}, {7, 1}}) {
        const int64_t want =
            kernels::transition_scratch_rows(rows, c, hidden, budget) * c * kernels::kTransitionScratchBytes;
        EXPECT_EQ(model::cuda_transition_workspace(rows, c, hidden, budget), want)
            << "c " << c << ", hidden " << hidden << ", rows " << rows << ", budget " << budget;
      }
    }
}

TEST(WorkspacePlan, FusedTriangleProjectionWidthsMatchTheKernel) {
  for (const int64_t cz : {16, 32, 48, 64, 96, 128, 256})
    for (const int64_t cb : {16, 32, 48, 64, 96, 128, 256})
      EXPECT_EQ(model::cuda_fuses_triangle_projection(cz, cb), kernels::triangle_projection_supported(cz, cb))
          << "c_z " << cz << ", cb " << cb;
}

TEST(WorkspacePlan, FusedPairBiasWidthsMatchTheKernel) {
  for (const int64_t cz : {16, 32, 48, 64, 96, 128, 256})
    for (const int64_t H : {0, 1, 2, 4, 8, 9, 12, 16})
      EXPECT_EQ(model::cuda_fuses_pair_bias(cz, H), kernels::pair_bias_supported(cz, H)) << "c_z " << cz << ", H " << H;
}

}  // namespace
}  // namespace axf::test

#else  // !AXF_WITH_CUDA

TEST(WorkspacePlan, RequiresCuda) { GTEST_SKIP() << "built without CUDA (AXF_CUDA=OFF)"; }

#endif
