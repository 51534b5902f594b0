// Outer product mean (Suppl. Alg. 10; AlphaFold modules.OuterProductMean) against a literal double-precision
// implementation; chunking changes nothing; padded residues/sequences (mask 0, garbage values) leave pair[i,j] for
// real i, j unchanged; no NaNs.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <memory>

#include "model/outer_product_mean.h"
#include "support/model_test_support.h"

namespace axf::test {
namespace {

using model::Scope;

// pair[i,j,f] + (sum_{x,y} (sum_s a[s,i,x] b[s,j,y]) w[x,y,f] + bias[f]) / (1e-3 + sum_s mask[s,i] mask[s,j]),
// a = mask * (LayerNorm(msa) Wl + bl), b = mask * (LayerNorm(msa) Wr + br).
std::vector<double> reference(const Scope& s, const Tensor& msa_t, const Tensor& mask_t, const Tensor& pair_t) {
  const int64_t S = msa_t.size(0), L = msa_t.size(1), c = msa_t.size(2), cz = pair_t.size(2);
  const auto msa = to_doubles(msa_t), mask = to_doubles(mask_t);
  const auto g = to_doubles(s.sub("layer_norm_input")["scale"]), o = to_doubles(s.sub("layer_norm_input")["offset"]);
  const auto wl = to_doubles(s.sub("left_projection")["weights"]), bl = to_doubles(s.sub("left_projection")["bias"]);
  const auto wr = to_doubles(s.sub("right_projection")["weights"]), br = to_doubles(s.sub("right_projection")["bias"]);
  const auto w = to_doubles(s["output_w"]), bias = to_doubles(s["output_b"]);
  const int64_t A = static_cast<int64_t>(bl.size()), B = static_cast<int64_t>(br.size());

  std::vector<double> a(S * L * A), b(S * L * B), m(c);
  for (int64_t r = 0; r < S * L; ++r) {
    layer_norm_ref(&msa[r * c], g.data(), o.data(), c, m.data());
    for (int64_t x = 0; x < A; ++x) {
      double acc = bl[x];
      for (int64_t k = 0; k < c; ++k) acc += m[k] * wl[k * A + x];
      a[r * A + x] = mask[r] * acc;
    }
    for (int64_t y = 0; y < B; ++y) {
      double acc = br[y];
      for (int64_t k = 0; k < c; ++k) acc += m[k] * wr[k * B + y];
      b[r * B + y] = mask[r] * acc;
    }
  }
  std::vector<double> out = to_doubles(pair_t), outer(A * B);
  for (int64_t i = 0; i < L; ++i)
    for (int64_t j = 0; j < L; ++j) {
      double norm = 0;
      for (int64_t r = 0; r < S; ++r) norm += mask[r * L + i] * mask[r * L + j];
      for (int64_t x = 0; x < A; ++x)
        for (int64_t y = 0; y < B; ++y) {
          double acc = 0;
          for (int64_t r = 0; r < S; ++r) acc += a[(r * L + i) * A + x] * b[(r * L + j) * B + y];
          outer[x * B + y] = acc;
        }
      for (int64_t f = 0; f < cz; ++f) {
        double acc = bias[f];
        for (int64_t xy = 0; xy < A * B; ++xy) acc += outer[xy] * w[xy * cz + f];
        out[(i * L + j) * cz + f] += acc / (1e-3 + norm);
      }
    }
  return out;
}

bool all_finite(const std::vector<double>& v) {
  return std::all_of(v.begin(), v.end(), [](double x) { return std::isfinite(x); });
}

struct Fixture {
  std::unique_ptr<backend::Backend> backend = backend::make_cpu_backend();
  parallel::SelfCommunicator comm;
  runtime::ExecutionContext ctx{*backend, comm};
  model::ModelConfig cfg = small_config();
  model::Params params;
  std::string prefix = std::string(model::kRootScope) + "/evoformer/evoformer_iteration/outer_product_mean";
};

runtime::ChunkConfig uniform_chunks(int64_t n) {
  runtime::ChunkConfig c;
  c.msa_rows = c.msa_columns = c.pair_rows = c.opm_rows = c.template_rows = n;
  return c;
}

TEST(OuterProductMean, MatchesLiteralAlgorithmAndChunking) {
  Fixture f;
  add_random_params(f.params, f.cfg, f.prefix, 17);
  const Scope scope = Scope(f.params, f.prefix).block(1);
  const int64_t S = 6, L = 8;
  const Tensor msa = random_tensor({S, L, f.cfg.msa_channel}, 81);
  const Tensor mask = random_mask({S, L}, 82, 0.7f);
  const Tensor pair = random_tensor({L, L, f.cfg.pair_channel}, 83);
  const auto want = reference(scope, msa, mask, pair);
  std::vector<double> first;
  for (int64_t chunk : {0, 1, 2, 3}) {
    f.ctx.set_chunks(uniform_chunks(chunk));
    Tensor act = pair.clone();
    model::outer_product_mean(f.ctx, scope, msa, mask, act);
    const auto got = to_doubles(act);
    EXPECT_TRUE(all_finite(got)) << "chunk " << chunk;
    EXPECT_LT(max_rel_error(got, want), 1e-5) << "chunk " << chunk;
    if (chunk == 0) {
      first = got;
    } else {
      EXPECT_LT(max_rel_error(got, first), 1e-6) << "chunk " << chunk << " vs unchunked";
    }
  }
}

TEST(OuterProductMean, PaddedResiduesAndSequencesChangeNothing) {
  Fixture f;
  add_random_params(f.params, f.cfg, f.prefix, 18);
  const Scope scope = Scope(f.params, f.prefix).block(1);
  const int64_t S = 5, L = 7, Sp = 8, Lp = 9, cm = f.cfg.msa_channel, cz = f.cfg.pair_channel;
  const Tensor msa = random_tensor({S, L, cm}, 91);
  const Tensor mask = random_mask({S, L}, 92, 0.7f);
  const Tensor pair = random_tensor({L, L, cz}, 93);
  Tensor out = pair.clone();
  model::outer_product_mean(f.ctx, scope, msa, mask, out);

  Tensor msa_p = random_tensor({Sp, Lp, cm}, 94, 3.0f);
  Tensor mask_p = Tensor::zeros({Sp, Lp});
  Tensor pair_p = random_tensor({Lp, Lp, cz}, 95, 3.0f);
  Tensor msa_corner = msa_p.slice(0, 0, S).slice(1, 0, L), mask_corner = mask_p.slice(0, 0, S).slice(1, 0, L),
         pair_corner = pair_p.slice(0, 0, L).slice(1, 0, L);
  core::copy_host(msa, msa_corner);
  core::copy_host(mask, mask_corner);
  core::copy_host(pair, pair_corner);
  for (int64_t chunk : {0, 2}) {
    f.ctx.set_chunks(uniform_chunks(chunk));
    Tensor out_p = pair_p.clone();
    model::outer_product_mean(f.ctx, scope, msa_p, mask_p, out_p);
    EXPECT_TRUE(all_finite(to_doubles(out_p))) << "chunk " << chunk;
    EXPECT_LT(max_rel_error(to_doubles(out_p.slice(0, 0, L).slice(1, 0, L)), to_doubles(out)), 1e-5)
        << "chunk " << chunk;
  }
}

}  // namespace
}  // namespace axf::test
