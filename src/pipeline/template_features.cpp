#include "pipeline/template_features.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <memory>
#include <numeric>
#include <optional>
#include <set>
#include <stdexcept>

#include "core/error.h"
#include "io/mmcif.h"
#include "model/residue_constants.h"
#include "pipeline/kalign.h"
#include "runtime/log.h"

namespace axf::pipeline {

namespace {

constexpr int kTemplateAaClasses = 22;  // HHblits ids incl. X (20) and '-' (21)
constexpr int kAtoms = model::atom_type_num;

// AlphaFold's per-hit outcomes other than features: a warning means missing or unusable experimental data
// (NoChainsError, NoAtomDataInTemplateError, TemplateAtomMaskAllZerosError), an error a failed alignment.
struct HitWarning : std::runtime_error {
  using std::runtime_error::runtime_error;
};
struct HitError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// One kept template, query-indexed.
struct SingleTemplate {
  std::vector<float> positions;  // [L, 37, 3]
  std::vector<float> masks;      // [L, 37]
  std::string sequence;          // [L]
  std::string domain_name;
  float sum_probs = 0.f;
};

std::string ungapped(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s)
    if (c != '-') out += c;
  return out;
}

// _assess_hhsearch_hit without release dates and query PDB code (AlphaFold's monomer pipeline passes neither):
// the reason the hit fails the prefilter, or nothing.
std::optional<std::string> prefilter(const io::TemplateHit& hit, const std::string& query) {
  constexpr double kMaxSubsequenceRatio = 0.95, kMinAlignRatio = 0.1;
  const double align_ratio = static_cast<double>(hit.aligned_cols) / static_cast<double>(query.size());
  const std::string template_sequence = ungapped(hit.hit_sequence);
  const double length_ratio = static_cast<double>(template_sequence.size()) / static_cast<double>(query.size());
  const bool duplicate = query.find(template_sequence) != std::string::npos && length_ratio > kMaxSubsequenceRatio;
  if (align_ratio <= kMinAlignRatio)
    return "proportion of residues aligned to the query too small (align ratio " + std::to_string(align_ratio) + ")";
  if (duplicate)
    return "template is an exact subsequence of the query with large coverage (length ratio " +
           std::to_string(length_ratio) + ")";
  if (template_sequence.size() < 10)
    return "template too short (" + std::to_string(template_sequence.size()) + " residues)";
  return std::nullopt;
}

const io::MmcifChain* find_chain(const io::MmcifStructure& s, const std::string& id) {
  for (const auto& c : s.chains)
    if (c.id == id) return &c;
  return nullptr;
}

// Leftmost start where `pattern` matches `text` with 'X' as a wildcard on either side (AlphaFold's regex
// '.' for X in the template, '(?:aa|X)' otherwise).
std::optional<size_t> fuzzy_find(const std::string& text, const std::string& pattern) {
  if (pattern.size() > text.size()) return std::nullopt;
  for (size_t start = 0; start + pattern.size() <= text.size(); ++start) {
    bool ok = true;
    for (size_t i = 0; i < pattern.size() && ok; ++i) {
      const char p = pattern[i], t = text[start + i];
      ok = p == 'X' || t == p || t == 'X';
    }
    if (ok) return start;
  }
  return std::nullopt;
}

struct ChainMatch {
  std::string seqres;
  std::string chain_id;
  size_t offset = 0;
};

// AlphaFold's _find_template_in_pdb: exact chain and subsequence, then subsequence in any chain, then a fuzzy
// (X-tolerant) subsequence in any chain; chains in file order.
std::optional<ChainMatch> find_template_in_structure(const std::string& chain_id, const std::string& template_sequence,
                                                     const io::MmcifStructure& s) {
  if (const io::MmcifChain* c = find_chain(s, chain_id); c && !c->seqres_sequence.empty()) {
    const size_t at = c->seqres_sequence.find(template_sequence);
    if (at != std::string::npos) return ChainMatch{c->seqres_sequence, c->id, at};
  }
  for (const auto& c : s.chains) {
    if (c.seqres_sequence.empty()) continue;
    const size_t at = c.seqres_sequence.find(template_sequence);
    if (at != std::string::npos) return ChainMatch{c.seqres_sequence, c.id, at};
  }
  for (const auto& c : s.chains) {
    if (auto at = fuzzy_find(c.seqres_sequence, template_sequence)) return ChainMatch{c.seqres_sequence, c.id, *at};
  }
  return std::nullopt;
}

// AlphaFold's _check_residue_distances: consecutive resolved CA atoms at most `max_distance` apart.
void check_ca_distances(const std::vector<float>& positions, const std::vector<float>& mask, size_t num_res,
                        double max_distance, const std::string& label) {
  const int ca = model::atom37_index("CA");
  bool prev_resolved = false;
  const float* prev = nullptr;
  for (size_t i = 0; i < num_res; ++i) {
    const bool resolved = mask[i * kAtoms + ca] != 0.f;
    if (resolved) {
      const float* here = &positions[(i * kAtoms + ca) * 3];
      if (prev_resolved) {
        const double dx = here[0] - prev[0], dy = here[1] - prev[1], dz = here[2] - prev[2];
        const double d = std::sqrt(dx * dx + dy * dy + dz * dz);
        if (d > max_distance)
          throw HitWarning(label + ": could not get atom data: the distance between residues " + std::to_string(i) +
                           " and " + std::to_string(i + 1) + " is " + std::to_string(d) + " > limit " +
                           std::to_string(max_distance));
      }
      prev = here;
    }
    prev_resolved = resolved;
  }
}

// AlphaFold's _extract_template_features (sum_probs is set by the caller).
SingleTemplate extract_template(const io::MmcifStructure& s, const std::string& pdb_id, std::map<int, int> mapping,
                                std::string template_sequence, const std::string& query,
                                const std::string& template_chain_id, const std::string& kalign) {
  const std::string label = pdb_id + "_" + template_chain_id;
  bool any_chain = false;
  for (const auto& c : s.chains) any_chain = any_chain || !c.seqres_sequence.empty();
  if (!any_chain) throw HitWarning(label + ": no protein chains in the mmCIF file");

  std::string chain_id;
  size_t offset = 0;
  if (auto match = find_template_in_structure(template_chain_id, template_sequence, s)) {
    chain_id = match->chain_id;
    offset = match->offset;
  } else {
    // The PDB70 copy of the chain differs from the mmCIF SEQRES: realign the hit to the SEQRES.
    chain_id = template_chain_id;
    std::string seqres;
    if (const io::MmcifChain* c = find_chain(s, template_chain_id); c) seqres = c->seqres_sequence;
    if (seqres.empty()) {
      std::vector<const io::MmcifChain*> protein;
      for (const auto& c : s.chains)
        if (!c.seqres_sequence.empty()) protein.push_back(&c);
      // AlphaFold takes the only chain's sequence, but then fails to find atoms under the hit's chain id below.
      if (protein.size() == 1)
        seqres = protein[0]->seqres_sequence;
      else
        throw HitError(label + ": could not find chain " + template_chain_id + " in " + pdb_id +
                       ".cif (if the mmCIF file parsed, it may not be a protein chain)");
    }
    runtime::log_info("templates: ", label, ": the hit sequence ", template_sequence,
                      " is not in the mmCIF SEQRES; realigning it with kalign");
    try {
      mapping = realign_mapping_to_seqres(template_sequence, seqres, mapping, kalign);
    } catch (const KalignUnavailable&) {
      throw;
    } catch (const std::exception& e) {
      throw HitError(label + ": could not realign the hit to the mmCIF sequence: " + e.what());
    }
    template_sequence = seqres;
    offset = 0;
  }

  const io::MmcifChain* chain = find_chain(s, chain_id);
  if (chain == nullptr || chain->seqres_sequence.empty())
    throw HitWarning(label + ": could not get atom data: no chain " + chain_id + " in " + pdb_id + ".cif");
  const size_t num_res = chain->seqres_sequence.size();
  std::vector<float> positions, mask;
  try {
    io::chain_atom37(s, chain_id, positions, mask);
  } catch (const std::exception& e) {
    throw HitWarning(label + ": could not get atom data: " + e.what());
  }
  if (positions.size() != num_res * kAtoms * 3 || mask.size() != num_res * kAtoms)
    throw HitWarning(label + ": could not get atom data: atom37 arrays do not match the " + std::to_string(num_res) +
                     " SEQRES residues of chain " + chain_id);
  // Essentially infinite, as AlphaFold: only absurd geometry rejects a template.
  check_ca_distances(positions, mask, num_res, 150.0, label);

  const size_t L = query.size();
  SingleTemplate t;
  t.positions.assign(L * kAtoms * 3, 0.f);
  t.masks.assign(L * kAtoms, 0.f);
  t.sequence.assign(L, '-');
  double mask_sum = 0.0;
  for (const auto& [q, v] : mapping) {
    const size_t ti = static_cast<size_t>(v) + offset;
    if (q < 0 || static_cast<size_t>(q) >= L || v < 0 || static_cast<size_t>(v) >= template_sequence.size() ||
        ti >= num_res)
      throw HitError(label + ": query residue " + std::to_string(q) + " maps outside the template (" +
                     std::to_string(ti) + " of " + std::to_string(num_res) + " residues)");
    std::copy_n(&positions[ti * kAtoms * 3], kAtoms * 3, &t.positions[static_cast<size_t>(q) * kAtoms * 3]);
    std::copy_n(&mask[ti * kAtoms], kAtoms, &t.masks[static_cast<size_t>(q) * kAtoms]);
    t.sequence[static_cast<size_t>(q)] = template_sequence[static_cast<size_t>(v)];
  }
  for (float m : t.masks) mask_sum += m;
  // Alanine, the residue with the fewest atoms, has 5.
  if (mask_sum < 5.0) throw HitWarning(label + ": template all-atom mask is (almost) all zeros on the query");
  for (char c : t.sequence)
    if (hhblits_aa_to_id(c) < 0)
      throw HitError(label + ": template residue '" + std::string(1, c) + "' has no HHblits id");
  t.domain_name = pdb_id + "_" + chain_id;
  return t;
}

struct CachedStructure {
  std::shared_ptr<const io::MmcifStructure> structure;  // null when the file could not be parsed
  std::string error;
};

}  // namespace

