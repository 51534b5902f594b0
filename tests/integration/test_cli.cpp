// The axialfold binary end to end: make-params, predict, show-config, and its refusals of bad input.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "core/sha256.h"
#include "io/hdf5_arrays.h"
#include "io/tensor_npy.h"
#include "model/residue_constants.h"
#include "support/gemmi_reader.h"
#include "support/model_test_support.h"
#include "support/test_support.h"

namespace axf::test {
namespace {

struct Result {
  int status;
  std::string output;
};

Result run(const std::string& args) {
  auto [status, out] = run_capture("env -u AXF_LOG_QUIET " + axialfold_binary().string() + " " + args + " 2>&1");
  return {status, out};
}

// The number, or the numbers of the (nested) array, that follows "key": in a JSON text.
std::vector<double> json_numbers(const std::string& text, const std::string& key) {
  const auto at = text.find("\"" + key + "\"");
  EXPECT_NE(at, std::string::npos) << key;
  std::vector<double> out;
  if (at == std::string::npos) return out;
  size_t i = text.find(':', at) + 1;
  while (i < text.size() && text[i] == ' ') ++i;
  if (i < text.size() && text[i] != '[') {  // a scalar
    out.push_back(std::stod(text.substr(i)));
    return out;
  }
  int depth = 0;
  for (; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '[') ++depth;
    if (c == ']' && --depth == 0) break;
    if ((c >= '0' && c <= '9') || c == '-') {
      size_t used = 0;
      out.push_back(std::stod(text.substr(i), &used));
      i += used - 1;
    }
  }
  return out;
}

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::filesystem::path write_features(const std::filesystem::path& dir) {
  const auto arrays = random_feature_arrays(24, 6, 10, 2, 42);
  std::vector<io::NpyArray> store;
  for (const auto& [k, t] : arrays) store.push_back(io::npy_from_tensor(t));
  std::vector<std::pair<std::string, const io::NpyArray*>> named;
  size_t i = 0;
  for (const auto& [k, t] : arrays) named.emplace_back(k, &store[i++]);
  io::write_hdf5_arrays(dir / "features.h5", named);
  return dir / "features.h5";
}

TEST(Cli, PredictEndToEndL24TwoBlocksOneRecycle) {
  const auto dir = scratch_dir("cli");
  const auto params = dir / "params.npz";
  Result r = run("make-params --preset model_1_ptm --evoformer-blocks 2 --seed 3 --out " + params.string());
  ASSERT_EQ(r.status, 0) << r.output;
  const auto features = write_features(dir);
  const auto out = dir / "out";
  r = run("predict --params " + params.string() + " --features " + features.string() + " --output-dir " +
          out.string() + " --recycles 1 --name t24 --chunk-pair-rows 5");
  ASSERT_EQ(r.status, 0) << r.output;
  for (const char* stage : {"pass 1/2", "pass 2/2 (recycle 1)", "Evoformer stack", "structure module", "total"})
    EXPECT_NE(r.output.find(stage), std::string::npos) << stage << " missing from:\n" << r.output;
  for (const char* f : {"t24.pdb", "t24.cif", "t24_confidence.json", "t24_pae.json", "t24_summary.json", "t24_result.h5"})
    EXPECT_TRUE(std::filesystem::exists(out / f)) << f;
  for (const auto& entry : std::filesystem::directory_iterator(out))
    EXPECT_EQ(entry.path().filename().string().find(".tmp"), std::string::npos) << "leftover " << entry.path();

  // HDF5: the numbers and the provenance.
  const auto h5 = io::read_hdf5_arrays(out / "t24_result.h5");
  for (const char* k : {"final_atom_positions", "final_atom_mask", "plddt", "predicted_aligned_error", "ptm",
                        "distogram_logits", "single", "pair"})
    ASSERT_TRUE(h5.count(k)) << k;
  EXPECT_EQ(h5.at("pair").shape, std::vector<int64_t>({24, 24, 128}));
  const auto attrs = io::read_hdf5_string_attributes(out / "t24_result.h5");
  EXPECT_EQ(attrs.at("params_sha256"), core::sha256_file(params));
  EXPECT_EQ(attrs.at("preset"), "model_1_ptm");
  EXPECT_EQ(attrs.at("passes"), "2");
  EXPECT_NE(attrs.at("config").find("evoformer_num_block = 2"), std::string::npos);
  const Tensor pos = io::tensor_from_npy(h5.at("final_atom_positions"), "pos");
  const Tensor mask = io::tensor_from_npy(h5.at("final_atom_mask"), "mask");
  const Tensor plddt = io::tensor_from_npy(h5.at("plddt"), "plddt");
  const Tensor pae = io::tensor_from_npy(h5.at("predicted_aligned_error"), "pae");
  for (float x : pos.to_vector()) ASSERT_TRUE(std::isfinite(x));

  // JSON agrees with HDF5 (AlphaFold's rounding: pLDDT 2 decimals, PAE 1 decimal).
  const auto conf = json_numbers(slurp(out / "t24_confidence.json"), "confidenceScore");
  ASSERT_EQ(conf.size(), 24u);
  for (int i = 0; i < 24; ++i) EXPECT_NEAR(conf[i], plddt.data<float>()[i], 0.0051) << i;
  const auto pae_json = json_numbers(slurp(out / "t24_pae.json"), "predicted_aligned_error");
  ASSERT_EQ(pae_json.size(), 576u);
  for (int i = 0; i < 576; ++i) EXPECT_NEAR(pae_json[i], pae.data<float>()[i], 0.051) << i;
  const auto ptm = json_numbers(slurp(out / "t24_summary.json"), "ptm");
  ASSERT_FALSE(ptm.empty());
  EXPECT_NEAR(ptm.front(), io::tensor_from_npy(h5.at("ptm"), "ptm").to_vector()[0], 1e-6);

  // PDB and mmCIF read back with gemmi give the HDF5 coordinates and pLDDT B-factors.
  for (const char* file : {"t24.pdb", "t24.cif"}) {
    const ReadBack rb = read_with_gemmi(out / file);
    size_t expected_atoms = 0;
    for (float m : mask.to_vector()) expected_atoms += m > 0.5f;
    ASSERT_EQ(rb.atoms.size(), expected_atoms) << file;
    for (const auto& a : rb.atoms) {  // RESSEQ RESNAME ATOMNAME ELEMENT X Y Z B OCC
      const int64_t residue = std::stoi(a[0]) - 1;
      const int slot = model::atom37_index(a[2]);
      ASSERT_GE(slot, 0) << a[2];
      const int64_t res_pos = std::find(h5.at("residue_index").values<int32_t>().begin(),
                                        h5.at("residue_index").values<int32_t>().end(), residue) -
                              h5.at("residue_index").values<int32_t>().begin();
      ASSERT_LT(res_pos, 24);
      for (int k = 0; k < 3; ++k)
        EXPECT_NEAR(std::stod(a[4 + k]), pos.data<float>()[(res_pos * 37 + slot) * 3 + k], 0.0011) << file;
      EXPECT_NEAR(std::stod(a[7]), plddt.data<float>()[res_pos], 0.0051) << file;
    }
  }
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

  // A parameter file without the PAE head used with a _ptm preset: the missing array is named.
  const auto plain = dir / "plain.npz";
  ASSERT_EQ(run("make-params --preset model_1 --evoformer-blocks 1 --out " + plain.string()).status, 0);
  r = run("predict --preset model_1_ptm --params " + plain.string() + " --features " + features.string() +
          " --output-dir " + (dir / "o").string());
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.output.find("missing array 'alphafold/alphafold_iteration/predicted_aligned_error_head"),
            std::string::npos) << r.output;
  EXPECT_FALSE(std::filesystem::exists(dir / "o" / "features.pdb"));

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

