// Model inputs: the real OpenFold-processed features of query73 (trailing recycling axis), HDF5 inputs, and
// refusals that name the feature.
#include <gtest/gtest.h>

#include "core/error.h"
#include "io/hdf5_arrays.h"
#include "io/npz.h"
#include "io/tensor_npy.h"
#include "model/model_inputs.h"
#include "support/model_test_support.h"
#include "support/test_support.h"

namespace axf::test {
namespace {

TEST(ModelInputs, RealQuery73InputsWithTrailingRecyclingAxis) {
  const auto in = model::load_model_inputs(shared_data_dir() / "features/query73_model_inputs.npz");
  EXPECT_EQ(in.num_res(), 73);
  EXPECT_EQ(in.num_msa(), 512);
  EXPECT_EQ(in.num_extra(), 1024);
  EXPECT_EQ(in.templates.count(), 4);
  EXPECT_EQ(in.msa_feat.shape(), core::Shape({512, 73, 49}));
  EXPECT_EQ(in.target_feat.shape(), core::Shape({73, 22}));
  // target_feat is the one-hot of aatype shifted by one (channel 0 = between-segment break).
  for (int64_t i = 0; i < 73; ++i) {
    EXPECT_EQ(in.target_feat.data<float>()[i * 22 + in.aatype.data<int32_t>()[i] + 1], 1.0f) << i;
    EXPECT_EQ(in.residue_index.data<int32_t>()[i], i);
  }
  // The first MSA row is the query: its one-hot (first 23 channels of msa_feat) matches aatype, unless the
  // position was picked for BERT-style masking (channel 22, the mask token).
  int matches = 0;
  for (int64_t i = 0; i < 73; ++i) matches += in.msa_feat.data<float>()[i * 49 + in.aatype.data<int32_t>()[i]] == 1.0f;
  EXPECT_GT(matches, 55);
  // The four template slots are empty.
  for (int t = 0; t < 4; ++t) EXPECT_EQ(in.templates.mask.data<float>()[t], 0.0f);
}

class ModelInputFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = scratch_dir("inputs");
    arrays_ = random_feature_arrays(9, 4, 6, 2, 3);
  }
  std::filesystem::path write_h5(const std::map<std::string, Tensor>& arrays, const std::string& name) {
    std::vector<io::NpyArray> store;
    store.reserve(arrays.size());
    std::vector<std::pair<std::string, const io::NpyArray*>> named;
    for (const auto& [k, t] : arrays) store.push_back(io::npy_from_tensor(t));
    size_t i = 0;
    for (const auto& [k, t] : arrays) named.emplace_back(k, &store[i++]);
    const auto path = dir_ / name;
    io::write_hdf5_arrays(path, named);
    return path;
  }
  void expect_error(const std::map<std::string, Tensor>& arrays, const std::string& needle) {
    try {
      model::model_inputs_from_arrays(arrays, "inputs.npz");
      FAIL() << "expected an error naming " << needle;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("inputs.npz"), std::string::npos) << e.what();
    }
  }
  std::filesystem::path dir_;
  std::map<std::string, Tensor> arrays_;
};

TEST_F(ModelInputFiles, Hdf5AndNpzGiveTheSameInputs) {
  const auto from_h5 = model::load_model_inputs(write_h5(arrays_, "inputs.h5"));
  const auto direct = model::model_inputs_from_arrays(arrays_, "direct");
  EXPECT_EQ(from_h5.msa_feat.to_vector(), direct.msa_feat.to_vector());
  EXPECT_EQ(from_h5.extra_msa.to_vector(), direct.extra_msa.to_vector());
  EXPECT_EQ(from_h5.templates.torsion_angles_sin_cos.to_vector(), direct.templates.torsion_angles_sin_cos.to_vector());
  // The same features with a trailing recycling axis of 3 samples: the first sample is used.
  std::map<std::string, Tensor> recycled;
  for (const auto& [k, t] : arrays_) {
    core::Shape s = t.shape();
    s.push_back(3);
    Tensor r = Tensor::zeros(s, t.dtype());
    Tensor first = r.select(-1, 0);
    core::copy_host(t, first);
    recycled[k] = r;
  }
  const auto from_recycled = model::model_inputs_from_arrays(recycled, "recycled");
  EXPECT_EQ(from_recycled.msa_feat.to_vector(), direct.msa_feat.to_vector());
  EXPECT_EQ(from_recycled.aatype.to_vector(), direct.aatype.to_vector());
}

TEST_F(ModelInputFiles, MissingAndInconsistentFeaturesAreNamed) {
  auto a = arrays_;
  a.erase("msa_mask");
  expect_error(a, "'msa_mask'");
  a = arrays_;
  a["msa_mask"] = Tensor::full({3, 9}, 1.f);
  expect_error(a, "'msa_mask'");
  a = arrays_;
  a["extra_has_deletion"] = Tensor::full({6, 8}, 1.f);
  expect_error(a, "'extra_has_deletion'");
  a = arrays_;
  a["residue_index"] = Tensor::zeros({10}, core::DType::I32);
  expect_error(a, "'residue_index'");
  a = arrays_;
  a["aatype"] = a["aatype"].clone();  // the map shares storage with arrays_
  a["aatype"].data<int32_t>()[2] = 25;
  expect_error(a, "'aatype'");
  a = arrays_;
  a["target_feat"] = Tensor::zeros({9, 21});
  expect_error(a, "'target_feat'");
  a = arrays_;
  a["template_all_atom_positions"] = Tensor::zeros({2, 9, 37});
  expect_error(a, "'template_all_atom_positions'");
  EXPECT_THROW(model::load_model_inputs(dir_ / "missing.npz"), Error);
}

}  // namespace
}  // namespace axf::test
