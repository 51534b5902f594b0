// axialfold bench end to end on the CPU backend: the sections run at a tiny length, every table holds finite
// numbers, #wrong is 0, the JSON report carries the same rows (and the counted FLOPs follow the documented
// formulas), and bad options are refused.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <sstream>

#include "support/gemmi_reader.h"
#include "support/test_support.h"

namespace axf::test {
namespace {

struct Result {
  int status;
  std::string output;
};

Result bench(const std::string& args) {
  auto [status, out] = run_capture("AXF_LOG_QUIET=1 OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive} " + axialfold_binary().string() + " bench " + args + " 2>&1");
  return {status, out};
}

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Table rows: lines of the output that are neither headers ('#') nor log lines, split into fields.
std::vector<std::vector<std::string>> table_rows(const std::string& text) {
  std::vector<std::vector<std::string>> rows;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.size() < 2 || line[0] != ' ' || line[1] != ' ') continue;
    std::istringstream fields(line);
    std::vector<std::string> f;
    for (std::string w; fields >> w;) f.push_back(w);
    if (!f.empty()) rows.push_back(f);
  }
  return rows;
}

// The number after "key": in the JSON object that starts at the first occurrence of `anchor` in `text`.
double json_number_after(const std::string& text, const std::string& anchor, const std::string& key) {
  const auto at = text.find(anchor);
  EXPECT_NE(at, std::string::npos) << anchor;
  if (at == std::string::npos) return NAN;
  const auto k = text.find("\"" + key + "\": ", at);
  EXPECT_NE(k, std::string::npos) << key << " after " << anchor;
  if (k == std::string::npos) return NAN;
  return std::stod(text.substr(k + key.size() + 4));
}

bool finite_numbers_only(const std::vector<std::string>& fields) {
  for (const std::string& f : fields)
    if (f == "nan" || f == "-nan" || f == "inf" || f == "-inf") return false;
  return true;
}

TEST(Bench, OpsAndModulesOnCpuAtL16) {
  const auto dir = scratch_dir("bench");
  const auto json = dir / "bench.json";
  const Result r = bench("--device cpu --ops --modules --lengths 16 --repeat 1 --warmup 0 --json " + json.string());
  ASSERT_EQ(r.status, 0) << r.output;
  for (const char* s : {"# Ceilings (measured)", "gemm fp32 (OpenBLAS sgemm)", "copy (memcpy, all threads)", "# Ops",
                        "layer_norm", "linear+relu", "attention msa-row", "attention msa-col", "attention triangle",
                        "triangle_multiply out", "triangle_multiply in", "outer_product_mean", "copy (pair swapaxes)",
                        "# Modules", "msa row attention (pair bias)", "msa column attention", "msa transition",
                        "outer product mean", "triangle mult outgoing", "triangle mult incoming",
                        "triangle att starting", "triangle att ending", "pair transition", "evoformer block",
                        "extra msa block"})
    EXPECT_NE(r.output.find(s), std::string::npos) << s << " missing from:\n" << r.output;
  const auto rows = table_rows(r.output);
  ASSERT_GE(rows.size(), 2u + 9u + 11u) << r.output;
  for (const auto& row : rows) {
    EXPECT_TRUE(finite_numbers_only(row)) << r.output;
    EXPECT_EQ(row.back(), "0") << "#wrong of a row is not 0:\n" << r.output;  // every row is checked
  }

  const std::string text = slurp(json);
  ASSERT_FALSE(text.empty());
  EXPECT_EQ(text.find("null"), std::string::npos) << "non-finite or unchecked number in\n" << text;
  EXPECT_GT(json_number_after(text, "\"ceilings\"", "gemm_fp32_flops_per_second"), 1e8);
  EXPECT_GT(json_number_after(text, "\"ceilings\"", "copy_bytes_per_second"), 1e8);
  // Documented formulas at L = 16, S = 512: linear [L*L,128]x[128,512] is 2*M*N*K FLOPs, bytes x + w + bias + out.
  const double L = 16, S = 512;
  EXPECT_EQ(json_number_after(text, "\"name\": \"linear+relu\"", "flops"), 2 * L * L * 128 * 512);
  EXPECT_EQ(json_number_after(text, "\"name\": \"linear+relu\"", "bytes"),
            4 * (L * L * 128 + 128 * 512 + 512 + L * L * 512));
  // MSA-row attention: 2*B*H*Q*K*(D + Dv).
  EXPECT_EQ(json_number_after(text, "\"name\": \"attention msa-row\"", "flops"), 2 * S * 8 * L * L * 64);
  // Pair transition, counted from its ops: layer_norm (8 per element) + two linears (2 * L*L * 128 * 512 each).
  EXPECT_EQ(json_number_after(text, "\"name\": \"pair transition\"", "flops"), L * L * 128 * (8 + 4 * 512));
  EXPECT_GT(json_number_after(text, "\"name\": \"evoformer block\"", "seconds"), 0);
}

