// Helpers shared by every test binary: paths to the real inputs in ../shared/data, scratch folders.
#pragma once

#include <filesystem>
#include <string>

namespace axf::test {

// ../shared/data (real alignments, mmCIF files, features); tests that need it fail loudly if missing.
std::filesystem::path shared_data_dir();
// A fresh, empty directory under the system temp dir, unique to this process and `tag`.
std::filesystem::path scratch_dir(const std::string& tag);
// Path of the built `axialfold` binary (for end-to-end tests).
std::filesystem::path axialfold_binary();

}  // namespace axf::test
