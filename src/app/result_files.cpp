#include "app/result_files.h"

#include <numeric>

#include "core/error.h"
#include "core/sha256.h"
#include "io/confidence_json.h"
#include "io/hdf5_arrays.h"
#include "io/structure_writers.h"
#include "io/tensor_npy.h"
#include "model/confidence.h"

namespace axf::app {

namespace {

std::vector<float> floats(const core::Tensor& t) { return t.to_vector(); }

std::vector<int32_t> ints(const core::Tensor& t) {
  const core::Tensor c = t.contiguous();
  return std::vector<int32_t>(c.data<int32_t>(), c.data<int32_t>() + c.numel());
}

std::string config_text(const model::ModelConfig& cfg) {
  std::string s;
  for (const auto& [k, v] : model::config_to_pairs(cfg)) s += k + " = " + v + "\n";
  return s;
}

}  // namespace

std::optional<bool> parse_pair_arrays(const std::string& choice) {
  if (choice == "yes") return true;
  if (choice == "no") return false;
  AXF_CHECK(choice == "auto", "--pair-arrays ", choice, ": expected auto, yes or no");
  return std::nullopt;
}

void write_results(const ResultFiles& files, const model::ModelConfig& cfg, const model::Params& params,
                   const std::filesystem::path& features_path, const model::ModelInputs& inputs,
                   const model::AlphaFoldResult& result, const model::HeadOutputs& heads, backend::Backend& backend,
                   const std::string& precision, const runtime::Timers& timers, bool pair_arrays) {
  const int64_t L = inputs.num_res();
  const core::Tensor plddt = model::compute_plddt(heads.plddt_logits);
  const std::vector<float> plddt_values = floats(plddt);
  const float mean_plddt =
      static_cast<float>(std::accumulate(plddt_values.begin(), plddt_values.end(), 0.0) / std::max<int64_t>(L, 1));
  model::PredictedAlignedError pae;
  float ptm = 0.f;
  // The PAE head's expectations, computed where its logits were (run_heads with the sequence mask as the pTM weights).
  const bool has_pae = heads.pae.defined();
  if (has_pae) {
    AXF_CHECK(heads.tm_terms.defined(), "write_results: the PAE head gave no pTM terms");
    pae.pae = heads.pae;
    pae.max_pae = static_cast<float>(model::aligned_error_bin_centers(heads.pae_breaks).back());
    ptm = model::predicted_tm_score_from_terms(heads.tm_terms, inputs.seq_mask);
  }

  const std::string features_sha = core::sha256_file(features_path);
  const std::vector<std::string> remarks = {
      std::string("axialfold ") + AXF_VERSION + " preset " + cfg.preset,
      "parameters sha256 " + params.checksum,
      "features " + features_path.filename().string() + " sha256 " + features_sha,
      "passes " + std::to_string(result.passes) + (result.stopped_early ? " (early stop)" : ""),
  };

  io::StructureRecord record;
  record.aatype = ints(inputs.aatype);
  record.residue_index = ints(inputs.residue_index);
  record.atom_positions = floats(result.structure.final_atom_positions);
  record.atom_mask = floats(result.structure.final_atom_mask);
  record.b_factors = plddt_values;
  record.title = files.name + " predicted by AxialFold " + AXF_VERSION + " (" + cfg.preset + ")";
  record.remarks = remarks;
  io::write_text_atomically(files.path(".pdb"), io::to_pdb(record));
  io::write_text_atomically(files.path(".cif"), io::to_mmcif(record, files.name));

  io::write_plddt_json(files.path("_confidence.json"), plddt_values);
  if (has_pae) io::write_pae_json(files.path("_pae.json"), floats(pae.pae), L, pae.max_pae);
  io::ConfidenceSummary summary;
  summary.mean_plddt = mean_plddt;
  if (has_pae) summary.ptm = ptm;
  io::write_summary_json(files.path("_summary.json"), summary);

  // HDF5 results: every number above plus the representations, timings and provenance.
  std::vector<std::pair<std::string, io::NpyArray>> arrays;
  auto add = [&](const std::string& key, const core::Tensor& t) { arrays.emplace_back(key, io::npy_from_tensor(t)); };
  add("final_atom_positions", result.structure.final_atom_positions);
  add("final_atom_mask", result.structure.final_atom_mask);
  add("plddt", plddt);
  add("aatype", inputs.aatype);
  add("residue_index", inputs.residue_index);
  if (pair_arrays) {
    AXF_CHECK(heads.distogram_logits.defined(), "write_results: the distogram logits were not computed");
    add("distogram_logits", heads.distogram_logits);
    add("distogram_bin_edges", heads.distogram_bin_edges);
  }
  add("experimentally_resolved_logits", heads.experimentally_resolved_logits);
  add("single", backend.download(result.trunk.single).to(core::DType::F32));
  if (pair_arrays) add("pair", backend.download(result.trunk.pair).to(core::DType::F32));
  add("final_affines", result.structure.trajectory.select(0, result.structure.trajectory.size(0) - 1));
  if (has_pae) {
    add("predicted_aligned_error", pae.pae);
    add("ptm", core::Tensor::from_vector({}, {ptm}));
    add("max_predicted_aligned_error", core::Tensor::from_vector({}, {pae.max_pae}));
  }
  std::string timing_text;
  for (const auto& [stage, seconds] : timers.stages()) timing_text += stage + " = " + std::to_string(seconds) + "\n";
  const std::map<std::string, std::string> attributes = {
      {"program", "axialfold"},
      {"version", AXF_VERSION},
      {"preset", cfg.preset},
      {"config", config_text(cfg)},
      {"params_file", params.source.string()},
      {"params_sha256", params.checksum},
      {"features_file", features_path.string()},
      {"features_sha256", features_sha},
      {"seed", "none (inference is deterministic; MSA sampling happened when the features were made)"},
      {"device", backend.name()},
      {"precision", precision},
      {"passes", std::to_string(result.passes)},
      {"stopped_early", result.stopped_early ? "true" : "false"},
      {"timings_seconds", timing_text},
      {"pair_arrays", pair_arrays ? "written" : "not written (predict --pair-arrays)"},
  };
  std::vector<std::pair<std::string, const io::NpyArray*>> named;
  for (const auto& [k, a] : arrays) named.emplace_back(k, &a);
  io::write_hdf5_arrays(files.path("_result.h5"), named, attributes);
}

}  // namespace axf::app
