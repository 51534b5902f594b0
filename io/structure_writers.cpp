#include "io/structure_writers.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>
#include <set>

#include "core/error.h"
#include "model/residue_constants.h"

namespace axf::io {

namespace {

constexpr int kAtoms = model::atom_type_num;

// printf-style formatting (the PDB columns are printf widths, exactly as AlphaFold's f-strings).
std::string format(const char* fmt, auto... args) {
  char buf[256];
  const int n = std::snprintf(buf, sizeof(buf), fmt, args...);
  AXF_CHECK(n >= 0, "structure writer: cannot format '", fmt, "'");
  if (n < static_cast<int>(sizeof(buf))) return std::string(buf, static_cast<size_t>(n));
  std::string out(static_cast<size_t>(n) + 1, '\0');  // huge coordinates widen the field, as in Python
  std::snprintf(out.data(), out.size(), fmt, args...);
  out.resize(static_cast<size_t>(n));
  return out;
}

std::string_view resname(int32_t aatype) { return model::restype_names[static_cast<size_t>(aatype)]; }

// Free text on one line: control characters (newlines included) become spaces.
std::string one_line(const std::string& s) {
  std::string out = s;
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  }
  return out;
}

// Splits text into pieces of at most `width` characters (at least one piece).
std::vector<std::string> wrap(const std::string& text, size_t width) {
  std::vector<std::string> out;
  for (size_t i = 0; i < text.size(); i += width) out.push_back(text.substr(i, width));
  if (out.empty()) out.emplace_back();
  return out;
}

void pad80(std::string& out, std::string line) {
  if (line.size() < 80) line.append(80 - line.size(), ' ');
  out += line;
  out += '\n';
}

bool atom_present(const StructureRecord& r, int64_t i, int a) {
  return r.atom_mask[static_cast<size_t>(i * kAtoms + a)] >= 0.5f;
}
const float* atom_xyz(const StructureRecord& r, int64_t i, int a) {
  return &r.atom_positions[static_cast<size_t>((i * kAtoms + a) * 3)];
}

// ---- CIF value quoting (CIF 1.1 rules) ----
bool needs_quotes(const std::string& v) {
  if (v.empty() || v == "." || v == "?") return true;
  const char c0 = v[0];
  if (c0 == '_' || c0 == '#' || c0 == '$' || c0 == '\'' || c0 == '"' || c0 == ';' || c0 == '[' || c0 == ']')
    return true;
  for (char c : v) {
    if (c == ' ' || c == '\t') return true;
  }
  std::string lower = v;
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  for (const char* reserved : {"data_", "save_", "loop_", "global_", "stop_"}) {
    if (lower.rfind(reserved, 0) == 0) return true;
  }
  return false;
}

// A CIF value for free text (never the null markers '.'/'?': those are written literally where meant).
std::string cif_text(const std::string& raw) {
  const std::string v = one_line(raw);
  if (!needs_quotes(v)) return v;
  if (v.find("' ") == std::string::npos && v.back() != '\'') return "'" + v + "'";
  if (v.find("\" ") == std::string::npos && v.back() != '"') return "\"" + v + "\"";
  return "\n;" + v + "\n;\n";  // text field
}

void cif_pair(std::string& out, const std::string& key, const std::string& value) {
  out += key;
  out += ' ';
  out += value;
  if (out.back() != '\n') out += '\n';
}

void cif_loop_header(std::string& out, const std::string& category, std::initializer_list<const char*> items) {
  out += "loop_\n";
  for (const char* item : items) out += category + "." + item + "\n";
}

// AlphaFold's _chem_comp data (protein._CHEM_COMP) plus the unknown residue.
struct ChemComp {
  const char* id;
  const char* type;
  const char* name;
};
constexpr ChemComp kChemComp[] = {
    {"ALA", "L-peptide linking", "ALANINE"},       {"ARG", "L-peptide linking", "ARGININE"},
    {"ASN", "L-peptide linking", "ASPARAGINE"},    {"ASP", "L-peptide linking", "ASPARTIC ACID"},
    {"CYS", "L-peptide linking", "CYSTEINE"},      {"GLN", "L-peptide linking", "GLUTAMINE"},
    {"GLU", "L-peptide linking", "GLUTAMIC ACID"}, {"GLY", "peptide linking", "GLYCINE"},
    {"HIS", "L-peptide linking", "HISTIDINE"},     {"ILE", "L-peptide linking", "ISOLEUCINE"},
    {"LEU", "L-peptide linking", "LEUCINE"},       {"LYS", "L-peptide linking", "LYSINE"},
    {"MET", "L-peptide linking", "METHIONINE"},    {"PHE", "L-peptide linking", "PHENYLALANINE"},
    {"PRO", "L-peptide linking", "PROLINE"},       {"SER", "L-peptide linking", "SERINE"},
    {"THR", "L-peptide linking", "THREONINE"},     {"TRP", "L-peptide linking", "TRYPTOPHAN"},
    {"TYR", "L-peptide linking", "TYROSINE"},      {"VAL", "L-peptide linking", "VALINE"},
    {"UNK", "L-peptide linking", "UNKNOWN"},
};

std::string block_name(const std::string& name) {
  std::string out = name.empty() ? std::string("model") : name;
  for (char& c : out) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) c = '_';
  }
  return out;
}

}  // namespace

