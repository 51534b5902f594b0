// Per-op benchmark: every fused Backend operation at the shapes AlphaFold's model_1_ptm gives it for L residues and
// S MSA rows. Each case: random inputs (rotated among several copies when they would fit in the last-level
// cache), a NaN-poisoned output, median time of N runs, the op's FLOPs and bytes (bench_cost.h), and #wrong: the
// output's non-finite elements plus sampled output rows that differ from a double-precision reference.
#include <algorithm>
#include <cmath>
#include <functional>
#include <sstream>

#include "core/random.h"
#include "runtime/bench.h"
#include "runtime/bench_data.h"

namespace axf::runtime::bench {

namespace {

using backend::Backend;

struct OpCase {
  std::string name;
  std::string shape;
  double tolerance = 1e-4;  // fp32 against double (Checker); 0 = exact
  core::DType dtype = core::DType::F32;  // of the first input and the output on the device (host data stays fp32)
  std::function<std::vector<Tensor>(uint64_t seed)> inputs;  // host tensors
  Shape out;
  std::function<void(Backend&, const std::vector<Tensor>& d, Tensor& out)> run;
  std::function<OpCost(const std::vector<Tensor>& d, const Tensor& out)> cost;
  int64_t units = 0;  // independent output rows the check samples from
  // Adds unit u of the output (host) and its reference from the host inputs to the checker.
  std::function<void(const std::vector<Tensor>& h, const float* out, int64_t u, Checker&)> check;
};

std::string dims(std::initializer_list<int64_t> d) {
  std::ostringstream os;
  os << "[";
  bool first = true;
  for (int64_t x : d) {
    os << (first ? "" : ",") << x;
    first = false;
  }
  os << "]";
  return os.str();
}

const float* f(const Tensor& t) { return t.data<float>(); }

// ---- references (double precision) ----------------------------------------------------------------------------

void check_layer_norm(const std::vector<Tensor>& h, const float* out, int64_t r, Checker& chk) {
  const int64_t C = h[0].size(-1);
  const float* x = f(h[0]) + r * C;
  double mean = 0, var = 0;
  for (int64_t c = 0; c < C; ++c) mean += x[c];
  mean /= static_cast<double>(C);
  for (int64_t c = 0; c < C; ++c) var += (x[c] - mean) * (x[c] - mean);
  var /= static_cast<double>(C);
  const double inv = 1.0 / std::sqrt(var + 1e-5);
  for (int64_t c = 0; c < C; ++c) chk.add(out[r * C + c], (x[c] - mean) * inv * f(h[1])[c] + f(h[2])[c]);
}

void check_linear_relu(const std::vector<Tensor>& h, const float* out, int64_t r, Checker& chk) {
  const int64_t K = h[1].size(0), N = h[1].size(1);
  const float* x = f(h[0]) + r * K;
  for (int64_t n = 0; n < N; ++n) {
    double s = f(h[2])[n];
    for (int64_t k = 0; k < K; ++k) s += static_cast<double>(x[k]) * f(h[1])[k * N + n];
    chk.add(out[r * N + n], std::max(s, 0.0));
  }
}

// Inputs {q, k, v, gate, mask[, bias]}; unit = (b, query).
void check_attention(const std::vector<Tensor>& h, const float* out, int64_t u, Checker& chk) {
  const int64_t B = h[0].size(0), Q = h[0].size(1), H = h[0].size(2), D = h[0].size(3), K = h[1].size(1);
  const int64_t b = u / Q, qi = u % Q;
  (void)B;
  const double scale = 1.0 / std::sqrt(static_cast<double>(D));
  const bool has_bias = h.size() > 5;
  std::vector<double> logits(static_cast<size_t>(K));
  for (int64_t hd = 0; hd < H; ++hd) {
    const float* q = f(h[0]) + ((b * Q + qi) * H + hd) * D;
    double top = -1e300;
    for (int64_t k = 0; k < K; ++k) {
      const float* kk = f(h[1]) + ((b * K + k) * H + hd) * D;
      double s = 0;
      for (int64_t d = 0; d < D; ++d) s += static_cast<double>(q[d]) * kk[d];
      s *= scale;
      if (has_bias) s += f(h[5])[(hd * Q + qi) * K + k];
      if (f(h[4])[b * K + k] == 0.f) s += -1e9;
      logits[k] = s;
      top = std::max(top, s);
    }
    double sum = 0;
    for (auto& l : logits) sum += (l = std::exp(l - top));
    for (int64_t d = 0; d < D; ++d) {
      double o = 0;
      for (int64_t k = 0; k < K; ++k) o += logits[k] * f(h[2])[((b * K + k) * H + hd) * D + d];
      const double g = f(h[3])[((b * Q + qi) * H + hd) * D + d];
      chk.add(out[((b * Q + qi) * H + hd) * D + d], o / sum / (1.0 + std::exp(-g)));
    }
  }
}

// Inputs {left, right} [C, L, L]; unit = (i, j).
void check_triangle(const std::vector<Tensor>& h, const float* out, int64_t u, Checker& chk, bool outgoing) {
  const int64_t C = h[0].size(0), L = h[0].size(1), i = u / L, j = u % L;
  const float *left = f(h[0]), *right = f(h[1]);
  for (int64_t c = 0; c < C; ++c) {
    double s = 0;
    for (int64_t k = 0; k < L; ++k)
      s += outgoing ? static_cast<double>(left[(c * L + i) * L + k]) * right[(c * L + j) * L + k]
                    : static_cast<double>(left[(c * L + k) * L + j]) * right[(c * L + k) * L + i];
    chk.add(out[(i * L + j) * C + c], s);
  }
}

// Inputs {left [S, L, A], right [S, L, Bc], w [A*Bc, Cz], bias [Cz], norm [L, L]}; unit = (i, j).
void check_outer_product_mean(const std::vector<Tensor>& h, const float* out, int64_t u, Checker& chk) {
  const int64_t S = h[0].size(0), L = h[0].size(1), A = h[0].size(2), Bc = h[1].size(2), Cz = h[2].size(1);
  const int64_t i = u / L, j = u % L;
  std::vector<double> outer(static_cast<size_t>(A * Bc), 0.0);
  for (int64_t s = 0; s < S; ++s)
    for (int64_t a = 0; a < A; ++a) {
      const double l = f(h[0])[(s * L + i) * A + a];
      for (int64_t b = 0; b < Bc; ++b) outer[a * Bc + b] += l * f(h[1])[(s * L + j) * Bc + b];
    }
  const double denom = 1e-3 + f(h[4])[i * L + j];
  for (int64_t c = 0; c < Cz; ++c) {
    double s = f(h[3])[c];
    for (int64_t ab = 0; ab < A * Bc; ++ab) s += outer[ab] * f(h[2])[ab * Cz + c];
    chk.add(out[(i * L + j) * Cz + c], s / denom);
  }
}

void check_transpose(const std::vector<Tensor>& h, const float* out, int64_t u, Checker& chk) {
  const int64_t L = h[0].size(0), C = h[0].size(2), i = u / L, j = u % L;
  for (int64_t c = 0; c < C; ++c) chk.add(out[(i * L + j) * C + c], f(h[0])[(j * L + i) * C + c]);
}

// ---- the cases --------------------------------------------------------------------------------------------------

backend::AttentionArgs attention_args(const std::vector<Tensor>& d, Tensor& out) {
  backend::AttentionArgs a;
  a.q = d[0];
  a.k = d[1];
  a.v = d[2];
  a.gate = d[3];
  a.key_mask = d[4];
  if (d.size() > 5) a.bias = d[5];
  a.out = out;
  a.scale = 1.f / std::sqrt(static_cast<float>(d[0].size(3)));
  return a;
}

// Gated attention with key mask (and bias [H, Q, K] when with_bias): B batch rows, Q = K, H heads of D.
OpCase attention_case(const std::string& name, int64_t B, int64_t Q, int64_t H, int64_t D, bool with_bias) {
  OpCase c;
  c.name = name;
  c.shape = "B=" + std::to_string(B) + " Q=K=" + std::to_string(Q) + " H=" + std::to_string(H) +
            " D=" + std::to_string(D) + (with_bias ? " +bias" : "");
  c.inputs = [=](uint64_t seed) {
    std::vector<Tensor> in = {random_host({B, Q, H, D}, seed + 1), random_host({B, Q, H, D}, seed + 2),
                              random_host({B, Q, H, D}, seed + 3), random_host({B, Q, H, D}, seed + 4),
                              random_mask_host({B, Q}, seed + 5, 0.9f)};
    if (with_bias) in.push_back(random_host({H, Q, Q}, seed + 6));
    return in;
  };
  c.out = {B, Q, H, D};
  c.run = [](Backend& be, const std::vector<Tensor>& d, Tensor& out) { be.attention(attention_args(d, out)); };
  c.cost = [](const std::vector<Tensor>& d, const Tensor& out) {
    Tensor o = out;
    return attention_cost(attention_args(d, o));
  };
  c.units = B * Q;
  c.check = check_attention;
  return c;
}

OpCase triangle_case(int64_t L, int64_t C, bool outgoing) {
  OpCase c;
  c.name = outgoing ? "triangle_multiply out" : "triangle_multiply in";
  c.shape = "C=" + std::to_string(C) + " [C,L,L] -> " + dims({L, L, C});
  c.inputs = [=](uint64_t seed) {
    return std::vector<Tensor>{random_host({C, L, L}, seed + 1), random_host({C, L, L}, seed + 2)};
  };
  c.out = {L, L, C};
  const auto dir = outgoing ? backend::TriangleDirection::Outgoing : backend::TriangleDirection::Incoming;
  c.run = [dir](Backend& be, const std::vector<Tensor>& d, Tensor& out) {
    be.triangle_multiply({d[0], d[1], out, 0, dir, {}, {}});
  };
  c.cost = [dir](const std::vector<Tensor>& d, const Tensor& out) {
    return triangle_multiply_cost({d[0], d[1], out, 0, dir, {}, {}});
  };
  c.units = L * L;
  c.check = [outgoing](const std::vector<Tensor>& h, const float* out, int64_t u, Checker& chk) {
    check_triangle(h, out, u, chk, outgoing);
  };
  return c;
}

// LayerNorm over [rows, L, channels] with x (and the output) in `dtype` on the device. For bf16 the host x is rounded
// to bf16 first, so the double reference sees what the device reads; the tolerance covers the bf16 output.
OpCase layer_norm_case(int64_t rows, int64_t L, int64_t channels, core::DType dtype) {
  const bool bf16 = dtype == core::DType::BF16;
  OpCase c;
  c.name = bf16 ? "layer_norm bf16" : "layer_norm";
  c.shape = dims({rows, L, channels});
  if (bf16) c.tolerance = 1e-2;
  c.dtype = dtype;
  c.inputs = [=](uint64_t seed) {
    Tensor x = random_host({rows, L, channels}, seed + 1, 1.f, 0.5f);
    if (bf16) x = x.to(core::DType::BF16).to(core::DType::F32);
    return std::vector<Tensor>{x, random_host({channels}, seed + 2, 0.1f, 1.f), random_host({channels}, seed + 3, 0.1f)};
  };
  c.out = {rows, L, channels};
  c.run = [](Backend& be, const std::vector<Tensor>& d, Tensor& out) { be.layer_norm(d[0], d[1], d[2], out, 1e-5f); };
  c.cost = [](const std::vector<Tensor>& d, const Tensor& out) { return layer_norm_cost(d[0], d[1], d[2], out); };
  c.units = rows * L;
  c.check = check_layer_norm;
  return c;
}

std::vector<OpCase> op_cases(int64_t L, int64_t S) {
  const int64_t cz = 128, hidden = 4 * cz, opm = 32;
  std::vector<OpCase> cases;
  cases.push_back(layer_norm_case(L, L, cz, core::DType::F32));
  // bf16 LayerNorms as the bf16 trunk runs them: the pair [L, L, 128] and the MSA [S, L, 256].
  cases.push_back(layer_norm_case(L, L, cz, core::DType::BF16));
  cases.push_back(layer_norm_case(S, L, 2 * cz, core::DType::BF16));
  {
    OpCase c;
    c.name = "linear+relu";
    c.shape = dims({L * L, cz}) + "x" + dims({cz, hidden});
    c.inputs = [=](uint64_t seed) {
      return std::vector<Tensor>{random_host({L * L, cz}, seed + 1),
                                 random_host({cz, hidden}, seed + 2, 1.f / std::sqrt(static_cast<float>(cz))),
                                 random_host({hidden}, seed + 3, 0.1f)};
    };
    c.out = {L * L, hidden};
    auto args = [](const std::vector<Tensor>& d, const Tensor& out) {
      return backend::LinearArgs{d[0], d[1], d[2], out, backend::Activation::Relu, false};
    };
    c.run = [args](Backend& be, const std::vector<Tensor>& d, Tensor& out) { be.linear(args(d, out)); };
    c.cost = [args](const std::vector<Tensor>& d, const Tensor& out) { return linear_cost(args(d, out)); };
    c.units = L * L;
    c.check = check_linear_relu;
    cases.push_back(c);
  }
  cases.push_back(attention_case("attention msa-row", S, L, 8, 32, true));
  cases.push_back(attention_case("attention msa-col", L, S, 8, 32, false));
  cases.push_back(attention_case("attention triangle", L, L, 4, 32, true));
  cases.push_back(triangle_case(L, cz, true));
  cases.push_back(triangle_case(L, cz, false));
  {
    OpCase c;
    c.name = "outer_product_mean";
    c.shape = "S=" + std::to_string(S) + " " + std::to_string(opm) + "x" + std::to_string(opm) + "->" +
              std::to_string(cz) + " " + dims({L, L, cz});
    c.inputs = [=](uint64_t seed) {
      return std::vector<Tensor>{random_host({S, L, opm}, seed + 1), random_host({S, L, opm}, seed + 2),
                                 random_host({opm * opm, cz}, seed + 3, 1.f / static_cast<float>(opm)),
                                 random_host({cz}, seed + 4, 0.1f),
                                 random_host({L, L}, seed + 5, 0.1f * static_cast<float>(S), 0.75f * static_cast<float>(S))};
    };
    c.out = {L, L, cz};
    auto args = [](const std::vector<Tensor>& d, const Tensor& out) {
      backend::OuterProductMeanArgs a;
      a.left = d[0];
      a.right = d[1];
      a.w = d[2];
      a.bias = d[3];
      a.norm = d[4];
      a.out = out;
      return a;
    };
    c.run = [args](Backend& be, const std::vector<Tensor>& d, Tensor& out) { be.outer_product_mean(args(d, out)); };
    c.cost = [args](const std::vector<Tensor>& d, const Tensor& out) { return outer_product_mean_cost(args(d, out)); };
    c.units = L * L;
    c.check = check_outer_product_mean;
    cases.push_back(c);
  }
  {
    OpCase c;
    c.name = "copy (pair swapaxes)";
    c.shape = dims({L, L, cz}) + " ij->ji";
    c.tolerance = 0;
    c.inputs = [=](uint64_t seed) { return std::vector<Tensor>{random_host({L, L, cz}, seed + 1)}; };
    c.out = {L, L, cz};
    c.run = [](Backend& be, const std::vector<Tensor>& d, Tensor& out) { be.copy(d[0].permute({1, 0, 2}), out); };
    c.cost = [](const std::vector<Tensor>& d, const Tensor& out) { return copy_cost(d[0], out); };
    c.units = L * L;
    c.check = check_transpose;
    cases.push_back(c);
  }
  return cases;
}

Row run_case(Backend& be, DeviceTimer& timer, const OpCase& c, const BenchOptions& opt, int64_t L, uint64_t seed,
             int64_t cache_bytes) {
  const std::vector<Tensor> host = c.inputs(seed);
  double footprint = static_cast<double>(core::shape_numel(c.out)) * 4.0;
  for (const Tensor& t : host) footprint += tensor_bytes(t);
  // Rotate among copies until the data touched per round is at least 4x the last-level cache.
  const int sets = static_cast<int>(std::clamp<double>(std::ceil(4.0 * static_cast<double>(cache_bytes) / footprint), 1, 8));
  std::vector<std::vector<Tensor>> d_sets(static_cast<size_t>(sets));
  std::vector<Tensor> outs;
  for (int s = 0; s < sets; ++s) {
    const std::vector<Tensor> h = s == 0 ? host : c.inputs(seed + 1000 * static_cast<uint64_t>(s));
    for (const Tensor& t : h) d_sets[s].push_back(be.upload(t));
    if (c.dtype != core::DType::F32) {
      Tensor narrow = be.empty(d_sets[s][0].shape(), c.dtype);
      be.copy(d_sets[s][0], narrow);
      d_sets[s][0] = narrow;
    }
    outs.push_back(be.empty(c.out, c.dtype));
    be.fill(outs.back(), NAN);
  }
  Row row;
  row.name = c.name;
  row.shape = c.shape;
  if (sets > 1) row.note = std::to_string(sets) + " input sets rotated (data would fit the last-level cache)";
  row.length = L;
  row.time = timer.run(opt.warmup, opt.repeat, [&](int i) { c.run(be, d_sets[i % sets], outs[i % sets]); });
  const OpCost cost = c.cost(d_sets[0], outs[0]);
  row.flops = cost.flops;
  row.bytes = cost.bytes;

  const Tensor out = be.download(outs[0]).to(core::DType::F32);
  Checker chk(c.tolerance);
  chk.add_nonfinite_scan(out);
  core::Random rng(seed ^ 0x5eedull);
  const int64_t samples = std::min<int64_t>(opt.check_samples, c.units);
  for (int64_t s = 0; s < samples; ++s) {
    const int64_t u = samples == c.units ? s : static_cast<int64_t>(rng.below(static_cast<uint64_t>(c.units)));
    c.check(host, out.data<float>(), u, chk);
  }
  row.wrong = chk.wrong();
  row.checked = chk.checked();
  row.max_error = chk.max_error();
  return row;
}

}  // namespace

std::vector<Row> bench_ops(backend::Backend& be, const BenchOptions& opt, int64_t L) {
  DeviceTimer timer(be);
  const int64_t cache = last_level_cache_bytes(be);
  std::vector<Row> rows;
  uint64_t seed = opt.seed * 7919 + static_cast<uint64_t>(L) * 101;
  for (const OpCase& c : op_cases(L, opt.msa)) {
    seed += 17;
    if (c.dtype != core::DType::F32 && !be.supports_bf16()) continue;  // the bf16 cases on backends with bf16
    rows.push_back(run_case(be, timer, c, opt, L, seed, cache));
  }
  return rows;
}

}  // namespace axf::runtime::bench
