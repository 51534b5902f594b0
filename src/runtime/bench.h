// axialfold bench (issue 5): measured device ceilings, per-op and per-module times at AlphaFold shapes, and the
// full model at given lengths, each with FLOPs, bytes, achieved TFLOP/s and GB/s and their share of the measured
// ceilings. FLOP and byte formulas: runtime/bench_cost.h. Tables: one per section, nccl-tests style.
#pragma once

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <string>
#include <utility>
#include <vector>

#include "backend/backend.h"
#include "model/config.h"
#include "model/params.h"
#include "runtime/bench_cost.h"
#include "runtime/precision.h"
#include "runtime/bench_device.h"
#include "runtime/execution_context.h"

namespace axf::runtime::bench {

// One measured line of a table.
struct Row {
  std::string name;
  std::string shape;     // the sizes, in words
  int64_t length = 0;    // L (0: not length-bound)
  Timing time;           // median of the repetitions, seconds
  double flops = 0;
  double bytes = 0;
  int64_t wrong = -1;    // -1: not checked
  int64_t checked = 0;   // elements compared (and scanned for NaN/Inf)
  double max_error = 0;  // max |got - ref| / max |ref| over the compared elements
  std::string note;      // e.g. "skipped: time budget"
  bool failed = false;
  bool skipped() const { return time.repeat == 0; }
};

// Measured ceilings: fp32 GEMM (the backend's precision), TF32/BF16 GEMM where the device has them, copy; on CUDA
// also L2 read bandwidth and the SFU's exp2 rate (what the attention kernels' bias tiles and softmax meet).
struct Ceilings {
  std::string device;
  double gemm_fp32 = 0;  // FLOP/s
  double gemm_tf32 = 0;  // 0: not measured
  double gemm_bf16 = 0;
  double copy = 0;       // bytes/s, read + written
  double l2_read = 0;    // bytes/s
  double sfu_exp2 = 0;   // exp2/s
  // The ceiling %gemm is measured against: the GEMM rate of the run's precision (fp32, tf32 or bf16).
  double gemm_reference = 0;
  std::string gemm_reference_name = "fp32";
  std::vector<Row> rows;
};

struct ModelRun {
  Row row;  // total time (one run), counted FLOPs and bytes of every backend operation
  int64_t msa = 0, extra = 0, templates = 0;
  int blocks = 0, passes = 0;
  std::vector<std::pair<std::string, double>> stages;  // the run's stage timers, seconds
  OpTallies tallies;
  MemoryStats memory_before, memory_after;
  // The memory planner's predicted peak for this run (model/memory_plan.h) and the tracked high-water mark of the
  // model's own buffers (CountingBackend), bytes.
  double planned_peak = 0;
  double model_buffers_peak = 0;
  // final_atom_positions [L, 37, 3] on the host (kept only when the run is compared with an unchunked one).
  std::vector<float> atom_positions;
  // --compare-unchunked: the same model, inputs and precision run again with no chunking (and the pair on the
  // device); its time and the largest distance between the two runs' atom positions, Angstrom.
  bool compared = false;
  double unchunked_seconds = 0;
  double max_atom_deviation = 0;
};

struct BenchOptions {
  std::vector<int64_t> lengths{256, 512, 1024, 2048};
  bool ops = false, modules = false, model = false;
  int warmup = 2;
  int repeat = 10;
  int64_t msa = 512;      // MSA clusters (model inputs); rows of the MSA-side ops and modules
  int64_t extra = 1024;   // extra MSA sequences
  int64_t templates = 4;  // templates (the model section)
  int recycles = 3;
  GraphMode graphs = GraphMode::Auto;  // the model section: CUDA graphs for the stacks (predict --cuda-graphs)
  bool template_cache = true;  // the model section: keep the template stack across recycles (predict's default)
  model::ModelConfig config;  // model_1_ptm with its 48 Evoformer blocks unless overridden
  ChunkConfig chunks;         // 0 = unchunked (as predict's default)
  bool compare_unchunked = false;  // the model section: run each length again unchunked (ModelRun::compared)
  uint64_t seed = 0;
  double time_budget = 0;  // seconds for the op/module/model sections (0 = none); later items that would not fit
                           // (estimated from the previous length as (L/L_prev)^2.5) are skipped
  int check_samples = 256;  // output rows compared with the double-precision reference per op
  Precision precision = Precision::Fp32;  // of the modules and model sections (ops run as given: fp32)
};

struct BenchReport {
  std::string device;
  BenchOptions options;
  Ceilings ceilings;
  std::vector<Row> ops, modules;
  std::vector<ModelRun> models;
  int failures = 0;  // items that threw
};

// Random parameters of `config` in DeepMind's layout, made once in memory: written to a file in the system temp
// dir (write_random_params), loaded onto the backend's device, the file removed.
struct BenchParams {
  // trunk_dtype: BF16 converts the trunk's weight matrices as a bf16 predict does.
  BenchParams(backend::Backend& be, const model::ModelConfig& config, uint64_t seed,
              core::DType trunk_dtype = core::DType::F32);
  model::ModelConfig config;
  model::Params params;
};

// Sections. `be` is the raw backend (never a counting wrapper).
Ceilings measure_ceilings(backend::Backend& be, int repeat);
std::vector<Row> bench_ops(backend::Backend& be, const BenchOptions& opt, int64_t L);
// The modules of one Evoformer block (block 0 of the parameters), the whole block and one extra-MSA block.
std::vector<Row> bench_modules(backend::Backend& be, const BenchOptions& opt, const BenchParams& params, int64_t L);
// The full model (run_alphafold + heads) on synthetic inputs, once.
ModelRun bench_model(backend::Backend& be, const BenchOptions& opt, const BenchParams& params, int64_t L);

// Runs the requested sections, printing each table row to `out` as it completes (nccl-tests style) and calling
// on_progress after each item (to rewrite the JSON file, so a run cut short still leaves its numbers). An item
// that throws (e.g. out of memory at a large L) is reported as a failed row; the others still run.
BenchReport run_bench(backend::Backend& be, const BenchOptions& opt, std::ostream& out,
                      const std::function<void(const BenchReport&)>& on_progress);

// Tables (bench_report.cpp). Derived columns: TFLOP/s = flops / time, GB/s = bytes / time, %gemm and %copy of the
// measured fp32 GEMM and copy ceilings, x floor = time / max(flops / GEMM ceiling, bytes / copy ceiling).
void print_ceilings(std::ostream& out, const Ceilings& c);
void print_table_header(std::ostream& out, const std::string& title, const Ceilings& c);
void print_table_row(std::ostream& out, const Row& row, const Ceilings& c);
void print_model_header(std::ostream& out, const std::string& title, const Ceilings& c);
void print_model_row(std::ostream& out, const ModelRun& run, const Ceilings& c);
void print_model_details(std::ostream& out, const ModelRun& run);  // stage times and the counted op mix
// All numbers of the report as JSON, written atomically (temporary file, then rename).
void write_json(const std::string& path, const BenchReport& report);

}  // namespace axf::runtime::bench
