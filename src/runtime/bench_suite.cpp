// The benchmark run: ceilings, then for each length (shortest first, so a time budget keeps the small ones) the
// requested sections, each printed as a table when it completes; with several lengths, one summary table per
// section over all lengths closes the output. Failures are isolated per item.
#include <chrono>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <map>
#include <memory>
#include <ostream>

#include "runtime/bench.h"
#include "runtime/log.h"

namespace axf::runtime::bench {

namespace {

using Clock = std::chrono::steady_clock;

// Decides whether the next item fits the time budget: its time is estimated from the same section at the
// previous length, scaled by (L / L_prev)^2.5: with S = 512 the model's FLOPs grow about as L^2 between 256 and
// 1024 (MSA-side work ~L to L^2, triangle ops ~L^3), so this errs on the side of skipping.
class Budget {
 public:
  explicit Budget(double seconds) : seconds_(seconds), start_(Clock::now()) {}
  // Empty when the item may run, else the reason it is skipped.
  std::string check(const std::string& section, int64_t L) const {
    if (seconds_ <= 0) return {};
    const double remaining = seconds_ - std::chrono::duration<double>(Clock::now() - start_).count();
    if (remaining <= 0) return "skipped: time budget spent";
    auto it = last_.find(section);
    if (it == last_.end()) return {};
    const double estimate = it->second.second * std::pow(static_cast<double>(L) / it->second.first, 2.5);
    if (estimate <= remaining) return {};
    char buf[128];
    std::snprintf(buf, sizeof buf, "skipped: time budget (estimated %.0f s, %.0f s left)", estimate, remaining);
    return buf;
  }
  void record(const std::string& section, int64_t L, double seconds) {
    last_[section] = {static_cast<double>(L), seconds};
  }

