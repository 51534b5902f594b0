// The CUDA-vs-CPU operation harness (ggml test-backend-ops style) shared by the GPU op tests: a case names its
// parameters, builds random host inputs and runs the op on whatever backend it is given; the harness runs it on
// the CPU reference and on the CUDA backend from the same inputs, with the output views poisoned (NaN) beforehand,
// and compares the whole output buffers: inside the views to the tolerance, outside them untouched. A case may
// also run in a bf16 variant: its fp32 activations are rounded to bf16, the CPU computes on the rounded values in
// fp32, the CUDA backend on bf16 tensors (inputs marked keep_f32 stay fp32), and the outputs agree within 1e-2
// (or the case's own bf16 tolerance).
#pragma once

#ifdef AXF_WITH_CUDA

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <limits>
#include <ostream>
#include <string>
#include <vector>

#include "backend/backend.h"
#include "backend/cuda/cuda_backend.h"
#include "support/model_test_support.h"

namespace axf::test {

using backend::Backend;
using core::DType;

// One tensor of a case: the buffer the harness uploads, the view the op sees, and whether the op writes it.
struct Arg {
  Tensor host;                                 // contiguous host buffer
  std::function<Tensor(const Tensor&)> view;   // the op's view of the buffer (none: the buffer itself)
  bool output = false;                         // compared after the op
  bool poison = false;                         // view filled with NaN (int32: INT_MIN) before the op
  bool keep_f32 = false;                       // stays fp32 in the bf16 variant (masks, scales, biases)
};

struct OpCase {
  std::string name;
  std::function<std::vector<Arg>()> build;
  std::function<void(Backend&, std::vector<Tensor>&)> run;  // gets the views, in build order
  double tol = 1e-5;
  size_t cuda_workspace = 0;  // > 0: the CUDA backend's scratch budget for this case (forces chunking)
  bool bf16 = true;           // also run the bf16 variant (not for cases about dtypes themselves)
  double bf16_tol = 0;        // > 0: the bf16 variant's tolerance (cases whose rounded inputs are the same on both
                              // backends and whose arithmetic stays fp32); else max(tol, kBf16Tolerance)
};

constexpr double kBf16Tolerance = 1e-2;

// gtest prints a case by its name (in failure messages and listings).
inline void PrintTo(const OpCase& c, std::ostream* os) { *os << c.name; }

inline Arg in(Tensor t, std::function<Tensor(const Tensor&)> view = {}) { return {std::move(t), std::move(view), false, false}; }
// An output whose view the op overwrites (poisoned), or accumulates into (random initial values).
inline Arg out(Tensor t, std::function<Tensor(const Tensor&)> view = {}) { return {std::move(t), std::move(view), true, true}; }
inline Arg acc(Tensor t, std::function<Tensor(const Tensor&)> view = {}) { return {std::move(t), std::move(view), true, false}; }
// An input that stays fp32 in the bf16 variant.
inline Arg in32(Tensor t, std::function<Tensor(const Tensor&)> view = {}) {
  return {std::move(t), std::move(view), false, false, true};
}

// The bf16 variant's view of a case's inputs: fp32 activations rounded to bf16, as bf16 tensors (for the CUDA
// backend) or as the rounded fp32 values (for the CPU reference).
enum class Variant { Fp32, Bf16, Bf16RoundedFp32 };
inline Tensor variant_host(const Arg& a, Variant v) {
  Tensor h = a.host.clone();
  if (v == Variant::Fp32 || a.keep_f32 || h.dtype() != DType::F32) return h;
  h = h.to(DType::BF16);
  return v == Variant::Bf16 ? h : h.to(DType::F32);
}

inline void poison(Tensor view) {
  if (view.dtype() == DType::I32) {
    Tensor p = Tensor::empty(view.shape(), DType::I32);
    for (int64_t i = 0; i < p.numel(); ++i) p.data<int32_t>()[i] = std::numeric_limits<int32_t>::min();
    core::copy_host(p, view);
  } else {
    core::copy_host(Tensor::full(view.shape(), std::numeric_limits<float>::quiet_NaN()), view);
  }
}

// Runs the case on one backend; returns the downloaded output buffers (as fp32 in the bf16 variant).
inline std::vector<Tensor> run_case(const OpCase& c, const std::vector<Arg>& args, Backend& be,
                             Variant variant = Variant::Fp32) {
  std::vector<Tensor> buffers, views;
  for (const Arg& a : args) {
    Tensor h = variant_host(a, variant);
    if (a.poison) poison(a.view ? a.view(h) : h);
    Tensor d = be.upload(h);
    buffers.push_back(d);
    views.push_back(a.view ? a.view(d) : d);
  }
  c.run(be, views);
  be.synchronize();
  std::vector<Tensor> outs;
  for (size_t i = 0; i < args.size(); ++i) {
    if (!args[i].output) continue;
    Tensor o = be.download(buffers[i]);
    outs.push_back(o.dtype() == DType::BF16 ? o.to(DType::F32) : o);
  }
  return outs;
}

class CudaVsCpu : public ::testing::TestWithParam<OpCase> {
 protected:
  static void SetUpTestSuite() {
    if (backend::cuda_device_count() == 0) return;
    cpu_ = backend::make_cpu_backend().release();
    cuda_ = new backend::cuda::CudaBackend(0);
  }
  static void TearDownTestSuite() {
    delete cpu_;
    delete cuda_;
    cpu_ = nullptr;
    cuda_ = nullptr;
  }
  void SetUp() override {
    if (backend::cuda_device_count() == 0) GTEST_SKIP() << "no CUDA device";
  }
  static inline Backend* cpu_ = nullptr;
  static inline backend::cuda::CudaBackend* cuda_ = nullptr;
};

inline void expect_cuda_matches_cpu(const OpCase& c, Backend& cpu, backend::cuda::CudaBackend& cuda, bool bf16) {
  const std::vector<Arg> args = c.build();
  const std::vector<Tensor> want = run_case(c, args, cpu, bf16 ? Variant::Bf16RoundedFp32 : Variant::Fp32);
  const size_t default_budget = cuda.workspace_budget();
  if (c.cuda_workspace > 0) cuda.set_workspace_budget(c.cuda_workspace);
  std::vector<Tensor> got;
  try {
    got = run_case(c, args, cuda, bf16 ? Variant::Bf16 : Variant::Fp32);
  } catch (...) {
    cuda.set_workspace_budget(default_budget);
    throw;
  }
  cuda.set_workspace_budget(default_budget);
  const double tol = !bf16 ? c.tol : c.bf16_tol > 0 ? c.bf16_tol : std::max(c.tol, kBf16Tolerance);
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    const std::vector<double> g = to_doubles(got[i]), w = to_doubles(want[i]);
    ASSERT_EQ(g.size(), w.size());
    for (size_t j = 0; j < g.size(); ++j) {
      ASSERT_FALSE(std::isnan(w[j])) << "CPU output " << i << " element " << j << " not written";
      ASSERT_FALSE(std::isnan(g[j])) << "CUDA output " << i << " element " << j << " is NaN (not written?)";
    }
    const double err = max_rel_error(g, w);
    ::testing::Test::RecordProperty("max_rel_error_" + std::to_string(i), std::to_string(err));
    if (std::getenv("AXF_TEST_VERBOSE"))
      std::printf("  %s%s output %zu: max rel error %.3g\n", c.name.c_str(), bf16 ? " (bf16)" : "", i, err);
    EXPECT_LE(err, tol) << "output " << i << " " << got[i].describe();
  }
}


}  // namespace axf::test

#endif  // AXF_WITH_CUDA
