#include "model/confidence.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"

namespace axf::model {

namespace {

// softmax(logits[0..n)) . values, in double.
double softmax_expectation(const float* logits, const double* values, int64_t n) {
  double m = logits[0];
  for (int64_t k = 1; k < n; ++k) m = std::max(m, static_cast<double>(logits[k]));
  double z = 0, acc = 0;
  for (int64_t k = 0; k < n; ++k) {
    const double e = std::exp(static_cast<double>(logits[k]) - m);
    z += e;
    acc += e * values[k];
  }
  return acc / z;
}

// The logits as a contiguous fp32 host tensor of rank `ndim` with equal leading dims for pair logits.
Tensor host_logits(const Tensor& logits, int ndim, const char* what) {
  AXF_CHECK(logits.defined() && logits.device() == core::Device::CPU && logits.ndim() == ndim, what,
            ": expected host logits of rank ", ndim, ", got ", logits.defined() ? logits.describe() : "undefined");
  AXF_CHECK(logits.size(-1) >= 1, what, ": logits ", logits.describe(), " have no bins");
  if (ndim == 3)
    AXF_CHECK(logits.size(0) == logits.size(1), what, ": pair logits ", logits.describe(), " are not [L, L, bins]");
  return logits.dtype() == core::DType::F32 ? logits.contiguous() : logits.to(core::DType::F32);
}

}  // namespace

Tensor compute_plddt(const Tensor& logits) {
  const Tensor lg = host_logits(logits, 2, "compute_plddt");
  const int64_t L = lg.size(0), nb = lg.size(1);
  std::vector<double> centers(static_cast<size_t>(nb));
  const double width = 1.0 / static_cast<double>(nb);
  for (int64_t k = 0; k < nb; ++k) centers[static_cast<size_t>(k)] = (static_cast<double>(k) + 0.5) * width;
  Tensor out = Tensor::empty({L});
  const float* p = lg.data<float>();
  float* o = out.data<float>();
  for (int64_t i = 0; i < L; ++i)
    o[i] = static_cast<float>(100.0 * softmax_expectation(p + i * nb, centers.data(), nb));
  return out;
}

std::vector<double> aligned_error_bin_centers(const Tensor& breaks) {
  AXF_CHECK(breaks.defined() && breaks.ndim() == 1 && breaks.size(0) >= 2,
            "aligned error bins: need at least 2 breaks, got ", breaks.defined() ? breaks.describe() : "undefined");
  const std::vector<float> b = breaks.to_vector();
  const double step = static_cast<double>(b[1]) - b[0];
  std::vector<double> centers;
  centers.reserve(b.size() + 1);
  for (float x : b) centers.push_back(static_cast<double>(x) + step / 2);
  centers.push_back(centers.back() + step);
  return centers;
}

PredictedAlignedError predicted_aligned_error(const Tensor& logits, const Tensor& breaks) {
  const Tensor lg = host_logits(logits, 3, "predicted_aligned_error");
  const std::vector<double> centers = aligned_error_bin_centers(breaks);
  const int64_t L = lg.size(0), nb = lg.size(2);
  AXF_CHECK(static_cast<int64_t>(centers.size()) == nb, "predicted_aligned_error: ", breaks.describe(), " breaks for ",
            nb, " bins");
  PredictedAlignedError out;
  out.pae = Tensor::empty({L, L});
  const float* p = lg.data<float>();
  float* o = out.pae.data<float>();
#pragma omp parallel for schedule(static)
  for (int64_t ij = 0; ij < L * L; ++ij)
    o[ij] = static_cast<float>(softmax_expectation(p + ij * nb, centers.data(), nb));
  out.max_pae = static_cast<float>(centers.back());
  return out;
}

namespace {

std::vector<double> residue_weight_values(const Tensor& residue_weights, int64_t L, const char* what) {
  std::vector<double> w(static_cast<size_t>(L), 1.0);
  if (residue_weights.defined()) {
    AXF_CHECK(residue_weights.numel() == L, what, ": residue weights ", residue_weights.describe(), " for ", L,
              " residues");
    const std::vector<float> f = residue_weights.to_vector();
    w.assign(f.begin(), f.end());
  }
  return w;
}

// per_alignment[i] = sum_j tm(i, j) w_i w_j / (1e-8 + sum_j w_i w_j); returns per_alignment at argmax_i of
// per_alignment[i] * w_i (numpy's argmax: the first maximum).
template <class Tm>
float weighted_tm_score(int64_t L, const std::vector<double>& w, const Tm& tm) {
  std::vector<double> per_alignment(static_cast<size_t>(L));
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < L; ++i) {
    double num = 0, den = 0;
    for (int64_t j = 0; j < L; ++j) {
      const double pw = w[static_cast<size_t>(i)] * w[static_cast<size_t>(j)];
      num += pw * tm(i, j);
      den += pw;
    }
    per_alignment[static_cast<size_t>(i)] = num / (1e-8 + den);
  }
  int64_t best = 0;
  for (int64_t i = 1; i < L; ++i) {
    if (per_alignment[static_cast<size_t>(i)] * w[static_cast<size_t>(i)] >
        per_alignment[static_cast<size_t>(best)] * w[static_cast<size_t>(best)])
      best = i;
  }
  return L == 0 ? 0.f : static_cast<float>(per_alignment[static_cast<size_t>(best)]);
}

}  // namespace

