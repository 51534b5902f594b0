// Parameter spec against DeepMind's real key list, the loader's refusals, and make-params files.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "core/error.h"
#include "core/sha256.h"
#include "io/npz.h"
#include "model/params.h"
#include "support/model_test_support.h"
#include "support/test_support.h"

namespace axf::test {
namespace {

using model::ParamSpec;

// key -> shape string "[48, 256]" from ../shared/data/af2_params_model_1_ptm_keys.txt
std::map<std::string, std::string> deepmind_keys() {
  std::ifstream in(shared_data_dir() / "af2_params_model_1_ptm_keys.txt");
  EXPECT_TRUE(in.good());
  std::map<std::string, std::string> keys;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream ls(line);
    std::string key, shape, dtype;
    std::getline(ls, key, '\t');
    std::getline(ls, shape, '\t');
    std::getline(ls, dtype, '\t');
    EXPECT_EQ(dtype, "float32") << key;
    keys[key] = shape;
  }
  return keys;
}

TEST(ParamSpec, Model1PtmMatchesDeepMindKeyListExactly) {
  const auto want = deepmind_keys();
  ASSERT_EQ(want.size(), 338u);
  const auto spec = model::parameter_spec(model::model_config("model_1_ptm"));
  std::map<std::string, std::string> got;
  int64_t total = 0;
  for (const ParamSpec& s : spec) {
    got[s.key] = core::shape_to_string(s.shape);
    total += core::shape_numel(s.shape);
  }
  for (const auto& [k, v] : want) {
    ASSERT_TRUE(got.count(k)) << "missing from spec: " << k;
    EXPECT_EQ(got[k], v) << k;
  }
  for (const auto& [k, v] : got) EXPECT_TRUE(want.count(k)) << "not in DeepMind's file: " << k;
  EXPECT_EQ(total, 93237338);  // "338 arrays, 93,237,338 parameters"
}

TEST(ParamSpec, PresetsDifferAsDeepMindsFilesDo) {
  auto count = [](const std::string& preset, const std::string& needle) {
    int n = 0;
    for (const auto& s : model::parameter_spec(model::model_config(preset))) n += s.key.find(needle) != std::string::npos;
    return n;
  };
  EXPECT_GT(count("model_1_ptm", "predicted_aligned_error_head"), 0);
  EXPECT_EQ(count("model_1", "predicted_aligned_error_head"), 0);
  EXPECT_GT(count("model_2", "template_embedding"), 0);
  for (const char* p : {"model_3", "model_4", "model_5_ptm"}) {
    EXPECT_EQ(count(p, "template_embedding"), 0) << p;
    EXPECT_EQ(count(p, "template_single_embedding"), 0) << p;
  }
  EXPECT_EQ(model::model_config("model_1").data.max_extra_msa, 5120);
  EXPECT_EQ(model::model_config("model_2").data.max_extra_msa, 1024);
  EXPECT_EQ(model::model_config("model_5_ptm").data.max_extra_msa, 1024);
  EXPECT_THROW(model::model_config("model_6"), Error);
}

class ParamFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = scratch_dir("params");
    cfg_ = small_config();
    path_ = dir_ / "params.npz";
    model::write_random_params(path_, cfg_, 11);
    backend_ = backend::make_cpu_backend();
  }
  // Rewrites the file with `edit` applied to the list of arrays.
  std::filesystem::path rewrite(const std::string& name,
                                const std::function<void(std::vector<std::pair<std::string, io::NpyArray>>&)>& edit) {
    io::NpzReader in(path_);
    std::vector<std::pair<std::string, io::NpyArray>> arrays;
    for (const auto& k : in.keys()) arrays.emplace_back(k, in.read(k));
    edit(arrays);
    std::vector<std::pair<std::string, const io::NpyArray*>> named;
    for (auto& [k, a] : arrays) named.emplace_back(k, &a);
    const auto out = dir_ / name;
    io::write_npz(out, named);
    return out;
  }
  void expect_refused(const std::filesystem::path& p, const std::string& needle) {
    try {
      model::load_params(p, cfg_, *backend_);
      FAIL() << "expected refusal mentioning " << needle;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(p.string()), std::string::npos) << e.what();
    }
  }
  std::filesystem::path dir_, path_;
  model::ModelConfig cfg_;
  std::unique_ptr<backend::Backend> backend_;
};

