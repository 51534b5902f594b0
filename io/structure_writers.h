// Structure files for one predicted chain: PDB laid out exactly as AlphaFold's protein.to_pdb (v2.3) and mmCIF in
// the layout of AlphaFold's protein.to_mmcif plus ModelCIF pLDDT metrics (per residue in B_iso_or_equiv and
// _ma_qa_metric_local); and the atomic text-file write every output file goes through. File formats only: the
// record carries the coordinates in AlphaFold's atom37 layout and the per-residue pLDDT.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace axf::io {

struct StructureRecord {
  std::vector<char> sequence;          // one-letter codes [L]; may be empty, else must agree with aatype
  std::vector<int32_t> aatype;         // [L] AlphaFold restype indices 0..20 (20 = UNK)
  std::vector<int32_t> residue_index;  // [L] 0-based as AlphaFold's residue_index feature; files show it + 1
  char chain_id = 'A';
  std::vector<float> atom_positions;  // [L * 37 * 3] Angstrom, atom37 order
  std::vector<float> atom_mask;       // [L * 37]; atoms with mask < 0.5 are not written
  std::vector<float> b_factors;       // [L] per residue (pLDDT), written on every atom of the residue
  std::string title;                  // PDB TITLE / mmCIF _struct.title; empty = none
  std::vector<std::string> remarks;   // PDB "REMARK  99" lines / mmCIF comment lines; one line each

  int64_t num_res() const { return static_cast<int64_t>(aatype.size()); }
  // Throws axf::Error naming the first inconsistent field (sizes, aatype range, sequence mismatch).
  void validate() const;
};

// PDB text: optional TITLE/REMARK lines, then MODEL 1, ATOM records (AlphaFold's columns: the atom name starts in
// column 14 unless it has 4 characters, element = first letter of the name, occupancy 1.00, B-factor), TER,
// ENDMDL, END; every line padded to 80 characters, as AlphaFold writes it.
std::string to_pdb(const StructureRecord& record);

// mmCIF text with data block `data_name` (whitespace replaced by '_'): _entry, _entity, _entity_poly,
// _entity_poly_seq (gaps in the numbering filled with UNK, as AlphaFold), _struct_asym, _chem_comp for the residue
// types present, _atom_type, _atom_site, and ModelCIF pLDDT tables (_ma_qa_metric global + local).
std::string to_mmcif(const StructureRecord& record, const std::string& data_name);

// Writes `text` to `path` atomically: a temporary file in the same directory, fsync, rename onto `path`, fsync of
// the directory. On any failure the temporary file is removed and an axf::Error naming `path` is thrown; `path`
// itself is then untouched.
void write_text_atomically(const std::filesystem::path& path, const std::string& text);

}  // namespace axf::io
