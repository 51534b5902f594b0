// .npy format: round trips for every type, header dialects, and every kind of bad input.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "io_test_helpers.h"
#include "io/npy.h"

namespace axf::io {
namespace {

using axf::test::expect_axf_error;

const std::string kCtx = "model.npz: entry 'x//weights.npy'";

// A .npy file of the given version with `dict` as header text (padded with spaces and '\n') and `data`.
std::vector<std::byte> make_npy(int major, const std::string& dict, const std::vector<unsigned char>& data) {
  const size_t prefix = major == 1 ? 10 : 12;
  std::string text = dict;
  while ((prefix + text.size() + 1) % 64 != 0) text += ' ';
  text += '\n';
  std::vector<std::byte> out(prefix);
  std::memcpy(out.data(), "\x93NUMPY", 6);
  out[6] = std::byte(major);
  out[7] = std::byte(0);
  for (size_t i = 0; i < prefix - 8; ++i) out[8 + i] = std::byte((text.size() >> (8 * i)) & 0xFF);
  for (char c : text) out.push_back(std::byte(c));
  for (unsigned char c : data) out.push_back(std::byte(c));
  return out;
}

NpyArray patterned(NpyType type, std::vector<int64_t> shape) {
  NpyArray a = NpyArray::zeros(type, std::move(shape));
  for (size_t i = 0; i < a.data.size(); ++i) a.data[i] = std::byte((i * 37 + 11) & (type == NpyType::Bool ? 1 : 0xFF));
  return a;
}

TEST(Npy, TypeNamesAndSizes) {
  EXPECT_EQ(to_string(NpyType::F32), "float32");
  EXPECT_EQ(to_string(NpyType::I64), "int64");
  EXPECT_EQ(to_string(NpyType::Bool), "bool");
  EXPECT_EQ(to_string(NpyType::F16), "float16");
  EXPECT_EQ(item_size(NpyType::F16), 2u);
  EXPECT_EQ(item_size(NpyType::F64), 8u);
  EXPECT_EQ(item_size(NpyType::U8), 1u);
  EXPECT_EQ(item_size(NpyType::I16), 2u);
}

TEST(Npy, RoundTripEveryType) {
  for (NpyType t : {NpyType::F16, NpyType::F32, NpyType::F64, NpyType::I8, NpyType::I16, NpyType::I32, NpyType::I64,
                    NpyType::U8, NpyType::Bool}) {
    SCOPED_TRACE(to_string(t));
    const NpyArray a = patterned(t, {2, 3, 5});
    const std::vector<std::byte> bytes = serialize_npy(a);
    const NpyHeader h = parse_npy_header(bytes, kCtx);
    EXPECT_EQ(h.data_offset % 64, 0u);  // numpy pads the header so data starts 64-byte aligned
    EXPECT_EQ(bytes.size(), h.data_offset + a.data.size());
    const NpyArray b = parse_npy(bytes, kCtx);
    EXPECT_EQ(b.type, t);
    EXPECT_EQ(b.shape, a.shape);
    EXPECT_EQ(b.numel(), 30);
    EXPECT_EQ(b.data, a.data);
  }
}

TEST(Npy, HeaderTextMatchesNumpy) {
  const NpyArray a = NpyArray::zeros(NpyType::F32, {73});
  const std::vector<std::byte> bytes = serialize_npy(a);
  ASSERT_GE(bytes.size(), 128u);
  const std::string text(reinterpret_cast<const char*>(bytes.data()) + 10, 118);
  EXPECT_EQ(text.substr(0, 60), "{'descr': '<f4', 'fortran_order': False, 'shape': (73,), }  ");
  EXPECT_EQ(text.back(), '\n');
  EXPECT_EQ(static_cast<int>(bytes[6]), 1);
  EXPECT_EQ(static_cast<int>(bytes[7]), 0);
}

TEST(Npy, ScalarAndEmptyShapes) {
  const NpyArray s = NpyArray::from_values<double>({}, std::vector<double>{2.5});
  EXPECT_EQ(s.numel(), 1);
  const NpyArray back = parse_npy(serialize_npy(s), kCtx);
  EXPECT_TRUE(back.shape.empty());
  ASSERT_EQ(back.values<double>().size(), 1u);
  EXPECT_EQ(back.values<double>()[0], 2.5);

  const NpyArray e = NpyArray::zeros(NpyType::I32, {0, 5});
  EXPECT_EQ(e.numel(), 0);
  const NpyArray eb = parse_npy(serialize_npy(e), kCtx);
  EXPECT_EQ(eb.shape, (std::vector<int64_t>{0, 5}));
  EXPECT_TRUE(eb.data.empty());
}

TEST(Npy, HeaderDialects) {
  const std::vector<unsigned char> four(4, 1);
  struct Case {
    std::string dict;
    NpyType type;
    std::vector<int64_t> shape;
  };
  const Case cases[] = {
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", NpyType::F32, {1}},
      {"{'shape': (2, 2), 'fortran_order': False, 'descr': '|u1'}", NpyType::U8, {2, 2}},
      {"{ \"descr\" : \"<u1\" , \"fortran_order\" : False , \"shape\" : ( 4 , ) , }", NpyType::U8, {4}},
      {"{'descr':'|i1','fortran_order':False,'shape':(4,)}", NpyType::I8, {4}},
      {"{'descr': '|b1', 'fortran_order': False, 'shape': (1, 1, 2, 2, 1), }", NpyType::Bool, {1, 1, 2, 2, 1}},
      {"{'descr': '<i2', 'fortran_order': False, 'shape': (2L,), }", NpyType::I16, {2}},
      {"{'descr': '<i4', 'fortran_order': False, 'shape': (), }", NpyType::I32, {}},
      {"{'descr': '<f2', 'fortran_order': False, 'shape': (2,)}", NpyType::F16, {2}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.dict);
    for (int major : {1, 2, 3}) {
      const NpyArray a = parse_npy(make_npy(major, c.dict, four), kCtx);
      EXPECT_EQ(a.type, c.type);
      EXPECT_EQ(a.shape, c.shape);
    }
  }
  const NpyHeader h = parse_npy_header(
      make_npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (4, 73, 37, 3, 1), }", {}), kCtx);
  EXPECT_EQ(h.shape, (std::vector<int64_t>{4, 73, 37, 3, 1}));  // the header alone is enough
  EXPECT_EQ(h.data_offset, 128u);
}

TEST(Npy, BadInputsThrowWithContext) {
  const std::vector<unsigned char> four(4, 0);
  const std::string ok = "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }";
  std::vector<std::byte> bad_magic = make_npy(1, ok, four);
  bad_magic[1] = std::byte('X');
  expect_axf_error([&] { parse_npy(bad_magic, kCtx); }, {kCtx, "magic"});

  const std::vector<std::byte> full = make_npy(1, ok, four);
  for (size_t cut : {0, 3, 6, 9, 11, 40, 70}) {
    SCOPED_TRACE(cut);
    const std::span<const std::byte> part(full.data(), cut);
    expect_axf_error([&] { parse_npy(part, kCtx); }, {kCtx});
  }
  expect_axf_error([&] { parse_npy(std::span<const std::byte>(full.data(), 40), kCtx); }, {kCtx, "truncated"});

  auto with = [&](const std::string& dict, const std::vector<unsigned char>& data = {0, 0, 0, 0}) {
    return make_npy(1, dict, data);
  };
  expect_axf_error([&] { parse_npy(with("{'descr': '<c8', 'fortran_order': False, 'shape': (1,)}"), kCtx); },
                   {kCtx, "'<c8'"});
  expect_axf_error([&] { parse_npy(with("{'descr': '<u4', 'fortran_order': False, 'shape': (1,)}"), kCtx); },
                   {kCtx, "unsupported"});
  expect_axf_error([&] { parse_npy(with("{'descr': '>f4', 'fortran_order': False, 'shape': (1,)}"), kCtx); },
                   {kCtx, "big-endian"});
  expect_axf_error([&] { parse_npy(with("{'descr': '|f4', 'fortran_order': False, 'shape': (1,)}"), kCtx); },
                   {kCtx, "'|f4'"});
  expect_axf_error([&] { parse_npy(with("{'descr': '<f4', 'fortran_order': True, 'shape': (1,)}"), kCtx); },
                   {kCtx, "Fortran"});
  expect_axf_error([&] { parse_npy(with("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,)}"), kCtx); },
                   {kCtx, "structured"});
  expect_axf_error([&] { parse_npy(with("{'descr': '<f4', 'fortran_order': False}"), kCtx); }, {kCtx, "'shape'"});
  expect_axf_error([&] { parse_npy(with("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'x': 1}"), kCtx); },
                   {kCtx, "'x'"});
  expect_axf_error([&] { parse_npy(with("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,)}"), kCtx); },
                   {kCtx, "shape"});
  expect_axf_error([&] { parse_npy(with("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999,)}"), kCtx); },
                   {kCtx, "truncated data"});
  expect_axf_error(
      [&] { parse_npy(with("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999, 99999999999)}"), kCtx); },
      {kCtx, "too many elements"});
  expect_axf_error([&] { parse_npy(with(ok, {0, 0}), kCtx); },
                   {kCtx, "truncated data (expected 4 bytes", "found 2"});
  expect_axf_error([&] { parse_npy(with(ok, {0, 0, 0, 0, 0}), kCtx); }, {kCtx, "mismatch", "found 5"});
  std::vector<std::byte> v4 = make_npy(1, ok, four);
  v4[6] = std::byte(4);
  expect_axf_error([&] { parse_npy(v4, kCtx); }, {kCtx, "version 4.0"});
  std::vector<std::byte> huge_len = make_npy(2, ok, four);
  huge_len[11] = std::byte(0x7F);
  expect_axf_error([&] { parse_npy(huge_len, kCtx); }, {kCtx, "truncated .npy header"});
}

TEST(Npy, TypedViews) {
  NpyArray a = NpyArray::from_values<int64_t>({3}, std::vector<int64_t>{1, -2, 3});
  EXPECT_EQ(a.values<int64_t>()[1], -2);
  a.values<int64_t>()[2] = 7;
  EXPECT_EQ(a.values<int64_t>()[2], 7);
  expect_axf_error([&] { (void)a.values<float>(); }, {"int64", "float32"});
  expect_axf_error([&] { NpyArray::from_values<float>({2}, std::vector<float>{1.0f}); }, {"1 values for 2"});
  EXPECT_EQ(shape_string({}), "()");
  EXPECT_EQ(shape_string({73}), "(73,)");
  EXPECT_EQ(shape_string({4, 73}), "(4, 73)");
}

}  // namespace
}  // namespace axf::io
