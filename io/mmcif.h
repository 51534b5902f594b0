// mmCIF structures as AlphaFold's template pipeline reads them (mmcif_parsing.parse and
// templates._get_atom_positions): protein chains with their SEQRES sequence, the observed atoms of each
// SEQRES position, release date and resolution. The CIF syntax is read by gemmi (only in mmcif.cpp).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace axf::io {

struct MmcifAtom {
  std::string name;     // _atom_site.label_atom_id
  std::string element;  // _atom_site.type_symbol
  float x = 0, y = 0, z = 0;
  float occupancy = 1;
  float b_factor = 0;
};

// One SEQRES position of a chain as it appears in the first model.
struct MmcifResidue {
  bool is_missing = true;     // no atom in the first model
  std::string name;           // observed _atom_site.label_comp_id (the SEQRES name when missing)
  int auth_seq_id = 0;        // author numbering and insertion code ("" when unset)
  std::string insertion_code;
  bool hetatm = false;        // its atoms are HETATM records (e.g. MSE)
  // Atoms of the first model with `name`; of alternative locations only the one with the highest
  // occupancy (the first of equals) is kept, as Biopython selects them.
  std::vector<MmcifAtom> atoms;
};

struct MmcifChain {
  std::string id;                          // author chain id (_atom_site.auth_asym_id), as AlphaFold keys chains
  std::string seqres_sequence;             // one letter per _entity_poly_seq row (see below)
  std::vector<std::string> residue_names;  // _entity_poly_seq.mon_id per SEQRES position
  std::string label_asym_id;               // _struct_asym.id
  std::string entity_id;
  std::vector<MmcifResidue> residues;      // per SEQRES position
};

struct MmcifStructure {
  std::string file_id;           // _entry.id in lower case (the PDB id), else the file name without ".cif"
  std::string release_date;      // YYYY-MM-DD: the earliest _pdbx_audit_revision_history.revision_date; "" if none
  double resolution = 0.0;       // AlphaFold's choice (see read_mmcif); 0 when none is given (e.g. NMR)
  std::string structure_method;  // _exptl.method values, lower case, comma-separated
  std::vector<MmcifChain> chains;
};

// Reads an mmCIF file. Chains are those of entities with any "peptide" monomer (_chem_comp.type), in
// entity then _struct_asym order, keyed by author chain id; chains without atoms in the first model are
// left out (AlphaFold fails the whole file there). Sequences follow AlphaFold's mmcif_parsing: one letter
// per _entity_poly_seq row, the 20 standard residues by their letter and UNK as X; modified residues take
// their parent's letter (MSE -> M, SEP -> S, ...) as AlphaFold <= 2.3.1 did with Biopython 1.79's table
// (AlphaFold 2.3.2 with Biopython >= 1.80 maps every non-standard residue to X); the parent comes from
// gemmi's residue table, ASX, GLX, SEC, PYL give B, Z, U, O, and residues it lacks, chromophores and
// non-amino-acids give X. Resolution: as AlphaFold, the last of _refine.ls_d_res_high,
// _em_3d_reconstruction.resolution, _reflns.d_resolution_high that is present and numeric wins.
// Throws axf::Error naming the file (and line) on malformed input.
MmcifStructure read_mmcif(const std::filesystem::path& path);

// AlphaFold's templates._get_atom_positions for one chain: positions [N*37*3] (Angstrom) and mask [N*37] in
// atom37 order for the N SEQRES positions of `chain_id` (author id), zero where residues or atoms are
// missing. The selenium of MSE goes to SD; ARG NH1/NH2 are swapped when NH2 is closer to CD. Atoms outside
// atom37 (hydrogens, ligand atoms) are ignored. The CA-CA distance check that rejects templates is left to
// the caller. Throws naming the file id when the chain is not there.
void chain_atom37(const MmcifStructure& s, const std::string& chain_id, std::vector<float>& positions,
                  std::vector<float>& mask);

}  // namespace axf::io
