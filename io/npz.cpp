#include "io/npz.h"

#include "core/error.h"

namespace axf::io {

namespace {

constexpr size_t kHeaderGuess = 256;  // numpy's v1 headers are 64-128 bytes

// Total .npy header size announced by its first 12 bytes, or 0 if they do not tell.
size_t announced_header_size(const std::vector<std::byte>& b) {
  if (b.size() < 12) return 0;
  auto byte = [&](size_t i) { return static_cast<size_t>(b[i]); };
  if (byte(6) == 1) return 10 + (byte(8) | (byte(9) << 8));
  if (byte(6) == 2 || byte(6) == 3) return 12 + (byte(8) | (byte(9) << 8) | (byte(10) << 16) | (byte(11) << 24));
  return 0;
}

std::string context_of(const ZipReader& zip, const ZipEntry& e) {
  return zip.path().string() + ": entry '" + e.name + "'";
}

}  // namespace

NpzReader::NpzReader(const std::filesystem::path& path) : zip_(std::make_unique<ZipReader>(path)) {
  keys_.reserve(zip_->entries().size());
  for (const ZipEntry& e : zip_->entries()) {
    std::string key = e.name;
    if (key.size() > 4 && key.ends_with(".npy")) key.resize(key.size() - 4);
    AXF_CHECK(index_.emplace(key, &e).second, path.string(), ": entries '", index_.at(key)->name, "' and '", e.name,
              "' both give key '", key, "'");
    keys_.push_back(std::move(key));
  }
}

const ZipEntry& NpzReader::entry(const std::string& key) const {
  auto it = index_.find(key);
  AXF_CHECK(it != index_.end(), path().string(), ": no array '", key, "' (the archive has ", keys_.size(),
            " arrays)");
  return *it->second;
}

NpyHeader NpzReader::header(const std::string& key) const {
  const ZipEntry& e = entry(key);
  const std::string context = context_of(*zip_, e);
  std::vector<std::byte> prefix = zip_->read_prefix(e, kHeaderGuess);
  const size_t need = announced_header_size(prefix);
  if (need > prefix.size() && need <= e.uncompressed_size) prefix = zip_->read_prefix(e, need);
  NpyHeader h = parse_npy_header(prefix, context);
  const uint64_t bytes = static_cast<uint64_t>(shape_numel(h.shape, context)) * item_size(h.type);
  AXF_CHECK(e.uncompressed_size >= h.data_offset && e.uncompressed_size - h.data_offset == bytes, context,
            ": data length mismatch (expected ", bytes, " bytes for ", to_string(h.type), " ", shape_string(h.shape),
            ", entry holds ", e.uncompressed_size - std::min<uint64_t>(e.uncompressed_size, h.data_offset), ")");
  return h;
}

NpyArray NpzReader::read(const std::string& key) const {
  const ZipEntry& e = entry(key);
  return parse_npy(zip_->read(e), context_of(*zip_, e));
}

void write_npz(const std::filesystem::path& path, const std::vector<std::pair<std::string, const NpyArray*>>& arrays,
               ZipWriterOptions options) {
  for (const auto& [name, array] : arrays) {
    AXF_CHECK(array != nullptr, path.string(), ": array '", name, "' is null");
    const uint64_t numel = static_cast<uint64_t>(shape_numel(array->shape, path.string() + ": array '" + name + "'"));
    AXF_CHECK(numel * array->item_size() == array->data.size(), path.string(), ": array '", name, "' (",
              to_string(array->type), " ", shape_string(array->shape), ") needs ", numel * array->item_size(),
              " bytes of data, has ", array->data.size());
  }
  ZipWriter writer(path, options);
  for (const auto& [name, array] : arrays) {
    const std::vector<std::byte> header = serialize_npy_header(*array);
    const std::span<const std::byte> parts[] = {header, array->data};
    writer.add(name + ".npy", parts);
  }
  writer.close();
}

}  // namespace axf::io