void StructureRecord::validate() const {
  const int64_t L = num_res();
  AXF_CHECK(L > 0, "structure record: no residues");
  AXF_CHECK(static_cast<int64_t>(residue_index.size()) == L, "structure record: residue_index has ",
            residue_index.size(), " entries for ", L, " residues");
  AXF_CHECK(static_cast<int64_t>(atom_positions.size()) == L * kAtoms * 3, "structure record: atom_positions has ",
            atom_positions.size(), " values, expected ", L * kAtoms * 3, " (L x 37 x 3)");
  AXF_CHECK(static_cast<int64_t>(atom_mask.size()) == L * kAtoms, "structure record: atom_mask has ", atom_mask.size(),
            " values, expected ", L * kAtoms, " (L x 37)");
  AXF_CHECK(static_cast<int64_t>(b_factors.size()) == L, "structure record: b_factors has ", b_factors.size(),
            " values for ", L, " residues");
  AXF_CHECK(sequence.empty() || static_cast<int64_t>(sequence.size()) == L, "structure record: sequence of length ",
            sequence.size(), " for ", L, " residues");
  AXF_CHECK(chain_id > ' ' && chain_id < 0x7f, "structure record: invalid chain id ", static_cast<int>(chain_id));
  for (int64_t i = 0; i < L; ++i) {
    const int32_t a = aatype[static_cast<size_t>(i)];
    AXF_CHECK(a >= 0 && a <= model::unk_restype_index, "structure record: invalid aatype ", a, " at residue ", i);
    if (!sequence.empty()) {
      const char s = sequence[static_cast<size_t>(i)];
      AXF_CHECK(model::restype_index(s) == a, "structure record: sequence letter '", s, "' at residue ", i,
                " does not match aatype ", a);
    }
  }
}

