#include "support/model_test_support.h"

#include <algorithm>

#include "core/random.h"
#include "model/model_inputs.h"

namespace axf::test {

Tensor random_tensor(const Shape& shape, uint64_t seed, float scale) {
  core::Random rng(seed);
  Tensor t = Tensor::empty(shape);
  float* p = t.data<float>();
  for (int64_t i = 0; i < t.numel(); ++i) p[i] = static_cast<float>(rng.normal() * scale);
  return t;
}

Tensor random_mask(const Shape& shape, uint64_t seed, float ones_fraction) {
  core::Random rng(seed);
  Tensor t = Tensor::empty(shape);
  float* p = t.data<float>();
  const int64_t last = shape.empty() ? 1 : shape.back();
  for (int64_t i = 0; i < t.numel(); ++i) p[i] = rng.uniform() < ones_fraction ? 1.f : 0.f;
  for (int64_t r = 0; r < t.numel() / std::max<int64_t>(last, 1); ++r) p[r * last] = 1.f;
  return t;
}

void add_random_params(model::Params& params, const model::ModelConfig& config, const std::string& prefix,
                       uint64_t seed) {
  uint64_t n = 0;
  for (const auto& spec : model::parameter_spec(config)) {
    if (spec.key.rfind(prefix, 0) != 0) continue;
    const std::string name = spec.key.substr(spec.key.find("//") + 2);
    Tensor t = random_tensor(spec.shape, seed * 1000003ull + (++n), 1.0f);
    float* p = t.data<float>();
    const bool stacked = spec.key.find("evoformer_iteration/") != std::string::npos ||
                         spec.key.find("extra_msa_stack/") != std::string::npos ||
                         spec.key.find("__layer_stack_no_state/") != std::string::npos;
    const int64_t fan_in = spec.shape.size() >= (stacked ? 3u : 2u) ? spec.shape[stacked ? 1 : 0] : 1;
    for (int64_t i = 0; i < t.numel(); ++i) {
      if (name == "scale") {
        p[i] = 1.0f + 0.1f * p[i];
      } else if (name == "offset" || name == "bias" || name == "output_b" || name == "gating_b") {
        p[i] *= 0.1f;
      } else {
        p[i] /= std::sqrt(static_cast<float>(std::max<int64_t>(fan_in, 1)));
      }
    }
    params.insert(spec.key, t);
  }
}

model::ModelConfig small_config() {
  model::ModelConfig c = model::model_config("model_1_ptm");
  c.msa_channel = 24;
  c.pair_channel = 16;
  c.seq_channel = 32;
  c.extra_msa_channel = 12;
  c.evoformer_num_block = 2;
  c.extra_msa_stack_num_block = 2;
  c.evoformer.msa_row_attention.num_head = 4;
  c.evoformer.msa_column_attention.num_head = 4;
  c.evoformer.outer_product_channels = 6;
  c.evoformer.triangle_multiplication_channels = 12;
  c.evoformer.triangle_attention_starting.num_head = 2;
  c.evoformer.triangle_attention_ending.num_head = 2;
  c.templates.attention = {2, 16, 8, false};
  c.templates.template_pair_stack.triangle_attention_starting = {2, 8, 8, true};
  c.templates.template_pair_stack.triangle_attention_ending = {2, 8, 8, true};
  c.templates.template_pair_stack.triangle_multiplication_channels = 8;
  c.structure_module.num_channel = 32;
  c.structure_module.num_head = 4;
  c.structure_module.angle_channels = 16;
  return c;
}

std::vector<double> to_doubles(const Tensor& t) {
  std::vector<float> f = t.to_vector();
  return std::vector<double>(f.begin(), f.end());
}

double max_abs(const std::vector<double>& v) {
  double m = 0;
  for (double x : v) m = std::max(m, std::fabs(x));
  return m;
}

double max_rel_error(const std::vector<double>& got, const std::vector<double>& want) {
  if (got.size() != want.size()) return INFINITY;
  double err = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    if (!std::isfinite(got[i])) return INFINITY;
    err = std::max(err, std::fabs(got[i] - want[i]));
  }
  return err / (max_abs(want) + 1e-30);
}

