// Row-chunked calls of the GEMM-backed CUDA ops give the unchunked results bit for bit (issue 6: "results with
// chunking equal the unchunked results"): linear (bias + ReLU, plain, accumulate, the outer product mean's K = 1024
// projection), triangle multiplication (both directions) and the outer product mean, each computed once over all
// rows and again chunk by chunk (16 and 100 rows), in fp32 and bf16, at the sizes of an L = 192 Evoformer block.
// The fp32 GEMMs run split-K free through cuBLASLt (kernels/gemm_lt.cuh); a split-K algorithm picked for the short
// chunks would round differently and fail here. Skipped without a GPU.
#include <gtest/gtest.h>

#ifdef AXF_WITH_CUDA

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "backend/cuda/cuda_backend.h"
#include "support/model_test_support.h"

namespace axf::test {
namespace {

using backend::Backend;
using core::DType;

constexpr int64_t kL = 192;

class RowChunkInvariance : public ::testing::TestWithParam<DType> {
 protected:
  void SetUp() override {
    if (backend::cuda_device_count() == 0) GTEST_SKIP() << "no CUDA device";
    if (!be_) be_ = backend::make_cuda_backend(0).release();
  }
  static void TearDownTestSuite() {
    delete be_;
    be_ = nullptr;
  }
  // A random device tensor in the parameter's dtype (fp32 values rounded once for bf16).
  Tensor input(const Shape& shape, float scale = 1.f) {
    const Tensor f = be_->upload(random_tensor(shape, ++seed_, scale));
    if (GetParam() == DType::F32) return f;
    Tensor t = be_->empty(shape, GetParam());
    be_->copy(f, t);
    return t;
  }
  Tensor output(const Shape& shape) {
    Tensor t = be_->empty(shape, GetParam());
    be_->fill(t, 0.f);
    return t;
  }
  // Runs `op(begin, end)` once over [0, rows) into `whole` and again in chunks into `chunked`, then compares bytes.
  void expect_same(const std::string& what, int64_t rows, const Tensor& whole, const Tensor& chunked,
                   const std::function<void(int64_t, int64_t, bool)>& op) {
    op(0, rows, false);
    for (const int64_t chunk : {int64_t{16}, int64_t{100}}) {
      for (int64_t b = 0; b < rows; b += chunk) op(b, std::min(rows, b + chunk), true);
      const Tensor a = be_->download(whole), c = be_->download(chunked);
      ASSERT_EQ(a.numel(), c.numel());
      const size_t bytes = static_cast<size_t>(a.numel()) * core::dtype_size(a.dtype());
      EXPECT_EQ(std::memcmp(a.raw_data(), c.raw_data(), bytes), 0)
          << what << " (" << core::dtype_name(GetParam()) << "): chunks of " << chunk << " rows differ from one call";
    }
  }
  static inline Backend* be_ = nullptr;
  uint64_t seed_ = 9100;
};

TEST_P(RowChunkInvariance, Linear) {
  struct Case {
    std::string name;
    int64_t cin, cout;
    bool bias, relu, accumulate;
  };
  for (const Case& c : {Case{"transition (bias, ReLU)", 128, 512, true, true, false},
                        Case{"projection (plain)", 128, 128, false, false, false},
                        Case{"output (bias, accumulate)", 512, 128, true, false, true},
                        Case{"outer product projection (K = 1024)", 1024, 128, true, false, false}}) {
    const Tensor x = input({kL, kL, c.cin}), w = input({c.cin, c.cout}, 0.1f);
    const Tensor bias = c.bias ? be_->upload(random_tensor({c.cout}, ++seed_)) : Tensor();
    const Tensor start = input({kL, kL, c.cout});
    Tensor whole = output({kL, kL, c.cout}), chunked = output({kL, kL, c.cout});
    be_->copy(start, whole);
    be_->copy(start, chunked);
    expect_same(c.name, kL, whole, chunked, [&](int64_t b, int64_t e, bool in_chunks) {
      Tensor out = (in_chunks ? chunked : whole).slice(0, b, e);
      if (in_chunks && b == 0) be_->copy(start, chunked);  // accumulate: every pass starts from the same values
      backend::LinearArgs a{x.slice(0, b, e), w, bias, out};
      a.activation = c.relu ? backend::Activation::Relu : backend::Activation::None;
      a.accumulate = c.accumulate;
      be_->linear(a);
    });
  }
}

TEST_P(RowChunkInvariance, TriangleMultiply) {
  const int64_t C = 64;
  const Tensor left = input({C, kL, kL}), right = input({C, kL, kL});
  for (const auto dir : {backend::TriangleDirection::Outgoing, backend::TriangleDirection::Incoming}) {
    Tensor whole = output({kL, kL, C}), chunked = output({kL, kL, C});
    const bool outgoing = dir == backend::TriangleDirection::Outgoing;
    expect_same(outgoing ? "triangle multiply outgoing" : "triangle multiply incoming", kL, whole, chunked,
                [&](int64_t b, int64_t e, bool in_chunks) {
                  backend::TriangleMultiplyArgs a;
                  a.left = left;
                  a.right = right;
                  a.out = (in_chunks ? chunked : whole).slice(0, b, e);
                  a.row_begin = b;
                  a.direction = dir;
                  be_->triangle_multiply(a);
                });
  }
}

TEST_P(RowChunkInvariance, OuterProductMean) {
  const int64_t S = 64, A = 32, Cz = 128;
  const Tensor left = input({S, kL, A}), right = input({S, kL, A}), w = input({A * A, Cz}, 0.05f);
  const Tensor bias = be_->upload(random_tensor({Cz}, ++seed_));
  Tensor counts = random_tensor({kL, kL}, ++seed_);  // sum_s mask[s,i] mask[s,j]: positive counts
  float* c = counts.data<float>();
  for (int64_t i = 0; i < counts.numel(); ++i) c[i] = 1.f + 20.f * std::fabs(c[i]);
  const Tensor norm = be_->upload(counts);
  Tensor whole = output({kL, kL, Cz}), chunked = output({kL, kL, Cz});
  expect_same("outer product mean", kL, whole, chunked, [&](int64_t b, int64_t e, bool in_chunks) {
    backend::OuterProductMeanArgs a;
    a.left = left;
    a.right = right;
    a.w = w;
    a.bias = bias;
    a.norm = norm.slice(0, b, e);
    a.out = (in_chunks ? chunked : whole).slice(0, b, e);
    a.row_begin = b;
    be_->outer_product_mean(a);
  });
}

INSTANTIATE_TEST_SUITE_P(Dtypes, RowChunkInvariance, ::testing::Values(DType::F32, DType::BF16),
                         [](const auto& info) { return std::string(core::dtype_name(info.param)); });

}  // namespace
}  // namespace axf::test

#else

TEST(RowChunkInvariance, RequiresCuda) { GTEST_SKIP() << "built without CUDA (AXF_CUDA=OFF)"; }

#endif