std::string to_pdb(const StructureRecord& r) {
  r.validate();
  const int64_t L = r.num_res();
  std::string out;
  if (!r.title.empty()) {
    const std::vector<std::string> parts = wrap(one_line(r.title), 69);
    for (size_t k = 0; k < parts.size(); ++k)
      pad80(out, k == 0 ? "TITLE     " + parts[k] : format("TITLE   %2d ", static_cast<int>(k + 1)) + parts[k]);
  }
  for (const std::string& remark : r.remarks) {
    for (const std::string& part : wrap(one_line(remark), 69)) pad80(out, "REMARK  99 " + part);
  }
  pad80(out, "MODEL     1");
  const char chain[2] = {r.chain_id, '\0'};
  int atom_index = 1;
  for (int64_t i = 0; i < L; ++i) {
    const std::string res = std::string(resname(r.aatype[static_cast<size_t>(i)]));
    const int resnum = r.residue_index[static_cast<size_t>(i)] + 1;
    const double b = r.b_factors[static_cast<size_t>(i)];
    for (int a = 0; a < kAtoms; ++a) {
      if (!atom_present(r, i, a)) continue;
      const std::string atom(model::atom_types[static_cast<size_t>(a)]);
      // AlphaFold's alignment rule: 4-character names start in column 13, shorter ones in column 14.
      const std::string name = atom.size() == 4 ? atom : " " + atom;
      const std::string element(1, atom[0]);  // protein atoms are C, N, O, S: the first letter is the element
      const float* x = atom_xyz(r, i, a);
      pad80(out, format("%-6s%5d %-4s%1s%3s %1s%4d%1s   %8.3f%8.3f%8.3f%6.2f%6.2f          %2s%2s", "ATOM", atom_index,
                        name.c_str(), "", res.c_str(), chain, resnum, "", static_cast<double>(x[0]),
                        static_cast<double>(x[1]), static_cast<double>(x[2]), 1.00, b, element.c_str(), ""));
      ++atom_index;
    }
  }
  pad80(out, format("%-6s%5d      %3s %1s%4d", "TER", atom_index, std::string(resname(r.aatype.back())).c_str(), chain,
                    r.residue_index.back() + 1));
  pad80(out, "ENDMDL");
  pad80(out, "END");
  return out;
}

