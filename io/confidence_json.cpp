#include "io/confidence_json.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "core/error.h"
#include "io/structure_writers.h"

namespace axf::io {

namespace {

// Python's repr of a float (shortest round-trip digits, always with a decimal point), for finite values of the
// range our files hold (|x| < 1e16; below that Python never switches to exponent notation except under 1e-4).
void append_repr(std::string& out, double x) {
  AXF_CHECK(std::isfinite(x), "confidence JSON: non-finite value ", x);
  char buf[64];
  std::to_chars_result r = (x != 0 && std::fabs(x) < 1e-4)
                               ? std::to_chars(buf, buf + sizeof(buf), x, std::chars_format::scientific)
                               : std::to_chars(buf, buf + sizeof(buf), x, std::chars_format::fixed);
  AXF_CHECK(r.ec == std::errc(), "confidence JSON: cannot format ", x);
  std::string s(buf, r.ptr);
  if (s.find_first_of(".e") == std::string::npos) s += ".0";
  out += s;
}

void append_repr_float(std::string& out, float x) {
  // Shortest digits that read back as the same float (Python would print float(np.float32(x)) with more digits).
  AXF_CHECK(std::isfinite(x), "confidence JSON: non-finite value ", x);
  char buf[64];
  std::to_chars_result r = std::to_chars(buf, buf + sizeof(buf), x, std::chars_format::fixed);
  AXF_CHECK(r.ec == std::errc(), "confidence JSON: cannot format ", x);
  std::string s(buf, r.ptr);
  if (s.find('.') == std::string::npos) s += ".0";
  out += s;
}

// Python's round(x, 2): the decimal value of the double correctly rounded (ties to even), read back as a double.
double python_round(double x, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.*f", decimals, x);
  return std::strtod(buf, nullptr);
}

// numpy.round(x, 1) for float64: rint(x * 10) / 10.
double numpy_round1(double x) { return std::nearbyint(x * 10.0) / 10.0; }

}  // namespace

char plddt_category(double score) {
  if (score >= 0 && score < 50) return 'D';
  if (score >= 50 && score < 70) return 'L';
  if (score >= 70 && score < 90) return 'M';
  if (score >= 90 && score <= 100) return 'H';
  AXF_FAIL("invalid pLDDT score ", score);
}

std::string plddt_json(const std::vector<float>& plddt) {
  std::string out = "{\"residueNumber\":[";
  for (size_t i = 0; i < plddt.size(); ++i) {
    if (i) out += ',';
    out += std::to_string(i + 1);
  }
  out += "],\"confidenceScore\":[";
  for (size_t i = 0; i < plddt.size(); ++i) {
    if (i) out += ',';
    append_repr(out, python_round(plddt[i], 2));
  }
  out += "],\"confidenceCategory\":[";
  for (size_t i = 0; i < plddt.size(); ++i) {
    if (i) out += ',';
    out += '"';
    out += plddt_category(plddt[i]);  // AlphaFold categorises the unrounded score
    out += '"';
  }
  out += "]}";
  return out;
}

std::string pae_json(const std::vector<float>& pae, int64_t num_res, float max_pae) {
  AXF_CHECK(num_res >= 0 && static_cast<int64_t>(pae.size()) == num_res * num_res,
            "PAE must be a square matrix: ", pae.size(), " values for ", num_res, " residues");
  std::string out = "[{\"predicted_aligned_error\":[";
  out.reserve(out.size() + static_cast<size_t>(num_res * num_res) * 5 + 64);
  for (int64_t i = 0; i < num_res; ++i) {
    if (i) out += ',';
    out += '[';
    for (int64_t j = 0; j < num_res; ++j) {
      if (j) out += ',';
      append_repr(out, numpy_round1(pae[static_cast<size_t>(i * num_res + j)]));
    }
    out += ']';
  }
  out += "],\"max_predicted_aligned_error\":";
  append_repr(out, max_pae);
  out += "}]";
  return out;
}

std::string summary_json(const ConfidenceSummary& summary) {
  std::string out = "{";
  if (summary.ptm) {
    out += "\"ptm\":";
    append_repr_float(out, *summary.ptm);
    out += ',';
  }
  out += "\"mean_plddt\":";
  append_repr(out, python_round(summary.mean_plddt, 2));
  out += "}";
  return out;
}

void write_plddt_json(const std::filesystem::path& path, const std::vector<float>& plddt) {
  write_text_atomically(path, plddt_json(plddt));
}

void write_pae_json(const std::filesystem::path& path, const std::vector<float>& pae, int64_t num_res, float max_pae) {
  write_text_atomically(path, pae_json(pae, num_res, max_pae));
}

void write_summary_json(const std::filesystem::path& path, const ConfidenceSummary& summary) {
  write_text_atomically(path, summary_json(summary));
}

}  // namespace axf::io
