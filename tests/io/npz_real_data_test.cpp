// The real feature files in shared/data, written by numpy's savez_compressed (deflate entries).
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "io/npz.h"
#include "io_test_helpers.h"
#include "support/test_support.h"

namespace axf::io {
namespace {

using axf::test::expect_axf_error;
using axf::test::ScratchDir;

std::filesystem::path features(const std::string& name) {
  return axf::test::shared_data_dir() / "features" / name;
}

TEST(NpzRealData, ModelInputs) {
  const NpzReader r(features("query73_model_inputs.npz"));
  ASSERT_EQ(r.keys().size(), 27u);
  EXPECT_EQ(r.keys().front(), "aatype");
  EXPECT_EQ(r.keys().back(), "target_feat");
  for (const auto& k : r.keys()) EXPECT_FALSE(k.ends_with(".npy")) << k;

  const NpyHeader mh = r.header("msa_feat");
  EXPECT_EQ(mh.type, NpyType::F32);
  EXPECT_EQ(mh.shape, (std::vector<int64_t>{512, 73, 49, 1}));

  const NpyArray msa_feat = r.read("msa_feat");
  EXPECT_EQ(msa_feat.type, NpyType::F32);
  EXPECT_EQ(msa_feat.shape, (std::vector<int64_t>{512, 73, 49, 1}));
  int nonzero = 0;
  for (float v : msa_feat.values<float>()) {
    ASSERT_TRUE(std::isfinite(v));
    nonzero += v != 0.0f;
  }
  EXPECT_GT(nonzero, 0);

  const NpyArray aatype = r.read("aatype");
  EXPECT_EQ(aatype.type, NpyType::I64);
  EXPECT_EQ(aatype.shape, (std::vector<int64_t>{73, 1}));
  for (int64_t v : aatype.values<int64_t>()) {
    EXPECT_GE(v, 0);
    EXPECT_LE(v, 20);
  }

  EXPECT_EQ(r.header("template_all_atom_positions").shape, (std::vector<int64_t>{4, 73, 37, 3, 1}));
  const NpyArray tpos = r.read("template_all_atom_positions");
  EXPECT_EQ(tpos.type, NpyType::F32);
  EXPECT_EQ(tpos.shape, (std::vector<int64_t>{4, 73, 37, 3, 1}));
  for (float v : tpos.values<float>()) ASSERT_TRUE(std::isfinite(v));

  const NpyArray seq_mask = r.read("seq_mask");
  EXPECT_EQ(seq_mask.shape, (std::vector<int64_t>{73, 1}));
  for (float v : seq_mask.values<float>()) EXPECT_EQ(v, 1.0f);

  // Every entry parses, and its cheap header agrees with the full read.
  for (const auto& k : r.keys()) {
    const NpyHeader h = r.header(k);
    const NpyArray a = r.read(k);
    EXPECT_EQ(h.type, a.type) << k;
    EXPECT_EQ(h.shape, a.shape) << k;
  }
}

TEST(NpzRealData, RawFeatures) {
  const NpzReader r(features("query73_raw_features.npz"));
  EXPECT_EQ(r.keys().size(), 11u);
  const NpyArray msa = r.read("msa");
  EXPECT_EQ(msa.type, NpyType::I32);  // OpenFold's pipeline stores the MSA as int32
  ASSERT_EQ(msa.shape.size(), 2u);
  EXPECT_EQ(msa.shape[0], 1136);
  EXPECT_EQ(msa.shape[1], 73);
  for (int32_t v : msa.values<int32_t>()) {
    ASSERT_GE(v, 0);
    ASSERT_LE(v, 21);
  }
  const NpyArray del = r.read("deletion_matrix_int");
  EXPECT_EQ(del.shape, msa.shape);
  EXPECT_EQ(r.header("aatype").shape, (std::vector<int64_t>{73, 21}));
}

TEST(NpzRealData, CorruptDeflateEntryDetected) {
  const ScratchDir dir("npz-real-corrupt");
  const auto path = dir / "inputs.npz";
  std::vector<unsigned char> bytes = axf::test::read_bytes(features("query73_model_inputs.npz"));
  const ZipReader z(features("query73_model_inputs.npz"));
  const ZipEntry& e = *z.find("msa_feat.npy");
  ASSERT_EQ(e.method, 8);
  // Damage the middle of msa_feat's compressed stream (past both local header and extra field).
  const size_t at = static_cast<size_t>(e.local_header_offset + 30 + e.name.size() + 20 + e.compressed_size / 2);
  for (unsigned char flip : {0x01, 0x10, 0xFF}) {
    std::vector<unsigned char> bad = bytes;
    bad[at] ^= flip;
    axf::test::write_bytes(path, bad);
    const NpzReader r(path);
    expect_axf_error([&] { r.read("msa_feat"); }, {path.string(), "'msa_feat.npy'"});
    EXPECT_EQ(r.read("seq_mask").shape, (std::vector<int64_t>{73, 1}));
  }
  // Cut inside msa_feat's data: the central directory is gone, so opening fails.
  axf::test::write_bytes(path, std::vector<unsigned char>(bytes.begin(), bytes.begin() + static_cast<long>(at)));
  expect_axf_error([&] { NpzReader r(path); }, {path.string()});
}

}  // namespace
}  // namespace axf::io
