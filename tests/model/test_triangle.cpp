// Triangle multiplicative update (Suppl. Alg. 11/12) and triangle attention (Alg. 13/14) against literal
// double-precision implementations of AlphaFold's equations; chunking changes nothing; padding is masked out.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>

#include "model/triangle_attention.h"
#include "model/triangle_multiplication.h"
#include "support/model_test_support.h"
#include "support/reference_modules.h"

namespace axf::test {
namespace {

using backend::TriangleDirection;

bool all_finite(const Tensor& t) {
  for (float v : t.to_vector())
    if (!std::isfinite(v)) return false;
  return true;
}

// A pair mask with zeros but a one on the diagonal, so no row or column is fully masked.
Tensor pair_mask(int64_t L, uint64_t seed) {
  Tensor m = random_mask({L, L}, seed, 0.7f);
  for (int64_t i = 0; i < L; ++i) m.data<float>()[i * L + i] = 1.f;
  return m;
}

// Embeds pair [L, L, c] and mask [L, L] into [Lp, Lp, ...]: padded entries get large garbage values and mask 0.
void pad(const Tensor& pair, const Tensor& mask, int64_t Lp, uint64_t seed, Tensor* padded_pair, Tensor* padded_mask) {
  const int64_t L = pair.size(0), c = pair.size(2);
  *padded_pair = random_tensor({Lp, Lp, c}, seed, 100.f);
  *padded_mask = Tensor::zeros({Lp, Lp});
  for (int64_t i = 0; i < L; ++i)
    for (int64_t j = 0; j < L; ++j) {
      padded_mask->data<float>()[i * Lp + j] = mask.data<float>()[i * L + j];
      for (int64_t ch = 0; ch < c; ++ch)
        padded_pair->data<float>()[(i * Lp + j) * c + ch] = pair.data<float>()[(i * L + j) * c + ch];
    }
}

std::vector<double> crop(const Tensor& x, int64_t L) { return to_doubles(x.slice(0, 0, L).slice(1, 0, L)); }

struct Fixture {
  std::unique_ptr<backend::Backend> backend = backend::make_cpu_backend();
  parallel::SelfCommunicator comm;
  runtime::ExecutionContext ctx{*backend, comm};
  model::ModelConfig cfg = small_config();
  model::Params params;

