// The axialfold binary end to end: make-params, predict, show-config, and its refusals of bad input.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "core/sha256.h"
#include "io/hdf5_arrays.h"
#include "io/tensor_npy.h"
#include "support/model_test_support.h"
#include "support/test_support.h"

namespace axf::test {
namespace {

struct Result {
  int status;
  std::string output;
};

Result run(const std::string& args) {
  const std::string cmd = "env -u AXF_LOG_QUIET " + axialfold_binary().string() + " " + args + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  EXPECT_NE(p, nullptr);
  std::string out;
  std::array<char, 4096> buf;
  while (size_t n = fread(buf.data(), 1, buf.size(), p)) out.append(buf.data(), n);
  const int rc = pclose(p);
  return {WIFEXITED(rc) ? WEXITSTATUS(rc) : -1, out};
}

std::filesystem::path write_features(const std::filesystem::path& dir) {
  const auto arrays = random_feature_arrays(12, 5, 8, 2, 42);
  std::vector<io::NpyArray> store;
  for (const auto& [k, t] : arrays) store.push_back(io::npy_from_tensor(t));
  std::vector<std::pair<std::string, const io::NpyArray*>> named;
  size_t i = 0;
  for (const auto& [k, t] : arrays) named.emplace_back(k, &store[i++]);
  io::write_hdf5_arrays(dir / "features.h5", named);
  return dir / "features.h5";
}

TEST(Cli, MakeParamsThenPredictWritesRepresentationsWithProvenance) {
  const auto dir = scratch_dir("cli");
  const auto params = dir / "params.npz";
  Result r = run("make-params --preset model_1_ptm --evoformer-blocks 2 --seed 3 --out " + params.string());
  ASSERT_EQ(r.status, 0) << r.output;
  const auto features = write_features(dir);
  r = run("predict --params " + params.string() + " --features " + features.string() + " --output-dir " +
          (dir / "out").string() + " --chunk-pair-rows 5");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("Evoformer stack"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("total"), std::string::npos) << r.output;
  const auto h5 = dir / "out" / "representations.h5";
  const auto arrays = io::read_hdf5_arrays(h5);
  ASSERT_TRUE(arrays.count("single") && arrays.count("pair") && arrays.count("msa_first_row"));
  EXPECT_EQ(arrays.at("pair").shape, std::vector<int64_t>({12, 12, 128}));
  const auto attrs = io::read_hdf5_string_attributes(h5);
  EXPECT_EQ(attrs.at("params_sha256"), core::sha256_file(params));
  EXPECT_EQ(attrs.at("preset"), "model_1_ptm");
  EXPECT_NE(attrs.at("config").find("evoformer_num_block = 2"), std::string::npos);
  for (const auto& entry : std::filesystem::directory_iterator(dir / "out"))
    EXPECT_EQ(entry.path().filename().string().find(".tmp"), std::string::npos) << "leftover " << entry.path();
}

TEST(Cli, BadInputGivesClearErrorsAndNonZeroExit) {
  const auto dir = scratch_dir("cli-bad");
  const auto params = dir / "params.npz";
  ASSERT_EQ(run("make-params --evoformer-blocks 1 --out " + params.string()).status, 0);
  const auto features = write_features(dir);

  Result r = run("make-params");
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.output.find("--out"), std::string::npos) << r.output;

  r = run("predict --params " + params.string() + " --features " + (dir / "nope.npz").string() + " --output-dir " +
          (dir / "o").string());
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.output.find("nope.npz"), std::string::npos) << r.output;

  // A _ptm parameter file used with a preset that has no PAE head: the extra array is named.
  r = run("predict --preset model_1 --params " + params.string() + " --features " + features.string() +
          " --output-dir " + (dir / "o").string());
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.output.find("predicted_aligned_error_head"), std::string::npos) << r.output;

  // An output directory that cannot be created.
  std::ofstream(dir / "file") << "x";
  r = run("predict --params " + params.string() + " --features " + features.string() + " --output-dir " +
          (dir / "file" / "sub").string());
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.output.find("output directory"), std::string::npos) << r.output;

  r = run("predict --params " + params.string() + " --features " + features.string() + " --output-dir " +
          (dir / "o").string() + " --set no_such_key=1");
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.output.find("no_such_key"), std::string::npos) << r.output;

  r = run("frobnicate");
  EXPECT_NE(r.status, 0);
}

TEST(Cli, ConfigPresetsInRepositoryMatchShowConfig) {
  for (const std::string preset : {"model_1", "model_2", "model_3", "model_4", "model_5", "model_1_ptm",
                                   "model_2_ptm", "model_3_ptm", "model_4_ptm", "model_5_ptm"}) {
    const Result r = run("show-config --preset " + preset);
    ASSERT_EQ(r.status, 0) << r.output;
    std::ifstream in(std::filesystem::path(AXF_SOURCE_DIR) / "configs" / (preset + ".cfg"));
    ASSERT_TRUE(in.good()) << "configs/" << preset << ".cfg missing";
    std::stringstream file;
    file << in.rdbuf();
    EXPECT_EQ(file.str(), r.output) << "configs/" << preset << ".cfg is out of date: regenerate with show-config";
  }
}

TEST(Cli, ConfigFileOptionsAndModelSection) {
  const auto dir = scratch_dir("cli-cfg");
  std::ofstream(dir / "run.cfg") << "preset = model_3\nevoformer-blocks = 1\n[model]\nextra_msa_stack_num_block = 2\n";
  const auto params = dir / "p.npz";
  const Result r = run("make-params --config " + (dir / "run.cfg").string() + " --out " + params.string());
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("preset model_3, 1 Evoformer blocks"), std::string::npos) << r.output;
  std::ofstream(dir / "bad.cfg") << "no-such-option = 3\n";
  const Result bad = run("make-params --config " + (dir / "bad.cfg").string() + " --out " + params.string());
  EXPECT_NE(bad.status, 0);
  EXPECT_NE(bad.output.find("no-such-option"), std::string::npos) << bad.output;
}

}  // namespace
}  // namespace axf::test
