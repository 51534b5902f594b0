// Benchmark data: random host tensors (never zeros: they hide unwritten outputs and can run faster than real
// data) and the #wrong count of a check against a double-precision reference.
#pragma once

#include <cstdint>
#include <vector>

#include "core/tensor.h"

namespace axf::runtime::bench {

using core::Shape;
using core::Tensor;

// fp32 host tensor, uniform with mean `shift` and standard deviation `scale`; filled by all threads, the same
// values for the same seed on any thread count.
Tensor random_host(const Shape& shape, uint64_t seed, float scale = 1.f, float shift = 0.f);
// fp32 0/1 host mask, 1 with probability ones_fraction, with at least one 1 in every row of the last dim.
Tensor random_mask_host(const Shape& shape, uint64_t seed, float ones_fraction);

// Compares computed values with a double-precision reference. A value is wrong when it is not finite or
// |got - ref| > tolerance * (|ref| + rms of all reference values); tolerance 0 asks for equality.
class Checker {
 public:
  explicit Checker(double tolerance) : tolerance_(tolerance) {}
  void add(double got, double ref) {
    got_.push_back(got);
    ref_.push_back(ref);
  }
  // Counts elements that are not finite among all of `t` (poisoned outputs that were never written).
  void add_nonfinite_scan(const Tensor& host);
  int64_t wrong() const;
  int64_t checked() const { return static_cast<int64_t>(got_.size()) + scanned_; }
  double max_error() const;  // max |got - ref| / (max |ref| + tiny) over the compared values

 private:
  double tolerance_;
  std::vector<double> got_, ref_;
  int64_t nonfinite_ = 0;
  int64_t scanned_ = 0;
};

}  // namespace axf::runtime::bench