std::string to_mmcif(const StructureRecord& r, const std::string& data_name) {
  r.validate();
  const int64_t L = r.num_res();
  for (int64_t i = 1; i < L; ++i) {
    AXF_CHECK(r.residue_index[static_cast<size_t>(i)] > r.residue_index[static_cast<size_t>(i - 1)],
              "mmCIF writer: residue_index must increase strictly (residue ", i, ": ",
              r.residue_index[static_cast<size_t>(i)], " after ", r.residue_index[static_cast<size_t>(i - 1)], ")");
  }
  const std::string name = block_name(data_name);
  const std::string asym(1, r.chain_id);
  const std::string entity = "1";
  std::string out;
  out += "data_" + name + "\n#\n";
  for (const std::string& remark : r.remarks) out += "# " + one_line(remark) + "\n";
  cif_pair(out, "_entry.id", cif_text(name));
  out += "#\n";
  if (!r.title.empty()) {
    cif_pair(out, "_struct.entry_id", cif_text(name));
    cif_pair(out, "_struct.title", cif_text(r.title));
    out += "#\n";
  }
  cif_pair(out, "_audit_conform.dict_name", "mmcif_ma.dic");
  cif_pair(out, "_audit_conform.dict_version", "1.3.9");
  cif_pair(out, "_audit_conform.dict_location",
           "https://raw.githubusercontent.com/ihmwg/ModelCIF/master/dist/mmcif_ma.dic");
  out += "#\n";

  // Entity, polymer sequence (AlphaFold: numbering from min(1, first) to last, gaps filled with UNK), chain.
  cif_pair(out, "_entity.id", entity);
  cif_pair(out, "_entity.type", "polymer");
  out += "#\n";
  cif_pair(out, "_entity_poly.entity_id", entity);
  cif_pair(out, "_entity_poly.type", "polypeptide(L)");
  cif_pair(out, "_entity_poly.pdbx_strand_id", asym);
  out += "#\n";
  std::map<int, int32_t> present;  // 1-based residue number -> aatype
  for (int64_t i = 0; i < L; ++i)
    present[r.residue_index[static_cast<size_t>(i)] + 1] = r.aatype[static_cast<size_t>(i)];
  std::set<std::string> comps;
  cif_loop_header(out, "_entity_poly_seq", {"entity_id", "num", "mon_id", "hetero"});
  for (int num = std::min(1, present.begin()->first); num <= present.rbegin()->first; ++num) {
    const auto it = present.find(num);
    const std::string mon(resname(it == present.end() ? model::unk_restype_index : it->second));
    comps.insert(mon);
    out += entity + " " + std::to_string(num) + " " + mon + " n\n";
  }
  out += "#\n";
  cif_pair(out, "_struct_asym.id", asym);
  cif_pair(out, "_struct_asym.entity_id", entity);
  out += "#\n";
  cif_loop_header(out, "_chem_comp", {"id", "type", "name"});
  for (const ChemComp& c : kChemComp) {
    if (comps.count(c.id)) out += std::string(c.id) + " " + cif_text(c.type) + " " + cif_text(c.name) + "\n";
  }
  out += "#\n";

  // Atoms.
  std::string atoms;
  std::set<char> elements;
  double b_sum = 0;
  int64_t n_atoms = 0;
  for (int64_t i = 0; i < L; ++i) {
    const std::string res(resname(r.aatype[static_cast<size_t>(i)]));
    const std::string seq = std::to_string(r.residue_index[static_cast<size_t>(i)] + 1);
    const std::string b = format("%.2f", static_cast<double>(r.b_factors[static_cast<size_t>(i)]));
    for (int a = 0; a < kAtoms; ++a) {
      if (!atom_present(r, i, a)) continue;
      const std::string atom(model::atom_types[static_cast<size_t>(a)]);
      const float* x = atom_xyz(r, i, a);
      elements.insert(atom[0]);
      ++n_atoms;
      b_sum += std::stod(b);  // AlphaFold's global pLDDT: the mean of the written per-atom values
      // group_PDB id type_symbol label_atom_id label_alt_id label_comp_id label_asym_id label_entity_id label_seq_id
      // pdbx_PDB_ins_code Cartn_x Cartn_y Cartn_z occupancy B_iso_or_equiv pdbx_formal_charge auth_seq_id
      // auth_comp_id auth_asym_id auth_atom_id pdbx_PDB_model_num
      atoms += format("ATOM %lld %c %s . %s %s %s %s ? %.3f %.3f %.3f 1.00 %s ? %s %s %s %s 1\n",
                      static_cast<long long>(n_atoms), atom[0], atom.c_str(), res.c_str(), asym.c_str(), entity.c_str(),
                      seq.c_str(), static_cast<double>(x[0]), static_cast<double>(x[1]), static_cast<double>(x[2]),
                      b.c_str(), seq.c_str(), res.c_str(), asym.c_str(), atom.c_str());
    }
  }
  cif_loop_header(out, "_atom_type", {"symbol"});
  for (char e : elements) out += std::string(1, e) + "\n";
  out += "#\n";
  cif_loop_header(out, "_atom_site",
                  {"group_PDB", "id", "type_symbol", "label_atom_id", "label_alt_id", "label_comp_id",
                   "label_asym_id", "label_entity_id", "label_seq_id", "pdbx_PDB_ins_code", "Cartn_x", "Cartn_y",
                   "Cartn_z", "occupancy", "B_iso_or_equiv", "pdbx_formal_charge", "auth_seq_id", "auth_comp_id",
                   "auth_asym_id", "auth_atom_id", "pdbx_PDB_model_num"});
  out += atoms;
  out += "#\n";

  // ModelCIF: the software, the model and its pLDDT (global = mean over atoms, local = per residue).
  cif_pair(out, "_software.pdbx_ordinal", "1");
  cif_pair(out, "_software.name", "AxialFold");
  cif_pair(out, "_software.version", cif_text(AXF_VERSION));
  cif_pair(out, "_software.type", "package");
  cif_pair(out, "_software.description", cif_text("Structure prediction"));
  cif_pair(out, "_software.classification", "other");
  out += "#\n";
  cif_pair(out, "_ma_software_group.ordinal_id", "1");
  cif_pair(out, "_ma_software_group.group_id", "1");
  cif_pair(out, "_ma_software_group.software_id", "1");
  out += "#\n";
  cif_pair(out, "_ma_data.id", "1");
  cif_pair(out, "_ma_data.name", "Model");
  cif_pair(out, "_ma_data.content_type", cif_text("model coordinates"));
  out += "#\n";
  cif_pair(out, "_ma_target_entity.entity_id", entity);
  cif_pair(out, "_ma_target_entity.data_id", "1");
  cif_pair(out, "_ma_target_entity.origin", ".");
  out += "#\n";
  cif_pair(out, "_ma_target_entity_instance.asym_id", asym);
  cif_pair(out, "_ma_target_entity_instance.entity_id", entity);
  cif_pair(out, "_ma_target_entity_instance.details", ".");
  out += "#\n";
  cif_pair(out, "_ma_model_list.ordinal_id", "1");
  cif_pair(out, "_ma_model_list.model_id", "1");
  cif_pair(out, "_ma_model_list.model_group_id", "1");
  cif_pair(out, "_ma_model_list.model_name", cif_text("AxialFold model"));
  cif_pair(out, "_ma_model_list.model_group_name", cif_text("AxialFold " AXF_VERSION " model"));
  cif_pair(out, "_ma_model_list.data_id", "1");
  cif_pair(out, "_ma_model_list.model_type", cif_text("Ab initio model"));
  out += "#\n";
  cif_pair(out, "_ma_protocol_step.ordinal_id", "1");
  cif_pair(out, "_ma_protocol_step.protocol_id", "1");
  cif_pair(out, "_ma_protocol_step.step_id", "1");
  cif_pair(out, "_ma_protocol_step.method_type", "modeling");
  cif_pair(out, "_ma_protocol_step.software_group_id", "1");
  out += "#\n";
  cif_loop_header(out, "_ma_qa_metric", {"id", "name", "type", "mode", "software_group_id"});
  out += "1 pLDDT pLDDT global 1\n2 pLDDT pLDDT local 1\n#\n";
  cif_pair(out, "_ma_qa_metric_global.ordinal_id", "1");
  cif_pair(out, "_ma_qa_metric_global.model_id", "1");
  cif_pair(out, "_ma_qa_metric_global.metric_id", "1");
  cif_pair(out, "_ma_qa_metric_global.metric_value",
           n_atoms > 0 ? format("%.2f", b_sum / static_cast<double>(n_atoms)) : std::string("?"));
  out += "#\n";
  cif_loop_header(
      out, "_ma_qa_metric_local",
      {"ordinal_id", "model_id", "label_asym_id", "label_seq_id", "label_comp_id", "metric_id", "metric_value"});
  for (int64_t i = 0; i < L; ++i) {
    out += std::to_string(i + 1) + " 1 " + asym + " " + std::to_string(r.residue_index[static_cast<size_t>(i)] + 1) +
           " " + std::string(resname(r.aatype[static_cast<size_t>(i)])) + " 2 " +
           format("%.2f", static_cast<double>(r.b_factors[static_cast<size_t>(i)])) + "\n";
  }
  out += "#\n";
  return out;
}

