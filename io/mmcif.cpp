#include "io/mmcif.h"

#include <gemmi/cif.hpp>
#include <gemmi/numb.hpp>
#include <gemmi/resinfo.hpp>

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <optional>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "core/error.h"
#include "io/fasta.h"

namespace axf::io {

namespace {

namespace cif = gemmi::cif;

// residue_constants.atom_types: the atom37 order.
constexpr std::array<std::string_view, 37> kAtom37 = {
    "N",   "CA",  "C",   "CB",  "O",   "CG",  "CG1", "CG2", "OG",  "OG1", "SG",  "CD",  "CD1",
    "CD2", "ND1", "ND2", "OD1", "OD2", "SD",  "CE",  "CE1", "CE2", "CE3", "NE",  "NE1", "NE2",
    "OE1", "OE2", "CH2", "NH1", "NH2", "OH",  "CZ",  "CZ2", "CZ3", "NZ",  "OXT"};

int atom37_index(std::string_view name) {
  for (size_t i = 0; i < kAtom37.size(); ++i) {
    if (kAtom37[i] == name) return static_cast<int>(i);
  }
  return -1;
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Chromophores stand for several residues; Biopython's table gives them multi-letter codes, which
// AlphaFold turns into X.
constexpr std::array<std::string_view, 9> kChromophores = {"CRO", "CR2", "CRF", "CR8", "CRQ",
                                                           "GYS", "NRQ", "CSH", "MDO"};

char one_letter(const std::string& mon_id) {
  if (std::find(kChromophores.begin(), kChromophores.end(), mon_id) != kChromophores.end()) return 'X';
  const gemmi::ResidueInfo info = gemmi::find_tabulated_residue(mon_id);
  if (!info.found() || !info.is_amino_acid() || info.one_letter_code == ' ') return 'X';
  return static_cast<char>(std::toupper(static_cast<unsigned char>(info.one_letter_code)));
}

// Line numbers for error messages: gemmi's document keeps none, so on an error the text is tokenized
// again (CIF 1.1 rules: comments, quoted strings, ;-text fields) to find the line of a value.
struct Token {
  std::string_view text;
  size_t line;
  bool quoted;
};

std::vector<Token> tokenize(std::string_view t) {
  std::vector<Token> out;
  size_t i = 0, line = 1;
  auto is_ws = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (i < t.size()) {
    const char c = t[i];
    if (c == '\n') {
      ++line;
      ++i;
    } else if (is_ws(c)) {
      ++i;
    } else if (c == '#') {
      while (i < t.size() && t[i] != '\n') ++i;
    } else if (c == ';' && (i == 0 || t[i - 1] == '\n')) {
      const size_t end = t.find("\n;", i + 1);
      const size_t stop = end == std::string_view::npos ? t.size() : end + 2;
      out.push_back({t.substr(i, stop - i), line, true});
      line += static_cast<size_t>(std::count(t.begin() + static_cast<std::ptrdiff_t>(i),
                                             t.begin() + static_cast<std::ptrdiff_t>(stop), '\n'));
      i = stop;
    } else if (c == '\'' || c == '"') {
      size_t j = i + 1;
      while (j < t.size() && t[j] != '\n' && !(t[j] == c && (j + 1 == t.size() || is_ws(t[j + 1])))) ++j;
      const size_t stop = j < t.size() && t[j] == c ? j + 1 : j;
      out.push_back({t.substr(i, stop - i), line, true});
      i = stop;
    } else {
      const size_t b = i;
      while (i < t.size() && !is_ws(t[i])) ++i;
      out.push_back({t.substr(b, i - b), line, false});
    }
  }
  return out;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  }
  return true;
}

bool is_tag_or_keyword(const Token& tok) {
  if (tok.quoted) return false;
  if (tok.text.front() == '_') return true;
  for (std::string_view kw : {"loop_", "data_", "save_", "global_", "stop_"}) {
    if (tok.text.size() >= kw.size() && iequals(tok.text.substr(0, kw.size()), kw)) return true;
  }
  return false;
}

// Line of value `row` of `tag` (a loop column or a tag-value pair); of the tag itself if the row is beyond
// the values; 0 when the tag is not in the text.
size_t line_of_value(std::string_view text, std::string_view tag, size_t row) {
  const std::vector<Token> toks = tokenize(text);
  for (size_t i = 0; i < toks.size(); ++i) {
    if (!toks[i].quoted && iequals(toks[i].text, "loop_")) {
      size_t j = i + 1, col = std::string_view::npos;
      std::vector<size_t> tag_at;
      while (j < toks.size() && !toks[j].quoted && toks[j].text.front() == '_') {
        if (iequals(toks[j].text, tag)) col = tag_at.size();
        tag_at.push_back(j++);
      }
      if (col == std::string_view::npos) continue;
      const size_t k = j + row * tag_at.size() + col;
      for (size_t v = j; v <= k && v < toks.size(); ++v) {
        if (is_tag_or_keyword(toks[v])) return toks[tag_at[col]].line;
      }
      return k < toks.size() ? toks[k].line : toks[tag_at[col]].line;
    }
    if (!toks[i].quoted && iequals(toks[i].text, tag)) return i + 1 < toks.size() ? toks[i + 1].line : toks[i].line;
  }
  return 0;
}

// Reads the values of a parsed block, turning bad or missing ones into errors with file and line.
class BlockReader {
 public:
  BlockReader(cif::Block& block, std::string_view text, const std::string& source)
      : block_(block), text_(text), source_(source) {}