  // A precision the CPU reference cannot compute in, and an unknown one.
  r = run("predict --params " + params.string() + " --features " + features.string() + " --output-dir " +
          (dir / "o").string() + " --precision bf16");
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.output.find("--precision bf16: the cpu backend computes in fp32 only"), std::string::npos) << r.output;
  r = run("predict --params " + params.string() + " --features " + features.string() + " --output-dir " +
          (dir / "o").string() + " --precision fp8");
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.output.find("expected fp32, tf32 or bf16"), std::string::npos) << r.output;
  EXPECT_FALSE(std::filesystem::exists(dir / "o" / "features.pdb"));

  r = run("predict --params " + params.string() + " --features " + features.string() + " --output-dir " +
          (dir / "o").string() + " --pair-arrays maybe");
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.output.find("--pair-arrays maybe: expected auto, yes or no"), std::string::npos) << r.output;
  EXPECT_FALSE(std::filesystem::exists(dir / "o" / "features.pdb"));

  r = run("predict --params " + params.string() + " --features " + features.string() + " --output-dir " +
          (dir / "o").string() + " --cuda-graphs sometimes");
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.output.find("--cuda-graphs: expected auto, on or off, got 'sometimes'"), std::string::npos) << r.output;
  EXPECT_FALSE(std::filesystem::exists(dir / "o" / "features.pdb"));

  r = run("frobnicate");
  EXPECT_NE(r.status, 0);
}