void write_text_atomically(const std::filesystem::path& path, const std::string& text) {
  static std::atomic<uint64_t> counter{0};
  const std::string fname = path.string();
  AXF_CHECK(!path.filename().empty(), "cannot write '", fname, "': not a file name");
  std::filesystem::path temp = path;
  temp += ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(counter.fetch_add(1));
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  AXF_CHECK(fd >= 0, "cannot write '", fname, "': cannot create temporary file '", temp.string(),
            "': ", std::strerror(errno));
  auto fail = [&](const char* what) {
    const std::string reason = std::strerror(errno);
    ::close(fd);
    std::error_code ec;
    std::filesystem::remove(temp, ec);
    AXF_FAIL("cannot write '", fname, "': ", what, " '", temp.string(), "' failed: ", reason);
  };
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) fail("write to");
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) fail("fsync of");
  if (::close(fd) != 0) {
    const std::string reason = std::strerror(errno);
    std::error_code ec;
    std::filesystem::remove(temp, ec);
    AXF_FAIL("cannot write '", fname, "': close of '", temp.string(), "' failed: ", reason);
  }
  std::error_code ec;
  std::filesystem::rename(temp, path, ec);
  if (ec) {
    std::error_code ignored;
    std::filesystem::remove(temp, ignored);
    AXF_FAIL("cannot write '", fname, "': cannot move '", temp.string(), "' into place: ", ec.message());
  }
  // Make the rename itself durable; a failure here no longer affects the file's contents.
  const std::filesystem::path dir = path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
}

}  // namespace axf::io
