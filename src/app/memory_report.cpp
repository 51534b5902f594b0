#include "app/memory_report.h"

#include <cstdio>
#include <string>

namespace axf::app {

std::string format_gib(double bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f GiB", bytes / (1024.0 * 1024.0 * 1024.0));
  return buf;
}

void print_memory_plan(std::ostream& out, const model::MemoryPlan& plan) {
  char line[256];
  auto row = [&](const std::string& name, double bytes, const char* mark = "") {
    std::snprintf(line, sizeof line, "  %-62s %12s%s\n", name.c_str(), format_gib(bytes).c_str(), mark);
    out << line;
  };
  out << "# persistent buffers (through the Evoformer stack)\n";
  for (const model::MemoryItem& i : plan.persistent) row(i.name, static_cast<double>(i.bytes));
  row("total", static_cast<double>(plan.persistent_bytes()));
  out << "# stages: persistent + the stage's own buffers at its largest module\n";
  for (size_t s = 0; s < plan.stages.size(); ++s)
    row(plan.stages[s].name, static_cast<double>(plan.persistent_bytes() + plan.stages[s].bytes()),
        s == plan.peak_stage ? "   <- peak" : "");
  const model::MemoryStage& peak = plan.stages[plan.peak_stage];
  out << "# peak stage (" << peak.name << "): its buffers\n";
  for (const model::MemoryItem& i : peak.items) row(i.name, static_cast<double>(i.bytes));
  out << "# predicted peak device memory\n";
  row("peak", static_cast<double>(plan.peak_bytes()));
}

}  // namespace axf::app
