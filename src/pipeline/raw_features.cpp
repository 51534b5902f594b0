#include "pipeline/raw_features.h"

#include <cctype>
#include <fstream>
#include <sstream>
#include <unordered_set>

#include "core/error.h"
#include "io/a3m.h"
#include "io/hdf5_arrays.h"
#include "io/hhr.h"
#include "io/stockholm.h"
#include "io/tensor_npy.h"
#include "model/residue_constants.h"
#include "pipeline/kalign.h"
#include "pipeline/template_features.h"
#include "runtime/log.h"

namespace axf::pipeline {

namespace fs = std::filesystem;

namespace {

enum class MsaFormat { Stockholm, A3m };

// One MSA slot of AlphaFold's pipeline: its possible file names (at most one may exist) and its row cap.
struct MsaSlot {
  std::vector<std::pair<const char*, MsaFormat>> files;
  size_t max_rows;  // 0 = all
};

std::string read_input_file(const fs::path& path) {
  std::error_code ec;
  AXF_CHECK(fs::exists(path, ec), path.string(), ": no such file");
  AXF_CHECK(fs::is_regular_file(path, ec), path.string(), ": not a regular file");
  std::ifstream in(path, std::ios::binary);
  AXF_CHECK(in.good(), path.string(), ": cannot open for reading");
  std::ostringstream s;
  s << in.rdbuf();
  AXF_CHECK(!in.bad(), path.string(), ": read error");
  return s.str();
}

bool blank(const std::string& text) {
  for (char c : text)
    if (!std::isspace(static_cast<unsigned char>(c))) return false;
  return true;
}

// Runs a parser; makes sure its error message names the file.
template <typename Fn>
auto parse_named(const fs::path& path, Fn&& fn) {
  try {
    return fn();
  } catch (const Error& e) {
    const std::string msg = e.what();
    if (msg.find(path.string()) != std::string::npos) throw;
    throw Error(path.string() + ": " + msg);
  }
}

io::Msa read_msa(const fs::path& path, MsaFormat format) {
  const std::string text = read_input_file(path);
  AXF_CHECK(!blank(text), path.string(), ": empty alignment file (rerun the search or remove the file)");
  io::Msa msa = parse_named(path, [&] {
    return format == MsaFormat::Stockholm ? io::parse_stockholm(text, path.string()) : io::parse_a3m(text, path.string());
  });
  AXF_CHECK(msa.size() > 0, path.string(), ": the alignment holds no sequences");
  return msa;
}

// The MSA's first row must be the query: same length (the feature arrays depend on it); other residues only
// warrant a log line (search tools may spell rare residues differently).
void check_msa_against_query(const io::Msa& msa, const std::string& query, const fs::path& path) {
  const std::string& first = msa.sequences.front();
  AXF_CHECK(first.size() == query.size(), path.string(), ": the first (query) row has ", first.size(),
            " columns but the query has ", query.size(), " residues; are these alignments of another sequence?");
  size_t differ = 0;
  for (size_t i = 0; i < first.size(); ++i) differ += first[i] != query[i];
  if (differ > 0)
    runtime::log_info("features: ", path.string(), ": the first row differs from the query at ", differ,
                      " positions");
}

}  // namespace

void check_protein_sequence(const std::string& sequence, const std::string& context) {
  AXF_CHECK(!sequence.empty(), context, ": empty sequence");
  bool nucleotide_only = true, has_t_or_u = false;
  for (size_t i = 0; i < sequence.size(); ++i) {
    const char c = sequence[i];
    AXF_CHECK(std::isalpha(static_cast<unsigned char>(c)) && std::isupper(static_cast<unsigned char>(c)), context,
              ": invalid character '", c, "' at residue ", i + 1,
              ": a protein sequence of upper-case amino-acid letters is expected");
    nucleotide_only = nucleotide_only && std::string_view("ACGTUN").find(c) != std::string_view::npos;
    has_t_or_u = has_t_or_u || c == 'T' || c == 'U';
  }
  AXF_CHECK(!(nucleotide_only && has_t_or_u && sequence.size() >= 20), context,
            ": the sequence consists of nucleotide letters only (A, C, G, T/U, N): a DNA or RNA sequence? "
            "AlphaFold predicts protein structures");
}

io::FastaRecord read_query_fasta(const fs::path& path) {
  const std::string text = read_input_file(path);
  AXF_CHECK(!blank(text), path.string(), ": empty FASTA file");
  std::vector<io::FastaRecord> records = parse_named(path, [&] { return io::read_fasta(path); });
  AXF_CHECK(!records.empty(), path.string(), ": no FASTA record");
  AXF_CHECK(records.size() == 1, path.string(), ": ", records.size(),
            " sequences; the monomer pipeline takes exactly one");
  check_protein_sequence(records[0].sequence, path.string() + " (record '" + records[0].name + "')");
  return records[0];
}

std::map<std::string, core::Tensor> make_sequence_features(const std::string& sequence) {
  check_protein_sequence(sequence, "query");
  const int64_t L = static_cast<int64_t>(sequence.size());
  std::map<std::string, core::Tensor> f;
  core::Tensor aatype = core::Tensor::zeros({L, model::restype_num_with_x}, core::DType::I32);
  core::Tensor between = core::Tensor::zeros({L}, core::DType::I32);
  core::Tensor residue_index = core::Tensor::zeros({L}, core::DType::I32);
  core::Tensor seq_length = core::Tensor::zeros({L}, core::DType::I32);
  for (int64_t i = 0; i < L; ++i) {
    // restype_order_with_x with map_unknown_to_x: letters outside the 20 become X.
    aatype.data<int32_t>()[i * model::restype_num_with_x + model::restype_index(sequence[i])] = 1;
    residue_index.data<int32_t>()[i] = static_cast<int32_t>(i);
    seq_length.data<int32_t>()[i] = static_cast<int32_t>(L);
  }
  f["aatype"] = aatype;
  f["between_segment_residues"] = between;
  f["residue_index"] = residue_index;
  f["seq_length"] = seq_length;
  return f;
}

std::map<std::string, core::Tensor> make_msa_features(const std::vector<io::Msa>& msas,
                                                      const std::vector<std::string>& sources) {
  AXF_CHECK(!msas.empty(), "make_msa_features: at least one MSA must be provided");
  AXF_CHECK(sources.size() == msas.size(), "make_msa_features: ", msas.size(), " MSAs but ", sources.size(),
            " source names");
  AXF_CHECK(msas[0].size() > 0, sources[0], ": the MSA holds no sequences");
  const size_t L = msas[0].sequences[0].size();
  std::unordered_set<std::string> seen;
  std::vector<int32_t> rows, deletions;
  size_t n = 0;
  for (size_t m = 0; m < msas.size(); ++m) {
    const io::Msa& msa = msas[m];
    AXF_CHECK(msa.size() > 0, sources[m], ": the MSA holds no sequences");
    AXF_CHECK(msa.deletion_matrix.size() == msa.sequences.size(), sources[m], ": ", msa.sequences.size(),
              " sequences but ", msa.deletion_matrix.size(), " deletion-matrix rows");
    for (size_t r = 0; r < msa.sequences.size(); ++r) {
      const std::string& seq = msa.sequences[r];
      if (!seen.insert(seq).second) continue;  // first occurrence wins, across all MSAs
      AXF_CHECK(seq.size() == L, sources[m], ": row ", r + 1, " has ", seq.size(), " columns, expected ", L);
      AXF_CHECK(msa.deletion_matrix[r].size() == L, sources[m], ": row ", r + 1, " has ",
                msa.deletion_matrix[r].size(), " deletion counts, expected ", L);
      for (size_t i = 0; i < L; ++i) {
        const int id = hhblits_aa_to_id(seq[i]);
        AXF_CHECK(id >= 0, sources[m], ": row ", r + 1, " has residue '", seq[i], "' at column ", i + 1,
                  ", which is not an HHblits amino-acid code");
        rows.push_back(id);
        deletions.push_back(msa.deletion_matrix[r][i]);
      }
      ++n;
    }
  }
  const int64_t N = static_cast<int64_t>(n), Li = static_cast<int64_t>(L);
  std::map<std::string, core::Tensor> f;
  f["msa"] = core::Tensor::from_vector_i32({N, Li}, rows);
  f["deletion_matrix_int"] = core::Tensor::from_vector_i32({N, Li}, deletions);
  f["num_alignments"] = core::Tensor::from_vector_i32({Li}, std::vector<int32_t>(L, static_cast<int32_t>(N)));
  return f;
}

std::map<std::string, core::Tensor> make_raw_features(const io::FastaRecord& query, const fs::path& alignment_dir,
                                                      const RawFeatureOptions& options, RawFeatureExtras* extras) {
  RawFeatureExtras local;
  RawFeatureExtras& ex = extras ? *extras : local;
  ex = RawFeatureExtras{};
  const std::string& sequence = query.sequence;
  check_protein_sequence(sequence, "query '" + query.name + "'");
  std::error_code ec;
  AXF_CHECK(fs::exists(alignment_dir, ec), "alignment directory '", alignment_dir.string(), "' does not exist");
  AXF_CHECK(fs::is_directory(alignment_dir, ec), "alignment directory '", alignment_dir.string(),
            "' is not a directory");

  // AlphaFold's order: UniRef90, BFD, MGnify; ColabFold's combined MMseqs2 alignment last.
  const std::vector<MsaSlot> slots = {
      {{{"uniref90_hits.sto", MsaFormat::Stockholm}}, options.uniref_max_hits},
      {{{"bfd_uniclust_hits.a3m", MsaFormat::A3m},
        {"bfd_uniref_hits.a3m", MsaFormat::A3m},
        {"small_bfd_hits.sto", MsaFormat::Stockholm}},
       options.bfd_max_hits},
      {{{"mgnify_hits.sto", MsaFormat::Stockholm}}, options.mgnify_max_hits},
      {{{"mmseqs_hits.a3m", MsaFormat::A3m}}, 0},
  };
  std::vector<io::Msa> msas;
  std::vector<std::string> sources;
  for (const MsaSlot& slot : slots) {
    std::vector<std::pair<fs::path, MsaFormat>> present;
    for (const auto& [name, format] : slot.files)
      if (fs::exists(alignment_dir / name, ec)) present.emplace_back(alignment_dir / name, format);
    if (present.empty()) continue;
    AXF_CHECK(present.size() == 1, "alignment directory '", alignment_dir.string(), "' holds both ",
              present[0].first.filename().string(), " and ", present[1].first.filename().string(),
              "; keep only the one to use");
    const auto& [path, format] = present[0];
    io::Msa msa = read_msa(path, format);
    check_msa_against_query(msa, sequence, path);
    const size_t rows = msa.size();
    if (slot.max_rows > 0 && rows > slot.max_rows) msa = msa.truncated(slot.max_rows);
    ex.msa_summary.push_back(path.filename().string() + ": " + std::to_string(msa.size()) + " rows" +
                             (msa.size() < rows ? " (of " + std::to_string(rows) + ")" : ""));
    ex.inputs.push_back(path);
    msas.push_back(std::move(msa));
    sources.push_back(path.string());
  }
  AXF_CHECK(!msas.empty(), "alignment directory '", alignment_dir.string(),
            "' holds no MSA (expected uniref90_hits.sto, bfd_uniclust_hits.a3m / bfd_uniref_hits.a3m / "
            "small_bfd_hits.sto, mgnify_hits.sto or mmseqs_hits.a3m)");

  std::map<std::string, core::Tensor> features = make_sequence_features(sequence);
  for (auto& [k, v] : make_msa_features(msas, sources)) features[k] = v;
  runtime::log_info("features: ", features["msa"].size(0), " MSA rows after deduplication");

  // Templates.
  fs::path hhr;
  for (const char* name : {"pdb70_hits.hhr", "pdb_hits.hhr"})
    if (hhr.empty() && fs::exists(alignment_dir / name, ec)) hhr = alignment_dir / name;
  TemplateFeatures templates;
  if (!hhr.empty() && !options.mmcif_dir.empty()) {
    const std::string text = read_input_file(hhr);
    AXF_CHECK(!blank(text), hhr.string(), ": empty HHsearch result file (rerun the search or remove the file)");
    const std::vector<io::TemplateHit> hits = parse_named(hhr, [&] { return io::parse_hhr(text, hhr.string()); });
    ex.inputs.push_back(hhr);
    TemplateSearchOptions t;
    t.mmcif_dir = options.mmcif_dir;
    t.max_template_date = options.max_template_date;
    t.max_hits = options.max_template_hits;
    t.kalign = options.kalign;
    try {
      templates = make_template_features(sequence, hits, t);
    } catch (const KalignUnavailable&) {
      throw;
    } catch (const Error& e) {
      const std::string msg = e.what();
      if (msg.find(hhr.string()) != std::string::npos) throw;
      throw Error(hhr.string() + ": " + msg);
    }
    for (const auto& w : templates.warnings) ex.template_skips.push_back("warning: " + w);
    for (const auto& e : templates.errors) ex.template_skips.push_back("error: " + e);
    for (const auto& name : templates.domain_names)
      ex.inputs.push_back(options.mmcif_dir / (name.substr(0, name.find('_')) + ".cif"));
    runtime::log_info("features: ", templates.count(), " templates from ", hits.size(), " hits in ", hhr.string());
  } else {
    if (hhr.empty() && !options.mmcif_dir.empty())
      runtime::log_info("features: no pdb70_hits.hhr in ", alignment_dir.string(), "; no templates");
    if (!hhr.empty() && options.mmcif_dir.empty())
      runtime::log_info("features: no mmCIF directory given; ", hhr.string(), " is not used (no templates)");
    templates = empty_template_features(static_cast<int64_t>(sequence.size()));
  }
  features["template_aatype"] = templates.aatype;
  features["template_all_atom_positions"] = templates.all_atom_positions;
  features["template_all_atom_masks"] = templates.all_atom_masks;
  features["template_sum_probs"] = templates.sum_probs;

  auto join = [](const std::vector<std::string>& v) {
    std::string s;
    for (size_t i = 0; i < v.size(); ++i) s += (i ? "\n" : "") + v[i];
    return s;
  };
  ex.strings["domain_name"] = query.description.empty() ? query.name : query.description;
  ex.strings["sequence"] = sequence;
  ex.strings["template_domain_names"] = join(templates.domain_names);
  ex.strings["template_sequence"] = join(templates.sequences);
  return features;
}

void write_raw_features(const fs::path& path, const std::map<std::string, core::Tensor>& features,
                        const std::map<std::string, std::string>& attributes) {
  AXF_CHECK(!path.empty(), "raw features: empty output path");
  std::error_code ec;
  const fs::path dir = path.has_parent_path() ? path.parent_path() : fs::path(".");
  AXF_CHECK(fs::is_directory(dir, ec), path.string(), ": output directory '", dir.string(), "' does not exist");
  std::vector<io::NpyArray> arrays;
  arrays.reserve(features.size());
  for (const auto& [name, tensor] : features) {
    AXF_CHECK(tensor.defined(), path.string(), ": feature '", name, "' is empty");
    arrays.push_back(io::npy_from_tensor(tensor));
  }
  std::vector<std::pair<std::string, const io::NpyArray*>> named;
  size_t i = 0;
  for (const auto& [name, tensor] : features) named.emplace_back(name, &arrays[i++]);
  io::write_hdf5_arrays(path, named, attributes);
}

}  // namespace axf::pipeline
