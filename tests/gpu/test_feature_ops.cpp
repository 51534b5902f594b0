// The input-feature operations (template pair features and their fused embedding2d, relative-position and
// recycled-distogram pair embeddings, extra-MSA embedding) on the CUDA backend against the CPU backend, in the
// harness of backend_ops_harness.h: each case builds host inputs, the harness runs it on both backends with the
// output views poisoned (NaN) and compares whole buffers (outside the views: untouched). Odd lengths, padding
// residues (masks 0, garbage coordinates, out-of-range aatype), strided outputs, bf16 outputs/parameters. The ops
// must not synchronise: they are captured into a CUDA graph. Skipped without a GPU.
#include <gtest/gtest.h>

#ifdef AXF_WITH_CUDA

#include <cuda_runtime_api.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <limits>
#include <ostream>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/random.h"
#include "gpu/backend_ops_harness.h"
#include "model/embedders.h"
#include "model/template_embedding.h"

namespace axf::test {
namespace {

using backend::Backend;
using core::DType;
using View = std::function<Tensor(const Tensor&)>;
using Views = std::vector<Tensor>;
// The cases choose their dtypes themselves (bf16 outputs and parameters included), so only the harness's fp32
// variant runs.
using FeatureCase = OpCase;

uint64_t next_seed() {
  static uint64_t s = 9100;
  return ++s;
}
Tensor rnd(const Shape& shape, float scale = 1.f) { return random_tensor(shape, next_seed(), scale); }
Tensor as(Tensor t, DType d) { return d == DType::F32 ? t : t.to(d); }

class FeatureOpsCuda : public CudaVsCpu {};

TEST_P(FeatureOpsCuda, MatchesCpu) { expect_cuda_matches_cpu(GetParam(), *cpu_, *cuda_, false); }

// ---- Inputs ---------------------------------------------------------------------------------------------------

// Per-residue template inputs of template 1 of a random batch whose last residues are padding (atom masks 0,
// garbage coordinates, aatype 21) and whose residue 2 lacks N (backbone mask 0).
model::TemplateResidueInputs template_residues(int64_t L, uint64_t seed) {
  model::ModelInputs inputs = random_model_inputs(L, 1, 1, 2, seed);
  model::TemplateBatch b = inputs.templates;
  float* pos = b.all_atom_positions.data<float>();
  float* mask = b.all_atom_mask.data<float>();
  core::Random rng(seed + 7);
  for (int64_t i = L - L / 5; i < L; ++i) {
    b.aatype.data<int32_t>()[L + i] = 21;
    for (int a = 0; a < 37; ++a) {
      mask[(L + i) * 37 + a] = 0.f;
      for (int d = 0; d < 3; ++d) pos[((L + i) * 37 + a) * 3 + d] = static_cast<float>(80 * rng.normal());
    }
  }
  if (L > 2) mask[(L + 2) * 37 + 0] = 0.f;
  b.pseudo_beta = Tensor();
  b.pseudo_beta_mask = Tensor();
  return model::template_residue_inputs(b, 1);
}

// ---- Cases ----------------------------------------------------------------------------------------------------

struct TemplateSpec {
  int64_t L, row_begin, rows;
  bool unit = true, fused = false, bias = true, strided = false;
  DType out = DType::F32, w = DType::F32;
  int64_t cout = 64;
};

void add_template_case(std::vector<FeatureCase>& cs, const std::string& name, TemplateSpec s, double tol) {
  const model::TemplateConfig tc = model::ModelConfig().templates;
  const int64_t F = tc.dgram_features.num_bins + 49;
  std::vector<float> lower, upper;
  model::template_dgram_breaks(tc.dgram_features, lower, upper);
  cs.push_back({name,
                [s, F] {
                  const model::TemplateResidueInputs r = template_residues(s.L, next_seed());
                  const int64_t C = s.fused ? s.cout : F;
                  std::vector<Arg> a = {in(r.pseudo_beta), in(r.pseudo_beta_mask), in(r.ca),
                                        in(r.rotation),    in(r.backbone_mask),    in(r.aatype)};
                  a.push_back(in(as(rnd({F, s.cout}, 0.3f), s.w)));
                  a.push_back(in(as(rnd({s.cout}), s.w)));
                  if (s.strided) {
                    a.push_back(out(as(rnd({s.L, s.rows, C + 3}), s.out),
                                    [C](const Tensor& t) { return t.transpose(0, 1).slice(2, 1, 1 + C); }));
                  } else {
                    a.push_back(out(as(rnd({s.rows, s.L, C}), s.out)));
                  }
                  return a;
                },
                [s, lower, upper](Backend& be, Views& v) {
                  backend::TemplatePairFeatureArgs a;
                  a.pseudo_beta = v[0];
                  a.pseudo_beta_mask = v[1];
                  a.ca = v[2];
                  a.rotation = v[3];
                  a.backbone_mask = v[4];
                  a.aatype = v[5];
                  a.dgram_lower = lower;
                  a.dgram_upper = upper;
                  a.use_unit_vector = s.unit;
                  if (s.fused) {
                    a.w = v[6];
                    if (s.bias) a.bias = v[7];
                  }
                  a.out = v[8];
                  a.row_begin = s.row_begin;
                  be.template_pair_features(a);
                },
                tol});
}

void add_template_cases(std::vector<FeatureCase>& cs) {
  for (int64_t L : {1, 7, 37, 130}) {
    const std::string l = "_L" + std::to_string(L);
    for (bool unit : {false, true}) {
      const std::string u = unit ? "_unit" : "";
      // Features: bit-identical arithmetic on both sides (expected error 0).
      add_template_case(cs, "template_features" + l + u, {L, 0, L, unit}, 1e-6);
      add_template_case(cs, "template_embedding" + l + u, {L, 0, L, unit, true}, 1e-6);
    }
  }
  add_template_case(cs, "template_features_rows_strided", {37, 11, 9, true, false, true, true}, 1e-6);
  add_template_case(cs, "template_features_bf16_out", {37, 0, 37, true, false, true, false, DType::BF16}, 1e-2);
  add_template_case(cs, "template_embedding_rows_strided", {130, 64, 33, true, true, true, true}, 1e-6);
  add_template_case(cs, "template_embedding_no_bias", {37, 3, 20, true, true, false}, 1e-6);
  add_template_case(cs, "template_embedding_cout_odd", {37, 0, 37, true, true, true, false, DType::F32, DType::F32, 23},
                    1e-6);
  add_template_case(cs, "template_embedding_bf16_out", {130, 0, 130, true, true, true, false, DType::BF16}, 1e-2);
  add_template_case(cs, "template_embedding_bf16_out_bf16_w",
                    {37, 0, 37, true, true, true, false, DType::BF16, DType::BF16}, 1e-2);
  add_template_case(cs, "template_embedding_bf16_w", {37, 0, 37, false, true, true, false, DType::F32, DType::BF16},
                    1e-6);
}

Tensor residue_index(int64_t L) {
  core::Random rng(next_seed());
  Tensor ri = Tensor::empty({L}, DType::I32);
  int32_t v = 0;
  for (int64_t i = 0; i < L; ++i) ri.data<int32_t>()[i] = v += 1 + (rng.uniform() < 0.08 ? 50 : 0);
  return ri;
}

// Pseudo-beta-like positions: a 3.8 A random walk (distances over all bins), one coincident pair (no bin).
Tensor positions(int64_t L) {
  core::Random rng(next_seed());
  Tensor p = Tensor::empty({L, 3});
  double x[3] = {0, 0, 0};
  for (int64_t i = 0; i < L; ++i)
    for (int d = 0; d < 3; ++d) p.data<float>()[i * 3 + d] = static_cast<float>(x[d] += 2.2 * rng.normal());
  if (L > 4)
    for (int d = 0; d < 3; ++d) p.data<float>()[4 * 3 + d] = p.data<float>()[1 * 3 + d];
  return p;
}

struct PairSpec {
  bool relpos;
  int64_t L, row_begin, rows, C;
  DType pair = DType::F32, table = DType::F32;
  bool bias = true, strided = false;
};

void add_pair_case(std::vector<FeatureCase>& cs, const std::string& name, PairSpec s, double tol) {
  const int32_t R = 32;
  const model::DgramConfig g = model::ModelConfig().prev_pos;
  std::vector<float> lower, upper;
  model::dgram_squared_breaks(g, lower, upper);
  const int64_t bins = s.relpos ? 2 * R + 1 : g.num_bins;
  cs.push_back({name,
                [s, bins] {
                  std::vector<Arg> a = {in(s.relpos ? residue_index(s.L) : positions(s.L)),
                                        in(as(rnd({bins, s.C}), s.table)), in(as(rnd({s.C}), s.table))};
                  if (s.strided) {
                    const int64_t C = s.C;
                    a.push_back(acc(as(rnd({s.L, s.rows, C + 2}), s.pair),
                                    [C](const Tensor& t) { return t.transpose(0, 1).slice(2, 2, 2 + C); }));
                  } else {
                    a.push_back(acc(as(rnd({s.rows, s.L, s.C}), s.pair)));
                  }
                  return a;
                },
                [s, R, lower, upper](Backend& be, Views& v) {
                  const Tensor bias = s.bias ? v[2] : Tensor();
                  if (s.relpos) {
                    be.relative_position_embedding({v[0], R, v[1], bias, v[3], s.row_begin});
                  } else {
                    be.distogram_embedding({v[0], lower, upper, v[1], bias, v[3], s.row_begin});
                  }
                },
                tol});
}

void add_pair_cases(std::vector<FeatureCase>& cs) {
  for (bool relpos : {true, false}) {
    const std::string k = relpos ? "relpos" : "distogram";
    for (int64_t L : {1, 7, 37, 130}) {
      // fp32: the same additions in the same order on both sides, so indices and sums are exact.
      add_pair_case(cs, k + "_L" + std::to_string(L), {relpos, L, 0, L, 128}, 0.0);
      add_pair_case(cs, k + "_L" + std::to_string(L) + "_c5", {relpos, L, 0, L, 5}, 0.0);
    }
    add_pair_case(cs, k + "_rows_strided", {relpos, 130, 77, 40, 128, DType::F32, DType::F32, true, true}, 0.0);
    add_pair_case(cs, k + "_no_bias", {relpos, 37, 5, 9, 64, DType::F32, DType::F32, false}, 0.0);
    add_pair_case(cs, k + "_bf16_pair", {relpos, 37, 0, 37, 128, DType::BF16}, 1e-2);
    add_pair_case(cs, k + "_bf16_pair_bf16_table", {relpos, 130, 0, 130, 128, DType::BF16, DType::BF16}, 1e-2);
    add_pair_case(cs, k + "_bf16_table", {relpos, 7, 0, 7, 33, DType::F32, DType::BF16}, 0.0);
  }
}

struct ExtraSpec {
  int64_t E, L, C;
  DType out = DType::F32, w = DType::F32;
  bool bias = true, strided = false;
};

void add_extra_case(std::vector<FeatureCase>& cs, const std::string& name, ExtraSpec s, double tol) {
  cs.push_back({name,
                [s] {
                  const model::ModelInputs m = random_model_inputs(s.L, 1, s.E, 0, next_seed());
                  std::vector<Arg> a = {in(m.extra_msa), in(m.extra_has_deletion), in(m.extra_deletion_value),
                                        in(as(rnd({25, s.C}, 0.4f), s.w)), in(as(rnd({s.C}), s.w))};
                  if (s.strided) {
                    const int64_t C = s.C;
                    a.push_back(out(as(rnd({s.L, s.E, C + 4}), s.out),
                                    [C](const Tensor& t) { return t.transpose(0, 1).slice(2, 3, 3 + C); }));
                  } else {
                    a.push_back(out(as(rnd({s.E, s.L, s.C}), s.out)));
                  }
                  return a;
                },
                [s](Backend& be, Views& v) {
                  be.extra_msa_embedding({v[0], v[1], v[2], v[3], s.bias ? v[4] : Tensor(), v[5]});
                },
                tol});
}

void add_extra_cases(std::vector<FeatureCase>& cs) {
  add_extra_case(cs, "extra_msa_E1_L1", {1, 1, 64}, 1e-6);
  add_extra_case(cs, "extra_msa_E5_L7", {5, 7, 64}, 1e-6);
  add_extra_case(cs, "extra_msa_E33_L37", {33, 37, 64}, 1e-6);
  add_extra_case(cs, "extra_msa_E3_L130", {3, 130, 64}, 1e-6);
  add_extra_case(cs, "extra_msa_c23_strided", {9, 37, 23, DType::F32, DType::F32, true, true}, 1e-6);
  add_extra_case(cs, "extra_msa_no_bias", {6, 7, 64, DType::F32, DType::F32, false}, 1e-6);
  add_extra_case(cs, "extra_msa_bf16_out", {17, 37, 64, DType::BF16}, 1e-2);
  add_extra_case(cs, "extra_msa_bf16_out_bf16_w", {17, 130, 64, DType::BF16, DType::BF16}, 1e-2);
}

std::vector<FeatureCase> all_cases() {
  std::vector<FeatureCase> cs;
  add_template_cases(cs);
  add_pair_cases(cs);
  add_extra_cases(cs);
  for (FeatureCase& c : cs) c.bf16 = false;
  return cs;
}

INSTANTIATE_TEST_SUITE_P(Cases, FeatureOpsCuda, ::testing::ValuesIn(all_cases()),
                         [](const ::testing::TestParamInfo<FeatureCase>& info) { return info.param.name; });

// Template pair feature arguments of one template (template_residues) on the device, fused with a random
// embedding2d [F, c_out]; `out` left for the caller.
backend::TemplatePairFeatureArgs device_template_args(Backend& be, int64_t L, int64_t c_out, float w_scale = 1.f) {
  const model::TemplateConfig tc = model::ModelConfig().templates;
  const model::TemplateResidueInputs r = template_residues(L, 3);
  backend::TemplatePairFeatureArgs t;
  t.pseudo_beta = be.upload(r.pseudo_beta);
  t.pseudo_beta_mask = be.upload(r.pseudo_beta_mask);
  t.ca = be.upload(r.ca);
  t.rotation = be.upload(r.rotation);
  t.backbone_mask = be.upload(r.backbone_mask);
  t.aatype = be.upload(r.aatype);
  model::template_dgram_breaks(tc.dgram_features, t.dgram_lower, t.dgram_upper);
  t.w = be.upload(rnd({tc.dgram_features.num_bins + 49, c_out}, w_scale));
  t.bias = be.upload(rnd({c_out}));
  return t;
}

// ---- No synchronisation: every op can be captured into a CUDA graph --------------------------------------------

TEST(FeatureOpsCudaGraph, OpsDoNotSynchronise) {
  if (backend::cuda_device_count() == 0) GTEST_SKIP() << "no CUDA device";
  backend::cuda::CudaBackend be(0);
  const int64_t L = 37, E = 5, C = 64;
  backend::TemplatePairFeatureArgs t = device_template_args(be, L, C);
  t.out = be.empty({L, L, C}, DType::F32);
  Tensor pair = be.upload(rnd({L, L, 128}));
  backend::RelativePositionEmbeddingArgs rp{be.upload(residue_index(L)), 32, be.upload(rnd({65, 128})),
                                            be.upload(rnd({128})), pair, 0};
  backend::DistogramEmbeddingArgs dg{be.upload(positions(L)), {}, {}, be.upload(rnd({15, 128})),
                                     be.upload(rnd({128})), pair, 0};
  model::dgram_squared_breaks(model::ModelConfig().prev_pos, dg.lower, dg.upper);
  const model::ModelInputs m = random_model_inputs(L, 1, E, 0, 5);
  backend::ExtraMsaEmbeddingArgs ex{be.upload(m.extra_msa),  be.upload(m.extra_has_deletion),
                                    be.upload(m.extra_deletion_value), be.upload(rnd({25, C})),
                                    be.upload(rnd({C})), be.empty({E, L, C}, DType::F32)};
  be.synchronize();
  // A synchronisation or device-to-host read inside a capture fails (and would throw from the op).
  ASSERT_EQ(cudaStreamBeginCapture(be.stream(), cudaStreamCaptureModeThreadLocal), cudaSuccess);
  try {
    be.template_pair_features(t);
    be.relative_position_embedding(rp);
    be.distogram_embedding(dg);
    be.extra_msa_embedding(ex);
  } catch (const std::exception& e) {
    cudaGraph_t g = nullptr;
    cudaStreamEndCapture(be.stream(), &g);
    if (g) cudaGraphDestroy(g);
    FAIL() << "an op failed under stream capture: " << e.what();
  }
  cudaGraph_t graph = nullptr;
  ASSERT_EQ(cudaStreamEndCapture(be.stream(), &graph), cudaSuccess);
  size_t nodes = 0;
  ASSERT_EQ(cudaGraphGetNodes(graph, nullptr, &nodes), cudaSuccess);
  EXPECT_EQ(nodes, 4u);  // one kernel per op, nothing else
  cudaGraphDestroy(graph);
  (void)cudaGetLastError();
}

// ---- Timing (AXF_FEATURE_TIMING=1): each op against the Backend default, i.e. the former host-built path ----------

double seconds_per_call(Backend& be, const std::function<void()>& f, int reps) {
  f();  // warm-up
  be.synchronize();
  const auto t0 = std::chrono::steady_clock::now();
  for (int r = 0; r < reps; ++r) f();
  be.synchronize();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() / reps;
}

TEST(FeatureOpsCudaTiming, OpsAgainstHostBuiltFeatures) {
  if (backend::cuda_device_count() == 0) GTEST_SKIP() << "no CUDA device";
  if (!std::getenv("AXF_FEATURE_TIMING")) GTEST_SKIP() << "set AXF_FEATURE_TIMING=1 (optionally =L,E)";
  int64_t L = 2048, E = 5120;
  std::sscanf(std::getenv("AXF_FEATURE_TIMING"), "%*d,%ld,%ld", &L, &E);
  if (L < 2) L = 2048;
  backend::cuda::CudaBackend be(0);
  Backend& base = be;
  std::printf("%s, L=%ld, E=%ld\n", backend::cuda_device_description(0).c_str(), static_cast<long>(L),
              static_cast<long>(E));
  auto report = [&](const char* what, double host_path, double device_op) {
    std::printf("  %-44s host-built %9.3f ms   device op %8.3f ms   x%.0f\n", what, 1e3 * host_path, 1e3 * device_op,
                host_path / device_op);
  };
  const model::TemplateConfig tc = model::ModelConfig().templates;
  const model::TemplateResidueInputs r = template_residues(L, 3);
  backend::TemplatePairFeatureArgs t = device_template_args(be, L, 64, 0.2f);
  for (DType dt : {DType::F32, DType::BF16}) {
    t.out = be.empty({L, L, 64}, dt);
    report(dt == DType::F32 ? "template features + embedding2d, fp32 out" : "template features + embedding2d, bf16 out",
           seconds_per_call(be, [&] { base.Backend::template_pair_features(t); }, 2),
           seconds_per_call(be, [&] { be.template_pair_features(t); }, 5));
  }
  {
    backend::TemplatePairFeatureArgs f = t;
    f.w = Tensor();
    f.bias = Tensor();
    f.out = be.empty({L, L, tc.dgram_features.num_bins + 49}, DType::F32);
    report("template features only [L, L, 88] fp32", seconds_per_call(be, [&] { base.Backend::template_pair_features(f); }, 2),
           seconds_per_call(be, [&] { be.template_pair_features(f); }, 5));
  }
  t = {};
  for (DType dt : {DType::F32, DType::BF16}) {
    Tensor pair = be.empty({L, L, 128}, dt);
    be.fill(pair, 0.f);
    backend::RelativePositionEmbeddingArgs rp{be.upload(residue_index(L)), 32, be.upload(rnd({65, 128})),
                                              be.upload(rnd({128})), pair, 0};
    backend::DistogramEmbeddingArgs dg{be.upload(positions(L)), {}, {}, be.upload(rnd({15, 128})),
                                       be.upload(rnd({128})), pair, 0};
    model::dgram_squared_breaks(model::ModelConfig().prev_pos, dg.lower, dg.upper);
    const bool f32 = dt == DType::F32;
    if (f32) {  // the generic embedding/add ops take fp32 pairs on every backend
      report("relpos embedding, fp32 pair", seconds_per_call(be, [&] { base.Backend::relative_position_embedding(rp); }, 2),
             seconds_per_call(be, [&] { be.relative_position_embedding(rp); }, 5));
      report("recycled distogram embedding, fp32 pair",
             seconds_per_call(be, [&] { base.Backend::distogram_embedding(dg); }, 2),
             seconds_per_call(be, [&] { be.distogram_embedding(dg); }, 5));
    } else {
      report("relpos embedding, bf16 pair (no host path)", 0, seconds_per_call(be, [&] { be.relative_position_embedding(rp); }, 5));
      report("recycled distogram embedding, bf16 pair", 0, seconds_per_call(be, [&] { be.distogram_embedding(dg); }, 5));
    }
  }
  {
    const model::ModelInputs m = random_model_inputs(L, 1, E, 0, 5);
    backend::ExtraMsaEmbeddingArgs ex{be.upload(m.extra_msa), be.upload(m.extra_has_deletion),
                                      be.upload(m.extra_deletion_value), be.upload(rnd({25, 64})),
                                      be.upload(rnd({64})), be.empty({E, L, 64}, DType::F32)};
    report("extra-MSA embedding, fp32 out", seconds_per_call(be, [&] { base.Backend::extra_msa_embedding(ex); }, 2),
           seconds_per_call(be, [&] { be.extra_msa_embedding(ex); }, 5));
    ex.out = be.empty({E, L, 64}, DType::BF16);
    report("extra-MSA embedding, bf16 out (no host path)", 0, seconds_per_call(be, [&] { be.extra_msa_embedding(ex); }, 5));
  }
}

}  // namespace
}  // namespace axf::test

#else  // !AXF_WITH_CUDA

TEST(FeatureOpsCuda, RequiresCuda) { GTEST_SKIP() << "built without CUDA (AXF_CUDA=OFF)"; }

#endif
