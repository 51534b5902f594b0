// The online softmax operations (Backend::attention_accumulate, attention_normalize) on the CPU backend against a
// literal double-precision softmax attention over all keys at once: keys fed one at a time in any order, scores far
// apart (the rescaling matters), strided views, rows in the empty state holding garbage, a state continued from
// earlier keys, in-place normalisation, the counting wrapper forwarding, and the argument checks.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "backend/backend.h"
#include "core/error.h"
#include "runtime/bench_cost.h"
#include "support/model_test_support.h"

namespace axf::test {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

// Keys/values of K keys for B rows of H heads, the query, and the state: host tensors.
struct OnlineInputs {
  int64_t B, H, D, Dv, K;
  Tensor q;                 // [B, H, D]
  std::vector<Tensor> k;    // K x [B, H, D]
  std::vector<Tensor> v;    // K x [B, H, Dv]
  float scale;

  OnlineInputs(int64_t b, int64_t h, int64_t d, int64_t dv, int64_t keys, float sc, uint64_t seed, float spread)
      : B(b), H(h), D(d), Dv(dv), K(keys), scale(sc) {
    q = random_tensor({B, H, D}, seed);
    for (int64_t t = 0; t < K; ++t) {
      // Key t scaled by a factor that grows with t: scores of the keys differ by orders of magnitude.
      k.push_back(random_tensor({B, H, D}, seed + 10 + t, 1.f + spread * static_cast<float>(t)));
      v.push_back(random_tensor({B, H, Dv}, seed + 50 + t));
    }
  }
};

// softmax_t(scale <q, k_t>) v_t in double over the keys `order` (all of them, literally), [B, H, Dv].
std::vector<double> reference(const OnlineInputs& in, const std::vector<int64_t>& order) {
  const std::vector<double> q = to_doubles(in.q);
  std::vector<std::vector<double>> k, v;
  for (int64_t t : order) {
    k.push_back(to_doubles(in.k[t]));
    v.push_back(to_doubles(in.v[t]));
  }
  std::vector<double> out(static_cast<size_t>(in.B * in.H * in.Dv));
  for (int64_t r = 0; r < in.B * in.H; ++r) {
    std::vector<double> s(k.size());
    for (size_t t = 0; t < k.size(); ++t) {
      double dot = 0;
      for (int64_t c = 0; c < in.D; ++c) dot += q[r * in.D + c] * k[t][r * in.D + c];
      s[t] = static_cast<double>(in.scale) * dot;
    }
    const double mx = *std::max_element(s.begin(), s.end());
    double sum = 0;
    for (double& x : s) sum += (x = std::exp(x - mx));
    for (int64_t c = 0; c < in.Dv; ++c) {
      double o = 0;
      for (size_t t = 0; t < k.size(); ++t) o += s[t] / sum * v[t][r * in.Dv + c];
      out[r * in.Dv + c] = o;
    }
  }
  return out;
}

struct State {
  Tensor m, l, acc;
};

// The empty state, with NaN in l and acc (which the empty state must not read).
State empty_state(int64_t B, int64_t H, int64_t Dv) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  return {Tensor::full({B, H}, -kInf), Tensor::full({B, H}, nan), Tensor::full({B, H, Dv}, nan)};
}

void feed(backend::Backend& be, const OnlineInputs& in, const std::vector<int64_t>& order, State& st) {
  for (int64_t t : order) {
    backend::OnlineAttentionArgs a;
    a.q = in.q;
    a.k = in.k[t];
    a.v = in.v[t];
    a.m = st.m;
    a.l = st.l;
    a.acc = st.acc;
    a.scale = in.scale;
    be.attention_accumulate(a);
  }
}

