// The structure module's backend operations on the CPU backend: invariant_point_attention against a literal
// double-precision implementation of Suppl. Alg. 22 lines 4-10 (AlphaFold's feature order, textbook rotations),
// with padded masks, strided views and poisoned outputs, and on a bf16 pair; backbone_update against
// QuatAffine::pre_compose; the host fallback a backend without these operations inherits; argument checks.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "backend/backend.h"
#include "core/error.h"
#include "core/random.h"
#include "model/rigid.h"
#include "runtime/bench_cost.h"
#include "support/model_test_support.h"

namespace axf::test {
namespace {

struct IpaSpec {
  int64_t L, H, sqk, sv, pqk, pv, cz;
  int64_t pad_back = 0;
  bool views = false;
};

// Host inputs of one call; bias, pair and out are views of wider buffers when spec.views.
struct IpaInputs {
  IpaSpec s;
  Tensor q_scalar, kv_scalar, q_point, kv_point, affines, bias, pair, mask, point_weights;
  Tensor out_buffer, out;
  int64_t width = 0;

  explicit IpaInputs(IpaSpec spec, uint64_t seed) : s(spec) {
    const int64_t L = s.L, H = s.H;
    width = H * (s.sv + 4 * s.pv + s.cz);
    q_scalar = random_tensor({L, H * s.sqk}, seed + 1);
    kv_scalar = random_tensor({L, H * (s.sqk + s.sv)}, seed + 2);
    q_point = random_tensor({L, 3 * H * s.pqk}, seed + 3);
    kv_point = random_tensor({L, 3 * H * (s.pqk + s.pv)}, seed + 4);
    affines = Tensor::empty({L, 7});
    core::Random rng(seed + 5);
    for (int64_t i = 0; i < L; ++i) {
      model::Quat4f q{};
      for (float& x : q) x = static_cast<float>(rng.normal());
      const model::QuatAffine a = model::QuatAffine::from_quaternion(
          q, {static_cast<float>(2 * rng.normal()), static_cast<float>(2 * rng.normal()),
              static_cast<float>(2 * rng.normal())});
      a.to_tensor(affines.data<float>() + i * 7);
    }
    if (s.views) {
      bias = random_tensor({L, L, H + 2}, seed + 6).slice(2, 1, 1 + H);
      pair = random_tensor({L + 1, L, s.cz + 4}, seed + 7).slice(0, 1, 1 + L).slice(2, 2, 2 + s.cz);
      out_buffer = random_tensor({L, width + 3}, seed + 8);
      out = out_buffer.slice(1, 1, 1 + width);
    } else {
      bias = random_tensor({L, L, H}, seed + 6);
      pair = random_tensor({L, L, s.cz}, seed + 7);
      out_buffer = Tensor::empty({L, width});
      out = out_buffer;
    }
    core::copy_host(Tensor::full(out.shape(), std::numeric_limits<float>::quiet_NaN()), out);
    mask = random_mask({L}, seed + 9, 0.85f);
    for (int64_t i = L - s.pad_back; i < L; ++i) mask.data<float>()[i] = 0.f;
    point_weights = random_tensor({H}, seed + 10);
    for (int64_t h = 0; h < H; ++h)
      point_weights.data<float>()[h] = 0.05f + 0.2f * std::fabs(point_weights.data<float>()[h]);
  }

