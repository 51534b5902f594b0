// Benchmark tables (nccl-tests style: '#' header lines, one row per measurement) and the JSON report.
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <ostream>
#include <sstream>

#include "core/error.h"
#include "runtime/bench.h"

namespace axf::runtime::bench {

namespace {

constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;

std::string format(const char* fmt, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, fmt, std::isfinite(v) ? v : 0.0);
  return buf;
}

std::string wrong_text(const Row& r) { return r.wrong < 0 ? "-" : std::to_string(r.wrong); }

double per_second(double amount, const Row& r) { return r.time.median > 0 ? amount / r.time.median : 0.0; }

double floor_seconds(const Row& r, const Ceilings& c) {
  const double compute = c.gemm_reference > 0 ? r.flops / c.gemm_reference : 0.0;
  const double memory = c.copy > 0 ? r.bytes / c.copy : 0.0;
  return std::max(compute, memory);
}

double share(double achieved, double ceiling) { return ceiling > 0 ? 100.0 * achieved / ceiling : 0.0; }

// ---- JSON -------------------------------------------------------------------------------------------------------

std::string quoted(const std::string& s) {
  std::string q = "\"";
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      q += '\\';
      q += ch;
    } else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      q += buf;
    } else {
      q += ch;
    }
  }
  return q + "\"";
}

std::string number(double v) {
  if (!std::isfinite(v)) return "null";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

// A JSON object built member by member.
class Object {
 public:
  Object& add(const std::string& key, const std::string& raw_json) {
    text_ += (text_.empty() ? "" : ", ") + quoted(key) + ": " + raw_json;
    return *this;
  }
  Object& num(const std::string& key, double v) { return add(key, number(v)); }
  Object& str(const std::string& key, const std::string& v) { return add(key, quoted(v)); }
  std::string json() const { return "{" + text_ + "}"; }

 private:
  std::string text_;
};

std::string array(const std::vector<std::string>& items, const std::string& indent) {
  if (items.empty()) return "[]";
  std::string s = "[\n";
  for (size_t i = 0; i < items.size(); ++i) s += indent + "  " + items[i] + (i + 1 < items.size() ? ",\n" : "\n");
  return s + indent + "]";
}

std::string row_json(const Row& r, const Ceilings& c) {
  Object o;
  o.str("name", r.name).str("shape", r.shape).num("length", static_cast<double>(r.length));
  o.num("seconds", r.time.median).num("seconds_min", r.time.min).num("seconds_max", r.time.max);
  o.num("repeat", r.time.repeat).num("flops", r.flops).num("bytes", r.bytes);
  o.num("flops_per_second", per_second(r.flops, r)).num("bytes_per_second", per_second(r.bytes, r));
  o.num("percent_gemm", share(per_second(r.flops, r), c.gemm_reference));
  o.num("percent_copy", share(per_second(r.bytes, r), c.copy));
  o.num("floor_seconds", floor_seconds(r, c));
  o.add("wrong", r.wrong < 0 ? "null" : number(static_cast<double>(r.wrong)));
  o.num("checked", static_cast<double>(r.checked)).num("max_error", r.max_error);
  o.add("skipped", r.skipped() ? "true" : "false").add("failed", r.failed ? "true" : "false");
  o.str("note", r.note);
  return o.json();
}

std::string memory_json(const MemoryStats& m) {
  Object o;
  o.add("valid", m.valid ? "true" : "false");
  o.num("device_used_bytes", m.device_used).num("device_total_bytes", m.device_total);
  o.num("pool_used_high_bytes", m.pool_used_high).num("pool_reserved_high_bytes", m.pool_reserved_high);
  o.num("graph_pool_used_high_bytes", m.graph_pool_high);
  return o.json();
}

}  // namespace

void print_ceilings(std::ostream& out, const Ceilings& c) {
  out << "#\n# Ceilings (measured): " << c.device << "\n#\n";
  char line[256];
  std::snprintf(line, sizeof line, "# %-30s %-16s %10s %9s %9s %10s\n", "what", "size", "time(ms)", "TFLOP/s", "GB/s",
                "#wrong");
  out << line;
  for (const Row& r : c.rows) {
    if (r.skipped()) {
      out << "  " << r.name << "  " << r.shape << "  " << r.note << "\n";
      continue;
    }
    std::snprintf(line, sizeof line, "  %-30s %-16s %10s %9s %9s %10s\n", r.name.c_str(), r.shape.c_str(),
                  format("%.3f", 1e3 * r.time.median).c_str(),
                  r.flops > 0 ? format("%.2f", 1e-12 * per_second(r.flops, r)).c_str() : "-",
                  format("%.1f", 1e-9 * per_second(r.bytes, r)).c_str(), wrong_text(r).c_str());
    out << line;
  }
  out.flush();
}