int hhblits_aa_to_id(char residue) {
  switch (residue) {
    case 'A': return 0;
    case 'C': case 'U': return 1;
    case 'D': case 'B': return 2;
    case 'E': case 'Z': return 3;
    case 'F': return 4;
    case 'G': return 5;
    case 'H': return 6;
    case 'I': return 7;
    case 'K': return 8;
    case 'L': return 9;
    case 'M': return 10;
    case 'N': return 11;
    case 'P': return 12;
    case 'Q': return 13;
    case 'R': return 14;
    case 'S': return 15;
    case 'T': return 16;
    case 'V': return 17;
    case 'W': return 18;
    case 'Y': return 19;
    case 'X': case 'J': case 'O': return 20;
    case '-': return 21;
    default: return -1;
  }
}

bool is_iso_date(const std::string& date) {
  if (date.size() != 10 || date[4] != '-' || date[7] != '-') return false;
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9})
    if (!std::isdigit(static_cast<unsigned char>(date[i]))) return false;
  const int year = std::stoi(date.substr(0, 4)), month = std::stoi(date.substr(5, 2)), day = std::stoi(date.substr(8, 2));
  if (month < 1 || month > 12 || day < 1) return false;
  static constexpr int kDays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return day <= (month == 2 && !leap ? 28 : kDays[month - 1]);
}

