// HDF5 arrays: round trips of every type with root attributes, foreign layouts written with the C API,
// and clear errors for files that are not HDF5.
#include <gtest/gtest.h>
#include <hdf5.h>

#include <string>
#include <vector>

#include "io/hdf5_arrays.h"
#include "io_test_helpers.h"
#include "support/test_support.h"

namespace axf::io {
namespace {

using axf::test::expect_axf_error;
using axf::test::ScratchDir;
using axf::test::temp_files_in;

NpyArray patterned(NpyType type, std::vector<int64_t> shape) {
  NpyArray a = NpyArray::zeros(type, std::move(shape));
  for (size_t i = 0; i < a.data.size(); ++i) a.data[i] = std::byte((i * 29 + 3) & (type == NpyType::Bool ? 1 : 0xFF));
  return a;
}

TEST(Hdf5Arrays, RoundTripTypesAndAttributes) {
  const ScratchDir dir("h5-roundtrip");
  const auto path = dir / "out.h5";
  const NpyArray f32 = NpyArray::from_values<float>({2, 3}, std::vector<float>{1.5f, -2, 3, 4e-8f, 5e30f, -0.0f});
  const NpyArray f64 = NpyArray::from_values<double>({}, std::vector<double>{3.141592653589793});
  const NpyArray f16 = NpyArray::from_values<int16_t>({3}, std::vector<int16_t>{0x3C00, -0x4000 /*0xC000*/, 0x7BFF});
  NpyArray half = f16;
  half.type = NpyType::F16;  // 1.0, -2.0, 65504
  const NpyArray i8 = patterned(NpyType::I8, {5});
  const NpyArray i16 = patterned(NpyType::I16, {2, 2});
  const NpyArray i32 = NpyArray::from_values<int32_t>({4}, std::vector<int32_t>{-2147483647 - 1, -1, 0, 2147483647});
  const NpyArray i64 = NpyArray::from_values<int64_t>({2}, std::vector<int64_t>{-(int64_t{1} << 62), 1234567890123});
  const NpyArray u8 = patterned(NpyType::U8, {4, 1, 2});
  const NpyArray b = patterned(NpyType::Bool, {3});
  const NpyArray empty = NpyArray::zeros(NpyType::F32, {0, 4});
  const std::map<std::string, std::string> attrs = {
      {"model", "model_1_ptm"}, {"empty", ""}, {"unicode", "\xc3\x85ngstr\xc3\xb6m"}};
  write_hdf5_arrays(path,
                    {{"f32", &f32}, {"f64", &f64}, {"f16", &half}, {"i8", &i8}, {"i16", &i16}, {"i32", &i32},
                     {"i64", &i64}, {"u8", &u8}, {"bool", &b}, {"empty", &empty}},
                    attrs);
  EXPECT_TRUE(temp_files_in(dir).empty());
  EXPECT_TRUE(is_hdf5_file(path));

  const auto got = read_hdf5_arrays(path);
  ASSERT_EQ(got.size(), 10u);
  for (const auto& [name, want] : std::vector<std::pair<std::string, const NpyArray*>>{
           {"f32", &f32}, {"f64", &f64}, {"f16", &half}, {"i8", &i8}, {"i16", &i16},
           {"i32", &i32}, {"i64", &i64}, {"u8", &u8}, {"empty", &empty}}) {
    SCOPED_TRACE(name);
    const NpyArray& a = got.at(name);
    EXPECT_EQ(a.type, want->type);
    EXPECT_EQ(a.shape, want->shape);
    EXPECT_EQ(a.data, want->data);
  }
  const NpyArray& bool_back = got.at("bool");  // h5py-style bool enum: comes back as its bytes
  EXPECT_EQ(bool_back.type, NpyType::U8);
  EXPECT_EQ(bool_back.shape, b.shape);
  EXPECT_EQ(bool_back.data, b.data);

  EXPECT_EQ(read_hdf5_string_attributes(path), attrs);
}

TEST(Hdf5Arrays, GroupsAndOverwrite) {
  const ScratchDir dir("h5-groups");
  const auto path = dir / "g.h5";
  const NpyArray a = patterned(NpyType::I32, {3});
  const NpyArray c = patterned(NpyType::F32, {2});
  write_hdf5_arrays(path, {{"top", &a}, {"sub/inner", &c}});
  const auto root = read_hdf5_arrays(path);
  ASSERT_EQ(root.size(), 1u);  // the group "sub" is not a dataset
  EXPECT_EQ(root.at("top").data, a.data);
  const auto sub = read_hdf5_arrays(path, "/sub");
  ASSERT_EQ(sub.size(), 1u);
  EXPECT_EQ(sub.at("inner").data, c.data);
  expect_axf_error([&] { read_hdf5_arrays(path, "/nope"); }, {path.string(), "'/nope'"});

  write_hdf5_arrays(path, {{"other", &c}}, {{"k", "v"}});  // replaces the file
  const auto again = read_hdf5_arrays(path);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_TRUE(again.count("other"));
  EXPECT_EQ(read_hdf5_string_attributes(path).at("k"), "v");
}

TEST(Hdf5Arrays, ForeignLayouts) {
  // Written directly with the C API: big-endian ints, a fixed-length space-padded string, a non-string attribute,
  // an enum, and an unsupported type.
  const ScratchDir dir("h5-foreign");
  const auto path = dir / "foreign.h5";
  {
    hid_t f = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    ASSERT_GE(f, 0);
    const hsize_t dims[1] = {3};
    hid_t space = H5Screate_simple(1, dims, nullptr);
    const int32_t be_values[3] = {1, -2, 300000};
    hid_t d = H5Dcreate2(f, "be", H5T_STD_I32BE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Dwrite(d, H5T_NATIVE_INT32, H5S_ALL, H5S_ALL, H5P_DEFAULT, be_values);
    H5Dclose(d);
    hid_t en = H5Tenum_create(H5T_NATIVE_UINT8);
    uint8_t v0 = 0, v1 = 7;
    H5Tenum_insert(en, "A", &v0);
    H5Tenum_insert(en, "B", &v1);
    const uint8_t ev[3] = {7, 0, 7};
    d = H5Dcreate2(f, "enum", en, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Dwrite(d, en, H5S_ALL, H5S_ALL, H5P_DEFAULT, ev);
    H5Dclose(d);
    H5Tclose(en);
    hid_t scalar = H5Screate(H5S_SCALAR);
    hid_t s8 = H5Tcopy(H5T_C_S1);
    H5Tset_size(s8, 8);
    H5Tset_strpad(s8, H5T_STR_SPACEPAD);
    hid_t attr = H5Acreate2(f, "fixed", s8, scalar, H5P_DEFAULT, H5P_DEFAULT);
    H5Awrite(attr, s8, "abc     ");
    H5Aclose(attr);
    const int answer = 42;
    attr = H5Acreate2(f, "number", H5T_STD_I32LE, scalar, H5P_DEFAULT, H5P_DEFAULT);
    H5Awrite(attr, H5T_NATIVE_INT, &answer);
    H5Aclose(attr);
    H5Tclose(s8);
    H5Sclose(scalar);
    H5Sclose(space);
    H5Fclose(f);
  }
  const auto arrays = read_hdf5_arrays(path);
  const NpyArray& be = arrays.at("be");
  EXPECT_EQ(be.type, NpyType::I32);
  EXPECT_EQ(std::vector<int32_t>(be.values<int32_t>().begin(), be.values<int32_t>().end()),
            (std::vector<int32_t>{1, -2, 300000}));
  const NpyArray& en = arrays.at("enum");
  EXPECT_EQ(en.type, NpyType::U8);
  EXPECT_EQ(std::vector<uint8_t>(en.values<uint8_t>().begin(), en.values<uint8_t>().end()),
            (std::vector<uint8_t>{7, 0, 7}));
  const auto attrs = read_hdf5_string_attributes(path);
  EXPECT_EQ(attrs.size(), 1u);
  EXPECT_EQ(attrs.at("fixed"), "abc");

  // An unsupported dataset type is named in the error.
  {
    hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    ASSERT_GE(f, 0);
    const hsize_t dims[1] = {2};
    hid_t space = H5Screate_simple(1, dims, nullptr);
    const uint32_t u[2] = {1, 2};
    hid_t d = H5Dcreate2(f, "u32", H5T_STD_U32LE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Dwrite(d, H5T_NATIVE_UINT32, H5S_ALL, H5S_ALL, H5P_DEFAULT, u);
    H5Dclose(d);
    H5Sclose(space);
    H5Fclose(f);
  }
  expect_axf_error([&] { read_hdf5_arrays(path); }, {path.string(), "'u32'", "unsupported", "unsigned 4-byte integer"});
}

TEST(Hdf5Arrays, NonHdf5InputsGiveClearErrors) {
  const ScratchDir dir("h5-bad");
  const auto text = dir / "features.h5";
  axf::test::write_bytes(text, std::vector<unsigned char>(1000, 'x'));
  EXPECT_FALSE(is_hdf5_file(text));
  EXPECT_FALSE(is_hdf5_file(dir / "missing.h5"));
  EXPECT_FALSE(is_hdf5_file(dir));
  expect_axf_error([&] { read_hdf5_arrays(text); }, {text.string(), "not an HDF5 file"});
  expect_axf_error([&] { read_hdf5_string_attributes(text); }, {text.string(), "not an HDF5 file"});
  expect_axf_error([&] { read_hdf5_arrays(dir / "missing.h5"); }, {(dir / "missing.h5").string(), "no such file"});

  // A real HDF5 file cut short.
  const auto good = dir / "good.h5";
  const NpyArray a = patterned(NpyType::F64, {64, 64});
  write_hdf5_arrays(good, {{"a", &a}});
  std::vector<unsigned char> bytes = axf::test::read_bytes(good);
  const auto cut = dir / "cut.h5";
  axf::test::write_bytes(cut, std::vector<unsigned char>(bytes.begin(), bytes.begin() + 3000));
  try {
    read_hdf5_arrays(cut);
    ADD_FAILURE() << "reading a truncated HDF5 file succeeded";
  } catch (const axf::Error& e) {
    EXPECT_NE(std::string(e.what()).find(cut.string()), std::string::npos) << e.what();
  }
}

TEST(Hdf5Arrays, WriteFailureLeavesNothing) {
  const ScratchDir dir("h5-writefail");
  const NpyArray a = patterned(NpyType::F32, {4});
  const auto nowhere = dir / "no-such-dir" / "out.h5";
  expect_axf_error([&] { write_hdf5_arrays(nowhere, {{"a", &a}}); }, {nowhere.string()});
  EXPECT_FALSE(std::filesystem::exists(nowhere));
  const auto taken = dir / "taken.h5";
  std::filesystem::create_directory(taken);
  expect_axf_error([&] { write_hdf5_arrays(taken, {{"a", &a}}); }, {taken.string()});
  EXPECT_TRUE(std::filesystem::is_directory(taken));
  const auto p = dir / "dup.h5";
  expect_axf_error([&] { write_hdf5_arrays(p, {{"a", &a}, {"a", &a}}); }, {p.string(), "'a'"});
  EXPECT_FALSE(std::filesystem::exists(p));
  EXPECT_TRUE(temp_files_in(dir).empty());
}

}  // namespace
}  // namespace axf::io