std::vector<double> tm_score_bin_terms(const Tensor& breaks, int64_t num_res, const Tensor& residue_weights) {
  const std::vector<double> centers = aligned_error_bin_centers(breaks);
  const std::vector<double> w = residue_weight_values(residue_weights, num_res, "tm_score_bin_terms");
  double sum_w = 0;
  for (double x : w) sum_w += x;
  // AlphaFold: num_res = int(sum(w)), clipped at 19 so that d0 stays positive.
  const double clipped_num_res = std::max(std::trunc(sum_w), 19.0);
  const double d0 = 1.24 * std::cbrt(clipped_num_res - 15.0) - 1.8;
  std::vector<double> terms(centers.size());
  for (size_t k = 0; k < centers.size(); ++k) terms[k] = 1.0 / (1.0 + centers[k] * centers[k] / (d0 * d0));
  return terms;
}

float predicted_tm_score_from_terms(const Tensor& tm, const Tensor& residue_weights) {
  AXF_CHECK(tm.defined() && tm.device() == core::Device::CPU && tm.ndim() == 2 && tm.size(0) == tm.size(1),
            "predicted_tm_score_from_terms: expected host [L, L] terms, got ",
            tm.defined() ? tm.describe() : "undefined");
  const Tensor t = tm.dtype() == core::DType::F32 ? tm.contiguous() : tm.to(core::DType::F32);
  const int64_t L = t.size(0);
  const float* p = t.data<float>();
  return weighted_tm_score(L, residue_weight_values(residue_weights, L, "predicted_tm_score_from_terms"),
                           [&](int64_t i, int64_t j) { return static_cast<double>(p[i * L + j]); });
}

float predicted_tm_score(const Tensor& logits, const Tensor& breaks, const Tensor& residue_weights) {
  const Tensor lg = host_logits(logits, 3, "predicted_tm_score");
  const int64_t L = lg.size(0), nb = lg.size(2);
  const std::vector<double> tm_per_bin = tm_score_bin_terms(breaks, L, residue_weights);
  AXF_CHECK(static_cast<int64_t>(tm_per_bin.size()) == nb, "predicted_tm_score: ", breaks.describe(), " breaks for ",
            nb, " bins");
  const float* p = lg.data<float>();
  const std::vector<double> w = residue_weight_values(residue_weights, L, "predicted_tm_score");
  return weighted_tm_score(
      L, w, [&](int64_t i, int64_t j) { return softmax_expectation(p + (i * L + j) * nb, tm_per_bin.data(), nb); });
}

}  // namespace axf::model
