// Zip archives as numpy's .npz files use them: a reader (stored and deflate entries, Zip64, CRC-32 checks,
// reading only the entries asked for) and a writer of stored entries that publishes the file atomically.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace axf::io {

struct ZipEntry {
  std::string name;
  uint16_t method = 0;  // 0 stored, 8 deflate
  uint16_t flags = 0;
  uint32_t crc32 = 0;
  uint64_t compressed_size = 0;
  uint64_t uncompressed_size = 0;
  uint64_t local_header_offset = 0;
};

class ZipReader {
 public:
  // Reads the central directory; throws naming the file if it is missing, not a zip, or corrupt.
  explicit ZipReader(std::filesystem::path path);
  ~ZipReader();
  ZipReader(const ZipReader&) = delete;
  ZipReader& operator=(const ZipReader&) = delete;

  const std::filesystem::path& path() const { return path_; }
  const std::vector<ZipEntry>& entries() const { return entries_; }
  const ZipEntry* find(const std::string& name) const;  // nullptr if absent

  // The whole uncompressed entry, CRC-checked.
  std::vector<std::byte> read(const ZipEntry& entry) const;
  // At most `max_bytes` from the start of the uncompressed entry (no CRC check: the entry is not read whole).
  std::vector<std::byte> read_prefix(const ZipEntry& entry, size_t max_bytes) const;

 private:
  void read_central_directory();
  uint64_t data_start(const ZipEntry& entry) const;  // checks the local header
  std::vector<std::byte> inflate_entry(const ZipEntry& entry, uint64_t start, size_t max_out, bool whole) const;
  void pread_exact(void* dst, size_t n, uint64_t offset, const std::string& what) const;
  std::string where(const ZipEntry& entry) const;

  std::filesystem::path path_;
  int fd_ = -1;
  uint64_t file_size_ = 0;
  uint64_t central_dir_offset_ = 0;  // entry data ends before this
  std::vector<ZipEntry> entries_;
  std::unordered_map<std::string, size_t> index_;
};

struct ZipWriterOptions {
  bool force_zip64 = false;  // write Zip64 extra fields and end records even when not needed (tests)
};

// Writes to `path + ".tmp-<pid>"`; close() finishes the archive and renames it onto `path`. If close() is never
// reached or fails, the temporary file is removed and nothing appears under `path`.
class ZipWriter {
 public:
  explicit ZipWriter(std::filesystem::path path, ZipWriterOptions options = {});
  ~ZipWriter();
  ZipWriter(const ZipWriter&) = delete;
  ZipWriter& operator=(const ZipWriter&) = delete;

  // A stored entry whose data is the concatenation of `parts` (e.g. an .npy header and the array data).
  void add(const std::string& name, std::span<const std::span<const std::byte>> parts);
  void add(const std::string& name, std::span<const std::byte> data);
  void close();

  const std::filesystem::path& temp_path() const { return temp_path_; }

 private:
  void write(const void* data, size_t n);
  void flush();
  void abandon() noexcept;

  struct Record {
    std::string name;
    uint32_t crc32;
    uint64_t size;
    uint64_t offset;
  };
  std::filesystem::path path_;
  std::filesystem::path temp_path_;
  ZipWriterOptions options_;
  int fd_ = -1;
  uint64_t offset_ = 0;  // bytes written so far (including the buffer)
  std::vector<unsigned char> buffer_;
  std::vector<Record> records_;
  std::unordered_set<std::string> names_;
  bool closed_ = false;
};

}  // namespace axf::io