void print_table_header(std::ostream& out, const std::string& title, const Ceilings& c) {
  out << "#\n# " << title << "\n# %gemm: of the measured " << c.gemm_reference_name << " GEMM "
      << format("%.2f", 1e-12 * c.gemm_reference)
      << " TFLOP/s; %copy: of the measured copy " << format("%.1f", 1e-9 * c.copy)
      << " GB/s; xfloor: time / max(FLOP / GEMM ceiling, bytes / copy ceiling)\n#\n";
  char line[320];
  std::snprintf(line, sizeof line, "# %5s  %-30s %-44s %10s %9s %8s %6s %9s %8s %6s %7s %7s\n", "L", "name", "shape",
                "time(ms)", "GFLOP", "TFLOP/s", "%gemm", "GB", "GB/s", "%copy", "xfloor", "#wrong");
  out << line;
  out.flush();
}

void print_table_row(std::ostream& out, const Row& r, const Ceilings& c) {
  char line[400];
  if (r.skipped()) {
    std::snprintf(line, sizeof line, "  %5lld  %-30s %-44s %s\n", static_cast<long long>(r.length), r.name.c_str(),
                  r.shape.c_str(), r.note.c_str());
    out << line;
    out.flush();
    return;
  }
  const double flops_s = per_second(r.flops, r), bytes_s = per_second(r.bytes, r), floor = floor_seconds(r, c);
  std::snprintf(line, sizeof line, "  %5lld  %-30s %-44s %10s %9s %8s %6s %9s %8s %6s %7s %7s\n",
                static_cast<long long>(r.length), r.name.c_str(), r.shape.c_str(),
                format("%.3f", 1e3 * r.time.median).c_str(), format("%.2f", 1e-9 * r.flops).c_str(),
                format("%.2f", 1e-12 * flops_s).c_str(), format("%.1f", share(flops_s, c.gemm_reference)).c_str(),
                format("%.3f", 1e-9 * r.bytes).c_str(), format("%.1f", 1e-9 * bytes_s).c_str(),
                format("%.1f", share(bytes_s, c.copy)).c_str(),
                floor > 0 ? format("%.1f", r.time.median / floor).c_str() : "-", wrong_text(r).c_str());
  out << line;
  out.flush();
}

void print_model_header(std::ostream& out, const std::string& title, const Ceilings& c) {
  out << "#\n# " << title << "\n# TFLOP and TB: counted from every backend operation of the run (bench_cost.h); "
      << "%gemm of the " << c.gemm_reference_name << " GEMM " << format("%.2f", 1e-12 * c.gemm_reference)
      << " TFLOP/s\n"
      << "# pool peak: high-water mark of live memory (CUDA stream-ordered pool; CPU peak RSS); used: device memory "
         "in use before/after\n#\n";
  char line[320];
  std::snprintf(line, sizeof line, "# %5s %5s %5s %3s %6s %6s %10s %9s %8s %6s %8s %8s %6s %10s %10s %10s %7s\n", "L",
                "S", "E", "T", "blocks", "passes", "time(s)", "TFLOP", "TFLOP/s", "%gemm", "TB", "GB/s", "%copy",
                "peak(GiB)", "before", "after", "#wrong");
  out << line;
  out.flush();
}

void print_model_row(std::ostream& out, const ModelRun& m, const Ceilings& c) {
  const Row& r = m.row;
  char line[400];
  if (r.skipped()) {
    std::snprintf(line, sizeof line, "  %5lld %5lld %5lld %3lld %6d %6s %s\n", static_cast<long long>(r.length),
                  static_cast<long long>(m.msa), static_cast<long long>(m.extra), static_cast<long long>(m.templates),
                  m.blocks, "-", r.note.c_str());
    out << line;
    out.flush();
    return;
  }
  const double flops_s = per_second(r.flops, r), bytes_s = per_second(r.bytes, r);
  std::snprintf(line, sizeof line, "  %5lld %5lld %5lld %3lld %6d %6d %10s %9s %8s %6s %8s %8s %6s %10s %10s %10s %7s\n",
                static_cast<long long>(r.length), static_cast<long long>(m.msa), static_cast<long long>(m.extra),
                static_cast<long long>(m.templates), m.blocks, m.passes, format("%.3f", r.time.median).c_str(),
                format("%.4g", 1e-12 * r.flops).c_str(), format("%.2f", 1e-12 * flops_s).c_str(),
                format("%.1f", share(flops_s, c.gemm_reference)).c_str(), format("%.4g", 1e-12 * r.bytes).c_str(),
                format("%.1f", 1e-9 * bytes_s).c_str(), format("%.1f", share(bytes_s, c.copy)).c_str(),
                format("%.2f", m.memory_after.pool_used_high / kGiB).c_str(),
                format("%.2f", m.memory_before.device_used / kGiB).c_str(),
                format("%.2f", m.memory_after.device_used / kGiB).c_str(), wrong_text(r).c_str());
  out << line;
  out.flush();
}