TEST(OnlineAttention, MatchesLiteralSoftmaxOverAllKeys) {
  auto cpu = backend::make_cpu_backend();
  struct Spec {
    const char* name;
    int64_t B, H, D, Dv, K;
    float scale, spread;
  };
  const std::vector<Spec> specs = {
      {"alphafold template widths, 4 keys", 37, 4, 16, 16, 4, 0.25f, 0.f},
      {"odd sizes, 5 keys", 13, 3, 5, 7, 5, 0.45f, 0.5f},
      {"one key", 9, 2, 8, 3, 1, 0.35f, 0.f},
      {"D = Dv = 1, scores far apart", 11, 1, 1, 1, 6, 6.f, 3.f},
      {"large scale, rising scores", 6, 4, 16, 16, 5, 3.f, 1.f},
  };
  uint64_t seed = 300;
  for (const Spec& sp : specs) {
    SCOPED_TRACE(sp.name);
    const OnlineInputs in(sp.B, sp.H, sp.D, sp.Dv, sp.K, sp.scale, seed += 100, sp.spread);
    std::vector<int64_t> order(static_cast<size_t>(sp.K));
    for (int64_t t = 0; t < sp.K; ++t) order[t] = t;
    std::vector<int64_t> reversed(order.rbegin(), order.rend());
    const std::vector<double> want = reference(in, order);
    for (const auto* ord : {&order, &reversed}) {
      State st = empty_state(sp.B, sp.H, sp.Dv);
      feed(*cpu, in, *ord, st);
      // l is the sum of exp(s - m) over the keys: at least 1 (the maximum's term), at most K; m is the largest
      // score rounded to fp32, so "1" within the rounding of m.
      const std::vector<float> l = st.l.to_vector(), m = st.m.to_vector();
      for (size_t r = 0; r < l.size(); ++r) {
        const double slack = 1e-6 * (1.0 + std::fabs(m[r]));
        EXPECT_GE(l[r], 1.0 - slack) << "m " << m[r];
        EXPECT_LE(l[r], static_cast<double>(sp.K) * (1.0 + slack)) << "m " << m[r];
      }
      Tensor out = Tensor::full({sp.B, sp.H, sp.Dv}, std::numeric_limits<float>::quiet_NaN());
      cpu->attention_normalize(st.acc, st.l, out);
      EXPECT_LT(max_rel_error(to_doubles(out), want), 1e-5);
      // In place: out is acc itself.
      cpu->attention_normalize(st.acc, st.l, st.acc);
      EXPECT_EQ(to_doubles(st.acc), to_doubles(out));
    }
  }
}

// A state continued from earlier keys: keys 0..2 first, then 3..5 into the same state, equals all six at once; rows
// whose state is still empty (m = -inf, garbage l and acc) next to rows with a state start afresh.
TEST(OnlineAttention, ContinuedStateAndEmptyRows) {
  auto cpu = backend::make_cpu_backend();
  const int64_t B = 10, H = 3, D = 6, Dv = 5;
  const OnlineInputs in(B, H, D, Dv, 6, 0.4f, 900, 0.3f);
  State st = empty_state(B, H, Dv);
  feed(*cpu, in, {0, 1, 2}, st);
  // Rows 2 and 7 forget their state: empty again, with garbage that must not be read.
  for (int64_t b : {int64_t{2}, int64_t{7}})
    for (int64_t h = 0; h < H; ++h) {
      st.m.data<float>()[b * H + h] = -kInf;
      st.l.data<float>()[b * H + h] = std::numeric_limits<float>::quiet_NaN();
      for (int64_t c = 0; c < Dv; ++c) st.acc.data<float>()[(b * H + h) * Dv + c] = 1e30f;
    }
  feed(*cpu, in, {3, 4, 5}, st);
  cpu->attention_normalize(st.acc, st.l, st.acc);
  const std::vector<double> all = reference(in, {0, 1, 2, 3, 4, 5}), late = reference(in, {3, 4, 5});
  const std::vector<double> got = to_doubles(st.acc);
  for (int64_t b = 0; b < B; ++b) {
    const bool restarted = b == 2 || b == 7;
    const auto row = static_cast<std::ptrdiff_t>(b * H * Dv), end = row + static_cast<std::ptrdiff_t>(H * Dv);
    const std::vector<double> g(got.begin() + row, got.begin() + end);
    const std::vector<double>& src = restarted ? late : all;
    const std::vector<double> w(src.begin() + row, src.begin() + end);
    EXPECT_LT(max_rel_error(g, w), 1e-5) << "row " << b;
  }
}

// Strided views for every tensor (slices of wider buffers, transposed leading dims); what lies outside the views
// keeps its values.
TEST(OnlineAttention, StridedViews) {
  auto cpu = backend::make_cpu_backend();
  const int64_t B = 7, H = 4, D = 9, Dv = 6, K = 3;
  const OnlineInputs dense(B, H, D, Dv, K, 0.3f, 1000, 0.2f);
  // q, k: [H, B, D + 3] buffers viewed as [B, H, D]; v: [B, H, Dv + 2] sliced; state: [H, B] / [H, B, Dv + 4].
  auto strided = [](const Tensor& t, int64_t extra) {
    const int64_t b = t.size(0), h = t.size(1), c = t.size(2);
    Tensor buf = random_tensor({h, b, c + extra}, 77 + static_cast<uint64_t>(c));
    Tensor view = buf.transpose(0, 1).slice(2, 1, 1 + c);
    core::copy_host(t, view);
    return view;
  };
  OnlineInputs in = dense;
  in.q = strided(dense.q, 3);
  for (int64_t t = 0; t < K; ++t) {
    in.k[t] = strided(dense.k[t], 3);
    Tensor vb = random_tensor({B, H, Dv + 2}, 90 + static_cast<uint64_t>(t));
    in.v[t] = vb.slice(2, 2, 2 + Dv);
    core::copy_host(dense.v[t], in.v[t]);
  }
  Tensor m_buf = Tensor::full({H, B}, -kInf), l_buf = Tensor::zeros({H, B});
  Tensor acc_buf = random_tensor({H, B, Dv + 4}, 95);
  const Tensor acc_before = acc_buf.clone();
  State st{m_buf.transpose(0, 1), l_buf.transpose(0, 1), acc_buf.transpose(0, 1).slice(2, 2, 2 + Dv)};
  feed(*cpu, in, {0, 1, 2}, st);
  Tensor out_buf = random_tensor({B, H, Dv + 1}, 96);
  Tensor out = out_buf.slice(2, 0, Dv);
  cpu->attention_normalize(st.acc, st.l, out);
  EXPECT_LT(max_rel_error(to_doubles(out), reference(dense, {0, 1, 2})), 1e-5);
  for (int64_t h = 0; h < H; ++h)
    for (int64_t b = 0; b < B; ++b)
      for (int64_t c : {int64_t{0}, int64_t{1}, Dv + 2, Dv + 3}) {
        const int64_t e = (h * B + b) * (Dv + 4) + c;
        EXPECT_EQ(acc_buf.data<float>()[e], acc_before.data<float>()[e]);
      }
}

