#include "support/test_support.h"

#include <unistd.h>

#include <stdexcept>

namespace axf::test {

std::filesystem::path shared_data_dir() {
  std::filesystem::path p = AXF_TEST_DATA_DIR;
  if (!std::filesystem::exists(p)) {
    throw std::runtime_error("shared test data not found at " + p.string());
  }
  return p;
}

std::filesystem::path scratch_dir(const std::string& tag) {
  auto p = std::filesystem::temp_directory_path() /
           ("axf-test-" + tag + "-" + std::to_string(::getpid()));
  std::filesystem::remove_all(p);
  std::filesystem::create_directories(p);
  return p;
}

std::filesystem::path axialfold_binary() { return AXF_BINARY; }

}  // namespace axf::test
