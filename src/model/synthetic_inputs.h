// Synthetic model inputs for benchmarks (axialfold bench): AlphaFold's processed features for L residues with
// S MSA clusters, E extra sequences and T templates, protein-like in every way the model's cost depends on. The
// MSA rows are mutated copies of a random query (per-row identity 30-90 %, gaps, sparse deletions, cluster
// profiles); each template covers most of the query with an ideal-geometry backbone (N, CA, C, O, CB placed by
// NeRF from phi/psi drawn per helix, strand and coil segment), so the template stack, torsion features and
// pseudo-beta distograms see real geometry. Built through model_inputs_from_arrays, so the inputs are validated
// like any file. Deterministic in the seed.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "model/model_inputs.h"

namespace axf::model {

struct SyntheticInputSpec {
  int64_t num_res = 256;
  int64_t num_msa = 512;     // clusters (msa_feat rows)
  int64_t num_extra = 1024;  // extra sequences
  int64_t num_templates = 4;
  uint64_t seed = 0;
};

// The named arrays (AlphaFold feature names, host tensors).
std::map<std::string, Tensor> synthetic_feature_arrays(const SyntheticInputSpec& spec);
// The arrays above, validated into ModelInputs (template torsion features derived from the atoms).
ModelInputs synthetic_model_inputs(const SyntheticInputSpec& spec);

}  // namespace axf::model
