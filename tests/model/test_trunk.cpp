// The whole trunk (embeddings, templates, extra-MSA stack, Evoformer): finite, bit-identical when run twice,
// unchanged by chunking, and unchanged at real positions by masked padding residues and sequences.
#include <gtest/gtest.h>

#include "model/trunk.h"
#include "support/model_test_support.h"
#include "support/test_support.h"

namespace axf::test {
namespace {

struct TrunkRun {
  std::vector<double> single, pair, first_row;
};

class Trunk : public ::testing::Test {
 protected:
  void SetUp() override {
    backend_ = backend::make_cpu_backend();
    // Real AlphaFold widths (model_1_ptm), two Evoformer blocks, on a make-params file.
    cfg_ = model::model_config("model_1_ptm");
    cfg_.evoformer_num_block = 2;
    const auto dir = scratch_dir("trunk");
    model::write_random_params(dir / "params.npz", cfg_, 5);
    params_ = model::load_params(dir / "params.npz", cfg_, *backend_);
  }
  TrunkRun run(const model::ModelInputs& in, runtime::ChunkConfig chunks = {}) {
    runtime::ExecutionContext ctx(*backend_, comm_, chunks);
    const auto prev = model::RecyclingState::zeros(ctx, cfg_, in.num_res());
    const model::TrunkOutputs out = model::run_trunk(ctx, params_, cfg_, in, prev);
    return {to_doubles(out.single), to_doubles(out.pair), to_doubles(out.msa_first_row)};
  }
  std::unique_ptr<backend::Backend> backend_;
  parallel::SelfCommunicator comm_;
  model::ModelConfig cfg_;
  model::Params params_;
};

void expect_finite(const std::vector<double>& v, const char* what) {
  for (double x : v) ASSERT_TRUE(std::isfinite(x)) << what;
  EXPECT_GT(max_abs(v), 0.0) << what;
}

TEST_F(Trunk, L24TwoBlocksFiniteAndBitIdenticalTwice) {
  const auto in = random_model_inputs(24, 12, 20, 2, 99);
  const TrunkRun a = run(in), b = run(in);
  expect_finite(a.single, "single");
  expect_finite(a.pair, "pair");
  expect_finite(a.first_row, "msa_first_row");
  EXPECT_EQ(a.single, b.single);
  EXPECT_EQ(a.pair, b.pair);
  EXPECT_EQ(a.first_row, b.first_row);
  EXPECT_EQ(a.single.size(), 24u * 384u);
  EXPECT_EQ(a.pair.size(), 24u * 24u * 128u);
}

TEST_F(Trunk, ChunkingDoesNotChangeResults) {
  const auto in = random_model_inputs(13, 6, 9, 2, 7);
  const TrunkRun whole = run(in);
  runtime::ChunkConfig c;
  c.msa_rows = 4;
  c.msa_columns = 5;
  c.pair_rows = 3;
  c.opm_rows = 2;
  c.template_rows = 4;
  c.triangle_channels = 5;  // blocks of 5, 5, 5, ... of the small config's channels
  const TrunkRun chunked = run(in, c);
  EXPECT_LT(max_rel_error(chunked.single, whole.single), 1e-5);
  EXPECT_LT(max_rel_error(chunked.pair, whole.pair), 1e-5);
  EXPECT_LT(max_rel_error(chunked.first_row, whole.first_row), 1e-5);
}

// Pads residues at the end and sequences at the bottom, with mask 0 and garbage values.
std::map<std::string, Tensor> pad(const std::map<std::string, Tensor>& a, int64_t L, int64_t S, int64_t E, int64_t T,
                                  int64_t pl, int64_t ps) {
  const int64_t Lp = L + pl;
  auto garbage = [](Tensor t, uint64_t seed) {
    const Tensor g = random_tensor(t.shape(), seed, 3.0f);
    for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = g.data<float>()[i];
    return t;
  };
  // Copies `src` into the leading corner of `dst` (same rank).
  auto embed = [](const Tensor& src, Tensor dst) {
    Tensor view = dst;
    for (int d = 0; d < src.ndim(); ++d) view = view.slice(d, 0, src.size(d));
    core::copy_host(src, view);
    return dst;
  };
  std::map<std::string, Tensor> p;
  Tensor aatype = Tensor::zeros({Lp}, core::DType::I32), ri = Tensor::empty({Lp}, core::DType::I32);
  embed(a.at("aatype"), aatype);
  for (int64_t i = 0; i < Lp; ++i)
    ri.data<int32_t>()[i] = i < L ? a.at("residue_index").data<int32_t>()[i] : ri.data<int32_t>()[i - 1] + 1;
  p["aatype"] = aatype;
  p["residue_index"] = ri;
  p["seq_mask"] = embed(a.at("seq_mask"), Tensor::zeros({Lp}));
  p["target_feat"] = embed(a.at("target_feat"), garbage(Tensor::empty({Lp, 22}), 1));
  p["msa_feat"] = embed(a.at("msa_feat"), garbage(Tensor::empty({S + ps, Lp, 49}), 2));
  p["msa_mask"] = embed(a.at("msa_mask"), Tensor::zeros({S + ps, Lp}));
  Tensor extra = Tensor::zeros({E + ps, Lp}, core::DType::I32);
  for (int64_t i = 0; i < extra.numel(); ++i) extra.data<int32_t>()[i] = static_cast<int32_t>(i % 23);
  p["extra_msa"] = embed(a.at("extra_msa"), extra);
  p["extra_msa_mask"] = embed(a.at("extra_msa_mask"), Tensor::zeros({E + ps, Lp}));
  p["extra_has_deletion"] = embed(a.at("extra_has_deletion"), Tensor::full({E + ps, Lp}, 1.f));
  p["extra_deletion_value"] = embed(a.at("extra_deletion_value"), garbage(Tensor::empty({E + ps, Lp}), 3));
  Tensor taa = Tensor::zeros({T, Lp}, core::DType::I32);
  p["template_aatype"] = embed(a.at("template_aatype"), taa);
  p["template_all_atom_positions"] =
      embed(a.at("template_all_atom_positions"), garbage(Tensor::empty({T, Lp, 37, 3}), 4));
  p["template_all_atom_mask"] = embed(a.at("template_all_atom_mask"), Tensor::zeros({T, Lp, 37}));
  p["template_mask"] = a.at("template_mask");
  return p;
}

TEST_F(Trunk, MaskedPaddingLeavesRealPositionsUnchanged) {
  const int64_t L = 10, S = 5, E = 7, T = 2, pl = 3, ps = 2;
  const auto arrays = random_feature_arrays(L, S, E, T, 21);
  const TrunkRun plain = run(model::model_inputs_from_arrays(arrays, "plain"));
  const TrunkRun padded = run(model::model_inputs_from_arrays(pad(arrays, L, S, E, T, pl, ps), "padded"));
  const int64_t Lp = L + pl;
  std::vector<double> single, pair, first;
  for (int64_t i = 0; i < L; ++i) {
    for (int64_t c = 0; c < 384; ++c) single.push_back(padded.single[i * 384 + c]);
    for (int64_t c = 0; c < 256; ++c) first.push_back(padded.first_row[i * 256 + c]);
    for (int64_t j = 0; j < L; ++j)
      for (int64_t c = 0; c < 128; ++c) pair.push_back(padded.pair[(i * Lp + j) * 128 + c]);
  }
  EXPECT_LT(max_rel_error(single, plain.single), 1e-4);
  EXPECT_LT(max_rel_error(pair, plain.pair), 1e-4);
  EXPECT_LT(max_rel_error(first, plain.first_row), 1e-4);
}

// The TrunkCache (device inputs and template stack kept across recycles) changes nothing: every pass equals a pass
// that computes the template stack afresh bit for bit, the template stack runs only in the first pass, and with
// cache_templates off nothing of the template stack is kept (the templates are streamed: the same up to rounding).
TEST_F(Trunk, TemplateStackCacheIsExactAcrossRecycles) {
  const int64_t L = 12;
  const auto in = random_model_inputs(L, 5, 7, 2, 41);
  ASSERT_TRUE(cfg_.templates.enabled);
  runtime::ExecutionContext ctx(*backend_, comm_);
  model::TrunkCache cache, no_templates;
  no_templates.cache_templates = false;
  // The three runs of a pass read the same prev.prev_pair: none may consume it (TrunkPairReuse tests that).
  cache.reuse_pass_buffers = no_templates.reuse_pass_buffers = false;
  model::RecyclingState prev = model::RecyclingState::zeros(ctx, cfg_, L);
  const void* cached_reps = nullptr;
  for (int pass = 0; pass < 3; ++pass) {
    model::TrunkCache fresh;  // the template stack computed again in this pass
    fresh.reuse_pass_buffers = false;
    const model::TrunkOutputs plain = model::run_trunk(ctx, params_, cfg_, in, prev, &fresh);
    const model::TrunkOutputs cached = model::run_trunk(ctx, params_, cfg_, in, prev, &cache);
    const model::TrunkOutputs lean = model::run_trunk(ctx, params_, cfg_, in, prev, &no_templates);
    EXPECT_EQ(to_doubles(cached.pair), to_doubles(plain.pair)) << "pass " << pass;
    EXPECT_EQ(to_doubles(cached.single), to_doubles(plain.single)) << "pass " << pass;
    EXPECT_EQ(to_doubles(cached.msa_first_row), to_doubles(plain.msa_first_row)) << "pass " << pass;
    EXPECT_LT(max_rel_error(to_doubles(lean.pair), to_doubles(plain.pair)), 1e-5) << "pass " << pass;
    EXPECT_LT(max_rel_error(to_doubles(lean.single), to_doubles(plain.single)), 1e-5) << "pass " << pass;
    ASSERT_TRUE(cache.templates.valid());
    EXPECT_EQ(cache.templates.reps.shape(), Shape({2, L, L, cfg_.templates.num_channels()}));
    EXPECT_EQ(cache.templates.reps.dtype(), ctx.dtype());
    if (pass == 0) cached_reps = cache.templates.reps.raw_data();
    EXPECT_EQ(cache.templates.reps.raw_data(), cached_reps) << "the template stack ran again in pass " << pass;
    EXPECT_FALSE(no_templates.templates.valid());
    EXPECT_TRUE(no_templates.inputs.has_value());
    // The next pass recycles this one's outputs (positions: random, as the structure module would move them).
    prev.prev_pos = random_tensor({L, 37, 3}, 50 + pass, 8.f);
    prev.prev_msa_first_row = plain.msa_first_row;
    prev.prev_pair = plain.pair;
  }
}

// Recycling with the pair built in the previous pass's pair buffer (run_alphafold's way) equals recycling with a
// fresh buffer per pass, bit for bit, over three passes; unchunked and in row blocks (both with the template cache,
// so the template attention runs the same way).
TEST_F(Trunk, RecycledPairBufferReuseIsExact) {
  const int64_t L = 11;
  const auto in = random_model_inputs(L, 4, 6, 1, 43);
  for (int64_t rows : {int64_t{0}, int64_t{4}}) {
    runtime::ChunkConfig chunks;
    chunks.pair_rows = rows;
    runtime::ExecutionContext ctx(*backend_, comm_, chunks);
    model::TrunkCache reuse, no_reuse;
    no_reuse.reuse_pass_buffers = false;
    model::RecyclingState fresh_prev = model::RecyclingState::zeros(ctx, cfg_, L);
    model::RecyclingState reuse_prev = model::RecyclingState::zeros(ctx, cfg_, L);
    for (int pass = 0; pass < 3; ++pass) {
      const model::TrunkOutputs fresh = model::run_trunk(ctx, params_, cfg_, in, fresh_prev, &no_reuse);
      const void* recycled = reuse_prev.prev_pair.raw_data();
      const model::TrunkOutputs reused = model::run_trunk(ctx, params_, cfg_, in, reuse_prev, &reuse);
      EXPECT_EQ(reused.pair.raw_data(), recycled) << "pass " << pass << ": the pair was not built in place";
      EXPECT_EQ(to_doubles(reused.pair), to_doubles(fresh.pair)) << "pass " << pass << ", rows " << rows;
      EXPECT_EQ(to_doubles(reused.single), to_doubles(fresh.single)) << "pass " << pass << ", rows " << rows;
      const Tensor pos = random_tensor({L, 37, 3}, 60 + pass, 8.f);
      fresh_prev = {pos, fresh.msa_first_row, fresh.pair};
      reuse_prev = {pos, reused.msa_first_row, reused.pair};
    }
  }
}

}  // namespace
}  // namespace axf::test