  const std::string& source() const { return source_; }

  // All values of `tag` (empty when the tag is absent).
  cif::Column column(const std::string& tag) { return block_.find_values(tag); }

  // Columns of one category that must all be present and of equal length; `optional` ones may be absent.
  std::vector<cif::Column> category(const std::string& prefix, const std::vector<std::string>& required,
                                    const std::vector<std::string>& optional, size_t& rows) {
    std::vector<cif::Column> cols;
    bool have_rows = false;
    rows = 0;
    for (size_t i = 0; i < required.size() + optional.size(); ++i) {
      const bool is_required = i < required.size();
      const std::string tag = prefix + (is_required ? required[i] : optional[i - required.size()]);
      cif::Column c = block_.find_values(tag);
      if (!c && is_required) {
        fail(prefix + required.front(), 0,
             "expected the item " + tag + " (the " + prefix.substr(0, prefix.size() - 1) + " category lacks it)");
      }
      if (c) {
        if (!have_rows) rows = static_cast<size_t>(c.length());
        have_rows = true;
        if (static_cast<size_t>(c.length()) != rows) {
          fail(tag, 0, "expected " + std::to_string(rows) + " values of " + tag + " like the rest of its category");
        }
      }
      cols.push_back(c);
    }
    return cols;
  }

  int to_int(cif::Column& col, size_t row, const std::string& what) {
    const std::string s = col.str(static_cast<int>(row));
    char* end = nullptr;
    const long v = std::strtol(s.c_str(), &end, 10);
    if (s.empty() || end != s.c_str() + s.size()) {
      fail(*col.get_tag(), row, "expected an integer " + what + ", found '" + col[static_cast<int>(row)] + "'");
    }
    return static_cast<int>(v);
  }

  float to_float(cif::Column& col, size_t row) {
    const double v = cif::as_number(col[static_cast<int>(row)]);
    if (std::isnan(v)) {
      fail(*col.get_tag(), row, "expected a number for " + *col.get_tag() + ", found '" + col[static_cast<int>(row)] + "'");
    }
    return static_cast<float>(v);
  }

  [[noreturn]] void fail(const std::string& tag, size_t row, const std::string& what) {
    const size_t line = line_of_value(text_, tag, row);
    if (line > 0) AXF_FAIL(source_, ":", line, ": ", what);
    AXF_FAIL(source_, ": ", what);
  }

