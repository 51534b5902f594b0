// Every Backend operation on the CUDA backend against the CPU reference, through the harness of
// backend_ops_harness.h (poisoned outputs, whole-buffer comparison); every case also runs in the bf16 variant
// (masks, scales and biases marked in32 stay fp32) unless it is about dtypes itself. Skipped without a GPU.
#include <gtest/gtest.h>

#ifdef AXF_WITH_CUDA

#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/random.h"
#include "gpu/backend_ops_harness.h"

namespace axf::test {
namespace {

using backend::Activation;
using backend::Backend;
using core::DType;

uint64_t next_seed() {
  static uint64_t s = 1234;
  return ++s;
}
Tensor rnd(const Shape& shape, float scale = 1.f) { return random_tensor(shape, next_seed(), scale); }
// Random 0/1 mask; rows listed in `empty_rows` (of the first dim) fully masked.
Tensor mask(const Shape& shape, std::vector<int64_t> empty_rows = {}, float ones = 0.7f) {
  Tensor m = random_mask(shape, next_seed(), ones);
  for (int64_t r : empty_rows) {
    Tensor row = m.select(0, r);
    core::copy_host(Tensor::zeros(row.shape()), row);
  }
  return m;
}
Tensor indices(const Shape& shape, int32_t vocab, bool with_negative) {
  core::Random rng(next_seed());
  Tensor t = Tensor::empty(shape, DType::I32);
  for (int64_t i = 0; i < t.numel(); ++i)
    t.data<int32_t>()[i] = with_negative && i % 5 == 2 ? -1 : static_cast<int32_t>(rng.below(vocab));
  return t;
}

class BackendOps : public CudaVsCpu {};

TEST_P(BackendOps, MatchesCpu) { expect_cuda_matches_cpu(GetParam(), *cpu_, *cuda_, false); }

// The same case on bf16 activations (skipped for the cases about dtypes themselves).
TEST_P(BackendOps, Bf16MatchesCpu) {
  if (!GetParam().bf16) GTEST_SKIP() << "fp32-only case";
  expect_cuda_matches_cpu(GetParam(), *cpu_, *cuda_, true);
}

// ---- Cases ---------------------------------------------------------------------------------------------------

using Views = std::vector<Tensor>;

void add_copy_cases(std::vector<OpCase>& cs) {
  auto copy_case = [&](std::string name, Shape src_shape, DType src_t, std::function<Tensor(const Tensor&)> sv,
                       Shape dst_shape, DType dst_t, std::function<Tensor(const Tensor&)> dv) {
    cs.push_back({name,
                  [=] {
                    Tensor s = rnd(src_shape, 4.f);
                    if (src_t != DType::F32) s = s.to(src_t);
                    Tensor d = Tensor::zeros(dst_shape, dst_t);
                    return std::vector<Arg>{in(s, sv), out(d, dv)};
                  },
                  [](Backend& be, Views& v) { be.copy(v[0], v[1]); }, 1e-5, 0, false});
  };
  copy_case("copy_contiguous", {5, 7}, DType::F32, {}, {5, 7}, DType::F32, {});
  copy_case("copy_transpose", {13, 37}, DType::F32, [](const Tensor& t) { return t.transpose(0, 1); }, {37, 13},
            DType::F32, {});
  copy_case("copy_slices", {6, 9, 11}, DType::F32, [](const Tensor& t) { return t.slice(1, 2, 7).slice(2, 1, 10); },
            {6, 8, 12}, DType::F32, [](const Tensor& t) { return t.slice(1, 3, 8).slice(2, 0, 9); });
  copy_case("copy_broadcast", {1, 17}, DType::F32, [](const Tensor& t) { return t.expand(0, 9); }, {9, 17},
            DType::F32, {});
  copy_case("copy_rank6_permute", {2, 3, 1, 4, 5, 3}, DType::F32,
            [](const Tensor& t) { return t.permute({5, 3, 0, 2, 4, 1}); }, {3, 4, 2, 1, 5, 3}, DType::F32, {});
  const std::vector<std::pair<DType, DType>> conv = {
      {DType::F32, DType::BF16}, {DType::BF16, DType::F32}, {DType::F32, DType::F16}, {DType::F16, DType::F32},
      {DType::F32, DType::I32},  {DType::I32, DType::F32},  {DType::I32, DType::I32}, {DType::BF16, DType::F16},
      {DType::BF16, DType::BF16}};
  for (auto [s, d] : conv)
    copy_case("copy_" + core::dtype_name(s) + "_to_" + core::dtype_name(d) + "_permuted", {4, 6, 5}, s,
              [](const Tensor& t) { return t.permute({2, 0, 1}); }, {5, 4, 6}, d, {});
  // The packet path (innermost dim dense in both views, a multiple of 8 long, 16-byte aligned): leading dims
  // permuted, sliced or broadcast, the destination permuted, same types and conversions.
  const auto swap01 = [](const Tensor& t) { return t.permute({1, 0, 2}); };
  copy_case("copy_packets_bf16_swap_leading", {9, 5, 16}, DType::BF16, swap01, {5, 9, 16}, DType::BF16, {});
  copy_case("copy_packets_f32_to_bf16_swap_leading", {9, 5, 24}, DType::F32, swap01, {5, 9, 24}, DType::BF16, {});
  copy_case("copy_packets_bf16_to_f32_swap_leading", {9, 5, 24}, DType::BF16, swap01, {5, 9, 24}, DType::F32, {});
  copy_case("copy_packets_f32_sliced", {7, 6, 32}, DType::F32, [](const Tensor& t) { return t.slice(1, 1, 5); },
            {7, 4, 32}, DType::F32, {});
  copy_case("copy_packets_bf16_into_permuted", {6, 11, 8}, DType::BF16, {}, {11, 6, 8}, DType::BF16, swap01);
  copy_case("copy_packets_f32_broadcast", {1, 5, 16}, DType::F32, [](const Tensor& t) { return t.expand(0, 3); },
            {3, 5, 16}, DType::F32, {});
  // Tiny and huge magnitudes through fp16 (subnormals, overflow to inf is avoided: no inf in comparisons).
  cs.push_back({"copy_f32_to_f16_subnormals",
                [] {
                  Tensor s = rnd({300}, 1e-5f);
                  return std::vector<Arg>{in(s), out(Tensor::zeros({300}, DType::F16))};
                },
                [](Backend& be, Views& v) { be.copy(v[0], v[1]); }, 1e-5, 0, false});
}

void add_fill_cases(std::vector<OpCase>& cs) {
  auto fill_case = [&](std::string name, Shape shape, std::function<Tensor(const Tensor&)> view) {
    cs.push_back({name, [=] { return std::vector<Arg>{out(rnd(shape), view)}; },
                  [](Backend& be, Views& v) { be.fill(v[0], 0.625f); }});
  };
  fill_case("fill_contiguous", {7, 33}, {});
  fill_case("fill_last_dim_slice", {4, 5, 12}, [](const Tensor& t) { return t.slice(2, 3, 9); });
  fill_case("fill_transposed_leading", {6, 5, 8}, [](const Tensor& t) { return t.transpose(0, 1); });
  fill_case("fill_long_row", {100003}, {});
  fill_case("fill_scalar", {}, {});
  fill_case("fill_short_rows", {1000, 3}, {});
}

void add_layer_norm_cases(std::vector<OpCase>& cs) {
  auto ln_case = [&](std::string name, Shape shape, std::function<Tensor(const Tensor&)> xv, Shape out_shape,
                     std::function<Tensor(const Tensor&)> ov) {
    const int64_t c = xv ? xv(Tensor::empty(shape)).size(-1) : shape.back();
    cs.push_back({name,
                  [=] {
                    Tensor x = rnd(shape, 2.f);
                    // An offset mean makes the variance pass matter.
                    for (int64_t i = 0; i < x.numel(); ++i) x.data<float>()[i] += 3.f;
                    Tensor g = random_tensor({c}, next_seed(), 0.1f), b = rnd({c}, 0.1f);
                    for (int64_t i = 0; i < c; ++i) g.data<float>()[i] += 1.f;
                    return std::vector<Arg>{in(x, xv), in32(g), in32(b), out(Tensor::zeros(out_shape), ov)};
                  },
                  [](Backend& be, Views& v) { be.layer_norm(v[0], v[1], v[2], v[3], 1e-5f); }});
  };
  ln_case("layer_norm_7x33", {7, 33}, {}, {7, 33}, {});
  ln_case("layer_norm_3x5x128", {3, 5, 128}, {}, {3, 5, 128}, {});
  ln_case("layer_norm_2x384", {2, 384}, {}, {2, 384}, {});
  ln_case("layer_norm_short_rows_c5", {37, 5}, {}, {37, 5}, {});
  ln_case("layer_norm_c1", {9, 1}, {}, {9, 1}, {});
  ln_case("layer_norm_long_row_c1500", {3, 1500}, {}, {3, 1500}, {});
  ln_case("layer_norm_transposed_input", {6, 4, 64}, [](const Tensor& t) { return t.transpose(0, 1); }, {4, 6, 64},
          {});
  ln_case("layer_norm_strided_output", {5, 3, 40}, {}, {5, 3, 50}, [](const Tensor& t) { return t.slice(2, 7, 47); });
  // Many rows (tens of thousands of blocks, 8 and 32 packets per row; rows not a multiple of a block's rows).
  ln_case("layer_norm_many_rows_c64", {40037, 64}, {}, {40037, 64}, {});
  ln_case("layer_norm_many_rows_c256", {20011, 256}, {}, {20011, 256}, {});
  // In place: the output is the input.
  for (const int64_t rows : {int64_t{11}, int64_t{30011}}) {
    cs.push_back({rows == 11 ? "layer_norm_in_place" : "layer_norm_in_place_many_rows",
                  [rows] {
                    Tensor g = rnd({48}, 0.1f), b = rnd({48}, 0.1f);
                    return std::vector<Arg>{acc(rnd({rows, 48})), in32(g), in32(b)};
                  },
                  [](Backend& be, Views& v) { be.layer_norm(v[0], v[1], v[2], v[0], 1e-5f); }});
  }
}

void add_elementwise_cases(std::vector<OpCase>& cs) {
  using Fn = std::function<void(Backend&, Tensor&, const Tensor&)>;
  const std::vector<std::pair<std::string, Fn>> ops = {
      {"add", [](Backend& be, Tensor& d, const Tensor& s) { be.add(d, s); }},
      {"sigmoid_mul", [](Backend& be, Tensor& d, const Tensor& s) { be.sigmoid_mul(d, s); }}};
  for (const auto& [name, fn] : ops) {
    const Fn f = fn;
    cs.push_back({name + "_contiguous", [] { return std::vector<Arg>{acc(rnd({7, 9, 70})), in(rnd({7, 9, 70}))}; },
                  [f](Backend& be, Views& v) { f(be, v[0], v[1]); }});
    cs.push_back({name + "_broadcast_src",
                  [] {
                    return std::vector<Arg>{acc(rnd({5, 6, 32})),
                                            in(rnd({6, 32}), [](const Tensor& t) { return t.unsqueeze(0).expand(0, 5); })};
                  },
                  [f](Backend& be, Views& v) { f(be, v[0], v[1]); }});
    cs.push_back({name + "_strided_views",
                  [] {
                    return std::vector<Arg>{acc(rnd({8, 6, 20}), [](const Tensor& t) { return t.transpose(0, 1).slice(2, 2, 17); }),
                                            in(rnd({6, 8, 15}))};
                  },
                  [f](Backend& be, Views& v) { f(be, v[0], v[1]); }});
    cs.push_back({name + "_long_row", [] { return std::vector<Arg>{acc(rnd({5000})), in(rnd({5000}))}; },
                  [f](Backend& be, Views& v) { f(be, v[0], v[1]); }});
  }
  cs.push_back({"gated_add_contiguous",
                [] { return std::vector<Arg>{acc(rnd({7, 9, 70})), in(rnd({7, 9, 70})), in(rnd({7, 9, 70}, 3.f))}; },
                [](Backend& be, Views& v) { be.gated_add(v[0], v[1], v[2]); }});
  cs.push_back({"gated_add_strided_views",
                [] {
                  return std::vector<Arg>{
                      acc(rnd({8, 6, 20}), [](const Tensor& t) { return t.transpose(0, 1).slice(2, 2, 17); }),
                      in(rnd({6, 8, 15})), in(rnd({6, 8, 30}, 3.f), [](const Tensor& t) { return t.slice(2, 10, 25); })};
                },
                [](Backend& be, Views& v) { be.gated_add(v[0], v[1], v[2]); }});
  cs.push_back({"gated_add_fp32_gate",
                [] { return std::vector<Arg>{acc(rnd({5, 33})), in(rnd({5, 33})), in32(rnd({5, 33}, 3.f))}; },
                [](Backend& be, Views& v) { be.gated_add(v[0], v[1], v[2]); }});
  cs.push_back({"relu_contiguous", [] { return std::vector<Arg>{acc(rnd({5, 300}))}; },
                [](Backend& be, Views& v) { be.relu(v[0]); }});
  cs.push_back({"relu_strided", [] { return std::vector<Arg>{acc(rnd({6, 7, 3}), [](const Tensor& t) { return t.transpose(0, 1); })}; },
                [](Backend& be, Views& v) { be.relu(v[0]); }});
  cs.push_back({"mul_rows_contiguous", [] { return std::vector<Arg>{acc(rnd({3, 4, 17})), in(rnd({3, 4}))}; },
                [](Backend& be, Views& v) { be.mul_rows(v[0], v[1]); }});
  cs.push_back({"mul_rows_strided",
                [] {
                  return std::vector<Arg>{acc(rnd({4, 3, 40}), [](const Tensor& t) { return t.transpose(0, 1).slice(2, 1, 33); }),
                                          in(rnd({4, 3}), [](const Tensor& t) { return t.transpose(0, 1); })};
                },
                [](Backend& be, Views& v) { be.mul_rows(v[0], v[1]); }});
}

void add_embedding_cases(std::vector<OpCase>& cs) {
  for (bool accumulate : {false, true}) {
    const std::string suffix = accumulate ? "_accumulate" : "";
    cs.push_back({"embedding_with_negative" + suffix,
                  [accumulate] {
                    return std::vector<Arg>{in(indices({37}, 23, true)), in(rnd({23, 64})),
                                            accumulate ? acc(rnd({37, 64})) : out(rnd({37, 64}))};
                  },
                  [accumulate](Backend& be, Views& v) { be.embedding(v[0], v[1], v[2], accumulate); }});
    cs.push_back({"embedding_strided" + suffix,
                  [accumulate] {
                    auto ov = [](const Tensor& t) { return t.slice(2, 4, 14); };
                    return std::vector<Arg>{
                        in(indices({4, 5}, 7, true), [](const Tensor& t) { return t.transpose(0, 1); }),
                        in(rnd({7, 10})), accumulate ? acc(rnd({5, 4, 20}), ov) : out(rnd({5, 4, 20}), ov)};
                  },
                  [accumulate](Backend& be, Views& v) { be.embedding(v[0], v[1], v[2], accumulate); }});
  }
}

void add_masked_mean_cases(std::vector<OpCase>& cs) {
  cs.push_back({"masked_mean_basic",
                [] { return std::vector<Arg>{in(rnd({3, 10, 40})), in32(mask({3, 10}, {1})), out(rnd({3, 40}))}; },
                [](Backend& be, Views& v) { be.masked_mean(v[0], v[1], v[2], 1e-10f); }});
  cs.push_back({"masked_mean_strided",
                [] {
                  return std::vector<Arg>{in(rnd({37, 5, 70}), [](const Tensor& t) { return t.transpose(0, 1); }),
                                          in32(mask({37, 5}), [](const Tensor& t) { return t.transpose(0, 1); }),
                                          out(rnd({5, 80}), [](const Tensor& t) { return t.slice(1, 3, 73); })};
                },
                [](Backend& be, Views& v) { be.masked_mean(v[0], v[1], v[2], 1e-10f); }});
}

// fp32 only (the confidence metrics run on fp32 logits): AlphaFold's 64 PAE bins with the bin centres and the TM
// terms as values, odd bin counts and one bin, strided logits and outputs, logits far apart.
void add_softmax_expectations_cases(std::vector<OpCase>& cs) {
  auto run = [](Backend& be, Views& v) { be.softmax_expectations(v[0], v[1], v[2]); };
  cs.push_back({"softmax_expectations_pae_bins",
                [] { return std::vector<Arg>{in(rnd({9, 13, 64}, 3.f)), in(rnd({2, 64})), out(rnd({9, 13, 2}))}; },
                run, 1e-5, 0, false});
  cs.push_back({"softmax_expectations_odd_bins",
                [] { return std::vector<Arg>{in(rnd({37, 23}, 20.f)), in(rnd({4, 23})), out(rnd({37, 4}))}; }, run,
                1e-5, 0, false});
  cs.push_back({"softmax_expectations_one_bin",
                [] { return std::vector<Arg>{in(rnd({5, 1})), in(rnd({3, 1})), out(rnd({5, 3}))}; }, run, 1e-5, 0,
                false});
  cs.push_back({"softmax_expectations_strided",
                [] {
                  return std::vector<Arg>{in(rnd({7, 11, 40}), [](const Tensor& t) { return t.transpose(0, 1); }),
                                          in(rnd({1, 40})),
                                          out(rnd({11, 7, 3}), [](const Tensor& t) { return t.slice(2, 1, 2); })};
                },
                run, 1e-5, 0, false});
}

void add_linear_cases(std::vector<OpCase>& cs) {
  for (Activation act : {Activation::None, Activation::Relu, Activation::Sigmoid}) {
    for (bool accumulate : {false, true}) {
      for (bool bias : {false, true}) {
        const std::string name = std::string("linear_act") + std::to_string(static_cast<int>(act)) +
                                 (accumulate ? "_acc" : "") + (bias ? "_bias" : "");
        auto run = [act, accumulate, bias](Backend& be, Views& v) {
          be.linear({v[0], v[1], bias ? v[2] : Tensor(), v[3], act, accumulate});
        };
        auto o = [accumulate](Tensor t, std::function<Tensor(const Tensor&)> view = {}) {
          return accumulate ? acc(std::move(t), std::move(view)) : out(std::move(t), std::move(view));
        };
        cs.push_back({name + "_contiguous",
                      [o] { return std::vector<Arg>{in(rnd({2, 5, 48})), in(rnd({48, 40}, 0.15f)), in32(rnd({40})), o(rnd({2, 5, 40}), {})}; },
                      run});
        // Output a slice of a wider buffer (row stride > Cout: GEMM straight into it).
        cs.push_back({name + "_out_slice",
                      [o] {
                        return std::vector<Arg>{in(rnd({7, 33})), in(rnd({33, 19}, 0.2f)), in32(rnd({19})),
                                                o(rnd({7, 30}), [](const Tensor& t) { return t.slice(1, 5, 24); })};
                      },
                      run});
        // Output rows not evenly strided (transposed leading dims), input transposed too.
        cs.push_back({name + "_transposed",
                      [o] {
                        return std::vector<Arg>{in(rnd({4, 3, 21}), [](const Tensor& t) { return t.transpose(0, 1); }),
                                                in(rnd({21, 17}, 0.2f)), in32(rnd({17})),
                                                o(rnd({4, 3, 17}), [](const Tensor& t) { return t.transpose(0, 1); })};
                      },
                      run});
      }
    }
  }
  cs.push_back({"linear_one_row",
                [] { return std::vector<Arg>{in(rnd({1, 64})), in(rnd({64, 129}, 0.1f)), in32(rnd({129})), out(rnd({1, 129}))}; },
                [](Backend& be, Views& v) { be.linear({v[0], v[1], v[2], v[3], Activation::Relu, false}); }});
  cs.push_back({"linear_many_rows",
                [] { return std::vector<Arg>{in(rnd({1031, 37})), in(rnd({37, 3}, 0.2f)), in32(rnd({3})), out(rnd({1031, 3}))}; },
                [](Backend& be, Views& v) { be.linear({v[0], v[1], v[2], v[3], Activation::Sigmoid, false}); }});
}

void add_gemm_cases(std::vector<OpCase>& cs) {
  const int64_t m = 37, n = 23, k = 19;
  for (bool ta : {false, true})
    for (bool tb : {false, true}) {
      const std::string name = std::string("gemm_") + (ta ? "T" : "N") + (tb ? "T" : "N");
      cs.push_back({name,
                    [=] {
                      return std::vector<Arg>{in(ta ? rnd({k, m}) : rnd({m, k})), in(tb ? rnd({n, k}) : rnd({k, n})),
                                              out(rnd({m, n}))};
                    },
                    [=](Backend& be, Views& v) { be.gemm(v[0], ta, v[1], tb, v[2], 1.f, 0.f); }});
      cs.push_back({name + "_alpha_beta_strided",
                    [=] {
                      auto sa = [](const Tensor& t) { return t.slice(1, 1, t.size(1) - 2); };
                      return std::vector<Arg>{in(ta ? rnd({k, m + 3}) : rnd({m, k + 3}), sa),
                                              in(tb ? rnd({n, k + 3}) : rnd({k, n + 3}), sa),
                                              acc(rnd({m, n + 3}), sa)};
                    },
                    [=](Backend& be, Views& v) { be.gemm(v[0], ta, v[1], tb, v[2], 0.75f, -1.25f); }});
    }
}

// Attention inputs: q [B,Q,H,D], k/v [B,K,Hk,D/Dv], optional mask/bias/gate, out.
struct AttnSpec {
  int64_t B, Q, K, H, Hk, D, Dv;
  bool mask = true, mask_broadcast = false, bias = true, gate = true, strided = false;
  std::vector<int64_t> masked_batches;  // fully masked rows of the mask
};

void add_attention_case(std::vector<OpCase>& cs, const std::string& name, AttnSpec s, size_t workspace = 0) {
  auto build = [s] {
    std::vector<Arg> a;
    if (s.strided) {
      // q: transposed batch/query dims; k: heads outermost; v: a slice of a wider last dim.
      a.push_back(in(rnd({s.Q, s.B, s.H, s.D}), [](const Tensor& t) { return t.transpose(0, 1); }));
      a.push_back(in(rnd({s.B, s.Hk, s.K, s.D}), [](const Tensor& t) { return t.permute({0, 2, 1, 3}); }));
      a.push_back(in(rnd({s.B, s.K, s.Hk, s.Dv + 5}), [=](const Tensor& t) { return t.slice(3, 2, 2 + s.Dv); }));
    } else {
      a.push_back(in(rnd({s.B, s.Q, s.H, s.D})));
      a.push_back(in(rnd({s.B, s.K, s.Hk, s.D})));
      a.push_back(in(rnd({s.B, s.K, s.Hk, s.Dv})));
    }
    a.push_back(in32(s.mask ? mask({s.mask_broadcast ? 1 : s.B, s.K}, s.masked_batches) : Tensor::zeros({1})));
    a.push_back(in(s.bias ? rnd({s.H, s.Q, s.K}, 2.f) : Tensor::zeros({1})));
    if (s.strided) {
      a.push_back(in(rnd({s.B, s.Q, s.H, s.Dv}), [](const Tensor& t) { return t; }));
      a.push_back(out(rnd({s.Q, s.B, s.H, s.Dv + 3}),
                      [=](const Tensor& t) { return t.transpose(0, 1).slice(3, 1, 1 + s.Dv); }));
    } else {
      a.push_back(in(rnd({s.B, s.Q, s.H, s.Dv})));
      a.push_back(out(rnd({s.B, s.Q, s.H, s.Dv})));
    }
    return a;
  };
  auto run = [s](Backend& be, Views& v) {
    backend::AttentionArgs args;
    args.q = v[0];
    args.k = v[1];
    args.v = v[2];
    if (s.mask) args.key_mask = v[3];
    if (s.bias) args.bias = v[4];
    if (s.gate) args.gate = v[5];
    args.out = v[6];
    args.scale = 1.0f / std::sqrt(static_cast<float>(s.D));
    be.attention(args);
  };
  cs.push_back({name, build, run, 1e-5, workspace});
}

void add_attention_cases(std::vector<OpCase>& cs) {
  add_attention_case(cs, "attention_basic", {2, 7, 9, 3, 3, 5, 6, true, false, true, true, false, {}});
  add_attention_case(cs, "attention_fully_masked_row", {3, 5, 11, 2, 2, 8, 8, true, false, true, true, false, {1}});
  add_attention_case(cs, "attention_no_mask_no_bias_no_gate", {2, 6, 6, 4, 4, 16, 16, false, false, false, false, false, {}});
  add_attention_case(cs, "attention_broadcast_mask", {4, 3, 13, 2, 2, 7, 5, true, true, true, false, false, {}});
  add_attention_case(cs, "attention_global_hk1", {5, 1, 17, 8, 1, 8, 8, true, false, false, false, false, {2}});
  add_attention_case(cs, "attention_hk1_gated", {3, 4, 10, 3, 1, 6, 6, true, false, true, true, false, {}});
  add_attention_case(cs, "attention_strided_views", {3, 6, 7, 2, 2, 4, 5, true, false, true, true, true, {}});
  add_attention_case(cs, "attention_one_key_one_query", {2, 1, 1, 2, 2, 3, 3, true, false, true, true, false, {}});
  add_attention_case(cs, "attention_one_sequence_long", {1, 45, 67, 4, 4, 32, 32, true, false, true, true, false, {}});
  add_attention_case(cs, "attention_many_batches", {37, 9, 9, 4, 4, 8, 8, true, true, true, true, false, {}});
  // Tiny budgets: several batch chunks, then query chunks within one batch element.
  add_attention_case(cs, "attention_chunked_batch", {9, 5, 7, 2, 2, 4, 4, true, false, true, true, false, {3}},
                     2 * 5 * 7 * 2 * sizeof(float));
  add_attention_case(cs, "attention_chunked_queries", {2, 11, 7, 3, 3, 4, 4, true, false, true, true, true, {}},
                     3 * 7 * 3 * sizeof(float));
}

void add_triangle_cases(std::vector<OpCase>& cs) {
  for (auto dir : {backend::TriangleDirection::Outgoing, backend::TriangleDirection::Incoming}) {
    const std::string d = dir == backend::TriangleDirection::Outgoing ? "outgoing" : "incoming";
    auto run = [dir](int64_t row_begin) {
      return [dir, row_begin](Backend& be, Views& v) {
        be.triangle_multiply({v[0], v[1], v[2], row_begin, dir, {}, {}});
      };
    };
    cs.push_back({"triangle_" + d + "_full",
                  [] { return std::vector<Arg>{in(rnd({5, 13, 13})), in(rnd({5, 13, 13})), out(rnd({13, 13, 5}))}; },
                  run(0)});
    cs.push_back({"triangle_" + d + "_rows_strided_out",
                  [] {
                    return std::vector<Arg>{in(rnd({6, 17, 17})), in(rnd({6, 17, 17})),
                                            out(rnd({7, 17, 9}), [](const Tensor& t) { return t.slice(2, 2, 8); })};
                  },
                  run(4)});
    cs.push_back({"triangle_" + d + "_many_channels",
                  [] { return std::vector<Arg>{in(rnd({70, 9, 9})), in(rnd({70, 9, 9})), out(rnd({9, 9, 70}))}; },
                  run(0)});
    cs.push_back({"triangle_" + d + "_chunked",
                  [] { return std::vector<Arg>{in(rnd({4, 11, 11})), in(rnd({4, 11, 11})), out(rnd({8, 11, 4}))}; },
                  run(3), 1e-5, 2 * 11 * 4 * sizeof(float) + 4});
    cs.push_back({"triangle_" + d + "_L1",
                  [] { return std::vector<Arg>{in(rnd({3, 1, 1})), in(rnd({3, 1, 1})), out(rnd({1, 1, 3}))}; },
                  run(0)});
    // With the center LayerNorm fused: packets of 8 channels into strided rows, odd channels (element path),
    // sub-blocks of rows (small workspace), and channels past one block's shared memory (normalised afterwards).
    auto run_normed = [dir](int64_t row_begin) {
      return [dir, row_begin](Backend& be, Views& v) {
        be.triangle_multiply({v[0], v[1], v[2], row_begin, dir, v[3], v[4]});
      };
    };
    auto normed = [](int64_t C, int64_t L, int64_t rows, int64_t pad) {
      return [=] {
        return std::vector<Arg>{in(rnd({C, L, L})), in(rnd({C, L, L})),
                                out(rnd({rows, L, C + pad}), [C](const Tensor& t) { return t.slice(2, 0, C); }),
                                in32(rnd({C})), in32(rnd({C}))};
      };
    };
    cs.push_back({"triangle_" + d + "_center_norm_packets", normed(16, 37, 11, 8), run_normed(5)});
    cs.push_back({"triangle_" + d + "_center_norm_odd_channels", normed(5, 13, 13, 3), run_normed(0)});
    cs.push_back({"triangle_" + d + "_center_norm_chunked", normed(24, 19, 9, 0), run_normed(7), 1e-5,
                  3 * 19 * 24 * sizeof(float) + 4});
    cs.push_back({"triangle_" + d + "_center_norm_wide", normed(400, 6, 4, 0), run_normed(1)});
  }
}

// Line 5 of the triangle multiplication (pair += sigmoid(LN(pair) W_g + b_g) * (t W_o + b_o)): the bf16 variants
// of the supported widths run the fused kernel (tiles of 64 rows: row counts off the tile, strided pair rows, more
// rows than the resident warps hold at once), the rest the unfused sequence.
void add_triangle_output_cases(std::vector<OpCase>& cs) {
  auto build = [](int64_t rows, int64_t L, int64_t cz, int64_t c, int64_t pad) {
    return [=] {
      return std::vector<Arg>{acc(rnd({rows, L, cz + pad}), [cz](const Tensor& t) { return t.slice(2, 0, cz); }),
                              in(rnd({rows, L, c})),
                              in32(rnd({cz})),
                              in32(rnd({cz})),
                              in32(rnd({cz, cz}, 0.1f)),
                              in32(rnd({cz})),
                              in32(rnd({c, cz}, 0.1f)),
                              in32(rnd({cz}))};
    };
  };
  auto run = [](Backend& be, Views& v) {
    be.triangle_gated_output({v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], 1e-5f});
  };
  cs.push_back({"triangle_output_128", build(5, 13, 128, 128, 0), run});
  cs.push_back({"triangle_output_128_strided_rows", build(3, 50, 128, 128, 8), run});
  cs.push_back({"triangle_output_128_many_tiles", build(2, 9000, 128, 128, 0), run});
  cs.push_back({"triangle_output_64", build(7, 11, 64, 64, 0), run});
  cs.push_back({"triangle_output_unfused_width", build(2, 9, 48, 40, 0), run});
}

// The outer product mean's masked projections (left/right = mask * (LN(msa) W + b)): the bf16 variants of the
// supported widths run the fused kernel (row counts off the tile, strided MSA rows, a masked sequence, more rows than
// the resident warps hold at once), the rest the unfused sequence.
void add_outer_product_projection_cases(std::vector<OpCase>& cs) {
  auto build = [](int64_t S, int64_t L, int64_t c, int64_t a, int64_t pad) {
    return [=] {
      Tensor mask = rnd({S, L});
      for (int64_t i = 0; i < S * L; ++i) mask.data<float>()[i] = (i * 7) % 5 == 0 ? 0.f : 1.f;
      return std::vector<Arg>{in(rnd({S, L, c + pad}), [c](const Tensor& t) { return t.slice(2, 0, c); }),
                              in32(mask),
                              in32(rnd({c})),
                              in32(rnd({c})),
                              in32(rnd({c, a}, 0.1f)),
                              in32(rnd({a})),
                              in32(rnd({c, a}, 0.1f)),
                              in32(rnd({a})),
                              out(rnd({S, L, a})),
                              out(rnd({S, L, a}))};
    };
  };
  auto run = [](Backend& be, Views& v) {
    be.outer_product_projections({v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], 1e-5f});
  };
  cs.push_back({"opm_projections_256", build(5, 13, 256, 32, 0), run});
  cs.push_back({"opm_projections_256_strided_rows", build(3, 50, 256, 32, 8), run});
  cs.push_back({"opm_projections_64_many_tiles", build(4, 9001, 64, 32, 0), run});
  cs.push_back({"opm_projections_256_many_tiles", build(2, 9001, 256, 32, 0), run});
  cs.push_back({"opm_projections_unfused_width", build(2, 9, 48, 16, 0), run});
}