void print_model_details(std::ostream& out, const ModelRun& m) {
  if (m.row.skipped()) return;
  char line[256];
  out << "#\n# Model stages, L=" << m.row.length << " (" << m.passes << " passes)\n";
  std::snprintf(line, sizeof line, "# %-34s %10s %7s\n", "stage", "seconds", "share");
  out << line;
  double total = 0;
  for (const auto& [name, s] : m.stages) total += s;
  for (const auto& [name, s] : m.stages) {
    std::snprintf(line, sizeof line, "  %-34s %10.3f %6.1f%%\n", name.c_str(), s, total > 0 ? 100.0 * s / total : 0.0);
    out << line;
  }
  std::snprintf(line, sizeof line, "  %-34s %10.3f\n", "total (wall, incl. heads)", m.row.time.median);
  out << line;
  if (m.planned_peak > 0) {
    // On a GPU the pool's high-water mark is the peak the plan predicts (model buffers + backend scratch); on the
    // CPU the resident set includes the process itself, so the plan is compared with the model's buffers.
    const bool gpu = m.memory_after.device_total > 0;
    const double measured = gpu ? m.memory_after.pool_used_high : m.model_buffers_peak;
    out << "#\n# Memory, L=" << m.row.length << ": planned peak " << format("%.3f", m.planned_peak / kGiB)
        << " GiB; model buffers' high-water mark " << format("%.3f", m.model_buffers_peak / kGiB) << " GiB"
        << (gpu ? "; pool peak " + format("%.3f", m.memory_after.pool_used_high / kGiB) + " GiB" : std::string())
        << (m.memory_after.graph_pool_high > 0
                ? "; CUDA-graph pool peak " + format("%.3f", m.memory_after.graph_pool_high / kGiB) + " GiB"
                : std::string());
    if (measured > 0)
      out << " (plan vs " << (gpu ? "pool" : "model buffers") << " "
          << format("%+.1f", 100.0 * (m.planned_peak - measured) / measured) << "%)";
    out << "\n";
  }
  if (m.compared) {
    const double t = m.row.time.median, u = m.unchunked_seconds;
    out << "#\n# Chunking, L=" << m.row.length << ": chunked " << format("%.3f", t) << " s, unchunked "
        << format("%.3f", u) << " s (" << format("%+.1f", u > 0 ? 100.0 * (t - u) / u : 0.0)
        << "%); max atom deviation chunked vs unchunked " << format("%.3g", m.max_atom_deviation) << " A\n";
  }
  out << "#\n# Model operation mix, L=" << m.row.length << " (counted)\n";
  std::snprintf(line, sizeof line, "# %-22s %10s %12s %7s %12s %7s\n", "op", "calls", "GFLOP", "share", "GB", "share");
  out << line;
  std::vector<std::pair<std::string, OpTally>> ops(m.tallies.ops.begin(), m.tallies.ops.end());
  std::sort(ops.begin(), ops.end(), [](const auto& a, const auto& b) { return a.second.flops > b.second.flops; });
  const double flops = m.tallies.flops(), bytes = m.tallies.bytes();
  for (const auto& [name, t] : ops) {
    std::snprintf(line, sizeof line, "  %-22s %10lld %12.2f %6.1f%% %12.3f %6.1f%%\n", name.c_str(),
                  static_cast<long long>(t.calls), 1e-9 * t.flops, flops > 0 ? 100.0 * t.flops / flops : 0.0,
                  1e-9 * t.bytes, bytes > 0 ? 100.0 * t.bytes / bytes : 0.0);
    out << line;
  }
  std::snprintf(line, sizeof line, "  %-22s %10s %12.3f %7s %12.3f\n", "host<->device (GB up, down)", "-",
                1e-9 * m.tallies.upload_bytes, "", 1e-9 * m.tallies.download_bytes);
  out << line;
  out.flush();
}