std::pair<std::string, std::string> pdb_id_and_chain(const std::string& hit_name) {
  // [a-zA-Z\d]{4}_[a-zA-Z0-9.]+ at the start of the name.
  bool ok = hit_name.size() >= 6 && hit_name[4] == '_';
  for (size_t i = 0; ok && i < 4; ++i) ok = std::isalnum(static_cast<unsigned char>(hit_name[i])) != 0;
  size_t end = 5;
  while (ok && end < hit_name.size() &&
         (std::isalnum(static_cast<unsigned char>(hit_name[end])) != 0 || hit_name[end] == '.'))
    ++end;
  AXF_CHECK(ok && end > 5, "template hit name '", hit_name, "' does not start with PDBID_CHAIN (e.g. 1ABC_A)");
  std::string pdb_id = hit_name.substr(0, 4);
  for (char& c : pdb_id) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return {pdb_id, hit_name.substr(5, end - 5)};
}

std::map<int, int> query_to_hit_mapping(const io::TemplateHit& hit, const std::string& query_sequence) {
  std::map<int, int> mapping;
  if (hit.query.empty()) return mapping;
  const std::string hhsearch_query = ungapped(hit.query);
  const std::string hit_sequence = ungapped(hit.hit_sequence);
  const size_t found = query_sequence.find(hhsearch_query);
  if (found == std::string::npos) return mapping;
  const int query_offset = static_cast<int>(found);
  auto min_index = [](const std::vector<int>& v) {
    int m = -1;
    for (int x : v)
      if (x > -1 && (m < 0 || x < m)) m = x;
    return m;
  };
  const int min_hit = min_index(hit.indices_hit), min_query = min_index(hit.indices_query);
  if (min_hit < 0 || min_query < 0) return mapping;
  const size_t n = std::min(hit.indices_hit.size(), hit.indices_query.size());
  for (size_t i = 0; i < n; ++i) {
    const int q = hit.indices_query[i] > -1 ? hit.indices_query[i] - min_query : -1;
    const int t = hit.indices_hit[i] > -1 ? hit.indices_hit[i] - min_hit : -1;
    if (q == -1 || t == -1) continue;
    if (t >= static_cast<int>(hit_sequence.size()) || q + query_offset >= static_cast<int>(query_sequence.size()))
      continue;
    mapping[q + query_offset] = t;
  }
  return mapping;
}