// The transition (act += relu(LN(act) W1 + b1) W2 + b2): the bf16 variants of the supported widths run the fused
// kernel (one pass at c = 64, two passes through bf16 scratch at c = 128: row counts off the tile, strided rows,
// the scratch in several row blocks, more rows than the resident warps hold at once), the rest the unfused sequence.
void add_transition_cases(std::vector<OpCase>& cs) {
  auto build = [](int64_t rows, int64_t L, int64_t c, int64_t hidden, int64_t pad) {
    return [=] {
      return std::vector<Arg>{acc(rnd({rows, L, c + pad}), [c](const Tensor& t) { return t.slice(2, 0, c); }),
                              in32(rnd({c})),
                              in32(rnd({c})),
                              in32(rnd({c, hidden}, 0.1f)),
                              in32(rnd({hidden})),
                              in32(rnd({hidden, c}, 0.1f)),
                              in32(rnd({c}))};
    };
  };
  auto run = [](Backend& be, Views& v) { be.transition({v[0], v[1], v[2], v[3], v[4], v[5], v[6], 1e-5f}); };
  cs.push_back({"transition_128_two_passes", build(5, 13, 128, 512, 0), run});
  cs.push_back({"transition_128_strided_rows", build(3, 50, 128, 512, 8), run});
  cs.push_back({"transition_128_scratch_in_blocks", build(4, 37, 128, 512, 0), run, 1e-5, 20 * 128 * 2});
  cs.push_back({"transition_128_many_tiles", build(2, 10007, 128, 512, 0), run});
  cs.push_back({"transition_64_factor_4", build(7, 11, 64, 256, 0), run});
  cs.push_back({"transition_64_factor_2", build(4, 9, 64, 128, 8), run});
  cs.push_back({"transition_64_many_tiles", build(4, 9001, 64, 256, 0), run});
  cs.push_back({"transition_unfused_width", build(2, 9, 48, 96, 0), run});
}

