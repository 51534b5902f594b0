// The probes behind bench's L2-read and SFU-exp2 ceilings (kernels/ceiling_probes.cuh) at small sizes: outputs
// poisoned first (0xff bytes: NaN floats, sums that are not the expected one), then every block's L2 sum and every
// thread's exp2 chains compared with the host. The exp2 chains also at a few steps, before they have converged to
// the map's fixed point, so a wrong step count or start shows. Skipped without a GPU.
#include <gtest/gtest.h>

#ifdef AXF_WITH_CUDA

#include <cuda_runtime_api.h>

#include <cmath>
#include <cstdint>
#include <vector>

#include "backend/backend.h"
#include "backend/cuda/cuda_backend.h"
#include "backend/cuda/cuda_check.h"
#include "kernels/ceiling_probes.cuh"

namespace axf::test {
namespace {

class CeilingProbes : public ::testing::Test {
 protected:
  void SetUp() override {
    if (backend::cuda_device_count() == 0) GTEST_SKIP() << "no CUDA device";
    AXF_CUDA_CHECK(cudaSetDevice(0));
  }
};

// Device memory freed on every exit path (an assertion failure returns early).
template <typename T>
class DeviceArray {
 public:
  explicit DeviceArray(size_t n) : n_(n) { AXF_CUDA_CHECK(cudaMalloc(reinterpret_cast<void**>(&p_), n * sizeof(T))); }
  ~DeviceArray() { cudaFree(p_); }
  DeviceArray(const DeviceArray&) = delete;
  DeviceArray& operator=(const DeviceArray&) = delete;
  T* get() const { return p_; }
  void poison() { AXF_CUDA_CHECK(cudaMemset(p_, 0xff, n_ * sizeof(T))); }
  void upload(const std::vector<T>& h) { AXF_CUDA_CHECK(cudaMemcpy(p_, h.data(), n_ * sizeof(T), cudaMemcpyDefault)); }
  std::vector<T> download() const {
    std::vector<T> h(n_);
    AXF_CUDA_CHECK(cudaMemcpy(h.data(), p_, n_ * sizeof(T), cudaMemcpyDefault));
    return h;
  }

 private:
  T* p_ = nullptr;
  size_t n_;
};

TEST_F(CeilingProbes, L2ReadSumsEveryWordOfEveryPass) {
  // 5 granules (an odd count: the blocks' start offsets wrap), more blocks than granules so starts repeat.
  const size_t bytes = 5 * kernels::kL2ReadGranule, words = bytes / 4;
  std::vector<uint32_t> h(words);
  for (size_t k = 0; k < words; ++k) h[k] = static_cast<uint32_t>(k) * 2654435761u ^ 0x5bd1e995u;
  DeviceArray<uint32_t> d_words(words);
  d_words.upload(h);
  for (const int passes : {1, 3}) {
    for (const int64_t blocks : {int64_t{1}, int64_t{7}, kernels::l2_read_grid()}) {
      DeviceArray<uint32_t> d_sums(static_cast<size_t>(blocks));
      d_sums.poison();
      kernels::launch_l2_read(d_words.get(), bytes, passes, blocks, d_sums.get(), nullptr);
      AXF_CUDA_CHECK(cudaDeviceSynchronize());
      const uint32_t want = kernels::l2_read_expected(h.data(), words, passes);
      ASSERT_NE(want, 0xffffffffu);  // the poison must not pass
      const std::vector<uint32_t> sums = d_sums.download();
      for (int64_t b = 0; b < blocks; ++b)
        ASSERT_EQ(sums[b], want) << "block " << b << " of " << blocks << ", " << passes << " passes";
    }
  }
  // One word changed changes every block's sum: the sums see the data, not only the addresses.
  h[words / 3] += 1;
  d_words.upload(h);
  DeviceArray<uint32_t> d_sums(2);
  d_sums.poison();
  kernels::launch_l2_read(d_words.get(), bytes, 2, 2, d_sums.get(), nullptr);
  AXF_CUDA_CHECK(cudaDeviceSynchronize());
  const std::vector<uint32_t> sums = d_sums.download();
  EXPECT_EQ(sums[0], kernels::l2_read_expected(h.data(), words, 2));
  EXPECT_EQ(sums[1], sums[0]);
}

TEST_F(CeilingProbes, L2ReadRejectsBadSizes) {
  DeviceArray<uint32_t> d_words(kernels::kL2ReadGranule / 2), d_sums(1);
  EXPECT_THROW(kernels::launch_l2_read(d_words.get(), kernels::kL2ReadGranule / 2, 1, 1, d_sums.get(), nullptr),
               Error);
}

TEST_F(CeilingProbes, Exp2ChainsMatchHostRecurrence) {
  const int64_t blocks = 3, threads = blocks * kernels::kExp2Block;
  for (const int iterations : {0, 1, 3, 7, 200}) {
    DeviceArray<float> d_out(static_cast<size_t>(threads));
    d_out.poison();
    kernels::launch_exp2_chains(blocks, iterations, d_out.get(), nullptr);
    AXF_CUDA_CHECK(cudaDeviceSynchronize());
    const std::vector<float> out = d_out.download();
    const std::vector<float> ends = kernels::exp2_chain_ends(iterations);
    for (int64_t t = 0; t < threads; ++t) {
      const float want = kernels::exp2_thread_expected(ends, t);
      ASSERT_TRUE(std::isfinite(out[t])) << "thread " << t << ", " << iterations << " steps";
      // ex2.approx.ftz is within a few ulp of exp2f; the map contracts, so the chains do not amplify it.
      ASSERT_NEAR(out[t], want, 1e-5f * std::fabs(want) + 1e-6f) << "thread " << t << ", " << iterations << " steps";
    }
  }
  // Before convergence the step count shows: 3 and 4 steps differ clearly for every thread.
  const std::vector<float> e3 = kernels::exp2_chain_ends(3), e4 = kernels::exp2_chain_ends(4);
  for (int64_t t = 0; t < threads; ++t)
    EXPECT_GT(std::fabs(kernels::exp2_thread_expected(e3, t) - kernels::exp2_thread_expected(e4, t)), 1e-3f);
}

}  // namespace
}  // namespace axf::test

#else  // !AXF_WITH_CUDA

TEST(CeilingProbes, RequiresCuda) { GTEST_SKIP() << "built without CUDA (AXF_CUDA=OFF)"; }

#endif
