#include "runtime/timers.h"

#include <cstdio>

namespace axf::runtime {

void Timers::add(const std::string& stage, double seconds) {
  for (auto& [name, total] : stages_) {
    if (name == stage) {
      total += seconds;
      return;
    }
  }
  stages_.emplace_back(stage, seconds);
}

double Timers::total() const {
  double t = 0;
  for (const auto& s : stages_) t += s.second;
  return t;
}

std::string Timers::table() const {
  std::string out = "stage                              seconds   share\n";
  const double all = total();
  char line[160];
  for (const auto& [name, t] : stages_) {
    std::snprintf(line, sizeof line, "%-32s %9.3f  %5.1f%%\n", name.c_str(), t, all > 0 ? 100.0 * t / all : 0.0);
    out += line;
  }
  std::snprintf(line, sizeof line, "%-32s %9.3f\n", "total", all);
  out += line;
  return out;
}

}  // namespace axf::runtime