  void set_pair_rows(int64_t chunk, int64_t triangle_channels = 0) {
    runtime::ChunkConfig c;
    c.pair_rows = chunk;
    c.triangle_channels = triangle_channels;
    ctx.set_chunks(c);
  }
};

const std::string kEvoformer = std::string(model::kRootScope) + "/evoformer/evoformer_iteration";

TEST(TriangleMultiplication, MatchesLiteralAlgorithmAndChunking) {
  Fixture f;
  for (TriangleDirection dir : {TriangleDirection::Outgoing, TriangleDirection::Incoming}) {
    const bool outgoing = dir == TriangleDirection::Outgoing;
    const std::string prefix = kEvoformer + (outgoing ? "/triangle_multiplication_outgoing" : "/triangle_multiplication_incoming");
    add_random_params(f.params, f.cfg, prefix, outgoing ? 11 : 12);
    const model::Scope scope = model::Scope(f.params, prefix).block(1);
    const int64_t L = 7;
    const Tensor pair = random_tensor({L, L, f.cfg.pair_channel}, 21);
    const Tensor mask = pair_mask(L, 22);
    std::vector<double> want = to_doubles(pair);
    reference::triangle_multiplication(scope, outgoing, L, to_doubles(mask), want);

    Tensor first;
    for (int64_t chunk : {0, 1, 2, 3}) {
      f.set_pair_rows(chunk);
      Tensor act = pair.clone();
      model::triangle_multiplication(f.ctx, scope, dir, act, mask);
      EXPECT_TRUE(all_finite(act));
      EXPECT_LT(max_rel_error(to_doubles(act), want), 1e-5) << (outgoing ? "outgoing" : "incoming") << " chunk " << chunk;
      if (chunk == 0) first = act;
      // Chunks change only the GEMM row counts (BLAS blocking), so results agree to fp32 rounding.
      EXPECT_LT(max_rel_error(to_doubles(act), to_doubles(first)), 1e-6) << "chunk " << chunk << " vs unchunked";
    }
    // Channel blocks of the [c, L, L] projections (1, 5 and 7 of the config's channels), with and without row chunks.
    for (int64_t channels : {1, 5, 7}) {
      for (int64_t chunk : {0, 3}) {
        f.set_pair_rows(chunk, channels);
        Tensor act = pair.clone();
        model::triangle_multiplication(f.ctx, scope, dir, act, mask);
        EXPECT_LT(max_rel_error(to_doubles(act), want), 1e-5) << "channels " << channels << ", chunk " << chunk;
        EXPECT_LT(max_rel_error(to_doubles(act), to_doubles(first)), 1e-6) << "channels " << channels;
      }
    }
  }
}

TEST(TriangleMultiplication, PaddingIsMaskedOut) {
  Fixture f;
  for (TriangleDirection dir : {TriangleDirection::Outgoing, TriangleDirection::Incoming}) {
    const bool outgoing = dir == TriangleDirection::Outgoing;
    const std::string prefix = kEvoformer + (outgoing ? "/triangle_multiplication_outgoing" : "/triangle_multiplication_incoming");
    add_random_params(f.params, f.cfg, prefix, 13);
    const model::Scope scope = model::Scope(f.params, prefix).block(0);
    const int64_t L = 6, Lp = 9;
    const Tensor pair = random_tensor({L, L, f.cfg.pair_channel}, 31);
    const Tensor mask = pair_mask(L, 32);
    Tensor padded, padded_mask;
    pad(pair, mask, Lp, 33, &padded, &padded_mask);
    for (int64_t chunk : {0, 2}) {
      f.set_pair_rows(chunk);
      Tensor act = pair.clone();
      model::triangle_multiplication(f.ctx, scope, dir, act, mask);
      Tensor act_p = padded.clone();
      model::triangle_multiplication(f.ctx, scope, dir, act_p, padded_mask);
      EXPECT_TRUE(all_finite(act_p));
      EXPECT_LT(max_rel_error(crop(act_p, L), to_doubles(act)), 1e-5) << (outgoing ? "outgoing" : "incoming");
    }
  }
}

TEST(TriangleAttention, MatchesLiteralAlgorithmAndChunking) {
  Fixture f;
  for (model::TriangleNode node : {model::TriangleNode::Starting, model::TriangleNode::Ending}) {
    const bool ending = node == model::TriangleNode::Ending;
    const std::string prefix = kEvoformer + (ending ? "/triangle_attention_ending_node" : "/triangle_attention_starting_node");
    add_random_params(f.params, f.cfg, prefix, ending ? 41 : 42);
    const model::Scope scope = model::Scope(f.params, prefix).block(1);
    const model::AttentionConfig att = model::ModelConfig::resolved(
        ending ? f.cfg.evoformer.triangle_attention_ending : f.cfg.evoformer.triangle_attention_starting,
        f.cfg.pair_channel, f.cfg.pair_channel);
    const int64_t L = 8;
    const Tensor pair = random_tensor({L, L, f.cfg.pair_channel}, 43);
    const Tensor mask = pair_mask(L, 44);
    std::vector<double> want = to_doubles(pair);
    reference::triangle_attention(scope, att, ending, L, to_doubles(mask), want);

    Tensor first;
    for (int64_t chunk : {0, 1, 2, 3}) {
      f.set_pair_rows(chunk);
      Tensor act = pair.clone();
      model::triangle_attention(f.ctx, scope, att, node, act, mask);
      EXPECT_TRUE(all_finite(act));
      EXPECT_LT(max_rel_error(to_doubles(act), want), 1e-5) << (ending ? "ending" : "starting") << " chunk " << chunk;
      if (chunk == 0) first = act;
      // Chunks change only the GEMM row counts (BLAS blocking), so results agree to fp32 rounding.
      EXPECT_LT(max_rel_error(to_doubles(act), to_doubles(first)), 1e-6) << "chunk " << chunk << " vs unchunked";
    }
  }
}

TEST(TriangleAttention, PaddingIsMaskedOut) {
  Fixture f;
  for (model::TriangleNode node : {model::TriangleNode::Starting, model::TriangleNode::Ending}) {
    const bool ending = node == model::TriangleNode::Ending;
    const std::string prefix = kEvoformer + (ending ? "/triangle_attention_ending_node" : "/triangle_attention_starting_node");
    add_random_params(f.params, f.cfg, prefix, 51);
    const model::Scope scope = model::Scope(f.params, prefix).block(0);
    const model::AttentionConfig att = model::ModelConfig::resolved(f.cfg.evoformer.triangle_attention_starting,
                                                                     f.cfg.pair_channel, f.cfg.pair_channel);
    const int64_t L = 6, Lp = 8;
    const Tensor pair = random_tensor({L, L, f.cfg.pair_channel}, 52);
    const Tensor mask = pair_mask(L, 53);
    Tensor padded, padded_mask;
    pad(pair, mask, Lp, 54, &padded, &padded_mask);
    for (int64_t chunk : {0, 3}) {
      f.set_pair_rows(chunk);
      Tensor act = pair.clone();
      model::triangle_attention(f.ctx, scope, att, node, act, mask);
      Tensor act_p = padded.clone();
      model::triangle_attention(f.ctx, scope, att, node, act_p, padded_mask);
      EXPECT_TRUE(all_finite(act_p));
      EXPECT_LT(max_rel_error(crop(act_p, L), to_doubles(act)), 1e-5) << (ending ? "ending" : "starting");
    }
  }
}

// The triangle modules work on strided pair views (here a view whose storage holds z^T) exactly as on z.
TEST(TriangleModules, StridedPairViewMatchesContiguous) {
  Fixture f;
  const std::string att_prefix = kEvoformer + "/triangle_attention_ending_node";
  const std::string mul_prefix = kEvoformer + "/triangle_multiplication_incoming";
  add_random_params(f.params, f.cfg, att_prefix, 61);
  add_random_params(f.params, f.cfg, mul_prefix, 62);
  const model::Scope att_scope = model::Scope(f.params, att_prefix).block(0);
  const model::Scope mul_scope = model::Scope(f.params, mul_prefix).block(0);
  const model::AttentionConfig att = model::ModelConfig::resolved(f.cfg.evoformer.triangle_attention_ending,
                                                                   f.cfg.pair_channel, f.cfg.pair_channel);
  const int64_t L = 5;
  const Tensor pair = random_tensor({L, L, f.cfg.pair_channel}, 63);
  const Tensor mask = pair_mask(L, 64);
  f.set_pair_rows(2);
  Tensor want = pair.clone();
  model::triangle_attention(f.ctx, att_scope, att, model::TriangleNode::Ending, want, mask);
  model::triangle_multiplication(f.ctx, mul_scope, TriangleDirection::Incoming, want, mask);
  Tensor storage = pair.transpose(0, 1).clone();  // contiguous z^T
  Tensor view = storage.transpose(0, 1);          // logically z, strided
  model::triangle_attention(f.ctx, att_scope, att, model::TriangleNode::Ending, view, mask);
  model::triangle_multiplication(f.ctx, mul_scope, TriangleDirection::Incoming, view, mask);
  EXPECT_LT(max_rel_error(to_doubles(view), to_doubles(want)), 1e-6);
}

}  // namespace
}  // namespace axf::test
