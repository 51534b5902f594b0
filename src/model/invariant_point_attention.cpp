#include "model/invariant_point_attention.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/error.h"

namespace axf::model {

namespace {

// jax.nn.softplus = log(1 + exp(x)), written so that it neither overflows nor loses small values.
double softplus(double x) { return x > 0 ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x)); }

// Linear(name) applied to act, [L, width] on the device.
Tensor project(backend::Backend& be, const Scope& scope, const std::string& name, const Tensor& act) {
  const Scope lin = scope.sub(name);
  const Tensor w = lin["weights"];
  Tensor out = be.empty({act.size(0), w.size(1)});
  be.linear({act, w, lin["bias"], out});
  return out;
}

}  // namespace

IpaPairTerms ipa_pair_terms(runtime::ExecutionContext& ctx, const Scope& scope, const StructureModuleConfig& cfg,
                            const Tensor& pair) {
  backend::Backend& be = ctx.backend();
  AXF_CHECK(pair.ndim() == 3 && pair.size(0) == pair.size(1), "IPA '", scope.path(), "': pair ", pair.describe(),
            " must be [L, L, c_z]");
  const int64_t H = cfg.num_head;
  const Scope lin = scope.sub("attention_2d");
  Tensor bias = be.empty({pair.size(0), pair.size(1), H});
  be.linear({pair, lin["weights"], lin["bias"], bias});

  // folding.py: each logit term gets a third of the unit variance; the point term's weight per head from the
  // trainable parameter (one small download per structure-module call).
  const std::vector<float> trainable = be.download(scope["trainable_point_weights"]).to_vector();
  AXF_CHECK(static_cast<int64_t>(trainable.size()) == H, "IPA '", scope.path(), "': ", trainable.size(),
            " trainable_point_weights for ", H, " heads");
  const double point_variance = static_cast<double>(std::max(cfg.num_point_qk, 1)) * 9.0 / 2.0;
  Tensor weights = Tensor::empty({H});
  for (int64_t h = 0; h < H; ++h)
    weights.data<float>()[h] =
        static_cast<float>(std::sqrt(1.0 / (3.0 * point_variance)) * softplus(trainable[static_cast<size_t>(h)]));
  return {pair, bias, be.upload(weights)};
}

void invariant_point_attention_add(runtime::ExecutionContext& ctx, const Scope& scope, const StructureModuleConfig& cfg,
                                   const Tensor& act, const IpaPairTerms& pair_terms, const Tensor& mask,
                                   const Tensor& affines, Tensor& residual) {
  backend::Backend& be = ctx.backend();
  const int64_t L = act.size(0), H = cfg.num_head;
  const int64_t sqk = cfg.num_scalar_qk, sv = cfg.num_scalar_v, pqk = cfg.num_point_qk, pv = cfg.num_point_v;
  const Tensor& pair = pair_terms.pair;
  AXF_CHECK(act.ndim() == 2 && pair.ndim() == 3 && pair.size(0) == L && pair.size(1) == L && mask.numel() == L &&
                affines.ndim() == 2 && affines.size(0) == L && affines.size(1) == 7 &&
                residual.shape() == act.shape(),
            "IPA '", scope.path(), "': act ", act.describe(), ", pair ", pair.describe(), ", mask ", mask.describe(),
            ", affines ", affines.describe(), ", residual ", residual.describe());
  AXF_CHECK(sqk > 0 && pqk > 0 && pv > 0, "IPA '", scope.path(),
            "' needs num_scalar_qk, num_point_qk, num_point_v > 0");
  const int64_t cz = pair.size(2);
  const int64_t width = H * (sv + 4 * pv + cz);

  backend::IpaArgs args;
  args.q_scalar = project(be, scope, "q_scalar", act);              // [L, H * sqk]
  args.kv_scalar = project(be, scope, "kv_scalar", act);            // [L, H * (sqk + sv)]
  args.q_point = project(be, scope, "q_point_local", act);          // [L, 3 * H * pqk]
  args.kv_point = project(be, scope, "kv_point_local", act);        // [L, 3 * H * (pqk + pv)]
  args.affines = affines;
  args.bias_2d = pair_terms.bias_2d;
  args.pair = pair;
  args.mask = mask;
  args.point_weights = pair_terms.point_weights;
  args.out = be.empty({L, width});
  args.num_head = H;
  args.num_scalar_qk = sqk;
  args.num_scalar_v = sv;
  args.num_point_qk = pqk;
  args.num_point_v = pv;
  // folding.py: each logit term gets a third of the unit variance.
  args.scalar_weight = static_cast<float>(std::sqrt(1.0 / (3.0 * static_cast<double>(sqk))));
  args.attention_2d_weight = static_cast<float>(std::sqrt(1.0 / 3.0));
  be.invariant_point_attention(args);

  // output_projection of the concatenation [scalar | points x, y, z | norms | pair], added to the residual.
  const Scope out = scope.sub("output_projection");
  const Tensor w_out = out["weights"];
  AXF_CHECK(w_out.size(0) == width, "IPA '", scope.path(), "': output_projection ", w_out.describe(), " for ", width,
            " input features");
  backend::LinearArgs projection{args.out, w_out, out["bias"], residual};
  projection.accumulate = true;
  be.linear(projection);
}

}  // namespace axf::model
