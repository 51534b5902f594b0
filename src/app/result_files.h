// The result files of one prediction, all written atomically (temporary name, then rename) into DIR:
//   NAME.pdb, NAME.cif           structure with pLDDT in the B-factor column
//   NAME_confidence.json         per-residue pLDDT (AlphaFold Database layout)
//   NAME_pae.json                predicted aligned error matrix and its maximum (_ptm presets)
//   NAME_summary.json            pTM (_ptm presets) and mean pLDDT
//   NAME_result.h5               atom positions and mask, pLDDT, PAE, pTM, the single representation, timings,
//                                provenance (version, config, parameter checksum, inputs); with pair_arrays also
//                                the [L, L, *] arrays: distogram logits and the pair representation
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "model/alphafold.h"
#include "model/heads.h"
#include "model/model_inputs.h"
#include "model/params.h"
#include "runtime/timers.h"

namespace axf::app {

// predict --pair-arrays for the [L, L, *] arrays of NAME_result.h5: yes (true), no (false) or auto (nullopt: then
// model::pair_arrays_by_default); anything else throws, naming the option.
std::optional<bool> parse_pair_arrays(const std::string& choice);

struct ResultFiles {
  std::filesystem::path dir;
  std::string name;
  std::filesystem::path path(const std::string& suffix) const { return dir / (name + suffix); }
};

void write_results(const ResultFiles& files, const model::ModelConfig& cfg, const model::Params& params,
                   const std::filesystem::path& features_path, const model::ModelInputs& inputs,
                   const model::AlphaFoldResult& result, const model::HeadOutputs& heads,
                   backend::Backend& backend, const std::string& precision, const runtime::Timers& timers,
                   bool pair_arrays = true);

}  // namespace axf::app
