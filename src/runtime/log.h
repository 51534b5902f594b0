// Progress log: one line per event on stderr, stamped with seconds since start; only rank 0 of the world
// prints unless AXF_LOG_ALL_RANKS is set. AXF_LOG_QUIET=1 silences it (tests).
#pragma once

#include <string>

#include "core/error.h"

namespace axf::runtime {

void log_line(const std::string& message);

template <typename... Args>
void log_info(const Args&... args) {
  log_line(detail::concat(args...));
}

}  // namespace axf::runtime
