// .npz and zip: round trips with DeepMind-style keys, lazy headers, corrupt and truncated archives, atomic
// writes, Zip64.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <string>
#include <vector>

#include "io/npz.h"
#include "io/zip_archive.h"
#include "io_test_helpers.h"
#include "support/test_support.h"

namespace axf::io {
namespace {

using axf::test::expect_axf_error;
using axf::test::ScratchDir;
using axf::test::read_bytes;
using axf::test::temp_files_in;
using axf::test::write_bytes;

const std::string kW = "alphafold/alphafold_iteration/evoformer/preprocess_1d//weights";
const std::string kB = "alphafold/alphafold_iteration/evoformer/preprocess_1d//bias";
const std::string kS = "alphafold/alphafold_iteration/structure_module/single_layer_norm//scale";

// Four arrays with DeepMind-style keys; `width` sets the size of the two float arrays.
struct Sample {
  NpyArray w, b;
  NpyArray s = NpyArray::from_values<int64_t>({}, std::vector<int64_t>{-42});
  NpyArray m = NpyArray::zeros(NpyType::Bool, {3, 4});
  explicit Sample(int64_t width = 256)
      : w(NpyArray::zeros(NpyType::F32, {22, width})), b(NpyArray::zeros(NpyType::F32, {width})) {
    auto wv = w.values<float>();
    for (size_t i = 0; i < wv.size(); ++i) wv[i] = 0.001f * static_cast<float>(i) - 1.0f;
    auto bv = b.values<float>();
    for (size_t i = 0; i < bv.size(); ++i) bv[i] = static_cast<float>(i);
    m.values<bool>()[5] = true;
  }
  std::vector<std::pair<std::string, const NpyArray*>> list() const {
    return {{kW, &w}, {kB, &b}, {kS, &s}, {"mask", &m}};
  }
};

void expect_same(const NpyArray& a, const NpyArray& b) {
  EXPECT_EQ(a.type, b.type);
  EXPECT_EQ(a.shape, b.shape);
  EXPECT_EQ(a.data, b.data);
}

// Reads every header and array; only axf::Error may come out.
void read_everything(const std::filesystem::path& p) {
  NpzReader r(p);
  for (const auto& k : r.keys()) {
    r.header(k);
    r.read(k);
  }
}

TEST(Npz, RoundTripDeepMindKeys) {
  const ScratchDir dir("npz-roundtrip");
  const auto path = dir / "params.npz";
  const Sample s;
  write_npz(path, s.list());
  EXPECT_TRUE(temp_files_in(dir).empty());

  const NpzReader r(path);
  EXPECT_EQ(r.path(), path);
  EXPECT_EQ(r.keys(), (std::vector<std::string>{kW, kB, kS, "mask"}));
  EXPECT_TRUE(r.has(kW));
  EXPECT_FALSE(r.has(kW + ".npy"));
  const NpyHeader h = r.header(kW);
  EXPECT_EQ(h.type, NpyType::F32);
  EXPECT_EQ(h.shape, (std::vector<int64_t>{22, 256}));
  EXPECT_FALSE(h.fortran_order);
  EXPECT_TRUE(r.header(kS).shape.empty());
  expect_same(r.read(kW), s.w);
  expect_same(r.read(kB), s.b);
  expect_same(r.read(kS), s.s);
  expect_same(r.read("mask"), s.m);

  // Entry names carry ".npy", as numpy writes them.
  const ZipReader z(path);
  ASSERT_EQ(z.entries().size(), 4u);
  EXPECT_EQ(z.entries()[0].name, kW + ".npy");
  EXPECT_EQ(z.entries()[0].method, 0);
  EXPECT_NE(z.find(kB + ".npy"), nullptr);
  EXPECT_EQ(z.find(kB), nullptr);
}

TEST(Npz, MissingKeyNamesKeyAndFile) {
  const ScratchDir dir("npz-missing");
  const auto path = dir / "p.npz";
  const Sample s;
  write_npz(path, s.list());
  const NpzReader r(path);
  expect_axf_error([&] { r.read("alphafold/nope//weights"); }, {path.string(), "'alphafold/nope//weights'"});
  expect_axf_error([&] { r.header("nope"); }, {path.string(), "'nope'"});
}

TEST(Npz, NonZipFilesRefusedByName) {
  const ScratchDir dir("npz-notzip");
  const auto text = dir / "notes.txt";
  write_bytes(text, std::vector<unsigned char>(300, 'a'));
  expect_axf_error([&] { NpzReader r(text); }, {text.string(), "not a zip"});
  const auto tiny = dir / "tiny.npz";
  write_bytes(tiny, {'P', 'K'});
  expect_axf_error([&] { NpzReader r(tiny); }, {tiny.string(), "not a zip"});
  const auto empty = dir / "empty.npz";
  write_bytes(empty, {});
  expect_axf_error([&] { NpzReader r(empty); }, {empty.string()});
  expect_axf_error([&] { NpzReader r(dir / "missing.npz"); }, {(dir / "missing.npz").string(), "cannot open"});
  expect_axf_error([&] { NpzReader r(dir); }, {dir.path().string(), "directory"});
}

TEST(Npz, TruncatedFilesThrowNeverCrash) {
  const ScratchDir dir("npz-truncated");
  const auto path = dir / "p.npz";
  const Sample s(4);
  write_npz(path, s.list());
  const std::vector<unsigned char> bytes = read_bytes(path);
  // Every possible length, shortening one file step by step.
  const auto cut_path = dir / "cut.npz";
  write_bytes(cut_path, bytes);
  for (size_t cut = bytes.size(); cut-- > 0;) {
    SCOPED_TRACE(cut);
    std::filesystem::resize_file(cut_path, cut);
    expect_axf_error([&] { read_everything(cut_path); }, {cut_path.string()});
  }
}

TEST(Npz, CorruptionDetected) {
  const ScratchDir dir("npz-corrupt");
  const auto path = dir / "p.npz";
  const Sample s;
  write_npz(path, s.list());
  const std::vector<unsigned char> good = read_bytes(path);
  const ZipReader z(path);
  const ZipEntry& e = *z.find(kB + ".npy");
  const size_t data_at = static_cast<size_t>(e.local_header_offset) + 30 + e.name.size() + 128 + 40;

  std::vector<unsigned char> bad = good;
  bad[data_at] ^= 0x01;  // one bit of an array element
  const auto bad_path = dir / "bad.npz";
  write_bytes(bad_path, bad);
  const NpzReader r(bad_path);
  expect_axf_error([&] { r.read(kB); }, {bad_path.string(), kB, "CRC"});
  expect_same(r.read(kW), s.w);  // the other entries are intact

  // Every single-byte change anywhere in a small archive: either it reads (e.g. a changed date) or throws
  // axf::Error naming the file.
  const auto small_path = dir / "small.npz";
  write_npz(small_path, Sample(4).list());
  const std::vector<unsigned char> small = read_bytes(small_path);
  const auto fuzz_path = dir / "fuzz.npz";
  write_bytes(fuzz_path, small);
  for (size_t i = 0; i < small.size(); ++i) {
    std::vector<unsigned char> fuzzed = small;
    fuzzed[i] ^= static_cast<unsigned char>(0x5A + i);
    axf::test::overwrite_bytes(fuzz_path, fuzzed);
    try {
      read_everything(fuzz_path);
    } catch (const axf::Error& err) {
      EXPECT_NE(std::string(err.what()).find(fuzz_path.string()), std::string::npos) << err.what();
    }
  }
}

TEST(Npz, ArchiveCommentIsSkipped) {
  const ScratchDir dir("npz-comment");
  const auto path = dir / "p.npz";
  const Sample s;
  write_npz(path, s.list());
  std::vector<unsigned char> bytes = read_bytes(path);
  const std::string comment = "written by a test; PK\x05\x06 inside a comment";
  bytes[bytes.size() - 2] = static_cast<unsigned char>(comment.size());
  bytes.insert(bytes.end(), comment.begin(), comment.end());
  write_bytes(path, bytes);
  const NpzReader r(path);
  EXPECT_EQ(r.keys().size(), 4u);
  expect_same(r.read(kW), s.w);
}

TEST(Npz, WriterFailureLeavesNothingBehind) {
  const ScratchDir dir("npz-writefail");
  const Sample s;
  // Parent directory missing.
  const auto nowhere = dir / "no-such-dir" / "p.npz";
  expect_axf_error([&] { write_npz(nowhere, s.list()); }, {nowhere.string()});
  EXPECT_FALSE(std::filesystem::exists(nowhere));
  // The final name is a directory: the temporary file is written, the rename fails and it is removed.
  const auto is_dir = dir / "taken.npz";
  std::filesystem::create_directory(is_dir);
  expect_axf_error([&] { write_npz(is_dir, s.list()); }, {is_dir.string()});
  EXPECT_TRUE(std::filesystem::is_directory(is_dir));
  // Inconsistent array.
  NpyArray broken = NpyArray::zeros(NpyType::F32, {4});
  broken.data.resize(3);
  const auto p = dir / "broken.npz";
  expect_axf_error([&] { write_npz(p, {{"ok", &s.b}, {"broken", &broken}}); }, {p.string(), "'broken'"});
  EXPECT_FALSE(std::filesystem::exists(p));
  // Duplicate names.
  expect_axf_error([&] { write_npz(p, {{"a", &s.b}, {"a", &s.b}}); }, {p.string(), "duplicate"});
  EXPECT_FALSE(std::filesystem::exists(p));
  EXPECT_TRUE(temp_files_in(dir).empty());
  // A writer dropped before close() publishes nothing.
  {
    ZipWriter w(dir / "dropped.zip");
    w.add("x", std::vector<std::byte>(10));
  }
  EXPECT_FALSE(std::filesystem::exists(dir / "dropped.zip"));
  EXPECT_TRUE(temp_files_in(dir).empty());
}

TEST(Npz, OverwriteReplacesWholeFile) {
  const ScratchDir dir("npz-overwrite");
  const auto path = dir / "p.npz";
  const Sample s;
  write_npz(path, s.list());
  write_npz(path, {{"only", &s.b}});
  const NpzReader r(path);
  EXPECT_EQ(r.keys(), std::vector<std::string>{"only"});
  expect_same(r.read("only"), s.b);
}

TEST(Zip, ForcedZip64RoundTrip) {
  const ScratchDir dir("zip64-forced");
  const auto path = dir / "p.npz";
  const Sample s;
  write_npz(path, s.list(), ZipWriterOptions{.force_zip64 = true});
  const std::vector<unsigned char> bytes = read_bytes(path);
  const unsigned char z64_end[] = {0x50, 0x4b, 0x06, 0x06};
  const unsigned char z64_locator[] = {0x50, 0x4b, 0x06, 0x07};
  EXPECT_NE(std::search(bytes.begin(), bytes.end(), std::begin(z64_end), std::end(z64_end)), bytes.end());
  EXPECT_NE(std::search(bytes.begin(), bytes.end(), std::begin(z64_locator), std::end(z64_locator)), bytes.end());
  // The classic end record holds only the Zip64 markers.
  EXPECT_EQ(bytes[bytes.size() - 12], 0xFF);
  EXPECT_EQ(bytes[bytes.size() - 14], 0xFF);

  const NpzReader r(path);
  EXPECT_EQ(r.keys(), (std::vector<std::string>{kW, kB, kS, "mask"}));
  EXPECT_EQ(r.header(kB).shape, std::vector<int64_t>{256});
  expect_same(r.read(kW), s.w);
  expect_same(r.read(kS), s.s);
  expect_same(r.read("mask"), s.m);
}

TEST(Zip, ManyEntriesNeedZip64EndRecord) {
  const ScratchDir dir("zip64-count");
  const auto path = dir / "many.zip";
  constexpr int kCount = 70000;  // > 0xFFFF entries
  const auto t0 = std::chrono::steady_clock::now();
  {
    ZipWriter w(path);
    for (int i = 0; i < kCount; ++i) {
      const std::string v = std::to_string(i);
      w.add("e/" + v, std::as_bytes(std::span<const char>(v.data(), v.size())));
    }
    w.close();
  }
  const ZipReader z(path);
  ASSERT_EQ(z.entries().size(), static_cast<size_t>(kCount));
  for (int i : {0, 1, 65534, 65535, 65536, kCount - 1}) {
    const std::string v = std::to_string(i);
    const ZipEntry* e = z.find("e/" + v);
    ASSERT_NE(e, nullptr) << i;
    const std::vector<std::byte> got = z.read(*e);
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(got.data()), got.size()), v);
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_LT(seconds, 5.0);
}

TEST(Zip, ReadPrefixStopsEarly) {
  const ScratchDir dir("zip-prefix");
  const auto path = dir / "a.zip";
  std::vector<std::byte> data(100000);
  for (size_t i = 0; i < data.size(); ++i) data[i] = std::byte(i % 251);
  {
    ZipWriter w(path);
    w.add("big", data);
    w.close();
  }
  const ZipReader z(path);
  const std::vector<std::byte> head = z.read_prefix(z.entries()[0], 300);
  ASSERT_EQ(head.size(), 300u);
  EXPECT_TRUE(std::equal(head.begin(), head.end(), data.begin()));
  EXPECT_EQ(z.read_prefix(z.entries()[0], 1 << 20).size(), data.size());
  EXPECT_EQ(z.read(z.entries()[0]), data);
}

}  // namespace
}  // namespace axf::io
