// The online softmax operations (attention_accumulate, attention_normalize: template pointwise attention streamed
// over templates) on the CUDA backend against the CPU backend, in the harness of backend_ops_harness.h: a case feeds
// K keys one call at a time into a state whose rows are partly empty (m = -inf with NaN in l and acc, which must not
// be read: a read would show as NaN) and partly continued from earlier keys, then normalises; m, l, acc and out are
// all compared. Odd sizes, strided views, one key, scores far apart; each case also in the bf16 variant (q, k, v,
// acc and out in bf16; m and l stay fp32). Skipped without a GPU.
#include <gtest/gtest.h>

#ifdef AXF_WITH_CUDA

#include <cmath>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "gpu/backend_ops_harness.h"

namespace axf::test {
namespace {

using backend::Backend;
using View = std::function<Tensor(const Tensor&)>;
using Views = std::vector<Tensor>;

uint64_t next_seed() {
  static uint64_t s = 7300;
  return ++s;
}
Tensor rnd(const Shape& shape, float scale = 1.f) { return random_tensor(shape, next_seed(), scale); }

class OnlineAttentionOps : public CudaVsCpu {};

TEST_P(OnlineAttentionOps, MatchesCpu) { expect_cuda_matches_cpu(GetParam(), *cpu_, *cuda_, false); }

TEST_P(OnlineAttentionOps, Bf16MatchesCpu) {
  if (!GetParam().bf16) GTEST_SKIP() << "fp32-only case";
  expect_cuda_matches_cpu(GetParam(), *cpu_, *cuda_, true);
}

struct Spec {
  int64_t B, H, D, Dv, K;
  float scale = 0.25f;
  float spread = 0.f;          // key t scaled by 1 + spread * t: scores far apart, the rescaling matters
  int64_t empty_every = 3;     // every n-th (b, h) row starts empty (m = -inf, NaN l and acc); 0: none
  bool views = false;          // q, k, v, m, l, acc and out as strided views of wider buffers
  bool in_place = false;       // normalise acc into itself
};

// [B, H, C] as a view of a wider transposed buffer [H, B, C + 3] (or the buffer itself).
Arg rows_arg(Arg a, bool views) {
  if (!views) return a;
  const int64_t B = a.host.size(0), H = a.host.size(1), C = a.host.size(2);
  Tensor buf = rnd({H, B, C + 3});
  Tensor view = buf.transpose(0, 1).slice(2, 1, 1 + C);
  core::copy_host(a.host, view);
  a.host = buf;
  a.view = [](const Tensor& t) { return t.transpose(0, 1).slice(2, 1, t.size(2) - 2); };
  return a;
}
// [B, H] statistics as a view of a transposed buffer [H, B] (or the buffer itself).
Arg stat_arg(Arg a, bool views) {
  if (!views) return a;
  a.host = a.host.transpose(0, 1).contiguous();
  a.view = [](const Tensor& t) { return t.transpose(0, 1); };
  return a;
}

void add_case(std::vector<OpCase>& cs, const std::string& name, Spec s) {
  cs.push_back({name,
                [s] {
                  const float nan = std::numeric_limits<float>::quiet_NaN();
                  // A state continued from earlier keys (finite m, l >= 1, acc of the size of a weighted sum),
                  // but for the empty rows.
                  Tensor m = rnd({s.B, s.H}, 2.f), l = rnd({s.B, s.H}), state = rnd({s.B, s.H, s.Dv});
                  for (int64_t r = 0; r < s.B * s.H; ++r) {
                    l.data<float>()[r] = 1.f + std::fabs(l.data<float>()[r]);
                    if (s.empty_every > 0 && r % s.empty_every == 0) {
                      m.data<float>()[r] = -std::numeric_limits<float>::infinity();
                      l.data<float>()[r] = nan;
                      for (int64_t c = 0; c < s.Dv; ++c) state.data<float>()[r * s.Dv + c] = nan;
                    }
                  }
                  std::vector<Arg> args;
                  args.push_back(rows_arg(in(rnd({s.B, s.H, s.D})), s.views));                  // 0: q
                  for (int64_t t = 0; t < s.K; ++t) {
                    const float key_scale = 1.f + s.spread * static_cast<float>(t);
                    args.push_back(rows_arg(in(rnd({s.B, s.H, s.D}, key_scale)), s.views));    // k_t
                    args.push_back(rows_arg(in(rnd({s.B, s.H, s.Dv})), s.views));              // v_t
                  }
                  Arg m_arg = acc(m), l_arg = acc(l);
                  m_arg.keep_f32 = l_arg.keep_f32 = true;
                  args.push_back(stat_arg(m_arg, s.views));
                  args.push_back(stat_arg(l_arg, s.views));
                  args.push_back(rows_arg(acc(state), s.views));
                  if (!s.in_place) args.push_back(rows_arg(out(rnd({s.B, s.H, s.Dv})), s.views));
                  return args;
                },
                [s](Backend& be, Views& v) {
                  const size_t state = 1 + 2 * static_cast<size_t>(s.K);
                  backend::OnlineAttentionArgs a;
                  a.q = v[0];
                  a.m = v[state];
                  a.l = v[state + 1];
                  a.acc = v[state + 2];
                  a.scale = s.scale;
                  for (int64_t t = 0; t < s.K; ++t) {
                    a.k = v[1 + 2 * t];
                    a.v = v[2 + 2 * t];
                    be.attention_accumulate(a);
                  }
                  Tensor& dst = s.in_place ? v[state + 2] : v[state + 3];
                  be.attention_normalize(v[state + 2], v[state + 1], dst);
                }});
}

std::vector<OpCase> all_cases() {
  std::vector<OpCase> cs;
  add_case(cs, "online_attention_alphafold_template_widths", {37, 4, 16, 16, 4});
  add_case(cs, "online_attention_one_key", {9, 4, 16, 16, 1});
  add_case(cs, "online_attention_odd_sizes", {13, 3, 5, 7, 3, 0.45f, 0.5f, 2});
  add_case(cs, "online_attention_D1_Dv1_scores_apart", {11, 1, 1, 1, 6, 1.5f, 2.f, 4});
  add_case(cs, "online_attention_wide_heads", {5, 2, 40, 33, 2, 0.15f, 0.f, 3});
  add_case(cs, "online_attention_strided_views", {7, 4, 9, 6, 3, 0.3f, 0.2f, 3, true});
  add_case(cs, "online_attention_in_place", {10, 4, 16, 16, 2, 0.25f, 0.f, 5, false, true});
  add_case(cs, "online_attention_strided_in_place", {6, 3, 8, 12, 3, 0.3f, 1.f, 2, true, true});
  add_case(cs, "online_attention_all_rows_empty", {8, 4, 16, 16, 2, 0.25f, 0.f, 1});
  add_case(cs, "online_attention_no_row_empty", {8, 4, 16, 16, 2, 0.25f, 0.f, 0});
  add_case(cs, "online_attention_many_rows", {2049, 4, 16, 16, 2, 0.25f, 0.f, 7});
  return cs;
}

INSTANTIATE_TEST_SUITE_P(Cases, OnlineAttentionOps, ::testing::ValuesIn(all_cases()),
                         [](const ::testing::TestParamInfo<OpCase>& info) { return info.param.name; });

}  // namespace
}  // namespace axf::test

#else  // !AXF_WITH_CUDA

TEST(OnlineAttentionOps, RequiresCuda) { GTEST_SKIP() << "built without CUDA (AXF_CUDA=OFF)"; }

#endif
