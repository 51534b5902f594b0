// Tensor views and copies, dtype conversions (bf16 round-to-nearest-even, IEEE fp16 with subnormals), SHA-256,
// deterministic random numbers and model-config overrides.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "core/error.h"
#include "core/random.h"
#include "core/sha256.h"
#include "core/tensor.h"
#include "model/config.h"

namespace axf::core {
namespace {

Tensor iota(const Shape& shape) {
  Tensor t = Tensor::empty(shape);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = static_cast<float>(i);
  return t;
}

TEST(Tensor, ViewsShareStorageAndIndexCorrectly) {
  Tensor t = iota({2, 3, 4});
  Tensor s = t.slice(1, 1, 3);  // [2, 2, 4]
  EXPECT_EQ(s.shape(), Shape({2, 2, 4}));
  EXPECT_EQ(s.to_vector()[0], 4.f);
  EXPECT_FALSE(s.is_contiguous());
  Tensor tr = t.transpose(0, 2);  // [4, 3, 2]
  EXPECT_EQ(tr.contiguous().to_vector()[1], 12.f);  // element [0,0,1] = t[1,0,0]
  Tensor sel = t.select(2, 3);  // [2, 3]
  EXPECT_EQ(sel.to_vector(), std::vector<float>({3, 7, 11, 15, 19, 23}));
  s.data<float>()[0] = -1.f;  // writes through the view
  EXPECT_EQ(t.data<float>()[4], -1.f);
  EXPECT_EQ(t.reshape({6, -1}).shape(), Shape({6, 4}));
  EXPECT_THROW(tr.reshape({24}), Error);
  EXPECT_THROW(t.slice(0, 1, 3), Error);
  Tensor e = iota({1, 3}).expand(0, 4);
  EXPECT_EQ(e.contiguous().to_vector(), std::vector<float>({0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2}));
  int64_t rows = 0, stride = 0;
  EXPECT_TRUE(t.slice(1, 0, 2).as_rows(&rows, &stride) == false);  // [2,2,4] of a [2,3,4]: rows not evenly spaced
  EXPECT_TRUE(t.select(0, 1).as_rows(&rows, &stride));
  EXPECT_EQ(rows, 3);
  EXPECT_EQ(stride, 4);
  EXPECT_TRUE(t.transpose(0, 1).as_rows(&rows, &stride) == false);
}

TEST(Tensor, Bf16RoundsToNearestEven) {
  EXPECT_EQ(float_to_bf16(1.0f), 0x3f80);
  // 1 + 2^-8 is exactly halfway between 1 and 1 + 2^-7: ties go to the even mantissa (1.0).
  EXPECT_EQ(float_to_bf16(1.0f + std::ldexp(1.0f, -8)), 0x3f80);
  EXPECT_EQ(float_to_bf16(1.0f + 3 * std::ldexp(1.0f, -8)), 0x3f82);
  EXPECT_TRUE(std::isnan(bf16_to_float(float_to_bf16(NAN))));
  EXPECT_EQ(bf16_to_float(float_to_bf16(-2.5f)), -2.5f);
  Tensor t = Tensor::from_vector({3}, {1.0f, 3.14159f, -1e-3f});
  const std::vector<float> back = t.to(DType::BF16).to(DType::F32).to_vector();
  for (int i = 0; i < 3; ++i) EXPECT_NEAR(back[i], t.to_vector()[i], std::fabs(t.to_vector()[i]) * 4e-3);
}

TEST(Tensor, Fp16MatchesIeeeIncludingSubnormalsAndOverflow) {
  EXPECT_EQ(float_to_fp16(1.0f), 0x3c00);
  EXPECT_EQ(float_to_fp16(65504.0f), 0x7bff);
  EXPECT_EQ(float_to_fp16(65520.0f), 0x7c00);  // rounds to infinity
  EXPECT_EQ(float_to_fp16(std::ldexp(1.0f, -24)), 0x0001);  // smallest subnormal
  EXPECT_EQ(float_to_fp16(std::ldexp(1.0f, -25)), 0x0000);  // halfway to zero: ties to even
  EXPECT_EQ(float_to_fp16(std::ldexp(3.0f, -25)), 0x0002);
  EXPECT_EQ(float_to_fp16(-0.0f), 0x8000);
  for (uint32_t h = 0; h < 0x7c00; h += 7) {  // every finite positive half round-trips
    const float f = fp16_to_float(static_cast<uint16_t>(h));
    EXPECT_EQ(float_to_fp16(f), h) << h;
  }
  EXPECT_TRUE(std::isinf(fp16_to_float(0x7c00)));
  EXPECT_TRUE(std::isnan(fp16_to_float(float_to_fp16(NAN))));
}

TEST(Tensor, StridedCopyConvertsTypes) {
  Tensor src = iota({3, 4}).transpose(0, 1);  // [4, 3] strided
  Tensor dst = Tensor::empty({4, 3}, DType::I32);
  copy_host(src, dst);
  EXPECT_EQ(dst.data<int32_t>()[1], 4);
  Tensor wrong = Tensor::empty({3, 4});
  EXPECT_THROW(copy_host(src, wrong), Error);
}

TEST(Sha256, KnownVectors) {
  EXPECT_EQ(sha256_hex("", 0), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc", 3), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  const std::string m = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
  EXPECT_EQ(sha256_hex(m.data(), m.size()), "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  Sha256 s;  // streaming in odd pieces gives the one-shot digest
  const std::string long_text(1000, 'x');
  for (size_t i = 0; i < long_text.size(); i += 37) s.update(long_text.data() + i, std::min<size_t>(37, 1000 - i));
  EXPECT_EQ(s.hex_digest(), sha256_hex(long_text.data(), long_text.size()));
}

TEST(Random, DeterministicAndWellSpread) {
  Random a(5), b(5), c(6);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(a.next_u64(), b.next_u64());
  EXPECT_NE(Random(5).next_u64(), c.next_u64());
  Random r(1);
  double sum = 0, sq = 0;
  const int n = 20000;
  for (int i = 0; i < n; ++i) {
    const double z = r.normal();
    sum += z;
    sq += z * z;
  }
  EXPECT_NEAR(sum / n, 0.0, 0.03);
  EXPECT_NEAR(sq / n, 1.0, 0.05);
}

TEST(ModelConfig, OverridesAndErrorsNameTheKey) {
  model::ModelConfig c = model::model_config("model_1_ptm");
  model::apply_overrides(c, {{"evoformer_num_block", "2"}, {"templates.enabled", "false"}}, "test.cfg");
  EXPECT_EQ(c.evoformer_num_block, 2);
  EXPECT_FALSE(c.templates.enabled);
  try {
    model::apply_overrides(c, {{"evoformer_num_blocks", "2"}}, "test.cfg");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("evoformer_num_blocks"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("test.cfg"), std::string::npos);
  }
  EXPECT_THROW(model::apply_overrides(c, {{"evoformer_num_block", "many"}}, "x"), Error);
  EXPECT_THROW(model::apply_overrides(c, {{"templates.enabled", "maybe"}}, "x"), Error);
}

}  // namespace
}  // namespace axf::core
