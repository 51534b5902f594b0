#include "runtime/log.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "parallel/communicator.h"

namespace axf::runtime {

namespace {
const auto g_start = std::chrono::steady_clock::now();
}

void log_line(const std::string& message) {
  static const bool quiet = std::getenv("AXF_LOG_QUIET") != nullptr;
  static const bool all_ranks = std::getenv("AXF_LOG_ALL_RANKS") != nullptr;
  if (quiet) return;
  const int rank = parallel::world().rank();
  if (rank != 0 && !all_ranks) return;
  const double t = std::chrono::duration<double>(std::chrono::steady_clock::now() - g_start).count();
  std::fprintf(stderr, "[%9.3f s] %s\n", t, message.c_str());
  std::fflush(stderr);
}

}  // namespace axf::runtime
