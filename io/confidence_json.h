// Confidence files in the AlphaFold Database layout, written as AlphaFold's confidence.confidence_json /
// confidence.pae_json do (compact separators, same rounding), plus a small run summary. Every file is written
// through write_text_atomically.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace axf::io {

// AlphaFold's _confidence_category: 'D' [0, 50), 'L' [50, 70), 'M' [70, 90), 'H' [90, 100]; throws outside 0..100.
char plddt_category(double score);

// {"residueNumber":[1,..,L],"confidenceScore":[..],"confidenceCategory":[..]}: scores as Python's round(s, 2)
// printed like Python's repr (87.5, 90.0, 91.23).
std::string plddt_json(const std::vector<float>& plddt);

// [{"predicted_aligned_error":[[..],..],"max_predicted_aligned_error":X}]: pae is [L, L] row-major, values rounded to
// one decimal exactly as numpy.round(pae.astype(float64), 1); X printed as the shortest repr of the float.
std::string pae_json(const std::vector<float>& pae, int64_t num_res, float max_pae);

struct ConfidenceSummary {
  std::optional<float> ptm;  // absent for models without the PAE head
  float mean_plddt = 0.f;
};
// {"ptm":0.8234567,"mean_plddt":87.21}: ptm as the shortest repr that reads back as the same float,
// mean_plddt rounded to 2 decimals like the per-residue scores; "ptm" is left out when absent.
std::string summary_json(const ConfidenceSummary& summary);

void write_plddt_json(const std::filesystem::path& path, const std::vector<float>& plddt);
void write_pae_json(const std::filesystem::path& path, const std::vector<float>& pae, int64_t num_res, float max_pae);
void write_summary_json(const std::filesystem::path& path, const ConfidenceSummary& summary);

}  // namespace axf::io