// Lines 1-3 of the triangle multiplication (LayerNorm, the fused projection, the gated channel-major writes of both
// sides): the bf16 variants of the supported widths run the fused kernel (tiles of 128 rows: row counts off the
// tile, element-wise writes where L^2 is no multiple of 8, 16-byte writes otherwise, strided pair rows), the rest
// the unfused sequence. Only rows [row_begin, row_begin + rows) of each plane change.
void add_triangle_projection_cases(std::vector<OpCase>& cs) {
  struct Spec {
    int64_t rows, L, cz, cb, row_begin, pad;
  };
  auto add = [&](const std::string& name, Spec s) {
    cs.push_back({name,
                  [s] {
                    return std::vector<Arg>{
                        in(rnd({s.rows, s.L, s.cz + s.pad}), [s](const Tensor& t) { return t.slice(2, 0, s.cz); }),
                        in32(rnd({s.cz})),
                        in32(rnd({s.cz})),
                        in32(rnd({s.cz, 4 * s.cb}, 0.1f)),
                        in32(rnd({4 * s.cb})),
                        in32(mask({s.rows, s.L}, {0})),
                        acc(rnd({s.cb, s.L, s.L})),
                        acc(rnd({s.cb, s.L, s.L}))};
                  },
                  [s](Backend& be, Views& v) {
                    backend::TriangleProjectionArgs a;
                    a.pair = v[0];
                    a.ln_scale = v[1];
                    a.ln_offset = v[2];
                    a.weights = v[3];
                    a.bias = v[4];
                    a.mask = v[5];
                    a.left = v[6];
                    a.right = v[7];
                    a.row_begin = s.row_begin;
                    be.triangle_projection(a);
                  }});
  };
  add("triangle_projection_128", {5, 13, 128, 128, 3, 0});
  add("triangle_projection_128_packets_strided_rows", {3, 64, 128, 128, 8, 8});
  add("triangle_projection_64", {7, 11, 64, 64, 0, 0});
  add("triangle_projection_64_packets", {9, 24, 64, 64, 15, 0});
  add("triangle_projection_unfused_width", {2, 9, 48, 40, 4, 0});
}

