// .npz archives (numpy's savez / savez_compressed): named NpyArrays in a zip file, read lazily by key and
// written atomically.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "io/npy.h"
#include "io/zip_archive.h"

namespace axf::io {

class NpzReader {
 public:
  // Reads the zip central directory only; throws naming the file if it is missing or not a zip archive.
  explicit NpzReader(const std::filesystem::path& path);

  // Entry names without the ".npy" suffix, in archive order (keys may contain '/' and '//').
  const std::vector<std::string>& keys() const { return keys_; }
  bool has(const std::string& key) const { return index_.count(key) > 0; }
  // Only the local zip header and the .npy header are read (cheap even for large entries).
  NpyHeader header(const std::string& key) const;
  // The whole array; throws naming the file and key if missing or corrupt.
  NpyArray read(const std::string& key) const;
  const std::filesystem::path& path() const { return zip_->path(); }

 private:
  const ZipEntry& entry(const std::string& key) const;

  std::unique_ptr<ZipReader> zip_;
  std::vector<std::string> keys_;
  std::unordered_map<std::string, const ZipEntry*> index_;
};

// Writes atomically (temporary name, then rename). Entries in the order given, stored uncompressed as
// np.savez does; each name gets ".npy" appended.
void write_npz(const std::filesystem::path& path, const std::vector<std::pair<std::string, const NpyArray*>>& arrays,
               ZipWriterOptions options = {});

}  // namespace axf::io