// --pair-arrays no (auto's choice above 4 GiB, e.g. L = 10,000: 77 GB): the result file keeps the structure, pLDDT,
// PAE and pTM but leaves out the [L, L, *] arrays, and says so; the same run with yes writes them.
TEST(Cli, PredictLeavesOutThePairArraysWhenAsked) {
  const auto dir = scratch_dir("cli-pair-arrays");
  const auto params = dir / "params.npz";
  ASSERT_EQ(run("make-params --evoformer-blocks 1 --out " + params.string()).status, 0);
  const auto features = write_features(dir);
  for (const std::string choice : {"no", "yes"}) {
    const auto out = dir / choice;
    const Result r = run("predict --params " + params.string() + " --features " + features.string() +
                         " --output-dir " + out.string() + " --recycles 0 --name t --pair-arrays " + choice);
    ASSERT_EQ(r.status, 0) << r.output;
    EXPECT_EQ(r.output.find("are not written (--pair-arrays no") != std::string::npos, choice == "no") << r.output;
    const auto h5 = io::read_hdf5_arrays(out / "t_result.h5");
    for (const char* k : {"final_atom_positions", "plddt", "predicted_aligned_error", "ptm", "single"})
      EXPECT_TRUE(h5.count(k)) << k << " (" << choice << ")";
    for (const char* k : {"pair", "distogram_logits", "distogram_bin_edges"})
      EXPECT_EQ(h5.count(k), choice == "yes" ? 1u : 0u) << k << " (" << choice << ")";
    const auto attrs = io::read_hdf5_string_attributes(out / "t_result.h5");
    EXPECT_EQ(attrs.at("pair_arrays"), choice == "yes" ? "written" : "not written (predict --pair-arrays)");
    EXPECT_TRUE(std::filesystem::exists(out / "t_pae.json"));
  }
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

namespace axf::test {
namespace {

// axialfold plan: the breakdown, the fit verdict against --gpu-memory, and its refusals.
TEST(Cli, PlanPrintsTheBreakdownAndTheFitVerdict) {
  Result r = run("plan --length 256 --precision bf16 --device cpu --gpu-memory 80");
  ASSERT_EQ(r.status, 0) << r.output;
  for (const char* s : {"# persistent buffers", "pair representation", "Evoformer stack", "<- peak",
                        "# predicted peak device memory", "# fits in 80.00 GiB"})
    EXPECT_NE(r.output.find(s), std::string::npos) << s << " missing from:\n" << r.output;
  r = run("plan --length 10000 --precision fp32 --gpu-memory 16");
  EXPECT_EQ(r.status, 3) << r.output;
  EXPECT_NE(r.output.find("does NOT fit in 16.00 GiB"), std::string::npos) << r.output;
  // Chunking lowers the predicted peak by about half (the persistent buffers, 3.5 GiB of it, stay).
  auto peak = [](const std::string& out) {
    const size_t at = out.rfind("  peak ");
    return at == std::string::npos ? -1.0 : std::stod(out.substr(out.find_first_of("0123456789", at)));
  };
  const double whole = peak(run("plan --length 2048 --precision bf16").output);
  const double chunked =
      peak(run("plan --length 2048 --precision bf16 --chunk-pair-rows 64 --chunk-msa-rows 64 --chunk-msa-columns 64 "
               "--chunk-template-rows 64 --chunk-triangle-channels 32")
               .output);
  EXPECT_GT(whole, 0);
  EXPECT_LT(chunked, 0.6 * whole);  // 5.75 against 11.50 GiB
  // The long-sequence and small-GPU presets: bf16 and planner-chosen chunks (the small-GPU one without the template
  // cache), and they fit the memory they are meant for.
  const std::string configs = std::string(AXF_SOURCE_DIR) + "/configs/";
  r = run("plan --config " + configs + "small-gpu.cfg --length 700 --gpu-memory 8");
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("bf16"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("template cache off"), std::string::npos) << r.output;
  r = run("plan --config " + configs + "long-sequence.cfg --length 3000 --gpu-memory 80");
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("# chunking auto:"), std::string::npos) << r.output;

  // L=8,000 in fp32 on an 80 GB card only with the pair in host memory during the templates, which --chunking auto
  // reaches last; asking for it by hand needs the streamed templates.
  r = run("plan --length 8000 --precision fp32 --chunking auto --gpu-memory 78.5");
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("pair in host memory during the templates"), std::string::npos) << r.output;
  r = run("plan --length 8000 --precision fp32 --chunking auto --gpu-memory 78.5 --no-template-cache");
  EXPECT_EQ(r.status, 0) << r.output;
  r = run("plan --length 512 --offload-pair");
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.output.find("--offload-pair needs --no-template-cache"), std::string::npos) << r.output;
  const double lent = peak(run("plan --length 2048 --no-template-cache --offload-pair").output);
  const double streamed = peak(run("plan --length 2048 --no-template-cache").output);
  EXPECT_GT(lent, 0);
  EXPECT_LE(lent, streamed);

  // --pair-arrays no: the heads skip the distogram logits (3 x [L, L, 64] fp32 per block of rows), so their stage
  // shrinks by about 3 GiB at L=2048 unchunked; a choice other than yes, no or auto is refused by name.
  auto heads = [](const std::string& out) {
    const size_t at = out.find("  heads ");
    return at == std::string::npos ? -1.0 : std::stod(out.substr(out.find_first_of("0123456789", at)));
  };
  const double heads_with = heads(run("plan --length 2048 --pair-arrays yes").output);
  const double heads_without = heads(run("plan --length 2048 --pair-arrays no").output);
  EXPECT_GT(heads_without, 0.0);
  EXPECT_LT(heads_without, heads_with - 2.0);
  r = run("plan --length 64 --pair-arrays maybe");
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.output.find("--pair-arrays maybe"), std::string::npos) << r.output;
  r = run("plan --precision bf16");
  EXPECT_EQ(r.status, 2);
  r = run("plan --length 64 --precision fp8");
  EXPECT_NE(r.status, 0);
}

}  // namespace
}  // namespace axf::test
