// ModelInputs: AlphaFold's processed model inputs (one recycling sample), host tensors under AlphaFold's
// feature names, checked for presence and consistent shapes. L residues, S MSA clusters, E extra sequences,
// T templates.
#pragma once

#include <filesystem>
#include <map>
#include <string>

#include "core/tensor.h"

namespace axf::model {

using core::Tensor;

struct TemplateBatch {
  Tensor aatype;              // [T, L] int32
  Tensor all_atom_positions;  // [T, L, 37, 3]
  Tensor all_atom_mask;       // [T, L, 37]
  Tensor pseudo_beta;         // [T, L, 3]
  Tensor pseudo_beta_mask;    // [T, L]
  Tensor mask;                // [T] 1 = template present
  // Torsion-angle features (AlphaFold all_atom.atom37_to_torsion_angles), computed when not supplied.
  Tensor torsion_angles_sin_cos;      // [T, L, 7, 2]
  Tensor alt_torsion_angles_sin_cos;  // [T, L, 7, 2]
  Tensor torsion_angles_mask;         // [T, L, 7]
  int64_t count() const { return mask.defined() ? mask.size(0) : 0; }
};

struct ModelInputs {
  Tensor aatype;                // [L] int32
  Tensor residue_index;         // [L] int32
  Tensor seq_mask;              // [L]
  Tensor target_feat;           // [L, 22]
  Tensor msa_feat;              // [S, L, 49]
  Tensor msa_mask;              // [S, L]
  Tensor extra_msa;             // [E, L] int32 (0..22)
  Tensor extra_msa_mask;        // [E, L]
  Tensor extra_has_deletion;    // [E, L]
  Tensor extra_deletion_value;  // [E, L]
  TemplateBatch templates;      // T may be 0

  int64_t num_res() const { return aatype.size(0); }
  int64_t num_msa() const { return msa_feat.size(0); }
  int64_t num_extra() const { return extra_msa.size(0); }
};

// Reads model inputs from .npz or HDF5 (chosen by content), with or without AlphaFold's trailing recycling
// axis (the first sample is used). Missing features and inconsistent shapes are errors naming the feature.
ModelInputs load_model_inputs(const std::filesystem::path& path);
// Builds and validates ModelInputs from named host arrays (any numeric dtype); `source` names them in errors.
ModelInputs model_inputs_from_arrays(const std::map<std::string, Tensor>& arrays, const std::string& source);

}  // namespace axf::model