// Attention pair biases (LayerNorm, the projection to H heads, the head-major write) into rows [row_begin,
// row_begin + rows) of a bias [H, P, L], as the model builds them: the bf16 variants of the supported widths run the
// fused kernel (tiles of 16 flattened rows: row counts off the tile, heads whose runs start 16-byte aligned or not,
// several tiles per warp), with and without the LayerNorm and the normed output, pair rows transposed (the ending
// node's), an out view whose rows are strided (element-wise writes through the grid), fp32 weights (converted); the
// fp32 variants and the unsupported width run the unfused sequence. Only the out view (and normed) change.
void add_pair_bias_cases(std::vector<OpCase>& cs) {
  struct Spec {
    int64_t rows, L, cz, H, row_begin;
    bool ln = true, normed = false;
    bool transposed_rows = false;  // rows = pair^T [L, P, c_z] sliced (the ending node); else pair [P, L, c_z] sliced
    bool transposed_out = false;   // out = a bias stored [H, L, P], viewed [H, P, L]
    bool w32 = false;              // fp32 weights in the bf16 variant
    int64_t normed_pad = 0;        // normed a slice of [rows, L, c_z + pad]
  };
  auto add = [&](const std::string& name, Spec s) {
    const int64_t P = s.row_begin + s.rows + 2;
    auto rows_view = [s](const Tensor& t) {
      return s.transposed_rows ? t.transpose(0, 1).slice(0, s.row_begin, s.row_begin + s.rows)
                               : t.slice(0, s.row_begin, s.row_begin + s.rows);
    };
    auto out_view = [s](const Tensor& t) {
      return (s.transposed_out ? t.transpose(1, 2) : t).slice(1, s.row_begin, s.row_begin + s.rows);
    };
    cs.push_back({name,
                  [s, P, rows_view, out_view] {
                    Tensor pair = rnd(s.transposed_rows ? Shape{s.L, P, s.cz} : Shape{P, s.L, s.cz}, 2.f);
                    // An offset mean makes the variance pass matter.
                    for (int64_t i = 0; i < pair.numel(); ++i) pair.data<float>()[i] += 3.f;
                    Tensor scale = rnd({s.cz}, 0.1f);
                    for (int64_t i = 0; i < s.cz; ++i) scale.data<float>()[i] += 1.f;
                    Tensor w = rnd({s.cz, s.H}, 0.1f);
                    std::vector<Arg> args{in(pair, rows_view), in32(scale), in32(rnd({s.cz}, 0.1f)),
                                          s.w32 ? in32(w) : in(w),
                                          out(rnd(s.transposed_out ? Shape{s.H, s.L, P} : Shape{s.H, P, s.L}),
                                              out_view)};
                    if (s.normed)
                      args.push_back(out(rnd({s.rows, s.L, s.cz + s.normed_pad}),
                                         [s](const Tensor& t) { return t.slice(2, 0, s.cz); }));
                    return args;
                  },
                  [s](Backend& be, Views& v) {
                    backend::PairBiasArgs a;
                    a.rows = v[0];
                    if (s.ln) {
                      a.ln_scale = v[1];
                      a.ln_offset = v[2];
                    }
                    a.w = v[3];
                    a.out = v[4];
                    if (s.normed) a.normed = v[5];
                    be.pair_bias(a);
                  }});
  };
  add("pair_bias_128_h8", {5, 13, 128, 8, 3});
  add("pair_bias_128_h4_normed", {5, 13, 128, 4, 0, true, true});
  add("pair_bias_64_h4_normed_padded", {7, 11, 64, 4, 2, true, true, false, false, false, 8});
  add("pair_bias_128_h8_normalised_rows", {5, 13, 128, 8, 3, false});
  add("pair_bias_64_h4_normalised_rows_normed", {6, 9, 64, 4, 1, false, true});
  add("pair_bias_128_h4_packets", {4, 64, 128, 4, 8});
  add("pair_bias_128_h4_transposed_rows_normed", {5, 13, 128, 4, 4, true, true, true});
  add("pair_bias_128_h8_transposed_rows", {6, 40, 128, 8, 16, true, false, true});
  add("pair_bias_64_h2_transposed_out", {5, 21, 64, 2, 3, true, false, false, true});
  add("pair_bias_128_h3_fp32_weights", {7, 24, 128, 3, 5, true, true, false, false, true});
  add("pair_bias_128_h8_many_tiles", {64, 1000, 128, 8, 0});
  add("pair_bias_unfused_width", {5, 13, 48, 4, 3, true, true});
}