 private:
  double seconds_;
  Clock::time_point start_;
  std::map<std::string, std::pair<double, double>> last_;
};

Row note_row(const std::string& name, int64_t L, const std::string& note, bool failed) {
  Row r;
  r.name = name;
  r.length = L;
  r.note = note;
  r.failed = failed;
  return r;
}

// --compare-unchunked: runs the same model on the same inputs again with no chunking (and the pair kept on the
// device), after the chunked run so that one-off start-up costs fall on the chunked run; records its time and the
// largest distance between the two runs' final atom positions (all 37 atom slots of every residue), Angstrom.
void compare_with_unchunked(backend::Backend& be, const BenchOptions& opt, const BenchParams& params, int64_t L,
                            ModelRun& run) {
  BenchOptions reference = opt;
  reference.chunks = ChunkConfig{};
  log_info("bench: model at L=", L, ", unchunked for comparison");
  const ModelRun unchunked = bench_model(be, reference, params, L);
  if (unchunked.atom_positions.size() != run.atom_positions.size() || run.atom_positions.size() % 3 != 0)
    throw std::runtime_error("bench: chunked and unchunked runs returned different atom position shapes");
  double worst = 0;
  for (size_t i = 0; i < run.atom_positions.size(); i += 3) {
    double d2 = 0;
    for (size_t k = 0; k < 3; ++k) {
      const double d = static_cast<double>(run.atom_positions[i + k]) - unchunked.atom_positions[i + k];
      d2 += d * d;
    }
    if (const double d = std::sqrt(d2); !(d <= worst)) worst = d;  // a NaN is kept, then reported as infinite
  }
  if (!std::isfinite(worst)) worst = std::numeric_limits<double>::infinity();
  run.compared = true;
  run.unchunked_seconds = unchunked.row.time.median;
  run.max_atom_deviation = worst;
}

double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

std::string ops_title(const BenchOptions& o) {
  return "Ops (median of " + std::to_string(o.repeat) + " runs after " + std::to_string(o.warmup) +
         " warm-up; #wrong: non-finite outputs + sampled rows vs double precision)";
}

std::string modules_title(const BenchOptions& o) {
  return "Modules of one Evoformer block (" + precision_name(o.precision) + ", " + o.config.preset + " widths, random parameters; FLOPs and bytes counted "
         "from the ops issued; median of " + std::to_string(o.repeat) + " runs; #wrong: non-finite outputs)";
}

std::string model_title(const BenchOptions& o) {
  return "Model: " + o.config.preset + " in " + precision_name(o.precision) + ", " + std::to_string(o.config.evoformer_num_block) + " Evoformer blocks, " +
         std::to_string(o.recycles) + " recycles, synthetic inputs (one run each; #wrong: non-finite outputs)";
}

}  // namespace

BenchReport run_bench(backend::Backend& be, const BenchOptions& opt, std::ostream& out,
                      const std::function<void(const BenchReport&)>& on_progress) {
  BenchReport report;
  report.options = opt;
  report.device = device_description(be);
  log_info("bench: ", report.device, "; measuring the GEMM and copy ceilings");
  report.ceilings = measure_ceilings(be, opt.repeat);
  {
    Ceilings& c = report.ceilings;
    c.gemm_reference_name = precision_name(opt.precision);
    c.gemm_reference = opt.precision == Precision::Bf16   ? c.gemm_bf16
                       : opt.precision == Precision::Tf32 ? c.gemm_tf32
                                                          : c.gemm_fp32;
    if (c.gemm_reference <= 0) {
      c.gemm_reference = c.gemm_fp32;
      c.gemm_reference_name = "fp32";
    }
  }
  print_ceilings(out, report.ceilings);
  if (on_progress) on_progress(report);
  const Ceilings& c = report.ceilings;
  Budget budget(opt.time_budget);

  auto failure = [&](const std::string& what, int64_t L, const std::exception& e) {
    ++report.failures;
    log_info("bench: ", what, " at L=", L, " failed: ", e.what());
    std::string msg = e.what();
    if (const auto nl = msg.find('\n'); nl != std::string::npos) msg.resize(nl);
    return "failed: " + msg;
  };

  std::unique_ptr<BenchParams> params;
  auto get_params = [&]() -> const BenchParams& {
    if (!params) {
      model::ModelConfig cfg = opt.config;
      if (!opt.model) cfg.evoformer_num_block = 1;  // the modules use block 0 only
      log_info("bench: random parameters (", cfg.preset, ", ", cfg.evoformer_num_block, " Evoformer blocks)");
      params = std::make_unique<BenchParams>(
          be, cfg, opt.seed, opt.precision == Precision::Bf16 ? core::DType::BF16 : core::DType::F32);
    }
    return *params;
  };

  // Runs one table section at one length: skipped, failed, or its rows.
  auto section_rows = [&](const std::string& section, int64_t L,
                          const std::function<std::vector<Row>()>& measure) -> std::vector<Row> {
    if (std::string skip = budget.check(section, L); !skip.empty()) return {note_row("(all " + section + ")", L, skip, false)};
    const auto t0 = Clock::now();
    log_info("bench: ", section, " at L=", L);
    std::vector<Row> rows;
    try {
      rows = measure();
    } catch (const std::exception& e) {
      rows = {note_row("(" + section + ")", L, failure(section, L, e), true)};
    }
    budget.record(section, L, since(t0));
    return rows;
  };

  for (int64_t L : opt.lengths) {
    if (opt.ops) {
      const std::vector<Row> rows = section_rows("ops", L, [&] { return bench_ops(be, opt, L); });
      print_table_header(out, ops_title(opt) + ", L=" + std::to_string(L), c);
      for (const Row& r : rows) print_table_row(out, r, c);
      report.ops.insert(report.ops.end(), rows.begin(), rows.end());
      if (on_progress) on_progress(report);
    }
    if (opt.modules) {
      const std::vector<Row> rows =
          section_rows("modules", L, [&] { return bench_modules(be, opt, get_params(), L); });
      print_table_header(out, modules_title(opt) + ", L=" + std::to_string(L), c);
      for (const Row& r : rows) print_table_row(out, r, c);
      report.modules.insert(report.modules.end(), rows.begin(), rows.end());
      if (on_progress) on_progress(report);
    }
    if (opt.model) {
      ModelRun run;
      run.msa = opt.msa;
      run.extra = opt.extra;
      run.templates = opt.config.templates.enabled ? opt.templates : 0;
      run.blocks = opt.config.evoformer_num_block;
      const std::vector<Row> rows = section_rows("model", L, [&] {
        run = bench_model(be, opt, get_params(), L);
        return std::vector<Row>{run.row};
      });
      run.row = rows.front();
      if (opt.compare_unchunked && !run.row.skipped() && !run.row.failed)
        compare_with_unchunked(be, opt, get_params(), L, run);
      print_model_header(out, model_title(opt) + ", L=" + std::to_string(L), c);
      print_model_row(out, run, c);
      print_model_details(out, run);
      report.models.push_back(run);
      if (on_progress) on_progress(report);
    }
  }

  if (opt.lengths.size() > 1) {
    out << "#\n# ==== Summary over all lengths ====\n";
    print_ceilings(out, c);
    if (opt.ops) {
      print_table_header(out, ops_title(opt), c);
      for (const Row& r : report.ops) print_table_row(out, r, c);
    }
    if (opt.modules) {
      print_table_header(out, modules_title(opt), c);
      for (const Row& r : report.modules) print_table_row(out, r, c);
    }
    if (opt.model) {
      print_model_header(out, model_title(opt), c);
      for (const ModelRun& run : report.models) print_model_row(out, run, c);
    }
  }
  // nccl-tests' closing line: the total of wrong elements over every checked row, and the items that failed.
  int64_t wrong = 0, checked_rows = 0;
  auto tally = [&](const Row& r) {
    if (r.wrong >= 0) {
      wrong += r.wrong;
      ++checked_rows;
    }
  };
  for (const Row& r : c.rows) tally(r);
  for (const Row& r : report.ops) tally(r);
  for (const Row& r : report.modules) tally(r);
  for (const ModelRun& m : report.models) tally(m.row);
  out << "#\n# #wrong total: " << wrong << " over " << checked_rows << " checked rows, " << report.failures
      << " failed items: " << (wrong == 0 && report.failures == 0 ? "OK" : "FAILED") << "\n";
  out.flush();
  return report;
}

}  // namespace axf::runtime::bench
