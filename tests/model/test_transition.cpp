// Transition (Suppl. Alg. 9/15) against a literal double-precision implementation; chunking changes nothing.
#include <gtest/gtest.h>

#include "model/transition.h"
#include "support/model_test_support.h"

namespace axf::test {
namespace {

std::vector<double> reference(const model::Scope& s, const Tensor& act) {
  const int64_t n = act.numel() / act.size(-1), c = act.size(-1);
  auto x = to_doubles(act);
  auto g = to_doubles(s.sub("input_layer_norm")["scale"]), b = to_doubles(s.sub("input_layer_norm")["offset"]);
  auto w1 = to_doubles(s.sub("transition1")["weights"]), b1 = to_doubles(s.sub("transition1")["bias"]);
  auto w2 = to_doubles(s.sub("transition2")["weights"]), b2 = to_doubles(s.sub("transition2")["bias"]);
  const int64_t h = static_cast<int64_t>(b1.size());
  std::vector<double> out = x, ln(c), hid(h);
  for (int64_t r = 0; r < n; ++r) {
    layer_norm_ref(&x[r * c], g.data(), b.data(), c, ln.data());
    for (int64_t k = 0; k < h; ++k) {
      double acc = b1[k];
      for (int64_t i = 0; i < c; ++i) acc += ln[i] * w1[i * h + k];
      hid[k] = acc > 0 ? acc : 0;
    }
    for (int64_t o = 0; o < c; ++o) {
      double acc = b2[o];
      for (int64_t k = 0; k < h; ++k) acc += hid[k] * w2[k * c + o];
      out[r * c + o] += acc;
    }
  }
  return out;
}

TEST(Transition, MatchesLiteralAlgorithmAndChunking) {
  auto backend = backend::make_cpu_backend();
  parallel::SelfCommunicator comm;
  runtime::ExecutionContext ctx(*backend, comm);
  model::ModelConfig cfg = small_config();
  model::Params params;
  const std::string prefix = std::string(model::kRootScope) + "/evoformer/evoformer_iteration/pair_transition";
  add_random_params(params, cfg, prefix, 7);
  const model::Scope scope = model::Scope(params, prefix).block(1);

  Tensor pair = random_tensor({5, 5, cfg.pair_channel}, 3);
  const auto want = reference(scope, pair);
  for (int64_t chunk : {0, 1, 2, 5}) {
    Tensor act = pair.clone();
    model::transition(ctx, scope, act, chunk);
    EXPECT_LT(max_rel_error(to_doubles(act), want), 1e-5) << "chunk " << chunk;
  }
}

}  // namespace
}  // namespace axf::test
