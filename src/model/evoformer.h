// Evoformer-style stacks (Suppl. Alg. 6 "EvoformerStack" lines 2-10, Alg. 18 "ExtraMsaStack"; AlphaFold
// EvoformerIteration). One block updates msa [S, L, c] and pair [L, L, c_z] in place:
//   (outer product mean, if first) -> MSA row attention with pair bias -> MSA column attention (global for the
//   extra MSA) -> MSA transition -> outer product mean -> triangle multiplication outgoing, incoming ->
//   triangle attention starting, ending node -> pair transition.
#pragma once

#include "model/config.h"
#include "model/params.h"
#include "runtime/execution_context.h"
#include "runtime/recorded_regions.h"

namespace axf::model {

// block_scope: ".../evoformer_iteration" or ".../extra_msa_stack" with the block index set.
void evoformer_iteration(runtime::ExecutionContext& ctx, const Scope& block_scope, const EvoformerBlockConfig& cfg,
                         bool is_extra_msa, Tensor& msa, const Tensor& msa_mask, Tensor& pair,
                         const Tensor& pair_mask);

// All `num_blocks` blocks of a stack; logs one line per stack with its time. With `recorded` (the prediction's
// regions, for runs that record their stacks) the blocks run as one recorded region named `label`: replayed as a
// CUDA graph from the second pass on.
void evoformer_stack(runtime::ExecutionContext& ctx, const Scope& stack_scope, const EvoformerBlockConfig& cfg,
                     int num_blocks, bool is_extra_msa, Tensor& msa, const Tensor& msa_mask, Tensor& pair,
                     const Tensor& pair_mask, const std::string& label, runtime::RecordedRegions* recorded = nullptr);

}  // namespace axf::model