void layer_norm_ref(const double* x, const double* scale, const double* offset, int64_t c, double* out) {
  double mean = 0, var = 0;
  for (int64_t i = 0; i < c; ++i) mean += x[i];
  mean /= static_cast<double>(c);
  for (int64_t i = 0; i < c; ++i) var += (x[i] - mean) * (x[i] - mean);
  var /= static_cast<double>(c);
  for (int64_t i = 0; i < c; ++i) out[i] = (x[i] - mean) / std::sqrt(var + 1e-5) * scale[i] + offset[i];
}

}  // namespace axf::test

namespace axf::test {

std::map<std::string, Tensor> random_feature_arrays(int64_t L, int64_t S, int64_t E, int64_t T, uint64_t seed) {
  core::Random rng(seed);
  std::map<std::string, Tensor> a;
  Tensor aatype = Tensor::empty({L}, core::DType::I32), ri = Tensor::empty({L}, core::DType::I32);
  Tensor target = Tensor::zeros({L, 22});
  for (int64_t i = 0; i < L; ++i) {
    aatype.data<int32_t>()[i] = static_cast<int32_t>(rng.below(20));
    ri.data<int32_t>()[i] = static_cast<int32_t>(i + (i >= L / 2 ? 5 : 0));  // a chain gap
    target.data<float>()[i * 22 + aatype.data<int32_t>()[i] + 1] = 1.f;
  }
  a["aatype"] = aatype;
  a["residue_index"] = ri;
  a["seq_mask"] = Tensor::full({L}, 1.f);
  a["target_feat"] = target;
  Tensor msa_feat = Tensor::empty({S, L, 49});
  for (int64_t i = 0; i < msa_feat.numel(); ++i) msa_feat.data<float>()[i] = static_cast<float>(rng.uniform());
  a["msa_feat"] = msa_feat;
  a["msa_mask"] = random_mask({S, L}, seed + 1, 0.9f);
  Tensor extra = Tensor::empty({E, L}, core::DType::I32), hd = Tensor::empty({E, L}), dv = Tensor::empty({E, L});
  for (int64_t i = 0; i < E * L; ++i) {
    extra.data<int32_t>()[i] = static_cast<int32_t>(rng.below(23));
    hd.data<float>()[i] = rng.uniform() < 0.2 ? 1.f : 0.f;
    dv.data<float>()[i] = hd.data<float>()[i] * static_cast<float>(rng.uniform());
  }
  a["extra_msa"] = extra;
  a["extra_msa_mask"] = random_mask({E, L}, seed + 2, 0.9f);
  a["extra_has_deletion"] = hd;
  a["extra_deletion_value"] = dv;
  if (T > 0) {
    Tensor taa = Tensor::empty({T, L}, core::DType::I32), pos = Tensor::zeros({T, L, 37, 3});
    Tensor mask = Tensor::zeros({T, L, 37});
    for (int64_t t = 0; t < T; ++t) {
      double ca[3] = {0, 0, 0};
      for (int64_t i = 0; i < L; ++i) {
        const int32_t aa = static_cast<int32_t>(rng.below(21));
        taa.data<int32_t>()[t * L + i] = aa;
        double dir[3] = {rng.normal(), rng.normal(), rng.normal()};
        const double n = std::sqrt(dir[0] * dir[0] + dir[1] * dir[1] + dir[2] * dir[2]) + 1e-9;
        for (int k = 0; k < 3; ++k) ca[k] += 3.8 * dir[k] / n;
        // N, CA, C, CB, O (atom37 slots 0..4) and a few side-chain slots, 1-2 A around CA.
        for (int atom = 0; atom < 37; ++atom) {
          const bool present = atom < 5 ? (atom != 3 || aa != 7) : (atom < 12 && rng.uniform() < 0.5);
          if (!present) continue;
          float* p = pos.data<float>() + ((t * L + i) * 37 + atom) * 3;
          for (int k = 0; k < 3; ++k) p[k] = static_cast<float>(ca[k] + (atom == 1 ? 0.0 : 1.5 * rng.normal() / 1.7));
          mask.data<float>()[(t * L + i) * 37 + atom] = rng.uniform() < 0.95 ? 1.f : 0.f;
        }
      }
    }
    a["template_aatype"] = taa;
    a["template_all_atom_positions"] = pos;
    a["template_all_atom_mask"] = mask;
    a["template_mask"] = Tensor::full({T}, 1.f);
  }
  return a;
}

model::ModelInputs random_model_inputs(int64_t L, int64_t S, int64_t E, int64_t T, uint64_t seed) {
  return model::model_inputs_from_arrays(random_feature_arrays(L, S, E, T, seed), "random inputs");
}

}  // namespace axf::test