TEST_F(ParamFiles, MakeParamsFileLoadsAndIsDeterministic) {
  const model::Params p = model::load_params(path_, cfg_, *backend_);
  EXPECT_EQ(p.arrays().size(), model::parameter_spec(cfg_).size());
  EXPECT_EQ(p.checksum.size(), 64u);
  for (const auto& [k, t] : p.arrays()) {
    const auto v = t.to_vector();
    double sum_sq = 0;
    for (float x : v) {
      ASSERT_TRUE(std::isfinite(x)) << k;
      sum_sq += double(x) * x;
    }
    EXPECT_GT(sum_sq, 0.0) << "zero-initialised array " << k;
  }
  const auto again = dir_ / "again.npz";
  model::write_random_params(again, cfg_, 11);
  EXPECT_EQ(core::sha256_file(again), core::sha256_file(path_));
  model::write_random_params(again, cfg_, 12);
  EXPECT_NE(core::sha256_file(again), core::sha256_file(path_));
  EXPECT_EQ(model::evoformer_blocks_in_file(path_), cfg_.evoformer_num_block);
}

TEST_F(ParamFiles, MissingArrayIsNamed) {
  const std::string victim = std::string(model::kRootScope) + "/evoformer/preprocess_msa//bias";
  const auto p = rewrite("missing.npz", [&](auto& arrays) {
    std::erase_if(arrays, [&](const auto& a) { return a.first == victim; });
  });
  expect_refused(p, victim);
}

TEST_F(ParamFiles, ExtraArrayIsNamed) {
  const auto p = rewrite("extra.npz", [&](auto& arrays) {
    arrays.emplace_back("alphafold/alphafold_iteration/bogus_head//weights", io::NpyArray::zeros(io::NpyType::F32, {2}));
  });
  expect_refused(p, "bogus_head//weights");
}

TEST_F(ParamFiles, WrongShapeIsNamed) {
  const std::string victim = std::string(model::kRootScope) + "/evoformer/left_single//weights";
  const auto p = rewrite("shape.npz", [&](auto& arrays) {
    for (auto& [k, a] : arrays)
      if (k == victim) a = io::NpyArray::zeros(io::NpyType::F32, {21, 16});
  });
  expect_refused(p, victim);
}

TEST_F(ParamFiles, PtmFileWithNonPtmPresetAndViceVersa) {
  model::ModelConfig plain = cfg_;
  plain.heads.predicted_aligned_error = false;
  EXPECT_THROW(model::load_params(path_, plain, *backend_), Error);  // file has the PAE head, preset does not
  const auto no_pae = dir_ / "no_pae.npz";
  model::write_random_params(no_pae, plain, 3);
  expect_refused(no_pae, "predicted_aligned_error_head");
}

TEST_F(ParamFiles, CorruptFilesGiveClearErrors) {
  const auto truncated = dir_ / "truncated.npz";
  std::filesystem::copy_file(path_, truncated);
  std::filesystem::resize_file(truncated, std::filesystem::file_size(path_) / 2);
  EXPECT_THROW(model::load_params(truncated, cfg_, *backend_), Error);
  const auto text = dir_ / "not_a_zip.npz";
  std::ofstream(text) << "hello";
  expect_refused(text, "");
  EXPECT_THROW(model::load_params(dir_ / "does_not_exist.npz", cfg_, *backend_), Error);
}

}  // namespace
}  // namespace axf::test
