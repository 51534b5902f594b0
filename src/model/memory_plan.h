// Device memory of one prediction (run_alphafold + heads), estimated from shapes before anything is allocated
// (issue 6's planner; `axialfold plan`). Two parts:
//   persistent  buffers alive through the Evoformer stack: parameters (trunk weight matrices in the compute dtype),
//               device inputs, the MSA and pair representations (the pair reuses the recycled pair's buffer), the
//               recycled first MSA row and, when cached, the template stack's output [T, L, L, c_t];
//   stages      for every stage of a pass (embeddings, template stack, extra-MSA stack, Evoformer, structure
//               module, heads), the buffers it adds and the temporaries of its largest module at the run's chunk
//               sizes, as the model code allocates them; without the template cache the template stage holds one
//               template representation [L, L, c_t] and the online softmax state of the streamed pointwise
//               attention instead of the stack of all templates.
// The peak is the stage with the largest persistent + stage bytes, plus the backend's own scratch (operation
// workspaces the model does not see), which the caller gives.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "model/config.h"
#include "runtime/execution_context.h"

namespace axf::model {

struct RunShape {
  int64_t num_res = 0;        // L
  int64_t num_msa = 0;        // S: MSA clusters
  int64_t num_extra = 0;      // E: extra sequences
  int64_t num_templates = 0;  // T
};

struct MemoryItem {
  std::string name;
  int64_t bytes = 0;
};

struct MemoryStage {
  std::string name;
  std::vector<MemoryItem> items;  // what the stage adds to the persistent buffers at its peak
  int64_t bytes() const;
};

struct MemoryPlanOptions {
  core::DType dtype = core::DType::F32;  // the trunk's activation dtype (--precision)
  runtime::ChunkConfig chunks;
  bool template_cache = true;            // the template stack's output kept across recycles (off: streamed)
  bool distogram_logits = true;          // the heads compute the distogram logits (off: predict --pair-arrays no)
  // The CUDA backend's op workspace budget (backend::kDefaultWorkspaceBytes): the scratch it allocates inside
  // operations (GEMM temporaries within that budget, fp32 results of linear layers into strided views) is planned
  // in the modules that take it. 0: a backend without scratch (CPU).
  int64_t cuda_workspace = 0;
  // The stacks are recorded as CUDA graphs (ExecutionContext::record_stacks): the MSA and extra-MSA buffers are then
  // kept from pass to pass (model::TrunkCache), so both count as persistent. The graphs' own temporaries live in the
  // CUDA graph pool, beside this plan.
  bool recorded_stacks = false;
};

struct MemoryPlan {
  std::vector<MemoryItem> persistent;
  int64_t parameter_bytes = 0;  // included in persistent
  std::vector<MemoryStage> stages;
  size_t peak_stage = 0;  // index into stages
  int64_t persistent_bytes() const;
  int64_t peak_bytes() const;  // persistent + the peak stage
};

MemoryPlan plan_memory(const ModelConfig& cfg, const RunShape& shape, const MemoryPlanOptions& options);

// The CUDA op workspace as the planner counts it, equal to what the backend takes (cuda_gemm.cpp, checked against
// the kernels' own functions in tests/gpu): the triangle product's fp32 rows for `rows` output rows of L x C, and
// the outer product mean's for `rows` output rows (S sequences, A x A outer products of `dtype_bytes` elements, Cz
// outputs: right transposed once, then per row), each as many rows as fit `workspace` bytes (at least one).
int64_t cuda_triangle_product_workspace(int64_t rows, int64_t L, int64_t C, int64_t workspace);
int64_t cuda_outer_product_workspace(int64_t rows, int64_t S, int64_t L, int64_t A, int64_t Cz,
                                     int64_t dtype_bytes, int64_t workspace);
// Whether the CUDA backend updates bf16 pair rows of width cz from a line-4 result of width c in one kernel
// (kernels/triangle_gated_output.cuh, checked against it in tests/gpu).
bool cuda_fuses_triangle_output(int64_t cz, int64_t c);
// Whether it projects bf16 pair rows of width cz into left/right blocks of cb channels in one kernel
// (kernels/triangle_projection.cuh, checked against it in tests/gpu).
bool cuda_fuses_triangle_projection(int64_t cz, int64_t cb);
// Whether it builds an attention pair bias of H heads from bf16 pair rows of width cz in one kernel
// (kernels/pair_bias.cuh, checked against it in tests/gpu).
bool cuda_fuses_pair_bias(int64_t cz, int64_t H);
// Whether it projects bf16 MSA rows of width c into masked left/right rows of a and b channels in one kernel
// (kernels/masked_projections.cuh, checked against it in tests/gpu).
bool cuda_fuses_outer_product_projections(int64_t c, int64_t a, int64_t b);
// Whether it runs the transition of bf16 rows of width c with `hidden` hidden units in one kernel, and the bf16
// scratch it takes for `rows` rows then (kernels/transition_mlp.cuh, cuda_transition.cpp, checked in tests/gpu).
bool cuda_fuses_transition(int64_t c, int64_t hidden);
int64_t cuda_transition_workspace(int64_t rows, int64_t c, int64_t hidden, int64_t workspace);

// `--chunking auto`: the least chunking whose planned peak (with the CUDA scratch when workspace_budget > 0) fits
// `available` bytes: row chunks of 1024, 512, ... 8 for every module, each also with channel blocks of 64 ... 8
// for the triangle multiplication; then the same without the template cache (when options.template_cache asked for
// it); none when even the smallest does not fit. options.chunks is ignored.
struct ChunkChoice {
  runtime::ChunkConfig chunks;
  bool template_cache = true;
};
std::optional<ChunkChoice> chunks_that_fit(const ModelConfig& cfg, const RunShape& shape, MemoryPlanOptions options,
                                           int64_t workspace_budget, int64_t available);
// The share of the available memory `--chunking auto` plans for (the rest absorbs allocator fragmentation).
constexpr double kChunkingHeadroom = 0.95;
// "rows 64, triangle channels 32 (0 = whole), template cache off"
std::string describe(const ChunkChoice& choice);

}  // namespace axf::model
