// Raw features: query73's sequence and MSA features against the reference made by OpenFold's implementation of
// AlphaFold's data pipeline, make_msa_features' order/caps/deduplication on small alignments, the HDF5 file and
// the `axialfold features` command, and clear errors (naming the file) for bad input.
#include <gtest/gtest.h>

#include <fstream>

#include "core/sha256.h"
#include "io/hdf5_arrays.h"
#include "io/io_test_helpers.h"
#include "io/npz.h"
#include "io/tensor_npy.h"
#include "model/model_inputs.h"
#include "pipeline/raw_features.h"
#include "pipeline/template_features.h"
#include "support/gemmi_reader.h"
#include "support/test_support.h"

namespace axf::pipeline {
namespace {

namespace fs = std::filesystem;
using axf::test::expect_axf_error;
using axf::test::ScratchDir;
using axf::test::temp_files_in;

fs::path query73_dir() { return axf::test::shared_data_dir() / "alignments" / "query73"; }

void write_text(const fs::path& p, const std::string& text) {
  std::ofstream f(p, std::ios::binary | std::ios::trunc);
  f << text;
}

std::vector<int32_t> ints(const core::Tensor& t) {
  EXPECT_EQ(t.dtype(), core::DType::I32) << t.describe();
  const core::Tensor c = t.contiguous();
  return std::vector<int32_t>(c.data<int32_t>(), c.data<int32_t>() + c.numel());
}

// The reference array as int32 values (the npz may hold int64 or float one-hots).
std::pair<core::Shape, std::vector<int32_t>> reference(const io::NpzReader& npz, const std::string& key) {
  const core::Tensor t = io::tensor_from_npy(npz.read(key), npz.path().string() + ": " + key);
  std::vector<int32_t> v;
  for (float x : t.to_vector()) v.push_back(static_cast<int32_t>(x));
  return {t.shape(), v};
}

TEST(RawFeatures, Query73MsaAndSequenceFeaturesEqualReference) {
  const io::FastaRecord query = read_query_fasta(query73_dir() / "query.fasta");
  RawFeatureExtras extras;
  const auto f = make_raw_features(query, query73_dir(), RawFeatureOptions{}, &extras);
  const io::NpzReader npz(axf::test::shared_data_dir() / "features" / "query73_raw_features.npz");
  for (const char* key : {"msa", "deletion_matrix_int", "num_alignments", "aatype", "residue_index", "seq_length",
                          "between_segment_residues"}) {
    SCOPED_TRACE(key);
    ASSERT_TRUE(npz.has(key));
    ASSERT_TRUE(f.count(key));
    const auto [shape, values] = reference(npz, key);
    EXPECT_EQ(f.at(key).shape(), shape);
    const std::vector<int32_t> ours = ints(f.at(key));
    ASSERT_EQ(ours.size(), values.size());
    size_t mismatches = 0, first = values.size();
    for (size_t i = 0; i < values.size(); ++i)
      if (ours[i] != values[i]) {
        ++mismatches;
        first = std::min(first, i);
      }
    EXPECT_EQ(mismatches, 0u) << "first at flat index " << first;
  }
  EXPECT_EQ(f.at("msa").shape(), (core::Shape{1136, 73}));
  EXPECT_EQ(extras.strings.at("sequence"), query.sequence);
  EXPECT_EQ(extras.strings.at("domain_name"), "query");
  // No mmCIF directory: AlphaFold's zero templates, shaped for T = 0.
  EXPECT_EQ(f.at("template_aatype").shape(), (core::Shape{0, 73, 22}));
  EXPECT_EQ(f.at("template_all_atom_positions").shape(), (core::Shape{0, 73, 37, 3}));
  EXPECT_EQ(f.at("template_all_atom_masks").shape(), (core::Shape{0, 73, 37}));
  EXPECT_EQ(f.at("template_sum_probs").shape(), (core::Shape{0, 1}));
  EXPECT_EQ(extras.strings.at("template_domain_names"), "");
  ASSERT_EQ(extras.inputs.size(), 3u);  // the three MSAs; the hhr is unused without mmCIF files
  EXPECT_EQ(extras.inputs[0].filename(), "uniref90_hits.sto");
  EXPECT_EQ(extras.inputs[1].filename(), "bfd_uniclust_hits.a3m");
  EXPECT_EQ(extras.inputs[2].filename(), "mgnify_hits.sto");
}

// A 10-residue query with hand-made alignments, so order, caps and deduplication can be checked row by row.
const std::string kQuery = "MKVLAAGIVG";

void write_small_alignments(const fs::path& dir) {
  write_text(dir / "uniref90_hits.sto",
             "# STOCKHOLM 1.0\n\nquery      MKVLAAGIVG\nu1         MKVLA-GIVG\nu2         MKVLAAGIVG\n"
             "u3         MRVLAAGIVG\n//\n");
  write_text(dir / "bfd_uniclust_hits.a3m",
             ">query\nMKVLAAGIVG\n>b1 same as u1\nMKVLA-GIVG\n>b2 insertion before column 3\nMKaaVLAAGIVA\n");
  write_text(dir / "mgnify_hits.sto",
             "# STOCKHOLM 1.0\n\nquery      MKVLAAGIVG\nm1         MKVLAAGIWG\nm2         MKVLAAGIWW\n//\n");
}

// HHblits ids of a row, for expectations.
std::vector<int32_t> hh(const std::string& row) {
  std::vector<int32_t> v;
  for (char c : row) v.push_back(hhblits_aa_to_id(c));
  return v;
}

TEST(RawFeatures, MsaOrderCapsAndDeduplicationAsMakeMsaFeatures) {
  const ScratchDir dir("feat-small");
  write_small_alignments(dir);
  RawFeatureOptions options;
  options.uniref_max_hits = 3;  // query, u1, u2 (u3 cut)
  options.mgnify_max_hits = 2;  // query, m1 (m2 cut)
  RawFeatureExtras extras;
  const auto f = make_raw_features({"query", "query", kQuery}, dir.path(), options, &extras);
  // query, u1 (u2 == query dropped), b2 (b1 == u1 dropped), m1.
  std::vector<int32_t> expected;
  for (const char* row : {"MKVLAAGIVG", "MKVLA-GIVG", "MKVLAAGIVA", "MKVLAAGIWG"}) {
    const auto ids = hh(row);
    expected.insert(expected.end(), ids.begin(), ids.end());
  }
  EXPECT_EQ(f.at("msa").shape(), (core::Shape{4, 10}));
  EXPECT_EQ(ints(f.at("msa")), expected);
  std::vector<int32_t> deletions(40, 0);
  deletions[2 * 10 + 2] = 2;  // "aa" before column 3 of b2
  EXPECT_EQ(ints(f.at("deletion_matrix_int")), deletions);
  EXPECT_EQ(ints(f.at("num_alignments")), std::vector<int32_t>(10, 4));
  ASSERT_EQ(extras.msa_summary.size(), 3u);
  EXPECT_EQ(extras.msa_summary[0], "uniref90_hits.sto: 3 rows (of 4)");
  EXPECT_EQ(extras.msa_summary[2], "mgnify_hits.sto: 2 rows (of 3)");
  // The gap is 21, as HHBLITS_AA_TO_ID; unknown letters map as AlphaFold's table does.
  EXPECT_EQ(hhblits_aa_to_id('-'), 21);
  EXPECT_EQ(hhblits_aa_to_id('B'), 2);
  EXPECT_EQ(hhblits_aa_to_id('U'), 1);
  EXPECT_EQ(hhblits_aa_to_id('Z'), 3);
  EXPECT_EQ(hhblits_aa_to_id('O'), 20);
  EXPECT_EQ(hhblits_aa_to_id('a'), -1);
}

TEST(RawFeatures, SequenceFeaturesMapUnknownLettersToX) {
  const auto f = make_sequence_features("ARXBU");
  const std::vector<int32_t> a = ints(f.at("aatype"));
  ASSERT_EQ(a.size(), 5u * 21u);
  EXPECT_EQ(a[0 * 21 + 0], 1);   // A
  EXPECT_EQ(a[1 * 21 + 1], 1);   // R
  EXPECT_EQ(a[2 * 21 + 20], 1);  // X
  EXPECT_EQ(a[3 * 21 + 20], 1);  // B -> X
  EXPECT_EQ(a[4 * 21 + 20], 1);  // U -> X
  EXPECT_EQ(ints(f.at("residue_index")), (std::vector<int32_t>{0, 1, 2, 3, 4}));
  EXPECT_EQ(ints(f.at("seq_length")), std::vector<int32_t>(5, 5));
  EXPECT_EQ(ints(f.at("between_segment_residues")), std::vector<int32_t>(5, 0));
}

TEST(RawFeatures, BadInputErrorsNameTheFile) {
  const ScratchDir dir("feat-bad");
  const io::FastaRecord query{"query", "query", kQuery};
  const RawFeatureOptions options;
  expect_axf_error([&] { make_raw_features(query, dir / "missing", options); }, {"missing", "does not exist"});
  expect_axf_error([&] { make_raw_features(query, dir.path(), options); }, {dir.path().string(), "no MSA"});

  write_small_alignments(dir);
  write_text(dir / "uniref90_hits.sto", "");
  expect_axf_error([&] { make_raw_features(query, dir.path(), options); }, {"uniref90_hits.sto", "empty"});
  write_text(dir / "uniref90_hits.sto", "# STOCKHOLM 1.0\nquery MKVLAAGIVG\nu1 MKV\n//\n");
  expect_axf_error([&] { make_raw_features(query, dir.path(), options); }, {"uniref90_hits.sto"});
  write_small_alignments(dir);
  write_text(dir / "bfd_uniclust_hits.a3m", ">query\nMKVLAAGIVG\n>b1\nMK*LAAGIVG\n");
  expect_axf_error([&] { make_raw_features(query, dir.path(), options); }, {"bfd_uniclust_hits.a3m"});
  write_small_alignments(dir);
  write_text(dir / "bfd_uniref_hits.a3m", ">query\nMKVLAAGIVG\n");
  expect_axf_error([&] { make_raw_features(query, dir.path(), options); },
                   {"bfd_uniclust_hits.a3m", "bfd_uniref_hits.a3m"});
  fs::remove(dir / "bfd_uniref_hits.a3m");
  // Alignments of another query.
  expect_axf_error([&] { make_raw_features({"q", "q", "MKVLAAGIVGW"}, dir.path(), options); },
                   {"uniref90_hits.sto", "10 columns", "11 residues"});
  write_text(dir / "pdb70_hits.hhr", "\n");
  make_raw_features(query, dir.path(), options);  // not read without an mmCIF directory
  RawFeatureOptions with_templates = options;
  with_templates.mmcif_dir = axf::test::shared_data_dir() / "mmcif";
  expect_axf_error([&] { make_raw_features(query, dir.path(), with_templates); }, {"pdb70_hits.hhr", "empty"});
  write_text(dir / "pdb70_hits.hhr", "No 1\n>1ABC_A something\nProbab=garbage\n");
  expect_axf_error([&] { make_raw_features(query, dir.path(), with_templates); }, {"pdb70_hits.hhr"});
  fs::remove(dir / "pdb70_hits.hhr");

  // Queries that are not protein sequences.
  write_text(dir / "dna.fasta", ">dna\nACGTACGTTTGACCATGACGATCGATCGA\n");
  expect_axf_error([&] { read_query_fasta(dir / "dna.fasta"); }, {"dna.fasta", "DNA or RNA"});
  write_text(dir / "digits.fasta", ">x\nMKV1LA\n");
  expect_axf_error([&] { read_query_fasta(dir / "digits.fasta"); }, {"digits.fasta"});
  write_text(dir / "two.fasta", ">a\nMKV\n>b\nMKL\n");
  expect_axf_error([&] { read_query_fasta(dir / "two.fasta"); }, {"two.fasta", "exactly one"});
  write_text(dir / "empty.fasta", "");
  expect_axf_error([&] { read_query_fasta(dir / "empty.fasta"); }, {"empty.fasta", "empty"});
  expect_axf_error([&] { read_query_fasta(dir / "none.fasta"); }, {"none.fasta"});
  expect_axf_error([&] { make_raw_features({"q", "q", "MKVL*"}, dir.path(), options); }, {"query 'q'", "'*'"});
}

TEST(RawFeatures, HdfFileRoundTripWithAttributes) {
  const ScratchDir dir("feat-h5");
  write_small_alignments(dir);
  RawFeatureExtras extras;
  const auto f = make_raw_features({"query", "query desc", kQuery}, dir.path(), RawFeatureOptions{}, &extras);
  auto attributes = extras.strings;
  attributes["version"] = "test";
  write_raw_features(dir / "raw.h5", f, attributes);
  const auto back = io::read_hdf5_arrays(dir / "raw.h5");
  ASSERT_EQ(back.size(), f.size());
  for (const auto& [k, t] : f) {
    SCOPED_TRACE(k);
    ASSERT_TRUE(back.count(k));
    const core::Tensor r = io::tensor_from_npy(back.at(k), k);
    EXPECT_EQ(r.shape(), t.shape());
    EXPECT_EQ(r.dtype(), t.dtype());
    EXPECT_EQ(r.to_vector(), t.to_vector());
  }
  const auto attrs = io::read_hdf5_string_attributes(dir / "raw.h5");
  EXPECT_EQ(attrs.at("domain_name"), "query desc");
  EXPECT_EQ(attrs.at("sequence"), kQuery);
  EXPECT_EQ(attrs.at("version"), "test");
  EXPECT_TRUE(temp_files_in(dir.path()).empty());
  // A failed write leaves nothing under the final name.
  std::map<std::string, core::Tensor> bad = f;
  bad["broken"] = core::Tensor();
  expect_axf_error([&] { write_raw_features(dir / "bad.h5", bad, {}); }, {"bad.h5", "broken"});
  EXPECT_FALSE(fs::exists(dir / "bad.h5"));
  expect_axf_error([&] { write_raw_features(dir / "no" / "such" / "x.h5", f, {}); }, {"x.h5", "does not exist"});
}

// ---- The command ----------------------------------------------------------------------------------------

std::pair<int, std::string> run_features(const std::string& args) {
  return axf::test::run_capture("AXF_LOG_QUIET=1 " + axf::test::axialfold_binary().string() + " features " + args +
                                " 2>&1");
}

TEST(FeaturesCommand, Query73WithTemplatesWritesHdfWithProvenance) {
  const ScratchDir dir("feat-cli");
  const fs::path out = dir / "query73.h5";
  const fs::path data = axf::test::shared_data_dir();
  const fs::path inputs_file = dir / "query73_inputs.h5";
  const auto [rc, log] = run_features("--fasta " + (query73_dir() / "query.fasta").string() + " --alignment-dir " +
                                      query73_dir().string() + " --mmcif-dir " + (data / "mmcif").string() +
                                      " --out " + out.string() + " --model-inputs " + inputs_file.string() +
                                      " --preset model_1_ptm --seed 7");
  ASSERT_EQ(rc, 0) << log;
  // The processed inputs are what `predict` reads, with their seed and the raw file's checksum recorded.
  const model::ModelInputs model_inputs = model::load_model_inputs(inputs_file);
  EXPECT_EQ(model_inputs.num_res(), 73);
  EXPECT_EQ(model_inputs.templates.count(), 4);
  const auto input_attrs = io::read_hdf5_string_attributes(inputs_file);
  EXPECT_EQ(input_attrs.at("seed"), "7");
  EXPECT_EQ(input_attrs.at("raw_features_sha256"), core::sha256_file(out));
  const auto arrays = io::read_hdf5_arrays(out);
  EXPECT_EQ(arrays.at("msa").shape, (std::vector<int64_t>{1136, 73}));
  EXPECT_EQ(arrays.at("msa").type, io::NpyType::I32);
  EXPECT_EQ(arrays.at("template_aatype").shape, (std::vector<int64_t>{4, 73, 22}));
  EXPECT_EQ(arrays.at("template_all_atom_positions").type, io::NpyType::F32);
  const auto attrs = io::read_hdf5_string_attributes(out);
  EXPECT_EQ(attrs.at("version"), AXF_VERSION);
  EXPECT_EQ(attrs.at("template_domain_names"), "1psm_A\n3zee_A\n4i6p_A\n2q2k_A");
  const std::string inputs = attrs.at("inputs_sha256");
  EXPECT_NE(inputs.find(core::sha256_file(query73_dir() / "query.fasta") + "  "), std::string::npos) << inputs;
  EXPECT_NE(inputs.find(core::sha256_file(data / "mmcif" / "2q2k.cif") + "  "), std::string::npos) << inputs;
  EXPECT_NE(inputs.find("pdb70_hits.hhr"), std::string::npos);
  EXPECT_EQ(attrs.at("fasta_sha256"), core::sha256_file(query73_dir() / "query.fasta"));
  EXPECT_TRUE(temp_files_in(dir.path()).empty());
}

TEST(FeaturesCommand, BadInputFailsWithoutOutput) {
  const ScratchDir dir("feat-cli-bad");
  const fs::path out = dir / "out.h5";
  const std::string fasta = (query73_dir() / "query.fasta").string();
  {
    const auto [rc, log] = run_features("--fasta " + fasta + " --alignment-dir " + (dir / "nope").string() +
                                        " --out " + out.string());
    EXPECT_NE(rc, 0);
    EXPECT_NE(log.find("nope"), std::string::npos) << log;
  }
  {
    write_text(dir / "rna.fasta", ">rna\nACGUACGUUUGACCAUGACGAUCGAUCGA\n");
    const auto [rc, log] = run_features("--fasta " + (dir / "rna.fasta").string() + " --alignment-dir " +
                                        query73_dir().string() + " --out " + out.string());
    EXPECT_NE(rc, 0);
    EXPECT_NE(log.find("rna.fasta"), std::string::npos) << log;
  }
  {
    fs::create_directories(dir / "aln");
    write_text(dir / "aln" / "uniref90_hits.sto", "# STOCKHOLM 1.0\nthis is not an alignment row at all\n//\n");
    const auto [rc, log] =
        run_features("--fasta " + fasta + " --alignment-dir " + (dir / "aln").string() + " --out " + out.string());
    EXPECT_NE(rc, 0);
    EXPECT_NE(log.find("uniref90_hits.sto"), std::string::npos) << log;
  }
  {
    const auto [rc, log] = run_features("--fasta " + fasta + " --alignment-dir " + query73_dir().string() +
                                        " --max-template-date 2020-13-01 --out " + out.string());
    EXPECT_NE(rc, 0);
    EXPECT_NE(log.find("2020-13-01"), std::string::npos) << log;
  }
  {
    const auto [rc, log] = run_features("--fasta " + fasta + " --alignment-dir " + query73_dir().string());
    EXPECT_EQ(rc, 2);
    EXPECT_NE(log.find("--out"), std::string::npos) << log;
  }
  EXPECT_FALSE(fs::exists(out));
  EXPECT_TRUE(temp_files_in(dir.path()).empty());
}

}  // namespace
}  // namespace axf::pipeline