std::map<int, int> realign_mapping_to_seqres(const std::string& old_template_sequence, const std::string& seqres,
                                             const std::map<int, int>& mapping, const std::string& kalign_binary) {
  const std::vector<std::string> aligned = kalign_align({old_template_sequence, seqres}, kalign_binary);
  const std::string& old_aligned = aligned[0];
  const std::string& new_aligned = aligned[1];
  std::map<int, int> old_to_new;
  int old_index = -1, new_index = -1, num_same = 0;
  for (size_t i = 0; i < old_aligned.size(); ++i) {
    const char o = old_aligned[i], n = new_aligned[i];
    if (o != '-') ++old_index;
    if (n != '-') ++new_index;
    if (o != '-' && n != '-') {
      old_to_new[old_index] = new_index;
      if (o == n) ++num_same;
    }
  }
  const double identity =
      static_cast<double>(num_same) / static_cast<double>(std::min(old_template_sequence.size(), seqres.size()));
  AXF_CHECK(identity >= 0.9, "insufficient similarity of the hit sequence ", old_template_sequence,
            " to the mmCIF sequence ", seqres, ": ", num_same, " identical residues (",
            static_cast<int>(identity * 100.0), "%); at least 90% of the shorter sequence are required");
  std::map<int, int> out;
  for (const auto& [q, old_t] : mapping) {
    auto it = old_to_new.find(old_t);
    if (it != old_to_new.end()) out[q] = it->second;
  }
  return out;
}

TemplateFeatures empty_template_features(int64_t num_res) {
  TemplateFeatures out;
  out.aatype = core::Tensor::zeros({0, num_res, kTemplateAaClasses});
  out.all_atom_positions = core::Tensor::zeros({0, num_res, kAtoms, 3});
  out.all_atom_masks = core::Tensor::zeros({0, num_res, kAtoms});
  out.sum_probs = core::Tensor::zeros({0, 1});
  return out;
}