// Gated projections written channel-major: proj and gate are slices of one fused [rows, L, 4C] projection (as the
// model makes them); only rows [row_begin, row_begin + rows) of each channel plane change.
void add_gated_transpose_cases(std::vector<OpCase>& cs) {
  struct Spec {
    int64_t rows, L, C, row_begin;
  };
  auto add = [&](const std::string& name, Spec s) {
    cs.push_back({name,
                  [s] {
                    return std::vector<Arg>{
                        in(rnd({s.rows, s.L, 4 * s.C}, 2.f), [s](const Tensor& t) { return t.slice(2, s.C, 2 * s.C); }),
                        in(rnd({s.rows, s.L, 4 * s.C}, 3.f), [s](const Tensor& t) { return t.slice(2, 3 * s.C, 4 * s.C); }),
                        in32(mask({s.L, s.rows}), [](const Tensor& t) { return t.transpose(0, 1); }),
                        acc(rnd({s.C, s.L, s.L}))};
                  },
                  [s](Backend& be, Views& v) { be.gated_transpose({v[0], v[1], v[2], v[3], s.row_begin}); }});
  };
  add("gated_transpose_all_rows", {13, 13, 5, 0});
  add("gated_transpose_row_block", {7, 37, 70, 20});
  add("gated_transpose_L1", {1, 1, 3, 0});
  add("gated_transpose_alphafold_width", {4, 33, 128, 9});
}

