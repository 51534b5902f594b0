#include "model/invariant_point_attention.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"

namespace axf::model {

namespace {

// jax.nn.softplus = log(1 + exp(x)), written so that it neither overflows nor loses small values.
double softplus(double x) { return x > 0 ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x)); }

// Linear(name) applied to act on the device, returned as a host [L, width] array.
std::vector<float> project(backend::Backend& be, const Scope& scope, const std::string& name, const Tensor& act) {
  const Scope lin = scope.sub(name);
  const Tensor w = lin["weights"];
  Tensor out = be.empty({act.size(0), w.size(1)});
  be.linear({act, w, lin["bias"], out});
  return be.download(out).to_vector();
}

}  // namespace

IpaPairTerms ipa_pair_terms(runtime::ExecutionContext& ctx, const Scope& scope, const StructureModuleConfig& cfg,
                            const Tensor& pair) {
  backend::Backend& be = ctx.backend();
  AXF_CHECK(pair.ndim() == 3 && pair.size(0) == pair.size(1), "IPA '", scope.path(), "': pair ", pair.describe(),
            " must be [L, L, c_z]");
  const Scope lin = scope.sub("attention_2d");
  Tensor bias = be.empty({pair.size(0), pair.size(1), static_cast<int64_t>(cfg.num_head)});
  be.linear({pair, lin["weights"], lin["bias"], bias});
  return {pair, be.download(bias)};
}

