#include "core/error.h"

#include <cstring>

namespace axf::detail {

[[noreturn]] void throw_error(const char* file, int line, const std::string& message) {
  // Keep only the path below the project root so messages stay short and stable.
  const char* shown = file;
  for (const char* marker : {"/src/", "/io/", "/kernels/", "/tests/"}) {
    if (const char* p = std::strstr(file, marker)) {
      shown = p + 1;
      break;
    }
  }
  std::string where(shown);
  where.append(":").append(std::to_string(line)).append(": ").append(message);
  throw Error(where);
}

}  // namespace axf::detail