TEST(OnlineAttention, CountingBackendForwards) {
  auto cpu = backend::make_cpu_backend();
  runtime::bench::CountingBackend counting(*cpu);
  const OnlineInputs in(5, 2, 4, 3, 2, 0.5f, 1100, 0.f);
  State a = empty_state(5, 2, 3), b = empty_state(5, 2, 3);
  feed(*cpu, in, {0, 1}, a);
  feed(counting, in, {0, 1}, b);
  cpu->attention_normalize(a.acc, a.l, a.acc);
  counting.attention_normalize(b.acc, b.l, b.acc);
  EXPECT_EQ(to_doubles(a.acc), to_doubles(b.acc));
  EXPECT_EQ(to_doubles(a.m), to_doubles(b.m));
  const auto& ops = counting.tallies().ops;
  ASSERT_EQ(ops.count("attention_accumulate"), 1u);
  EXPECT_EQ(ops.at("attention_accumulate").calls, 2);
  EXPECT_DOUBLE_EQ(ops.at("attention_accumulate").flops, 2 * (2.0 * 5 * 2 * (4 + 3)));
  ASSERT_EQ(ops.count("attention_normalize"), 1u);
  EXPECT_EQ(ops.at("attention_normalize").calls, 1);
}

TEST(OnlineAttention, RejectsBadArguments) {
  auto cpu = backend::make_cpu_backend();
  const OnlineInputs in(4, 2, 3, 5, 1, 1.f, 1200, 0.f);
  State st = empty_state(4, 2, 5);
  auto args = [&] {
    backend::OnlineAttentionArgs a;
    a.q = in.q;
    a.k = in.k[0];
    a.v = in.v[0];
    a.m = st.m;
    a.l = st.l;
    a.acc = st.acc;
    return a;
  };
  auto expect_error = [&](const backend::OnlineAttentionArgs& a, const std::string& names) {
    try {
      cpu->attention_accumulate(a);
      ADD_FAILURE() << "no error for bad " << names;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(names), std::string::npos) << e.what();
    }
  };
  backend::OnlineAttentionArgs a = args();
  a.k = in.k[0].slice(2, 0, 2);
  expect_error(a, "k ");
  a = args();
  a.v = Tensor::zeros({4, 3, 5});
  expect_error(a, "v ");
  a = args();
  a.acc = Tensor::zeros({4, 2, 4});
  expect_error(a, "acc");
  a = args();
  a.m = st.m.to(core::DType::BF16);
  expect_error(a, "m ");
  a = args();
  a.l = Tensor::zeros({4, 3});
  expect_error(a, "l ");
  a = args();
  a.q = in.q.transpose(1, 2);  // last dim not dense
  expect_error(a, "q");
  a = args();
  a.q = in.q.to(core::DType::BF16);  // q, k, v of different dtypes
  expect_error(a, "dtype");
  a = args();
  a.acc = Tensor();
  expect_error(a, "acc is undefined");
  Tensor out = Tensor::zeros({4, 2, 4});
  EXPECT_THROW(cpu->attention_normalize(st.acc, st.l, out), Error);
  Tensor ok = Tensor::zeros({4, 2, 5});
  EXPECT_THROW(cpu->attention_normalize(st.acc, Tensor::zeros({2, 4}), ok), Error);
  // The CPU backend computes in fp32 (bf16 tensors pass the shared checks and are refused by the backend).
  a = args();
  a.q = in.q.to(core::DType::BF16);
  a.k = in.k[0].to(core::DType::BF16);
  a.v = in.v[0].to(core::DType::BF16);
  expect_error(a, "fp32");
}

}  // namespace
}  // namespace axf::test