void add_outer_product_mean_cases(std::vector<OpCase>& cs) {
  struct Spec {
    int64_t S, L, A, Bc, Cz, rows, row_begin;
    bool accumulate, strided_out;
    size_t workspace;
  };
  auto add = [&](const std::string& name, Spec s) {
    cs.push_back({name,
                  [s] {
                    // norm: counts of jointly unmasked sequences, zeros included.
                    Tensor norm = Tensor::empty({s.rows, s.L});
                    const Tensor m = mask({s.S, s.L}, {}, 0.6f);
                    for (int64_t i = 0; i < s.rows; ++i)
                      for (int64_t j = 0; j < s.L; ++j) {
                        float c = 0;
                        for (int64_t q = 0; q < s.S; ++q)
                          c += m.data<float>()[q * s.L + s.row_begin + i] * m.data<float>()[q * s.L + j];
                        norm.data<float>()[i * s.L + j] = j % 4 == 1 ? 0.f : c;
                      }
                    std::function<Tensor(const Tensor&)> ov;
                    Shape oshape = {s.rows, s.L, s.Cz};
                    if (s.strided_out) {
                      oshape = {s.L, s.rows, s.Cz + 4};
                      ov = [s](const Tensor& t) { return t.transpose(0, 1).slice(2, 1, 1 + s.Cz); };
                    }
                    return std::vector<Arg>{in(rnd({s.S, s.L, s.A})), in(rnd({s.S, s.L, s.Bc})),
                                            in(rnd({s.A * s.Bc, s.Cz}, 0.2f)), in32(rnd({s.Cz})), in32(norm),
                                            s.accumulate ? acc(rnd(oshape), ov) : out(rnd(oshape), ov)};
                  },
                  [s](Backend& be, Views& v) {
                    be.outer_product_mean({v[0], v[1], v[2], v[3], v[4], v[5], s.row_begin, 1e-3f, s.accumulate});
                  },
                  1e-5, s.workspace});
  };
  add("outer_product_mean_basic", {6, 11, 3, 4, 7, 11, 0, false, false, 0});
  add("outer_product_mean_rows_accumulate", {5, 13, 4, 4, 9, 5, 6, true, false, 0});
  add("outer_product_mean_one_sequence", {1, 9, 8, 8, 16, 9, 0, false, true, 0});
  add("outer_product_mean_strided_out_accumulate", {7, 10, 5, 3, 12, 4, 3, true, true, 0});
  add("outer_product_mean_chunked", {4, 12, 3, 5, 6, 7, 2, false, false, 3 * 12 * (2 * 15 + 6) * sizeof(float)});
  add("outer_product_mean_alphafold_widths", {16, 20, 32, 32, 128, 20, 0, false, false, 0});
}