 private:
  cif::Block& block_;
  std::string_view text_;
  const std::string& source_;
};

struct Monomer {
  std::string id;
  int num;
  size_t row;  // in _entity_poly_seq, for error messages
};

struct ProteinChain {  // a _struct_asym of a protein entity
  std::string asym_id;
  std::string entity_id;
  const std::vector<Monomer>* monomers;
  int seq_start;
};

// An _atom_site row of the first model that belongs to a SEQRES position.
struct SiteAtom {
  std::string comp_id;
  std::string altloc;
  MmcifAtom atom;
};

void read_header(BlockReader& r, MmcifStructure& s) {
  cif::Column dates = r.column("_pdbx_audit_revision_history.revision_date");
  for (int i = 0; i < dates.length(); ++i) {
    const std::string d = dates.str(i);
    if (!d.empty() && (s.release_date.empty() || d < s.release_date)) s.release_date = d;
  }
  // AlphaFold's loop has no break: the last of these present with a number wins.
  for (const char* key : {"_refine.ls_d_res_high", "_em_3d_reconstruction.resolution", "_reflns.d_resolution_high"}) {
    cif::Column c = r.column(key);
    if (c.length() == 0) continue;
    const std::string v(strip(c.str(0)));
    char* end = nullptr;
    const double d = std::strtod(v.c_str(), &end);
    if (!v.empty() && end == v.c_str() + v.size()) s.resolution = d;
  }
  cif::Column methods = r.column("_exptl.method");
  for (int i = 0; i < methods.length(); ++i) {
    if (!s.structure_method.empty()) s.structure_method += ",";
    s.structure_method += lower(methods.str(i));
  }
}

// The entities with any peptide monomer, and their chains (AlphaFold's _get_protein_chains).
std::vector<ProteinChain> protein_chains(BlockReader& r, std::vector<std::pair<std::string, std::vector<Monomer>>>& polymers) {
  size_t n_seq = 0;
  if (!r.column("_entity_poly_seq.entity_id")) return {};
  auto seq = r.category("_entity_poly_seq.", {"entity_id", "num", "mon_id"}, {}, n_seq);
  std::unordered_map<std::string, size_t> entity_index;
  for (size_t i = 0; i < n_seq; ++i) {
    const std::string entity = seq[0].str(static_cast<int>(i));
    auto [it, inserted] = entity_index.emplace(entity, polymers.size());
    if (inserted) polymers.push_back({entity, {}});
    polymers[it->second].second.push_back({seq[2].str(static_cast<int>(i)), r.to_int(seq[1], i, "monomer number"), i});
  }

  size_t n_comp = 0;
  auto comp = r.category("_chem_comp.", {"id", "type"}, {}, n_comp);
  std::unordered_map<std::string, std::string> comp_type;
  for (size_t i = 0; i < n_comp; ++i) comp_type[comp[0].str(static_cast<int>(i))] = lower(comp[1].str(static_cast<int>(i)));

  size_t n_asym = 0;
  auto asym = r.category("_struct_asym.", {"id", "entity_id"}, {}, n_asym);

  std::vector<ProteinChain> chains;
  for (const auto& [entity, monomers] : polymers) {
    bool peptide = false;
    for (size_t m = 0; m < monomers.size(); ++m) {
      const auto it = comp_type.find(monomers[m].id);
      if (it == comp_type.end()) {
        r.fail("_entity_poly_seq.mon_id", monomers[m].row,
               "monomer '" + monomers[m].id + "' of entity " + entity + " is not in the _chem_comp category");
      }
      peptide = peptide || it->second.find("peptide") != std::string::npos;
    }
    if (!peptide) continue;
    int start = monomers.front().num;
    for (const Monomer& m : monomers) start = std::min(start, m.num);
    for (size_t i = 0; i < n_asym; ++i) {
      if (asym[1].str(static_cast<int>(i)) == entity) chains.push_back({asym[0].str(static_cast<int>(i)), entity, &monomers, start});
    }
  }
  return chains;
}

// Of atoms sharing a name, the one with the highest occupancy (the first of equals), as Biopython's
// DisorderedAtom selects; atoms keep the order of their first appearance.
std::vector<MmcifAtom> resolve_altlocs(const std::vector<SiteAtom>& sites, const std::string& comp_id) {
  std::vector<MmcifAtom> atoms;
  for (const SiteAtom& site : sites) {
    if (site.comp_id != comp_id) continue;
    auto same = std::find_if(atoms.begin(), atoms.end(), [&](const MmcifAtom& a) { return a.name == site.atom.name; });
    if (same == atoms.end()) {
      atoms.push_back(site.atom);
    } else if (site.atom.occupancy > same->occupancy) {
      *same = site.atom;
    }
  }
  return atoms;
}

}  // namespace

MmcifStructure read_mmcif(const std::filesystem::path& path) {
  const std::string source = path.string();
  AXF_CHECK(path.extension() != ".gz", source,
            ": compressed mmCIF is not read; gunzip it first (AlphaFold's template directory holds plain .cif)");
  const std::string text = read_text_file(path);
  cif::Document doc;
  try {
    doc = cif::read_memory(text.data(), text.size(), source.c_str());
  } catch (const std::exception& e) {
    AXF_FAIL(e.what(), " (while reading mmCIF)");
  }
  AXF_CHECK(doc.blocks.size() == 1, source, ": expected one data block (data_<id>), found ", doc.blocks.size());
  BlockReader r(doc.blocks.front(), text, source);

  MmcifStructure s;
  s.file_id = lower(r.column("_entry.id").length() > 0 ? r.column("_entry.id").str(0) : std::string());
  if (s.file_id.empty()) s.file_id = path.stem().string();
  read_header(r, s);

  std::vector<std::pair<std::string, std::vector<Monomer>>> polymers;
  const std::vector<ProteinChain> chains = protein_chains(r, polymers);
  if (chains.empty()) return s;

  size_t n_atoms = 0;
  auto site = r.category("_atom_site.",
                         {"group_PDB", "label_atom_id", "label_comp_id", "label_asym_id", "label_seq_id",
                          "auth_asym_id", "auth_seq_id", "Cartn_x", "Cartn_y", "Cartn_z"},
                         {"pdbx_PDB_ins_code", "pdbx_PDB_model_num", "label_alt_id", "occupancy", "B_iso_or_equiv",
                          "type_symbol"},
                         n_atoms);
  enum { kGroup, kAtomId, kCompId, kAsym, kSeq, kAuthAsym, kAuthSeq, kX, kY, kZ, kIns, kModel, kAlt, kOcc, kB, kType };
  auto str = [&](int col, size_t row) { return site[col] ? site[col].str(static_cast<int>(row)) : std::string(); };

  std::unordered_map<std::string, size_t> chain_of_asym;
  for (size_t c = 0; c < chains.size(); ++c) chain_of_asym.emplace(chains[c].asym_id, c);
  std::unordered_map<std::string, std::string> author_of_asym;
  std::vector<std::vector<MmcifResidue>> residues(chains.size());
  std::vector<std::vector<std::vector<SiteAtom>>> sites(chains.size());
  for (size_t c = 0; c < chains.size(); ++c) {
    residues[c].resize(chains[c].monomers->size());
    sites[c].resize(chains[c].monomers->size());
  }

  const std::string first_model = n_atoms > 0 ? str(kModel, 0) : std::string();
  for (size_t a = 0; a < n_atoms; ++a) {
    if (str(kModel, a) != first_model) continue;  // AlphaFold reads the first model only
    const std::string asym = str(kAsym, a);
    author_of_asym.emplace(asym, str(kAuthAsym, a));
    const auto it = chain_of_asym.find(asym);
    if (it == chain_of_asym.end()) continue;
    const size_t c = it->second;
    const int index = r.to_int(site[kSeq], a, "label_seq_id for a polymer atom") - chains[c].seq_start;
    if (index < 0 || index >= static_cast<int>(residues[c].size())) continue;

    MmcifResidue& res = residues[c][static_cast<size_t>(index)];
    res.is_missing = false;
    res.name = str(kCompId, a);  // the last atom decides, as in AlphaFold's mapping
    res.auth_seq_id = r.to_int(site[kAuthSeq], a, "author residue number (auth_seq_id)");
    res.insertion_code = str(kIns, a);
    res.hetatm = str(kGroup, a) == "HETATM";

    SiteAtom sa;
    sa.comp_id = res.name;
    sa.altloc = str(kAlt, a);
    sa.atom.name = str(kAtomId, a);
    sa.atom.element = str(kType, a);
    sa.atom.x = r.to_float(site[kX], a);
    sa.atom.y = r.to_float(site[kY], a);
    sa.atom.z = r.to_float(site[kZ], a);
    if (site[kOcc] && !cif::is_null(site[kOcc][static_cast<int>(a)])) sa.atom.occupancy = r.to_float(site[kOcc], a);
    if (site[kB] && !cif::is_null(site[kB][static_cast<int>(a)])) sa.atom.b_factor = r.to_float(site[kB], a);
    sites[c][static_cast<size_t>(index)].push_back(std::move(sa));
  }

  for (size_t c = 0; c < chains.size(); ++c) {
    const auto author = author_of_asym.find(chains[c].asym_id);
    if (author == author_of_asym.end()) continue;  // no atoms in the first model
    MmcifChain chain;
    chain.id = author->second;
    chain.label_asym_id = chains[c].asym_id;
    chain.entity_id = chains[c].entity_id;
    const std::vector<Monomer>& monomers = *chains[c].monomers;
    for (size_t i = 0; i < monomers.size(); ++i) {
      chain.residue_names.push_back(monomers[i].id);
      chain.seqres_sequence.push_back(one_letter(monomers[i].id));
      MmcifResidue& res = residues[c][i];
      if (res.is_missing) {
        res.name = monomers[i].id;
      } else {
        res.atoms = resolve_altlocs(sites[c][i], res.name);
      }
    }
    chain.residues = std::move(residues[c]);
    // AlphaFold keys chains by author id: a later chain with the same id replaces the earlier one.
    auto same = std::find_if(s.chains.begin(), s.chains.end(), [&](const MmcifChain& x) { return x.id == chain.id; });
    if (same != s.chains.end()) {
      *same = std::move(chain);
    } else {
      s.chains.push_back(std::move(chain));
    }
  }
  return s;
}

void chain_atom37(const MmcifStructure& s, const std::string& chain_id, std::vector<float>& positions,
                  std::vector<float>& mask) {
  const auto chain = std::find_if(s.chains.begin(), s.chains.end(), [&](const MmcifChain& c) { return c.id == chain_id; });
  if (chain == s.chains.end()) {
    std::string ids;
    for (const MmcifChain& c : s.chains) ids += (ids.empty() ? "" : ", ") + c.id;
    AXF_FAIL(s.file_id, ": no protein chain '", chain_id, "' (protein chains: ", ids.empty() ? "none" : ids, ")");
  }
  const size_t n = chain->residues.size();
  positions.assign(n * 37 * 3, 0.0f);
  mask.assign(n * 37, 0.0f);
  const int sd = atom37_index("SD"), cd = atom37_index("CD"), nh1 = atom37_index("NH1"), nh2 = atom37_index("NH2");
  for (size_t i = 0; i < n; ++i) {
    const MmcifResidue& res = chain->residues[i];
    if (res.is_missing) continue;
    float* pos = positions.data() + i * 37 * 3;
    float* m = mask.data() + i * 37;
    for (const MmcifAtom& atom : res.atoms) {
      int k = atom37_index(atom.name);
      if (k < 0 && res.name == "MSE" && lower(atom.name) == "se") k = sd;  // selenium in the sulphur column
      if (k < 0) continue;
      pos[k * 3 + 0] = atom.x;
      pos[k * 3 + 1] = atom.y;
      pos[k * 3 + 2] = atom.z;
      m[k] = 1.0f;
    }
    // Arginines whose NH2 is closer to CD than NH1 have the two names swapped.
    if (res.name == "ARG" && m[cd] > 0 && m[nh1] > 0 && m[nh2] > 0) {
      auto dist2 = [&](int a, int b) {
        float d = 0;
        for (int x = 0; x < 3; ++x) d += (pos[a * 3 + x] - pos[b * 3 + x]) * (pos[a * 3 + x] - pos[b * 3 + x]);
        return d;
      };
      if (dist2(nh1, cd) > dist2(nh2, cd)) {
        for (int x = 0; x < 3; ++x) std::swap(pos[nh1 * 3 + x], pos[nh2 * 3 + x]);
      }
    }
  }
}

}  // namespace axf::io
