#include "model/evoformer.h"

#include "backend/backend.h"
#include "model/msa_attention.h"
#include "model/outer_product_mean.h"
#include "model/transition.h"
#include "model/triangle_attention.h"
#include "model/triangle_multiplication.h"
#include "runtime/log.h"

namespace axf::model {

void evoformer_iteration(runtime::ExecutionContext& ctx, const Scope& s, const EvoformerBlockConfig& c,
                         bool is_extra_msa, Tensor& msa, const Tensor& msa_mask, Tensor& pair,
                         const Tensor& pair_mask) {
  const int m = static_cast<int>(msa.size(2)), z = static_cast<int>(pair.size(2));
  const runtime::ChunkConfig& chunks = ctx.chunks();
  if (c.outer_product_first) outer_product_mean(ctx, s.sub("outer_product_mean"), msa, msa_mask, pair);
  msa_row_attention_with_pair_bias(ctx, s.sub("msa_row_attention_with_pair_bias"),
                                   ModelConfig::resolved(c.msa_row_attention, m, m), msa, msa_mask, pair);
  const AttentionConfig column = ModelConfig::resolved(c.msa_column_attention, m, m);
  if (is_extra_msa) {
    msa_column_global_attention(ctx, s.sub("msa_column_global_attention"), column, msa, msa_mask);
  } else {
    msa_column_attention(ctx, s.sub("msa_column_attention"), column, msa, msa_mask);
  }
  transition(ctx, s.sub("msa_transition"), msa, chunks.msa_rows);
  if (!c.outer_product_first) outer_product_mean(ctx, s.sub("outer_product_mean"), msa, msa_mask, pair);
  triangle_multiplication(ctx, s.sub("triangle_multiplication_outgoing"), backend::TriangleDirection::Outgoing, pair,
                          pair_mask);
  triangle_multiplication(ctx, s.sub("triangle_multiplication_incoming"), backend::TriangleDirection::Incoming, pair,
                          pair_mask);
  triangle_attention(ctx, s.sub("triangle_attention_starting_node"),
                     ModelConfig::resolved(c.triangle_attention_starting, z, z), TriangleNode::Starting, pair,
                     pair_mask);
  triangle_attention(ctx, s.sub("triangle_attention_ending_node"),
                     ModelConfig::resolved(c.triangle_attention_ending, z, z), TriangleNode::Ending, pair, pair_mask);
  transition(ctx, s.sub("pair_transition"), pair, chunks.pair_rows);
}

void evoformer_stack(runtime::ExecutionContext& ctx, const Scope& stack_scope, const EvoformerBlockConfig& cfg,
                     int num_blocks, bool is_extra_msa, Tensor& msa, const Tensor& msa_mask, Tensor& pair,
                     const Tensor& pair_mask, const std::string& label, runtime::RecordedRegions* recorded) {
  runtime::StageTimer timer(ctx, label);
  const auto blocks = [&] {
    for (int b = 0; b < num_blocks; ++b)
      evoformer_iteration(ctx, stack_scope.block(b), cfg, is_extra_msa, msa, msa_mask, pair, pair_mask);
  };
  if (recorded) {
    recorded->run(ctx, label, {msa, msa_mask, pair, pair_mask}, blocks);
  } else {
    blocks();
  }
  runtime::log_info(label, ": ", num_blocks, " blocks, msa ", msa.shape_str(), ", pair ", pair.shape_str(), " in ",
                    timer.seconds(), " s");
}

}  // namespace axf::model
