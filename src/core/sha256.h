// SHA-256 (FIPS 180-4) of files and buffers, for provenance: every output names the checksum of the parameter
// file that produced it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>

namespace axf::core {

class Sha256 {
 public:
  Sha256();
  void update(const void* data, size_t bytes);
  std::string hex_digest();  // finalises; 64 lowercase hex characters

 private:
  void block(const uint8_t* p);
  uint32_t h_[8];
  uint8_t buffer_[64];
  size_t buffered_ = 0;
  uint64_t total_ = 0;
};

std::string sha256_hex(const void* data, size_t bytes);
std::string sha256_file(const std::filesystem::path& path);  // throws naming the file if unreadable

}  // namespace axf::core