TemplateFeatures make_template_features(const std::string& query_sequence, const std::vector<io::TemplateHit>& hits,
                                        const TemplateSearchOptions& options) {
  AXF_CHECK(is_iso_date(options.max_template_date), "max template date '", options.max_template_date,
            "' is not a YYYY-MM-DD date");
  AXF_CHECK(options.max_hits >= 0, "max template hits must be >= 0, got ", options.max_hits);
  AXF_CHECK(!query_sequence.empty(), "templates: empty query sequence");
  std::error_code ec;
  AXF_CHECK(std::filesystem::is_directory(options.mmcif_dir, ec), "template mmCIF directory '",
            options.mmcif_dir.string(), "' does not exist or is not a directory");

  std::vector<size_t> order(hits.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return hits[a].sum_probs > hits[b].sum_probs; });

  TemplateFeatures out;
  std::vector<SingleTemplate> kept;
  std::set<std::string> seen_sequences;
  std::map<std::string, CachedStructure> structures;
  for (size_t index : order) {
    if (static_cast<int>(kept.size()) >= options.max_hits) break;
    const io::TemplateHit& hit = hits[index];
    const auto [pdb_id, chain_id] = pdb_id_and_chain(hit.name);
    const std::string label = pdb_id + "_" + chain_id;
    if (auto reason = prefilter(hit, query_sequence)) {
      runtime::log_info("templates: hit ", label, " did not pass the prefilter: ", *reason);
      continue;
    }
    const std::map<int, int> mapping = query_to_hit_mapping(hit, query_sequence);
    if (mapping.empty()) {
      // AlphaFold goes on and rejects the hit later for its all-zero atom mask.
      const bool placed = query_sequence.find(ungapped(hit.query)) != std::string::npos;
      out.warnings.push_back(label + (placed ? ": no residues aligned to the query"
                                             : ": the hit's query segment " + ungapped(hit.query) +
                                                   " is not part of the query sequence (alignments of another query?)"));
      runtime::log_info("templates: skipped ", out.warnings.back());
      continue;
    }
    const std::filesystem::path cif = options.mmcif_dir / (pdb_id + ".cif");
    if (!std::filesystem::is_regular_file(cif, ec)) {
      runtime::log_info("templates: skipped hit ", label, ": no mmCIF file ", cif.string());
      continue;
    }
    auto [slot, inserted] = structures.try_emplace(pdb_id);
    if (inserted) {
      try {
        slot->second.structure = std::make_shared<const io::MmcifStructure>(io::read_mmcif(cif));
      } catch (const std::exception& e) {
        slot->second.error = e.what();
      }
    }
    if (!slot->second.structure) {
      out.warnings.push_back(label + ": cannot parse " + cif.string() + ": " + slot->second.error);
      runtime::log_info("templates: skipped ", out.warnings.back());
      continue;
    }
    const io::MmcifStructure& s = *slot->second.structure;
    if (!is_iso_date(s.release_date)) {
      out.warnings.push_back(label + ": " + cif.string() + " has no valid release date ('" + s.release_date + "')");
      runtime::log_info("templates: skipped ", out.warnings.back());
      continue;
    }
    if (s.release_date > options.max_template_date) {  // ISO dates order as strings
      runtime::log_info("templates: skipped hit ", label, ": released ", s.release_date, ", after the max template date ",
                        options.max_template_date);
      continue;
    }
    try {
      SingleTemplate t =
          extract_template(s, pdb_id, mapping, ungapped(hit.hit_sequence), query_sequence, chain_id, options.kalign);
      t.sum_probs = static_cast<float>(hit.sum_probs);
      // AlphaFold (v2.1+) keeps one template per distinct query-aligned template sequence.
      if (!seen_sequences.insert(t.sequence).second) {
        runtime::log_info("templates: skipped hit ", label, ": same template sequence as a template already kept");
        continue;
      }
      runtime::log_info("templates: kept ", t.domain_name, " (sum_probs ", hit.sum_probs, ")");
      kept.push_back(std::move(t));
    } catch (const HitWarning& w) {
      out.warnings.push_back(w.what());
      runtime::log_info("templates: skipped ", w.what());
    } catch (const HitError& e) {
      out.errors.push_back(e.what());
      runtime::log_info("templates: skipped ", e.what());
    }
  }

  const int64_t T = static_cast<int64_t>(kept.size()), L = static_cast<int64_t>(query_sequence.size());
  out.aatype = core::Tensor::zeros({T, L, kTemplateAaClasses});
  out.all_atom_positions = core::Tensor::zeros({T, L, kAtoms, 3});
  out.all_atom_masks = core::Tensor::zeros({T, L, kAtoms});
  out.sum_probs = core::Tensor::zeros({T, 1});
  float* aatype = out.aatype.data<float>();
  float* positions = out.all_atom_positions.data<float>();
  float* masks = out.all_atom_masks.data<float>();
  for (int64_t t = 0; t < T; ++t) {
    const SingleTemplate& k = kept[static_cast<size_t>(t)];
    for (int64_t i = 0; i < L; ++i) aatype[(t * L + i) * kTemplateAaClasses + hhblits_aa_to_id(k.sequence[i])] = 1.f;
    std::copy(k.positions.begin(), k.positions.end(), positions + t * L * kAtoms * 3);
    std::copy(k.masks.begin(), k.masks.end(), masks + t * L * kAtoms);
    out.sum_probs.data<float>()[t] = k.sum_probs;
    out.domain_names.push_back(k.domain_name);
    out.sequences.push_back(k.sequence);
  }
  return out;
}

}  // namespace axf::pipeline