void write_json(const std::string& path, const BenchReport& report) {
  const BenchOptions& o = report.options;
  const Ceilings& c = report.ceilings;
  std::vector<std::string> lengths;
  for (int64_t L : o.lengths) lengths.push_back(std::to_string(L));
  std::string length_list = "[";
  for (size_t i = 0; i < lengths.size(); ++i) length_list += (i ? ", " : "") + lengths[i];
  length_list += "]";
  Object options;
  options.add("lengths", length_list).add("ops", o.ops ? "true" : "false").add("modules", o.modules ? "true" : "false");
  options.add("model", o.model ? "true" : "false").num("warmup", o.warmup).num("repeat", o.repeat);
  options.num("msa", static_cast<double>(o.msa)).num("extra", static_cast<double>(o.extra));
  options.num("templates", static_cast<double>(o.templates)).num("recycles", o.recycles);
  options.str("preset", o.config.preset).num("evoformer_blocks", o.config.evoformer_num_block);
  options.num("seed", static_cast<double>(o.seed)).num("time_budget_seconds", o.time_budget);
  options.num("chunk_msa_rows", static_cast<double>(o.chunks.msa_rows));
  options.num("chunk_msa_columns", static_cast<double>(o.chunks.msa_columns));
  options.num("chunk_pair_rows", static_cast<double>(o.chunks.pair_rows));
  options.num("chunk_opm_rows", static_cast<double>(o.chunks.opm_rows));
  options.num("chunk_template_rows", static_cast<double>(o.chunks.template_rows));

  std::vector<std::string> ceiling_rows, ops, modules, models;
  for (const Row& r : c.rows) ceiling_rows.push_back(row_json(r, c));
  for (const Row& r : report.ops) ops.push_back(row_json(r, c));
  for (const Row& r : report.modules) modules.push_back(row_json(r, c));
  for (const ModelRun& m : report.models) {
    Object stages, op_mix;
    for (const auto& [name, s] : m.stages) stages.num(name, s);
    for (const auto& [name, t] : m.tallies.ops)
      op_mix.add(name, Object().num("calls", static_cast<double>(t.calls)).num("flops", t.flops).num("bytes", t.bytes).json());
    Object mo;
    mo.add("row", row_json(m.row, c)).num("msa", static_cast<double>(m.msa)).num("extra", static_cast<double>(m.extra));
    mo.num("templates", static_cast<double>(m.templates)).num("evoformer_blocks", m.blocks).num("passes", m.passes);
    mo.add("stages_seconds", stages.json()).add("ops", op_mix.json());
    mo.num("upload_bytes", m.tallies.upload_bytes).num("download_bytes", m.tallies.download_bytes);
    mo.add("memory_before", memory_json(m.memory_before)).add("memory_after", memory_json(m.memory_after));
    mo.num("planned_peak_bytes", m.planned_peak).num("model_buffers_peak_bytes", m.model_buffers_peak);
    if (m.compared)
      mo.num("unchunked_seconds", m.unchunked_seconds).num("max_atom_deviation_angstrom", m.max_atom_deviation);
    models.push_back(mo.json());
  }
  Object ceilings;
  ceilings.str("device", c.device).num("gemm_fp32_flops_per_second", c.gemm_fp32);
  ceilings.num("gemm_tf32_flops_per_second", c.gemm_tf32).num("gemm_bf16_flops_per_second", c.gemm_bf16);
  ceilings.num("copy_bytes_per_second", c.copy).num("l2_read_bytes_per_second", c.l2_read);
  ceilings.num("sfu_exp2_per_second", c.sfu_exp2).add("rows", array(ceiling_rows, "  "));

  std::ostringstream text;
  text << "{\n  \"version\": " << quoted(AXF_VERSION) << ",\n  \"device\": " << quoted(report.device)
       << ",\n  \"options\": " << options.json() << ",\n  \"ceilings\": " << ceilings.json()
       << ",\n  \"ops\": " << array(ops, "  ") << ",\n  \"modules\": " << array(modules, "  ")
       << ",\n  \"models\": " << array(models, "  ") << ",\n  \"failures\": " << report.failures << "\n}\n";

  const std::filesystem::path target(path);
  const std::filesystem::path tmp = target.string() + ".tmp-" + std::to_string(::getpid());
  {
    std::ofstream f(tmp);
    AXF_CHECK(f.good(), "cannot write '", tmp.string(), "'");
    f << text.str();
    AXF_CHECK(f.good(), "writing '", tmp.string(), "' failed");
  }
  std::error_code ec;
  std::filesystem::rename(tmp, target, ec);
  AXF_CHECK(!ec, "cannot rename '", tmp.string(), "' to '", path, "': ", ec.message());
}

}  // namespace axf::runtime::bench