// Structure module: the invariant point attention core and the backbone update. Frames are random unit quaternions
// with translations of a few units; masks pad the last residues and drop random ones. IPA's bf16 variant is the
// bf16 pair of a bf16 run (every other input and the output stay fp32); the backbone update is fp32 only.
Tensor unit_affines(int64_t L, float translation_scale) {
  core::Random rng(next_seed());
  Tensor t = Tensor::empty({L, 7});
  float* a = t.data<float>();
  for (int64_t i = 0; i < L; ++i) {
    float q[4], n = 0.f;
    for (float& x : q) {
      x = static_cast<float>(rng.normal());
      n += x * x;
    }
    n = std::sqrt(n);
    for (int k = 0; k < 4; ++k) a[i * 7 + k] = q[k] / n;
    for (int k = 4; k < 7; ++k) a[i * 7 + k] = static_cast<float>(translation_scale * rng.normal());
  }
  return t;
}

struct IpaSpec {
  int64_t L, H, sqk, sv, pqk, pv, cz;
  int64_t pad_front = 0, pad_back = 0;  // masked residues at the start / end
  float ones = 0.85f;                    // fraction of the others present
  bool views = false;                    // bias, pair and out as strided views of wider buffers
};

void add_ipa_case(std::vector<OpCase>& cs, const std::string& name, IpaSpec s) {
  cs.push_back({name,
                [s] {
                  const int64_t L = s.L, H = s.H, width = H * (s.sv + 4 * s.pv + s.cz);
                  Tensor m = random_mask({L}, next_seed(), s.ones);
                  for (int64_t i = 0; i < L; ++i)
                    if (i < s.pad_front || i >= L - s.pad_back) m.data<float>()[i] = 0.f;
                  Tensor pw = rnd({H});
                  for (int64_t h = 0; h < H; ++h) pw.data<float>()[h] = 0.05f + 0.2f * std::fabs(pw.data<float>()[h]);
                  std::function<Tensor(const Tensor&)> bias_view, pair_view, out_view;
                  Shape bias_shape = {L, L, H}, pair_shape = {L, L, s.cz}, out_shape = {L, width};
                  if (s.views) {
                    bias_shape = {L, L, H + 2};
                    bias_view = [H](const Tensor& t) { return t.slice(2, 1, 1 + H); };
                    pair_shape = {L + 1, L, s.cz + 4};
                    pair_view = [s](const Tensor& t) { return t.slice(0, 1, 1 + s.L).slice(2, 2, 2 + s.cz); };
                    out_shape = {L, width + 3};
                    out_view = [width](const Tensor& t) { return t.slice(1, 1, 1 + width); };
                  }
                  Arg result = out(rnd(out_shape), out_view);
                  result.keep_f32 = true;
                  return std::vector<Arg>{in32(rnd({L, H * s.sqk})),
                                          in32(rnd({L, H * (s.sqk + s.sv)})),
                                          in32(rnd({L, 3 * H * s.pqk})),
                                          in32(rnd({L, 3 * H * (s.pqk + s.pv)})),
                                          in32(unit_affines(L, 2.f)),
                                          in32(rnd(bias_shape), bias_view),
                                          in(rnd(pair_shape), pair_view),  // bf16 in the bf16 variant
                                          in32(m),
                                          in32(pw),
                                          result};
                },
                [s](Backend& be, Views& v) {
                  backend::IpaArgs a;
                  a.q_scalar = v[0];
                  a.kv_scalar = v[1];
                  a.q_point = v[2];
                  a.kv_point = v[3];
                  a.affines = v[4];
                  a.bias_2d = v[5];
                  a.pair = v[6];
                  a.mask = v[7];
                  a.point_weights = v[8];
                  a.out = v[9];
                  a.num_head = s.H;
                  a.num_scalar_qk = s.sqk;
                  a.num_scalar_v = s.sv;
                  a.num_point_qk = s.pqk;
                  a.num_point_v = s.pv;
                  const double sqk = static_cast<double>(s.sqk > 0 ? s.sqk : 1);
                  a.scalar_weight = static_cast<float>(std::sqrt(1.0 / (3.0 * sqk)));
                  a.attention_2d_weight = static_cast<float>(std::sqrt(1.0 / 3.0));
                  be.invariant_point_attention(a);
                },
                1e-5, 0, true, 1e-5});  // bf16 variant: the same rounded pair on both, fp32 arithmetic
}

void add_structure_cases(std::vector<OpCase>& cs) {
  add_ipa_case(cs, "ipa_L1", {1, 2, 3, 2, 1, 2, 5, 0, 0, 1.f});
  add_ipa_case(cs, "ipa_L1_masked", {1, 3, 4, 4, 2, 2, 8, 0, 1});
  add_ipa_case(cs, "ipa_L7_small", {7, 4, 16, 16, 4, 8, 16, 0, 2});
  add_ipa_case(cs, "ipa_L37_alphafold", {37, 12, 16, 16, 4, 8, 128, 0, 5});
  add_ipa_case(cs, "ipa_L130_alphafold", {130, 12, 16, 16, 4, 8, 128, 0, 10});
  add_ipa_case(cs, "ipa_L70_leading_padding", {70, 12, 16, 16, 4, 8, 128, 35, 3});
  add_ipa_case(cs, "ipa_L33_odd_sizes_views", {33, 5, 3, 0, 2, 3, 129, 0, 3, 0.85f, true});
  add_ipa_case(cs, "ipa_L45_many_heads_wide_pair", {45, 20, 8, 4, 2, 2, 300, 1, 4});

  auto update_case = [&](std::string name, int64_t L, int iterations) {
    cs.push_back({name,
                  [=] {
                    return std::vector<Arg>{acc(unit_affines(L, 3.f)), in(rnd({iterations, L, 6}, 0.5f))};
                  },
                  [=](Backend& be, Views& v) {
                    for (int it = 0; it < iterations; ++it) be.backbone_update(v[0], v[1].select(0, it));
                  },
                  1e-5, 0, false});  // fp32-only operation
  };
  update_case("backbone_update_L1", 1, 1);
  update_case("backbone_update_L7", 7, 1);
  update_case("backbone_update_L130_8_iterations", 130, 8);
  update_case("backbone_update_L1000", 1000, 1);
}

std::vector<OpCase> all_cases() {
  std::vector<OpCase> cs;
  add_copy_cases(cs);
  add_fill_cases(cs);
  add_layer_norm_cases(cs);
  add_elementwise_cases(cs);
  add_embedding_cases(cs);
  add_masked_mean_cases(cs);
  add_softmax_expectations_cases(cs);
  add_linear_cases(cs);
  add_gemm_cases(cs);
  add_attention_cases(cs);
  add_triangle_cases(cs);
  add_triangle_output_cases(cs);
  add_transition_cases(cs);
  add_outer_product_projection_cases(cs);
  add_gated_transpose_cases(cs);
  add_triangle_projection_cases(cs);
  add_pair_bias_cases(cs);
  add_outer_product_mean_cases(cs);
  add_structure_cases(cs);
  return cs;
}

INSTANTIATE_TEST_SUITE_P(Cases, BackendOps, ::testing::ValuesIn(all_cases()),
                         [](const ::testing::TestParamInfo<OpCase>& info) { return info.param.name; });

