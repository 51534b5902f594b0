// Template features from HHsearch hits and PDB mmCIF files, as AlphaFold's alphafold/data/templates.py
// (HhsearchHitFeaturizer.get_templates, _process_single_hit): prefilters, the query-to-hit residue mapping,
// kalign realignment when the hit's sequence is not in the mmCIF SEQRES, atom37 coordinates mapped onto the
// query. T templates, L query residues.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "io/hhr.h"

namespace axf::pipeline {

// AlphaFold's residue_constants.HHBLITS_AA_TO_ID: the 26 upper-case letters and '-' to 0..21 (A C D E F G H I K
// L M N P Q R S T V W Y, X = 20 also for J and O, B->D, Z->E, U->C, '-' = 21); -1 for anything else. Used for
// the raw `msa` feature and `template_aatype`.
int hhblits_aa_to_id(char residue);

struct TemplateSearchOptions {
  std::filesystem::path mmcif_dir;                // <pdb_id>.cif files, lower-case ids
  std::string max_template_date = "9999-12-31";   // YYYY-MM-DD; later releases are dropped
  int max_hits = 20;                              // AlphaFold's MAX_TEMPLATE_HITS
  std::string kalign = "kalign";                  // binary for realignments
};

// AlphaFold's template feature arrays, stacked over the templates kept (T may be 0: the arrays then have a
// leading dimension 0 and the shapes below, which is what AlphaFold's input pipeline reshapes its empty arrays
// to).
struct TemplateFeatures {
  core::Tensor aatype;              // template_aatype [T, L, 22] fp32 one-hot, HHblits order ('-' = 21)
  core::Tensor all_atom_positions;  // template_all_atom_positions [T, L, 37, 3] fp32, Angstrom
  core::Tensor all_atom_masks;      // template_all_atom_masks [T, L, 37] fp32
  core::Tensor sum_probs;           // template_sum_probs [T, 1] fp32
  std::vector<std::string> domain_names;  // template_domain_names: "<pdb_id>_<chain>", e.g. "2q2k_A"
  std::vector<std::string> sequences;     // template_sequence: the template residue per query position, '-' where none
  std::vector<std::string> warnings;      // hits skipped for missing or unusable structure data
  std::vector<std::string> errors;        // hits skipped because they could not be aligned
  int64_t count() const { return aatype.defined() ? aatype.size(0) : 0; }
};

// Hits are tried in order of decreasing sum_probs until max_hits templates are kept. A hit is skipped (with a
// log line) when it fails AlphaFold's prefilter (aligned columns <= 10% of the query, a >95%-length exact
// subsequence of the query, fewer than 10 residues), has no <pdb_id>.cif in mmcif_dir, was released after
// max_template_date, cannot be placed in its mmCIF chain, has fewer than 5 atoms on the query, or repeats the
// template_sequence of a template already kept. Throws for a hit name that is not PDBID_CHAIN, a malformed
// max_template_date, or a missing mmcif_dir.
TemplateFeatures make_template_features(const std::string& query_sequence, const std::vector<io::TemplateHit>& hits,
                                        const TemplateSearchOptions& options);

// Zero templates for a query of `num_res` residues: every array with leading dimension 0.
TemplateFeatures empty_template_features(int64_t num_res);

// ---- Steps of make_template_features, exposed for tests ---------------------------------------------------

// AlphaFold's _get_pdb_id_and_chain: "1PSM_A SPAM-H1 ..." -> {"1psm", "A"}; throws unless the name starts with
// 4 alphanumerics, '_' and a chain id.
std::pair<std::string, std::string> pdb_id_and_chain(const std::string& hit_name);

// AlphaFold's _build_query_to_hit_index_mapping: query residue index -> index in the ungapped hit sequence.
// The hit's query segment is placed by finding its ungapped sequence in the full query; an empty map when the
// hit has no aligned residues or its query segment is not part of `query_sequence` (AlphaFold would then use
// offset -1).
std::map<int, int> query_to_hit_mapping(const io::TemplateHit& hit, const std::string& query_sequence);

// AlphaFold's _realign_pdb_template_to_query: aligns the hit's (ungapped) sequence to `seqres` with kalign and
// composes `mapping` (query -> old template index) with it. Query residues whose template residue has no
// counterpart in `seqres` are dropped from the result (AlphaFold maps them to -1, which Python's negative
// indexing then turns into the chain's last residue). Throws when seqres and the old sequence are less than 90%
// identical over the shorter of the two.
std::map<int, int> realign_mapping_to_seqres(const std::string& old_template_sequence, const std::string& seqres,
                                             const std::map<int, int>& mapping, const std::string& kalign_binary);

// True if `date` is a valid YYYY-MM-DD calendar date.
bool is_iso_date(const std::string& date);

}  // namespace axf::pipeline