  backend::IpaArgs args() const {
    backend::IpaArgs a;
    a.q_scalar = q_scalar;
    a.kv_scalar = kv_scalar;
    a.q_point = q_point;
    a.kv_point = kv_point;
    a.affines = affines;
    a.bias_2d = bias;
    a.pair = pair;
    a.mask = mask;
    a.point_weights = point_weights;
    a.out = out;
    a.num_head = s.H;
    a.num_scalar_qk = s.sqk;
    a.num_scalar_v = s.sv;
    a.num_point_qk = s.pqk;
    a.num_point_v = s.pv;
    a.scalar_weight = static_cast<float>(std::sqrt(1.0 / (3.0 * static_cast<double>(s.sqk > 0 ? s.sqk : 1))));
    a.attention_2d_weight = static_cast<float>(std::sqrt(1.0 / 3.0));
    return a;
  }
};

// Literal lines 4-10 in double: logits, softmax over j, then the output features in AlphaFold's order.
std::vector<double> ipa_core_reference(const IpaInputs& in) {
  const IpaSpec& s = in.s;
  const int64_t L = s.L, H = s.H, C = s.sqk, V = s.sv, P = s.pqk, PV = s.pv, cz = s.cz;
  const auto qs = to_doubles(in.q_scalar), kvs = to_doubles(in.kv_scalar);
  const auto qpl = to_doubles(in.q_point), kvpl = to_doubles(in.kv_point), aff = to_doubles(in.affines);
  const auto bias = to_doubles(in.bias), pair = to_doubles(in.pair), mask = to_doubles(in.mask);
  const auto pw = to_doubles(in.point_weights);
  const backend::IpaArgs a = in.args();
  auto rotation = [&](int64_t i, double r[9]) {
    const double w = aff[i * 7], x = aff[i * 7 + 1], y = aff[i * 7 + 2], z = aff[i * 7 + 3];
    const double t[9] = {1 - 2 * (y * y + z * z), 2 * (x * y - w * z),     2 * (x * z + w * y),
                         2 * (x * y + w * z),     1 - 2 * (x * x + z * z), 2 * (y * z - w * x),
                         2 * (x * z - w * y),     2 * (y * z + w * x),     1 - 2 * (x * x + y * y)};
    for (int k = 0; k < 9; ++k) r[k] = t[k];
  };
  // T_i o (local point p of head h): the projection is split into x, y, z thirds.
  auto global = [&](const std::vector<double>& proj, int64_t per_head, int64_t i, int64_t h, int64_t p, double g[3]) {
    double r[9];
    rotation(i, r);
    const int64_t third = H * per_head;
    double x[3];
    for (int e = 0; e < 3; ++e) x[e] = proj[i * 3 * third + e * third + h * per_head + p];
    for (int e = 0; e < 3; ++e) g[e] = r[e * 3] * x[0] + r[e * 3 + 1] * x[1] + r[e * 3 + 2] * x[2] + aff[i * 7 + 4 + e];
  };
  const int64_t F = H * (V + 4 * PV + cz);
  std::vector<double> out(static_cast<size_t>(L * F)), w(static_cast<size_t>(L));
  for (int64_t i = 0; i < L; ++i) {
    for (int64_t h = 0; h < H; ++h) {
      double mx = -1e300;
      for (int64_t j = 0; j < L; ++j) {
        double qk = 0;
        for (int64_t c = 0; c < C; ++c) qk += qs[(i * H + h) * C + c] * kvs[(j * H + h) * (C + V) + c];
        double d2 = 0;
        for (int64_t p = 0; p < P; ++p) {
          double qg[3], kg[3];
          global(qpl, P, i, h, p, qg);
          global(kvpl, P + PV, j, h, p, kg);
          for (int e = 0; e < 3; ++e) d2 += (qg[e] - kg[e]) * (qg[e] - kg[e]);
        }
        w[j] = static_cast<double>(a.scalar_weight) * qk - pw[h] / 2 * d2 +
               static_cast<double>(a.attention_2d_weight) * bias[(i * L + j) * H + h] -
               1e5 * (1 - mask[i] * mask[j]);
        mx = std::max(mx, w[j]);
      }
      double sum = 0;
      for (int64_t j = 0; j < L; ++j) sum += (w[j] = std::exp(w[j] - mx));
      for (int64_t j = 0; j < L; ++j) w[j] /= sum;
      double* f = &out[i * F];
      for (int64_t c = 0; c < V; ++c) {
        double o = 0;
        for (int64_t j = 0; j < L; ++j) o += w[j] * kvs[(j * H + h) * (C + V) + C + c];
        f[h * V + c] = o;
      }
      double r[9];
      rotation(i, r);
      for (int64_t p = 0; p < PV; ++p) {
        double g[3] = {0, 0, 0};
        for (int64_t j = 0; j < L; ++j) {
          double vg[3];
          global(kvpl, P + PV, j, h, P + p, vg);
          for (int e = 0; e < 3; ++e) g[e] += w[j] * vg[e];
        }
        for (int e = 0; e < 3; ++e) g[e] -= aff[i * 7 + 4 + e];
        double n2 = 0;
        for (int e = 0; e < 3; ++e) {
          const double local = r[e] * g[0] + r[3 + e] * g[1] + r[6 + e] * g[2];
          f[H * V + e * H * PV + h * PV + p] = local;
          n2 += local * local;
        }
        f[H * V + 3 * H * PV + h * PV + p] = std::sqrt(1e-8 + n2);
      }
      for (int64_t c = 0; c < cz; ++c) {
        double o = 0;
        for (int64_t j = 0; j < L; ++j) o += w[j] * pair[(i * L + j) * cz + c];
        f[H * V + 4 * H * PV + h * cz + c] = o;
      }
    }
  }
  return out;
}

const std::vector<std::pair<std::string, IpaSpec>>& ipa_specs() {
  static const std::vector<std::pair<std::string, IpaSpec>> specs = {
      {"L1", {1, 2, 3, 2, 1, 2, 5}},
      {"L1_masked", {1, 3, 4, 4, 2, 2, 8, 1}},
      {"L7_small", {7, 4, 16, 16, 4, 8, 16, 2}},
      {"L37_alphafold", {37, 12, 16, 16, 4, 8, 128, 5}},
      {"L33_odd_sizes_views", {33, 5, 3, 0, 2, 3, 19, 3, true}},
  };
  return specs;
}

TEST(StructureOps, IpaMatchesLiteralAlgorithm22Core) {
  auto cpu = backend::make_cpu_backend();
  uint64_t seed = 100;
  for (const auto& [name, spec] : ipa_specs()) {
    SCOPED_TRACE(name);
    IpaInputs in(spec, seed += 20);
    const Tensor untouched = in.out_buffer.clone();
    cpu->invariant_point_attention(in.args());
    const std::vector<double> got = to_doubles(in.out), want = ipa_core_reference(in);
    for (double x : got) ASSERT_TRUE(std::isfinite(x)) << "output not written";
    EXPECT_LT(max_rel_error(got, want), 1e-5);
    if (spec.views) {
      // Columns outside the view keep their values.
      for (int64_t i = 0; i < spec.L; ++i)
        for (int64_t c : {int64_t{0}, in.width + 1, in.width + 2})
          EXPECT_EQ(in.out_buffer.data<float>()[i * (in.width + 3) + c],
                    untouched.data<float>()[i * (in.width + 3) + c]);
    }
  }
}

// A bf16 pair (a bf16 run's normalised pair) is read as its fp32 values: the result equals the literal reference and
// the fp32 call on the rounded pair, contiguous and as a strided view; the host fallback takes it too.
TEST(StructureOps, IpaAcceptsBf16Pair) {
  auto cpu = backend::make_cpu_backend();
  runtime::bench::CountingBackend counting(*cpu);
  uint64_t seed = 800;
  for (const auto& [name, spec] : ipa_specs()) {
    SCOPED_TRACE(name);
    IpaInputs in(spec, seed += 20);
    // The pair buffer rounded to bf16, viewed as in.pair is; the same values in fp32 with the same strides.
    const Tensor buffer = random_tensor(
        spec.views ? Shape{spec.L + 1, spec.L, spec.cz + 4} : Shape{spec.L, spec.L, spec.cz}, seed + 7);
    const Tensor bf16_buffer = buffer.to(core::DType::BF16), rounded_buffer = bf16_buffer.to(core::DType::F32);
    auto view = [&](const Tensor& b) {
      return spec.views ? b.slice(0, 1, 1 + spec.L).slice(2, 2, 2 + spec.cz) : b;
    };
    IpaInputs rounded = in;
    rounded.pair = view(rounded_buffer);
    rounded.out = Tensor::empty(in.out.shape());
    cpu->invariant_point_attention(rounded.args());
    const std::vector<double> want = ipa_core_reference(rounded);

    IpaInputs half = in;
    half.pair = view(bf16_buffer);
    ASSERT_EQ(half.pair.dtype(), core::DType::BF16);
    half.out = Tensor::full(in.out.shape(), std::numeric_limits<float>::quiet_NaN());
    cpu->invariant_point_attention(half.args());
    const std::vector<double> got = to_doubles(half.out);
    for (double x : got) ASSERT_TRUE(std::isfinite(x)) << "output not written";
    EXPECT_LT(max_rel_error(got, want), 1e-5);
    EXPECT_LT(max_rel_error(got, to_doubles(rounded.out)), 1e-6);

    IpaInputs fallback = half;
    fallback.out = Tensor::full(in.out.shape(), std::numeric_limits<float>::quiet_NaN());
    counting.Backend::invariant_point_attention(fallback.args());
    EXPECT_EQ(to_doubles(fallback.out), got);
  }
}

// A padded residue's frame, features and pair entries do not reach the other rows' outputs.
TEST(StructureOps, IpaPaddedResiduesDoNotLeak) {
  auto cpu = backend::make_cpu_backend();
  IpaInputs in({9, 3, 4, 4, 2, 3, 6, 2}, 400);
  for (int64_t i = 0; i < 9; ++i) in.mask.data<float>()[i] = i < 7 ? 1.f : 0.f;
  cpu->invariant_point_attention(in.args());
  const std::vector<double> base = to_doubles(in.out);
  IpaInputs moved = in;
  moved.affines = in.affines.clone();
  moved.pair = in.pair.clone();
  moved.kv_scalar = in.kv_scalar.clone();
  moved.out = Tensor::empty(in.out.shape());
  moved.affines.data<float>()[8 * 7 + 4] += 50.f;
  for (int64_t c = 0; c < 6; ++c) moved.pair.data<float>()[(0 * 9 + 8) * 6 + c] = 1e3f;
  const int64_t kv_width = moved.kv_scalar.size(1);
  for (int64_t k = 0; k < kv_width; ++k) moved.kv_scalar.data<float>()[8 * kv_width + k] = -7.f;
  cpu->invariant_point_attention(moved.args());
  const std::vector<double> got = to_doubles(moved.out);
  const auto present = static_cast<std::ptrdiff_t>(7 * in.width);
  const std::vector<double> got_rows(got.begin(), got.begin() + present);
  const std::vector<double> base_rows(base.begin(), base.begin() + present);
  EXPECT_LT(max_rel_error(got_rows, base_rows), 1e-6);
}

// The base class's host fallback (for a backend without the operations), called on a wrapping backend, equals the
// CPU reference; the wrapper itself forwards.
TEST(StructureOps, WrappingBackendFallsBackToTheCpuReference) {
  auto cpu = backend::make_cpu_backend();
  runtime::bench::CountingBackend counting(*cpu);
  IpaInputs in({13, 4, 16, 16, 4, 8, 16, 3, true}, 500);
  IpaInputs again = in, forwarded = in;
  again.out_buffer = in.out_buffer.clone();
  again.out = again.out_buffer.slice(1, 1, 1 + in.width);
  forwarded.out_buffer = in.out_buffer.clone();
  forwarded.out = forwarded.out_buffer.slice(1, 1, 1 + in.width);
  cpu->invariant_point_attention(in.args());
  counting.Backend::invariant_point_attention(again.args());
  EXPECT_EQ(to_doubles(again.out_buffer), to_doubles(in.out_buffer));
  counting.invariant_point_attention(forwarded.args());
  EXPECT_EQ(to_doubles(forwarded.out_buffer), to_doubles(in.out_buffer));

  Tensor a = in.affines.clone(), b = in.affines.clone();
  const Tensor u = random_tensor({13, 6}, 501, 0.5f);
  cpu->backbone_update(a, u);
  counting.Backend::backbone_update(b, u);
  EXPECT_EQ(to_doubles(a), to_doubles(b));
}

TEST(StructureOps, BackboneUpdateMatchesQuatAffinePreCompose) {
  auto cpu = backend::make_cpu_backend();
  const int64_t L = 23;
  IpaInputs in({L, 1, 1, 1, 1, 1, 1}, 600);
  Tensor affines = in.affines.clone();
  std::vector<model::QuatAffine> frames;
  for (int64_t i = 0; i < L; ++i) frames.push_back(model::QuatAffine::from_tensor(affines.data<float>() + i * 7));
  for (int it = 0; it < 8; ++it) {
    const Tensor u = random_tensor({L, 6}, 610 + it, 0.5f);
    cpu->backbone_update(affines, u);
    for (int64_t i = 0; i < L; ++i) frames[i] = frames[i].pre_compose(u.data<float>() + i * 6);
  }
  std::vector<double> want;
  for (const auto& f : frames) {
    float row[7];
    f.to_tensor(row);
    want.insert(want.end(), row, row + 7);
  }
  EXPECT_LT(max_rel_error(to_doubles(affines), want), 1e-6);
  // Quaternions stay unit.
  for (int64_t i = 0; i < L; ++i) {
    const float* q = affines.data<float>() + i * 7;
    EXPECT_NEAR(q[0] * q[0] + q[1] * q[1] + q[2] * q[2] + q[3] * q[3], 1.f, 1e-6f);
  }
}

TEST(StructureOps, RejectsBadArguments) {
  auto cpu = backend::make_cpu_backend();
  IpaInputs in({5, 2, 4, 4, 2, 2, 6}, 700);
  auto expect_error = [&](backend::IpaArgs a, const std::string& names) {
    try {
      cpu->invariant_point_attention(a);
      ADD_FAILURE() << "no error for bad " << names;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(names), std::string::npos) << e.what();
    }
  };
  backend::IpaArgs a = in.args();
  a.pair = in.pair.slice(1, 0, 4);
  expect_error(a, "pair");
  a = in.args();
  a.kv_point = in.kv_point.slice(1, 0, 3);
  expect_error(a, "kv_point");
  a = in.args();
  a.mask = in.mask.to(core::DType::BF16);
  expect_error(a, "mask");
  // Only the pair may be bf16.
  a = in.args();
  a.bias_2d = in.bias.to(core::DType::BF16);
  expect_error(a, "bias_2d");
  a = in.args();
  a.q_scalar = in.q_scalar.to(core::DType::BF16);
  expect_error(a, "q_scalar");
  a = in.args();
  a.pair = in.pair.to(core::DType::F16);
  expect_error(a, "pair");
  a = in.args();
  a.out = Tensor::empty({5, in.width + 1});
  expect_error(a, "out");
  Tensor affines = in.affines.clone();
  EXPECT_THROW(cpu->backbone_update(affines, Tensor::zeros({4, 6})), Error);
  Tensor wrong = Tensor::zeros({5, 6});
  EXPECT_THROW(cpu->backbone_update(wrong, Tensor::zeros({5, 6})), Error);
}

}  // namespace
}  // namespace axf::test