// ---- Memory, transfers and errors ----------------------------------------------------------------------------

class CudaBackendBasics : public ::testing::Test {
 protected:
  void SetUp() override {
    if (backend::cuda_device_count() == 0) GTEST_SKIP() << "no CUDA device";
    be_ = backend::make_cuda_backend(0);
  }
  std::unique_ptr<Backend> be_;
};

TEST_F(CudaBackendBasics, DescribesDevice) {
  EXPECT_FALSE(backend::cuda_device_description(0).empty());
  EXPECT_EQ(be_->name(), "cuda");
  EXPECT_EQ(be_->device(), core::Device::CUDA);
}

TEST_F(CudaBackendBasics, UploadDownloadRoundTripsEveryDtype) {
  const Tensor base = rnd({3, 4, 5}, 3.f);
  for (DType t : {DType::F32, DType::BF16, DType::F16, DType::I32}) {
    const Tensor h = base.to(t).permute({2, 0, 1});  // non-contiguous host view
    const Tensor d = be_->upload(h);
    EXPECT_TRUE(d.is_contiguous());
    EXPECT_EQ(d.device(), core::Device::CUDA);
    EXPECT_EQ(d.dtype(), t);
    const Tensor back = be_->download(d);
    EXPECT_EQ(back.to_vector(), h.to_vector()) << core::dtype_name(t);
    // A strided device view downloads as its logical contents.
    const Tensor view_back = be_->download(d.slice(1, 1, 3).transpose(0, 2));
    EXPECT_EQ(view_back.to_vector(), h.slice(1, 1, 3).transpose(0, 2).to_vector()) << core::dtype_name(t);
  }
}

TEST_F(CudaBackendBasics, DownloadToFillsRowsOfAHostTensor) {
  const Tensor base = rnd({6, 5, 4}, 2.f);
  const Tensor d = be_->upload(base);
  Tensor host = Tensor::full({10, 5, 4}, -7.f);
  Tensor rows = host.slice(0, 3, 9);
  be_->download_to(d, rows);  // contiguous device source
  EXPECT_EQ(host.slice(0, 3, 9).to_vector(), base.to_vector());
  EXPECT_EQ(host.slice(0, 0, 3).to_vector(), Tensor::full({3, 5, 4}, -7.f).to_vector());  // untouched
  EXPECT_EQ(host.slice(0, 9, 10).to_vector(), Tensor::full({1, 5, 4}, -7.f).to_vector());
  Tensor t = Tensor::empty({4, 5, 6});
  be_->download_to(d.permute({2, 1, 0}), t);  // a strided device view
  EXPECT_EQ(t.to_vector(), base.permute({2, 1, 0}).contiguous().to_vector());
  Tensor wrong = Tensor::empty({6, 5, 3});
  EXPECT_THROW(be_->download_to(d, wrong), Error);
  Tensor strided = host.slice(2, 0, 4).slice(1, 0, 4);  // not contiguous
  EXPECT_THROW(be_->download_to(be_->upload(rnd({10, 4, 4})), strided), Error);
}

TEST_F(CudaBackendBasics, EmptyTensorsAreFine) {
  Tensor e = be_->empty({0, 5});
  be_->fill(e, 1.f);
  EXPECT_EQ(be_->download(e).numel(), 0);
  Tensor host = Tensor::empty({0, 3});
  EXPECT_EQ(be_->upload(host).numel(), 0);
}

TEST_F(CudaBackendBasics, TensorsOutliveTheBackend) {
  Tensor t = be_->upload(Tensor::full({100}, 2.f));
  be_.reset();
  // Freed onto the backend's stream, which the shared context keeps alive until here.
  t = Tensor();
  SUCCEED();
}

TEST_F(CudaBackendBasics, RejectsOutOfRangeEmbeddingIndex) {
  Tensor idx = be_->upload(Tensor::from_vector_i32({3}, {0, 7, 1}));
  Tensor table = be_->upload(rnd({5, 4}));
  Tensor o = be_->empty({3, 4});
  EXPECT_THROW(be_->embedding(idx, table, o, false), Error);
  // The backend stays usable after the error.
  Tensor ok = be_->upload(Tensor::from_vector_i32({3}, {0, 4, -1}));
  EXPECT_NO_THROW(be_->embedding(ok, table, o, false));
}

TEST_F(CudaBackendBasics, RejectsHostTensorsAndBadLayouts) {
  Tensor host = rnd({4, 4});
  Tensor dev = be_->upload(host);
  EXPECT_THROW(be_->relu(host), Error);
  EXPECT_THROW(be_->copy(host, dev), Error);
  Tensor t = dev.transpose(0, 1);  // last dim not dense
  EXPECT_THROW(be_->relu(t), Error);
}

// The pair bias cases above compare results whichever path ran: here, which layouts the fused kernel takes (the
// model's: the MSA row and starting node's pair rows, the ending node's transposed ones, with the one-chunk normed
// output) and which run the unfused sequence.
TEST_F(CudaBackendBasics, PairBiasFusesTheModelsLayouts) {
  const int64_t L = 24;
  const Tensor pair = be_->empty({L, L, 128}, DType::BF16), pair64 = be_->empty({L, L, 64}, DType::BF16);
  const Tensor scale = be_->upload(rnd({128})), offset = be_->upload(rnd({128}));
  const Tensor bias = be_->empty({8, L, L}, DType::BF16), bias4 = be_->empty({4, L, L}, DType::BF16);
  backend::PairBiasArgs a;
  a.rows = pair.slice(0, 5, 17);
  a.ln_scale = scale;
  a.ln_offset = offset;
  a.w = be_->upload(rnd({128, 8}));
  a.out = bias.slice(1, 5, 17);
  EXPECT_TRUE(be_->fuses_pair_bias(a)) << "MSA row attention";
  backend::PairBiasArgs t = a;
  t.rows = pair.transpose(0, 1);
  t.w = be_->upload(rnd({128, 4}).to(DType::BF16));
  t.out = bias4;
  t.normed = be_->empty({L, L, 128}, DType::BF16);
  EXPECT_TRUE(be_->fuses_pair_bias(t)) << "triangle attention, ending node, one chunk";
  t.ln_scale = t.ln_offset = Tensor();
  EXPECT_TRUE(be_->fuses_pair_bias(t)) << "rows already normalised";
  backend::PairBiasArgs no = a;
  no.rows = pair64;
  EXPECT_FALSE(be_->fuses_pair_bias(no)) << "weights of another width";
  no = a;
  no.out = be_->empty({8, 12, L});
  EXPECT_FALSE(be_->fuses_pair_bias(no)) << "fp32 out";
  no = a;
  no.rows = be_->empty({12, L, 48}, DType::BF16);
  no.w = be_->upload(rnd({48, 8}));
  EXPECT_FALSE(be_->fuses_pair_bias(no)) << "c_z 48";
  no = a;
  no.w = be_->upload(rnd({128, 12}));
  no.out = be_->empty({12, 12, L}, DType::BF16);
  EXPECT_FALSE(be_->fuses_pair_bias(no)) << "12 heads";
  no = a;
  no.rows = be_->empty({12, L, 132}, DType::BF16).slice(2, 2, 130);
  EXPECT_FALSE(be_->fuses_pair_bias(no)) << "rows off 16-byte pieces";
}

}  // namespace
}  // namespace axf::test

#else  // !AXF_WITH_CUDA

TEST(BackendOps, RequiresCuda) { GTEST_SKIP() << "built without CUDA (AXF_CUDA=OFF)"; }

#endif
