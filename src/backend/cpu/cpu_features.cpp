// CPU backend: the input features computed in place (template pair features and their embedding2d, one-hot pair
// embeddings of relative positions and recycled distances, the extra-MSA embedding), on fp32 or bf16 outputs,
// with the per-element arithmetic of backend/feature_math.h (shared with the CUDA kernels).
#include <algorithm>
#include <vector>

#include "backend/cpu/cpu_backend.h"
#include "backend/feature_math.h"
#include "backend/feature_ops.h"
#include "core/error.h"

namespace axf::backend::cpu {

namespace {

namespace fm = features;

void check_host(const Tensor& t, const char* op, const char* what) {
  if (t.defined())
    AXF_CHECK(t.device() == core::Device::CPU, op, ": ", what, " ", t.describe(), " is not on the host");
}

// f(float{}) or f(uint16_t{}) (bf16 bits) for an F32 / BF16 tensor.
template <class F>
void dispatch_float(DType t, F&& f) {
  if (t == DType::BF16) {
    f(uint16_t{});
  } else {
    AXF_CHECK(t == DType::F32, "expected an fp32 or bf16 tensor, got ", core::dtype_name(t));
    f(float{});
  }
}

template <class F>
void dispatch_float3(DType a, DType b, DType c, F&& f) {
  dispatch_float(a, [&](auto ta) {
    dispatch_float(b, [&](auto tb) { dispatch_float(c, [&](auto tc) { f(ta, tb, tc); }); });
  });
}

DType bias_dtype(const Tensor& bias) { return bias.defined() ? bias.dtype() : DType::F32; }

// Element pointer of a host tensor as its storage type.
template <class T>
T* ptr(const Tensor& t) {
  return static_cast<T*>(t.raw_data());
}

// pair[i,j,:] = (pair[i,j,:] + table[bin(i,j),:]) + bias, bin(i, j) from `bin_of` (-1: no table row).
template <class BinOf>
void pair_embedding(const Tensor& pair, const Tensor& table, const Tensor& bias, int64_t rows, int64_t L,
                    int64_t C, BinOf bin_of) {
  const int64_t s0 = pair.stride(0), s1 = pair.stride(1);
  dispatch_float3(pair.dtype(), table.dtype(), bias_dtype(bias), [&](auto tp, auto tt, auto tb) {
    using TP = decltype(tp);
    using TT = decltype(tt);
    using TB = decltype(tb);
    TP* out = ptr<TP>(pair);
    const TT* tab = ptr<const TT>(table);
    const TB* b = bias.defined() ? ptr<const TB>(bias) : nullptr;
#pragma omp parallel for schedule(static)
    for (int64_t n = 0; n < rows * L; ++n) {
      const int64_t i = n / L, j = n % L;
      const int32_t bin = bin_of(i, j);
      TP* o = out + i * s0 + j * s1;
      const TT* t = bin >= 0 ? tab + bin * C : nullptr;
      for (int64_t c = 0; c < C; ++c) {
        float v = fm::load(o + c);
        if (t) v = fm::add(v, fm::load(t + c));
        if (b) v = fm::add(v, fm::load(b + c));
        fm::store(o + c, v);
      }
    }
  });
}

}  // namespace

void CpuBackend::template_pair_features(const TemplatePairFeatureArgs& a) {
  const fm::TemplatePairFeatureDims d = fm::check_template_pair_feature_args(a);
  const char* op = "template_pair_features";
  for (const Tensor* t : {&a.pseudo_beta, &a.pseudo_beta_mask, &a.ca, &a.rotation, &a.backbone_mask, &a.aatype,
                          &a.w, &a.bias, &a.out})
    check_host(*t, op, "tensor");
  fm::TemplateResidues r;
  r.pseudo_beta = ptr<const float>(a.pseudo_beta);
  r.pseudo_beta_mask = ptr<const float>(a.pseudo_beta_mask);
  r.ca = ptr<const float>(a.ca);
  r.rotation = ptr<const float>(a.rotation);
  r.backbone_mask = ptr<const float>(a.backbone_mask);
  r.aatype = ptr<const int32_t>(a.aatype);
  const int64_t L = d.num_res, C = d.channels, F = d.num_bins + fm::kTemplateExtraChannels;
  const int64_t s0 = a.out.stride(0), s1 = a.out.stride(1);
  const float* lower = a.dgram_lower.data();
  const float* upper = a.dgram_upper.data();
  if (!d.fused) {
    dispatch_float(a.out.dtype(), [&](auto to) {
      using TO = decltype(to);
      TO* out = ptr<TO>(a.out);
#pragma omp parallel for schedule(static)
      for (int64_t n = 0; n < d.rows * L; ++n) {
        const int64_t i = n / L, j = n % L;
        const fm::TemplatePair p = fm::template_pair(r, a.row_begin + i, j, a.use_unit_vector);
        TO* o = out + i * s0 + j * s1;
        for (int64_t c = 0; c < F; ++c)
          fm::store(o + c, fm::template_feature(p, static_cast<int>(c), lower, upper, d.num_bins));
      }
    });
    return;
  }
  dispatch_float3(a.out.dtype(), a.w.dtype(), bias_dtype(a.bias), [&](auto to, auto tw, auto tb) {
    using TO = decltype(to);
    using TW = decltype(tw);
    using TB = decltype(tb);
    TO* out = ptr<TO>(a.out);
    const TW* w = ptr<const TW>(a.w);
    const TB* b = a.bias.defined() ? ptr<const TB>(a.bias) : nullptr;
#pragma omp parallel
    {
      std::vector<float> f(static_cast<size_t>(F)), acc(static_cast<size_t>(C));
#pragma omp for schedule(static)
      for (int64_t n = 0; n < d.rows * L; ++n) {
        const int64_t i = n / L, j = n % L;
        const fm::TemplatePair p = fm::template_pair(r, a.row_begin + i, j, a.use_unit_vector);
        for (int64_t k = 0; k < F; ++k) f[k] = fm::template_feature(p, static_cast<int>(k), lower, upper, d.num_bins);
        // features @ w summed over k in order; the zero features (all but a handful) add exactly nothing.
        std::fill(acc.begin(), acc.end(), 0.f);
        for (int64_t k = 0; k < F; ++k) {
          if (f[k] == 0.f) continue;
          const TW* wk = w + k * C;
          for (int64_t c = 0; c < C; ++c) acc[c] = fm::add(acc[c], fm::mul(f[k], fm::load(wk + c)));
        }
        TO* o = out + i * s0 + j * s1;
        for (int64_t c = 0; c < C; ++c) fm::store(o + c, b ? fm::add(acc[c], fm::load(b + c)) : acc[c]);
      }
    }
  });
}

void CpuBackend::relative_position_embedding(const RelativePositionEmbeddingArgs& a) {
  const fm::PairEmbeddingDims d = fm::check_relative_position_args(a);
  for (const Tensor* t : {&a.residue_index, &a.table, &a.bias, &a.pair})
    check_host(*t, "relative_position_embedding", "tensor");
  const int32_t* ri = ptr<const int32_t>(a.residue_index);
  const int64_t begin = a.row_begin;
  const int32_t R = a.max_relative_feature;
  pair_embedding(a.pair, a.table, a.bias, d.rows, d.num_res, d.channels,
                 [=](int64_t i, int64_t j) { return fm::relative_position_bin(ri[begin + i], ri[j], R); });
}

void CpuBackend::distogram_embedding(const DistogramEmbeddingArgs& a) {
  const fm::PairEmbeddingDims d = fm::check_distogram_args(a);
  for (const Tensor* t : {&a.positions, &a.table, &a.bias, &a.pair}) check_host(*t, "distogram_embedding", "tensor");
  const float* pos = ptr<const float>(a.positions);
  const float* lower = a.lower.data();
  const float* upper = a.upper.data();
  const int nb = static_cast<int>(a.lower.size());
  const int64_t begin = a.row_begin;
  pair_embedding(a.pair, a.table, a.bias, d.rows, d.num_res, d.channels, [=](int64_t i, int64_t j) {
    return fm::distogram_bin(fm::squared_distance(pos + (begin + i) * 3, pos + j * 3), lower, upper, nb);
  });
}

void CpuBackend::extra_msa_embedding(const ExtraMsaEmbeddingArgs& a) {
  const fm::ExtraMsaDims d = fm::check_extra_msa_args(a);
  for (const Tensor* t : {&a.aatype, &a.has_deletion, &a.deletion_value, &a.w, &a.bias, &a.out})
    check_host(*t, "extra_msa_embedding", "tensor");
  const int64_t n = d.num_seq * d.num_res, C = d.channels;
  const int32_t* aa = ptr<const int32_t>(a.aatype);
  const float* hd = ptr<const float>(a.has_deletion);
  const float* dv = ptr<const float>(a.deletion_value);
  for (int64_t r = 0; r < n; ++r)
    AXF_CHECK(aa[r] >= 0 && aa[r] < fm::kExtraMsaFeatures - 2, "extra_msa_embedding: aatype ", aa[r], " at (",
              r / std::max<int64_t>(d.num_res, 1), ", ", r % std::max<int64_t>(d.num_res, 1), ") outside [0, ",
              fm::kExtraMsaFeatures - 2, ")");
  const int64_t s0 = a.out.stride(0), s1 = a.out.stride(1);
  dispatch_float3(a.out.dtype(), a.w.dtype(), bias_dtype(a.bias), [&](auto to, auto tw, auto tb) {
    using TO = decltype(to);
    using TW = decltype(tw);
    using TB = decltype(tb);
    TO* out = ptr<TO>(a.out);
    const TW* w = ptr<const TW>(a.w);
    const TW* w_hd = w + (fm::kExtraMsaFeatures - 2) * C;
    const TW* w_dv = w + (fm::kExtraMsaFeatures - 1) * C;
    const TB* b = a.bias.defined() ? ptr<const TB>(a.bias) : nullptr;
#pragma omp parallel for schedule(static)
    for (int64_t r = 0; r < n; ++r) {
      const TW* wa = w + aa[r] * C;
      TO* o = out + (r / d.num_res) * s0 + (r % d.num_res) * s1;
      for (int64_t c = 0; c < C; ++c) {
        float v = fm::add(fm::add(fm::load(wa + c), fm::mul(hd[r], fm::load(w_hd + c))),
                          fm::mul(dv[r], fm::load(w_dv + c)));
        if (b) v = fm::add(v, fm::load(b + c));
        fm::store(o + c, v);
      }
    }
  });
}

}  // namespace axf::backend::cpu
