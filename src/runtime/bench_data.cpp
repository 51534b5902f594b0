// Benchmark data and checks (see bench_data.h).
#include "runtime/bench_data.h"

#include <algorithm>
#include <cmath>

#include "core/random.h"

namespace axf::runtime::bench {

namespace {
constexpr int64_t kBlock = int64_t{1} << 16;  // elements per independently seeded block
}

Tensor random_host(const Shape& shape, uint64_t seed, float scale, float shift) {
  Tensor t = Tensor::empty(shape);
  float* p = t.data<float>();
  const int64_t n = t.numel(), blocks = (n + kBlock - 1) / kBlock;
  const double half_width = std::sqrt(3.0) * scale;
#pragma omp parallel for schedule(static)
  for (int64_t b = 0; b < blocks; ++b) {
    core::Random rng(seed * 0x9e3779b97f4a7c15ull + static_cast<uint64_t>(b));
    const int64_t end = std::min(n, (b + 1) * kBlock);
    for (int64_t i = b * kBlock; i < end; ++i)
      p[i] = static_cast<float>(shift + half_width * (2.0 * rng.uniform() - 1.0));
  }
  return t;
}

Tensor random_mask_host(const Shape& shape, uint64_t seed, float ones_fraction) {
  Tensor t = Tensor::empty(shape);
  float* p = t.data<float>();
  const int64_t cols = shape.empty() ? 1 : std::max<int64_t>(shape.back(), 1);
  const int64_t rows = t.numel() / cols;
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < rows; ++r) {
    core::Random rng(seed * 0xbf58476d1ce4e5b9ull + static_cast<uint64_t>(r));
    bool any = false;
    for (int64_t c = 0; c < cols; ++c) {
      const bool one = rng.uniform() < ones_fraction;
      p[r * cols + c] = one ? 1.f : 0.f;
      any = any || one;
    }
    if (!any) p[r * cols + static_cast<int64_t>(rng.below(static_cast<uint64_t>(cols)))] = 1.f;
  }
  return t;
}

void Checker::add_nonfinite_scan(const Tensor& host) {
  const Tensor c = host.dtype() == core::DType::F32 ? host.contiguous() : host.to(core::DType::F32);
  const float* p = c.data<float>();
  const int64_t n = c.numel();
  int64_t bad = 0;
#pragma omp parallel for reduction(+ : bad)
  for (int64_t i = 0; i < n; ++i) bad += std::isfinite(p[i]) ? 0 : 1;
  nonfinite_ += bad;
  scanned_ += n;
}

int64_t Checker::wrong() const {
  double sum_sq = 0;
  for (double r : ref_) sum_sq += r * r;
  const double rms = ref_.empty() ? 0.0 : std::sqrt(sum_sq / static_cast<double>(ref_.size()));
  int64_t wrong = nonfinite_;
  for (size_t i = 0; i < got_.size(); ++i) {
    const double d = std::fabs(got_[i] - ref_[i]);
    // The non-finite values were already counted by the scan when there was one.
    if (!std::isfinite(got_[i])) {
      if (scanned_ == 0) ++wrong;
      continue;
    }
    if (d > tolerance_ * (std::fabs(ref_[i]) + rms)) ++wrong;
  }
  return wrong;
}

double Checker::max_error() const {
  double max_ref = 0, max_diff = 0;
  for (size_t i = 0; i < got_.size(); ++i) {
    max_ref = std::max(max_ref, std::fabs(ref_[i]));
    const double d = std::fabs(got_[i] - ref_[i]);
    max_diff = std::isfinite(d) ? std::max(max_diff, d) : INFINITY;
  }
  return max_diff / (max_ref + 1e-30);
}

}  // namespace axf::runtime::bench
