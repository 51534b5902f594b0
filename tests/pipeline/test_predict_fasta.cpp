// `axialfold predict --fasta` chains every stage: the searches (real jackhmmer on a generated family database),
// raw features, seeded processing and the model; and with --alignment-dir on real alignments and mmCIF templates.
#include <gtest/gtest.h>

#include <fstream>

#include "io/hdf5_arrays.h"
#include "model/params.h"
#include "msa_test_data.h"
#include "support/gemmi_reader.h"
#include "support/test_support.h"

namespace axf::test {
namespace {

std::pair<int, std::string> axialfold(const std::string& args) {
  return run_capture("AXF_LOG_QUIET=1 " + axialfold_binary().string() + " " + args + " 2>&1");
}

std::filesystem::path small_params(const std::filesystem::path& dir) {
  model::ModelConfig cfg = model::model_config("model_1_ptm");
  cfg.evoformer_num_block = 1;
  model::write_random_params(dir / "params.npz", cfg, 1);
  return dir / "params.npz";
}

TEST(PredictFasta, SearchesFeaturesProcessingAndModelInOneCommand) {
  if (!have_tool("jackhmmer")) FAIL() << "jackhmmer not found: run scripts/install-deps.sh (package hmmer)";
  const auto dir = scratch_dir("predict-fasta");
  FamilySpec spec;
  spec.families = 2;
  spec.members = 12;
  spec.unrelated = 200;
  const FamilyDatabase db = write_family_database(dir / "uniref90.fasta", spec);
  std::filesystem::copy_file(dir / "uniref90.fasta", dir / "mgnify.fasta");
  std::ofstream(dir / "db.cfg") << "uniref90 = uniref90.fasta\nmgnify = mgnify.fasta\n";
  std::ofstream(dir / "target.fasta") << ">target\n" << db.seeds[0] << "\n";
  const auto [rc, out] = axialfold("predict --params " + small_params(dir).string() + " --fasta " +
                                   (dir / "target.fasta").string() + " --databases " + (dir / "db.cfg").string() +
                                   " --searches uniref90,mgnify --output-dir " + (dir / "out").string() +
                                   " --recycles 0 --seed 3 --set data.max_extra_msa=128 --set data.max_msa_clusters=64");
  ASSERT_EQ(rc, 0) << out;
  for (const char* f : {"msas/target/uniref90_hits.sto", "msas/target/mgnify_hits.sto", "target_features.h5",
                        "target_model_inputs.h5", "target.pdb", "target.cif", "target_result.h5"})
    EXPECT_TRUE(std::filesystem::exists(dir / "out" / f)) << f;
  // The family was found: more than the query in the MSA.
  const auto raw = io::read_hdf5_arrays(dir / "out" / "target_features.h5");
  ASSERT_TRUE(raw.count("msa"));
  EXPECT_GT(raw.at("msa").shape[0], 5);
  EXPECT_EQ(raw.at("msa").shape[1], static_cast<int64_t>(db.seeds[0].size()));
  const auto attrs = io::read_hdf5_string_attributes(dir / "out" / "target_model_inputs.h5");
  EXPECT_EQ(attrs.at("seed"), "3");
  const ReadBack pdb = read_with_gemmi(dir / "out" / "target.pdb");
  EXPECT_GT(pdb.atoms.size(), db.seeds[0].size() * 4);
}

TEST(PredictFasta, ExistingAlignmentsAndRealTemplates) {
  const auto dir = scratch_dir("predict-aln");
  const auto data = shared_data_dir();
  const auto [rc, out] = axialfold("predict --params " + small_params(dir).string() + " --fasta " +
                                   (data / "alignments/query73/query.fasta").string() + " --alignment-dir " +
                                   (data / "alignments/query73").string() + " --mmcif-dir " +
                                   (data / "mmcif").string() + " --output-dir " + (dir / "out").string() +
                                   " --recycles 0 --name q73 --set data.max_extra_msa=256");
  ASSERT_EQ(rc, 0) << out;
  const auto inputs = io::read_hdf5_arrays(dir / "out" / "q73_model_inputs.h5");
  ASSERT_TRUE(inputs.count("template_mask"));
  const auto mask = inputs.at("template_mask").values<float>();
  EXPECT_EQ(std::count(mask.begin(), mask.end(), 1.0f), 4) << "the four shared PDB entries are templates";
  EXPECT_TRUE(std::filesystem::exists(dir / "out" / "q73.pdb"));
  // Both --features and --fasta, or neither: refused.
  EXPECT_NE(axialfold("predict --params x --output-dir " + (dir / "o").string()).first, 0);
}

}  // namespace
}  // namespace axf::test