TEST(Bench, ModelOnCpuAtL16) {
  const Result r = bench("--device cpu --model --lengths 16 --evoformer-blocks 1 --recycles 0 --msa 8 --extra 8 "
                         "--templates 1");
  ASSERT_EQ(r.status, 0) << r.output;
  for (const char* s : {"# Model: model_1_ptm in fp32, 1 Evoformer blocks, 0 recycles", "# Model stages, L=16",
                        "template embedding", "extra MSA stack", "Evoformer stack", "structure module", "heads",
                        "# Model operation mix", "attention", "triangle_multiply", "# Memory, L=16: planned peak",
                        "plan vs model buffers"})
    EXPECT_NE(r.output.find(s), std::string::npos) << s << " missing from:\n" << r.output;
  bool found = false;
  for (const auto& row : table_rows(r.output)) {
    EXPECT_TRUE(finite_numbers_only(row)) << r.output;
    if (row.size() == 17 && row[0] == "16") {  // the model row: L S E T blocks passes ...
      found = true;
      EXPECT_EQ(row[1], "8");
      EXPECT_EQ(row[2], "8");
      EXPECT_EQ(row[3], "1");
      EXPECT_EQ(row[5], "1");  // passes
      EXPECT_GT(std::stod(row[6]), 0.0);  // seconds
      EXPECT_GT(std::stod(row[7]), 0.0);  // TFLOP
      EXPECT_EQ(row.back(), "0");
    }
  }
  EXPECT_TRUE(found) << r.output;
}

// --compare-unchunked: the chunked run beside an unchunked rerun of the same inputs; chunking reorders sums only,
// so the fp32 atom positions agree far inside the 1e-3 Angstrom (the chunk sizes split every chunked module).
TEST(Bench, ComparesChunkedWithUnchunkedOnCpu) {
  const auto dir = scratch_dir("bench-compare");
  const auto json = dir / "bench.json";
  const Result r = bench("--device cpu --model --lengths 20 --evoformer-blocks 1 --recycles 1 --msa 6 --extra 5 "
                         "--templates 1 --chunk-msa-rows 4 --chunk-msa-columns 7 --chunk-pair-rows 3 "
                         "--chunk-opm-rows 6 --chunk-template-rows 5 --chunk-triangle-channels 16 "
                         "--compare-unchunked --json " + json.string());
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("# Chunking, L=20: chunked "), std::string::npos) << r.output;
  const std::string text = slurp(json);
  const double deviation = json_number_after(text, "\"models\"", "max_atom_deviation_angstrom");
  EXPECT_LT(deviation, 1e-3);
  EXPECT_GE(deviation, 0.0);
  EXPECT_GT(json_number_after(text, "\"models\"", "unchunked_seconds"), 0.0);
}

TEST(Bench, RefusesBadOptions) {
  for (const char* args : {"--lengths 0", "--lengths 16,abc", "--lengths ''", "--device tpu", "--repeat 0",
                           "--templates 9", "--msa 0", "--recycles -1", "--evoformer-blocks 0", "--no-such-option",
                           "--device cuda:x", "--precision fp16", "--device cpu --precision bf16",
                           "--device cpu --precision tf32"}) {
    const std::string a = args;
    const Result r = bench(a + (a.find("--lengths") == std::string::npos ? " --ops --lengths 8" : " --ops"));
    EXPECT_NE(r.status, 0) << args << " was accepted:\n" << r.output;
    EXPECT_NE(r.output.find("error"), std::string::npos) << args << ":\n" << r.output;
  }
}

}  // namespace
}  // namespace axf::test
