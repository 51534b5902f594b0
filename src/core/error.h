// One family of error macros for the whole code base. Every failure becomes an axf::Error whose message
// names the place (file:line) and what was involved (file, key, rank, CUDA/NCCL/MPI/HDF5 call).
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>

namespace axf {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

namespace detail {
[[noreturn]] void throw_error(const char* file, int line, const std::string& message);

template <typename... Args>
std::string concat(const Args&... args) {
  std::ostringstream os;
  (os << ... << args);
  return os.str();
}
}  // namespace detail

}  // namespace axf

// AXF_CHECK(cond, parts...): throws axf::Error("file:line: parts...") when cond is false.
#define AXF_CHECK(cond, ...)                                                              \
  do {                                                                                    \
    if (!(cond)) {                                                                        \
      ::axf::detail::throw_error(__FILE__, __LINE__, ::axf::detail::concat(__VA_ARGS__)); \
    }                                                                                     \
  } while (0)

// AXF_FAIL(parts...): unconditional error.
#define AXF_FAIL(...) ::axf::detail::throw_error(__FILE__, __LINE__, ::axf::detail::concat(__VA_ARGS__))