void invariant_point_attention_add(runtime::ExecutionContext& ctx, const Scope& scope, const StructureModuleConfig& cfg,
                                   const Tensor& act, const IpaPairTerms& pair_terms, const Tensor& mask,
                                   const std::vector<QuatAffine>& affines, Tensor& residual) {
  backend::Backend& be = ctx.backend();
  const int64_t L = act.size(0), H = cfg.num_head;
  const int64_t sqk = cfg.num_scalar_qk, sv = cfg.num_scalar_v, pqk = cfg.num_point_qk, pv = cfg.num_point_v;
  const Tensor& pair = pair_terms.pair;
  AXF_CHECK(act.ndim() == 2 && pair.ndim() == 3 && pair.size(0) == L && pair.size(1) == L &&
                mask.numel() == L && static_cast<int64_t>(affines.size()) == L && residual.shape() == act.shape(),
            "IPA '", scope.path(), "': act ", act.describe(), ", pair ", pair.describe(), ", mask ", mask.describe(),
            ", ", affines.size(), " frames, residual ", residual.describe());
  AXF_CHECK(sqk > 0 && pqk > 0 && pv > 0, "IPA '", scope.path(),
            "' needs num_scalar_qk, num_point_qk, num_point_v > 0");
  const int64_t cz = pair.size(2);

  const std::vector<float> q_scalar = project(be, scope, "q_scalar", act);         // [L, H, sqk]
  const std::vector<float> kv_scalar = project(be, scope, "kv_scalar", act);       // [L, H, sqk + sv]
  const std::vector<float> q_point = project(be, scope, "q_point_local", act);     // [L, 3, H, pqk]
  const std::vector<float> kv_point = project(be, scope, "kv_point_local", act);   // [L, 3, H, pqk + pv]
  const std::vector<float> m = mask.to_vector();
  const float* bias_2d = pair_terms.bias_2d.data<float>();                          // [L, L, H]
  const std::vector<float> trainable = be.download(scope["trainable_point_weights"]).to_vector();

  // folding.py: each logit term gets a third of the unit variance.
  const double scalar_weight = std::sqrt(1.0 / (3.0 * static_cast<double>(std::max<int64_t>(sqk, 1))));
  const double point_variance = static_cast<double>(std::max<int64_t>(pqk, 1)) * 9.0 / 2.0;
  std::vector<double> point_weight(static_cast<size_t>(H));
  for (int64_t h = 0; h < H; ++h) point_weight[h] = std::sqrt(1.0 / (3.0 * point_variance)) * softplus(trainable[h]);
  const double attention_2d_weight = std::sqrt(1.0 / 3.0);

  // Points in the global frame. jnp.split(..., 3, axis=-1) makes the projection coordinate-major: column
  // d * (H * P) + h * P + p holds coordinate d of point p of head h.
  const int64_t pkv = pqk + pv;
  std::vector<double> q_glob(static_cast<size_t>(L * H * pqk * 3)), kv_glob(static_cast<size_t>(L * H * pkv * 3));
  for (int64_t i = 0; i < L; ++i) {
    const QuatAffine& a = affines[i];
    auto to_global = [&](const float* row, int64_t width, int64_t col, double* out) {
      const double x = row[col], y = row[width + col], z = row[2 * width + col];
      for (int d = 0; d < 3; ++d)
        out[d] = a.rotation[d * 3] * x + a.rotation[d * 3 + 1] * y + a.rotation[d * 3 + 2] * z + a.translation[d];
    };
    for (int64_t c = 0; c < H * pqk; ++c)
      to_global(&q_point[i * 3 * H * pqk], H * pqk, c, &q_glob[(i * H * pqk + c) * 3]);
    for (int64_t c = 0; c < H * pkv; ++c)
      to_global(&kv_point[i * 3 * H * pkv], H * pkv, c, &kv_glob[(i * H * pkv + c) * 3]);
  }

  // Host features [L, H*sv | 3 * H*pv | H*pv] and the attention weights [L, H, L] for the pair-weighted sum.
  const int64_t f_points = H * sv, f_norms = f_points + 3 * H * pv, f_host = f_norms + H * pv;
  Tensor features = Tensor::empty({L, f_host});
  Tensor attn = Tensor::empty({L, H, L});
  float* feat = features.data<float>();
  float* attn_out = attn.data<float>();
#pragma omp parallel
  {
    std::vector<double> w(static_cast<size_t>(L));
#pragma omp for schedule(static)
    for (int64_t i = 0; i < L; ++i) {
      const QuatAffine& a = affines[i];
      float* frow = feat + i * f_host;
      for (int64_t h = 0; h < H; ++h) {
        const float* q = &q_scalar[(i * H + h) * sqk];
        const double* qp = &q_glob[(i * H + h) * pqk * 3];
        double max_logit = -INFINITY;
        for (int64_t j = 0; j < L; ++j) {
          const float* k = &kv_scalar[(j * H + h) * (sqk + sv)];
          double dot = 0;
          for (int64_t c = 0; c < sqk; ++c) dot += static_cast<double>(q[c]) * k[c];
          const double* kp = &kv_glob[(j * H + h) * pkv * 3];
          double dist2 = 0;
          for (int64_t p = 0; p < pqk * 3; ++p) dist2 += (qp[p] - kp[p]) * (qp[p] - kp[p]);
          double logit = scalar_weight * dot - 0.5 * point_weight[h] * dist2 +
                         attention_2d_weight * bias_2d[(i * L + j) * H + h];
          logit -= 1e5 * (1.0 - static_cast<double>(m[i]) * m[j]);
          w[j] = logit;
          max_logit = std::max(max_logit, logit);
        }
        double sum = 0;
        for (int64_t j = 0; j < L; ++j) sum += (w[j] = std::exp(w[j] - max_logit));
        for (int64_t j = 0; j < L; ++j) {
          w[j] /= sum;
          attn_out[(i * H + h) * L + j] = static_cast<float>(w[j]);
        }

        for (int64_t c = 0; c < sv; ++c) {
          double acc = 0;
          for (int64_t j = 0; j < L; ++j) acc += w[j] * kv_scalar[(j * H + h) * (sqk + sv) + sqk + c];
          frow[h * sv + c] = static_cast<float>(acc);
        }
        for (int64_t p = 0; p < pv; ++p) {
          double g[3] = {0, 0, 0};
          for (int64_t j = 0; j < L; ++j) {
            const double* vp = &kv_glob[((j * H + h) * pkv + pqk + p) * 3];
            for (int d = 0; d < 3; ++d) g[d] += w[j] * vp[d];
          }
          // invert_point: back into the query residue's local frame, R_i^T (g - t_i).
          for (int d = 0; d < 3; ++d) g[d] -= a.translation[d];
          double norm2 = 0;
          for (int d = 0; d < 3; ++d) {
            const double local = a.rotation[d] * g[0] + a.rotation[3 + d] * g[1] + a.rotation[6 + d] * g[2];
            frow[f_points + d * H * pv + h * pv + p] = static_cast<float>(local);
            norm2 += local * local;
          }
          frow[f_norms + h * pv + p] = static_cast<float>(std::sqrt(1e-8 + norm2));
        }
      }
    }
  }

  // result_attention_over_2d = einsum('hij,ijc->ihc', attn, pair): one [H, L] x [L, c_z] product per query row.
  const Tensor d_attn = be.upload(attn);
  Tensor over_2d = be.empty({L, H, cz});
  for (int64_t i = 0; i < L; ++i) {
    Tensor out_i = over_2d.select(0, i);
    be.gemm(d_attn.select(0, i), false, pair.select(0, i), false, out_i);
  }

  // output_projection of the concatenation = the sum of the two column blocks' products.
  const Scope out = scope.sub("output_projection");
  const Tensor w_out = out["weights"];
  AXF_CHECK(w_out.size(0) == f_host + H * cz, "IPA '", scope.path(), "': output_projection ", w_out.describe(),
            " for ", f_host + H * cz, " input features");
  backend::LinearArgs host_part{be.upload(features), w_out.slice(0, 0, f_host), out["bias"], residual};
  host_part.accumulate = true;
  be.linear(host_part);
  backend::LinearArgs pair_part{over_2d.reshape({L, H * cz}), w_out.slice(0, f_host, f_host + H * cz), Tensor(),
                                residual};
  pair_part.accumulate = true;
  be.linear(pair_part);
}

}  // namespace axf::model
