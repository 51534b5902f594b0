// AlphaFold's raw features (alphafold/data/pipeline.py: make_sequence_features, make_msa_features,
// DataPipeline.process, plus templates.py) from a directory of search-tool outputs, and their HDF5 file.
// L query residues, N deduplicated MSA rows, T templates.
#pragma once

#include <cstddef>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "io/fasta.h"
#include "io/msa.h"

namespace axf::pipeline {

struct RawFeatureOptions {
  size_t uniref_max_hits = 10000;  // rows kept from uniref90_hits.sto (query included); 0 = all
  size_t mgnify_max_hits = 501;    // rows kept from mgnify_hits.sto
  size_t bfd_max_hits = 0;         // rows kept from the BFD alignment; 0 = all (AlphaFold does not cap it)
  std::string max_template_date = "9999-12-31";
  int max_template_hits = 20;
  std::filesystem::path mmcif_dir;  // empty: no template features (T = 0)
  std::string kalign = "kalign";
};

// What make_raw_features produced besides arrays. The string features (AlphaFold's object arrays) are
// stored as root attributes of the HDF5 file: domain_name, sequence, and template_domain_names /
// template_sequence with one entry per template, joined by '\n' ("" when T = 0).
struct RawFeatureExtras {
  std::map<std::string, std::string> strings;
  std::vector<std::filesystem::path> inputs;  // every alignment, hit and template mmCIF file read, in order
  std::vector<std::string> msa_summary;       // "uniref90_hits.sto: 57 rows", ..., for logs and provenance
  std::vector<std::string> template_skips;    // why template hits were dropped (warnings and errors)
};

// The query of a FASTA file: exactly one record holding a protein sequence (see check_protein_sequence);
// errors name the file.
io::FastaRecord read_query_fasta(const std::filesystem::path& path);

// Throws (naming `context`) unless `sequence` is what AlphaFold's sequence_to_onehot accepts, upper-case
// letters (letters other than the 20 amino acids become X), and does not look like DNA/RNA (20 or more
// residues, all of A C G T U N, with a T or U).
void check_protein_sequence(const std::string& sequence, const std::string& context);

// Raw features under AlphaFold's names (int32 unless noted): aatype [L, 21] one-hot, between_segment_residues [L],
// residue_index [L], seq_length [L] (L repeated, as AlphaFold), msa [N, L] (HHblits ids, see hhblits_aa_to_id),
// deletion_matrix_int [N, L], num_alignments [L] (N repeated); template_aatype [T, L, 22], template_all_atom_positions
// [T, L, 37, 3], template_all_atom_masks [T, L, 37], template_sum_probs [T, 1] (fp32).
//
// MSAs are read from `alignment_dir` under AlphaFold's file names, in AlphaFold's order: uniref90_hits.sto (first
// uniref_max_hits rows), the BFD alignment (bfd_uniclust_hits.a3m, bfd_uniref_hits.a3m or small_bfd_hits.sto, at
// most one of them), mgnify_hits.sto (first mgnify_max_hits rows), then mmseqs_hits.a3m (ColabFold). Missing files
// are skipped; at least one must exist. Each MSA's first row must be the query (same length). Rows identical to
// an earlier row (of any MSA) are dropped, as make_msa_features does. Templates come from pdb70_hits.hhr (or
// pdb_hits.hhr) and options.mmcif_dir (see make_template_features); without either, T = 0.
// Errors name the file involved.
std::map<std::string, core::Tensor> make_raw_features(const io::FastaRecord& query,
                                                      const std::filesystem::path& alignment_dir,
                                                      const RawFeatureOptions& options,
                                                      RawFeatureExtras* extras = nullptr);

// make_sequence_features: aatype, between_segment_residues, residue_index, seq_length.
std::map<std::string, core::Tensor> make_sequence_features(const std::string& sequence);

// make_msa_features over MSAs already capped; `sources` names each MSA in error messages. Returns msa,
// deletion_matrix_int, num_alignments.
std::map<std::string, core::Tensor> make_msa_features(const std::vector<io::Msa>& msas,
                                                      const std::vector<std::string>& sources);

// Writes the features (and `attributes`, e.g. RawFeatureExtras::strings and provenance) as an HDF5 file of
// datasets named like the features; atomically: nothing appears under `path` unless the write completes.
void write_raw_features(const std::filesystem::path& path, const std::map<std::string, core::Tensor>& features,
                        const std::map<std::string, std::string>& attributes);

}  // namespace axf::pipeline
