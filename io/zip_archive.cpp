// ZipReader: see zip_archive.h. The writer is in zip_writer.cpp.
#include "io/zip_archive.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "core/error.h"
#include "io/zip_format.h"

namespace axf::io {

using namespace zipfmt;

namespace {

uint32_t crc_of(const std::vector<std::byte>& data) {
  uLong crc = ::crc32(0L, Z_NULL, 0);
  const auto* p = reinterpret_cast<const Bytef*>(data.data());
  size_t left = data.size();
  while (left > 0) {
    const uInt n = static_cast<uInt>(std::min<size_t>(left, 1u << 30));
    crc = ::crc32(crc, p, n);
    p += n;
    left -= n;
  }
  return static_cast<uint32_t>(crc);
}

// Ends a zlib inflate stream however the reading ends.
struct InflateGuard {
  z_stream* z;
  ~InflateGuard() { inflateEnd(z); }
};

}  // namespace

ZipReader::ZipReader(std::filesystem::path path) : path_(std::move(path)) {
  fd_ = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
  AXF_CHECK(fd_ >= 0, path_.string(), ": cannot open: ", std::strerror(errno));
  try {
    struct stat st {};
    AXF_CHECK(::fstat(fd_, &st) == 0, path_.string(), ": cannot stat: ", std::strerror(errno));
    AXF_CHECK(!S_ISDIR(st.st_mode), path_.string(), ": is a directory, not a zip archive");
    file_size_ = static_cast<uint64_t>(st.st_size);
    read_central_directory();
  } catch (...) {
    ::close(fd_);
    fd_ = -1;
    throw;
  }
}

ZipReader::~ZipReader() {
  if (fd_ >= 0) ::close(fd_);
}

const ZipEntry* ZipReader::find(const std::string& name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : &entries_[it->second];
}

void ZipReader::pread_exact(void* dst, size_t n, uint64_t offset, const std::string& what) const {
  auto* out = static_cast<unsigned char*>(dst);
  size_t done = 0;
  while (done < n) {
    const ssize_t got = ::pread(fd_, out + done, std::min<size_t>(n - done, 1u << 30),
                                static_cast<off_t>(offset + done));
    if (got < 0 && errno == EINTR) continue;
    AXF_CHECK(got >= 0, what, ": read error at offset ", offset + done, ": ", std::strerror(errno));
    AXF_CHECK(got > 0, what, ": unexpected end of file at offset ", offset + done, " (file truncated?)");
    done += static_cast<size_t>(got);
  }
}

std::string ZipReader::where(const ZipEntry& entry) const {
  return path_.string() + ": entry '" + entry.name + "'";
}

void ZipReader::read_central_directory() {
  const std::string file = path_.string();
  AXF_CHECK(file_size_ >= kEndSize, file, ": not a zip archive (", file_size_,
            " bytes, too small for an end-of-central-directory record)");
  const size_t tail_len = static_cast<size_t>(std::min<uint64_t>(file_size_, kEndSize + 0xFFFF));
  std::vector<unsigned char> tail(tail_len);
  const uint64_t tail_start = file_size_ - tail_len;
  pread_exact(tail.data(), tail_len, tail_start, file);

  // The end record is the last signature whose comment fits in the file.
  size_t eocd = tail_len;
  for (size_t i = tail_len - kEndSize + 1; i-- > 0;) {
    if (get32(&tail[i]) == kEndSig && i + kEndSize + get16(&tail[i + 20]) <= tail_len) {
      eocd = i;
      break;
    }
  }
  AXF_CHECK(eocd < tail_len, file, ": not a zip archive (no end-of-central-directory record; truncated?)");
  const uint64_t eocd_pos = tail_start + eocd;
  const unsigned char* e = &tail[eocd];
  uint64_t disk = get16(e + 4), cd_disk = get16(e + 6), disk_count = get16(e + 8), count = get16(e + 10);
  uint64_t cd_size = get32(e + 12), cd_offset = get32(e + 16);
  uint64_t cd_limit = eocd_pos;  // the central directory ends before this

  if (eocd_pos >= kZip64LocatorSize) {
    unsigned char loc[kZip64LocatorSize];
    pread_exact(loc, sizeof loc, eocd_pos - kZip64LocatorSize, file);
    if (get32(loc) == kZip64LocatorSig) {
      const uint64_t z_offset = get64(loc + 8);
      AXF_CHECK(get32(loc + 4) == 0 && get32(loc + 16) <= 1, file, ": multi-disk zip archives are not supported");
      AXF_CHECK(eocd_pos >= kZip64LocatorSize + kZip64EndSize &&
                    z_offset <= eocd_pos - kZip64LocatorSize - kZip64EndSize,
                file, ": Zip64 end-of-central-directory offset ", z_offset, " is out of range (file size ",
                file_size_, ")");
      unsigned char z[kZip64EndSize];
      pread_exact(z, sizeof z, z_offset, file);
      AXF_CHECK(get32(z) == kZip64EndSig, file, ": bad Zip64 end-of-central-directory signature at offset ",
                z_offset);
      disk = get32(z + 16);
      cd_disk = get32(z + 20);
      disk_count = get64(z + 24);
      count = get64(z + 32);
      cd_size = get64(z + 40);
      cd_offset = get64(z + 48);
      cd_limit = z_offset;
    }
  }
  AXF_CHECK(disk == 0 && cd_disk == 0 && disk_count == count, file,
            ": multi-disk zip archives are not supported");
  AXF_CHECK(cd_offset <= cd_limit && cd_size <= cd_limit - cd_offset, file, ": central directory (offset ",
            cd_offset, ", ", cd_size, " bytes) lies outside the file (", file_size_, " bytes; truncated?)");
  AXF_CHECK(count <= cd_size / kCentralHeaderSize, file, ": central directory of ", cd_size,
            " bytes cannot hold the ", count, " entries it claims");
  central_dir_offset_ = cd_offset;

  std::vector<unsigned char> cd(static_cast<size_t>(cd_size));
  pread_exact(cd.data(), cd.size(), cd_offset, file);
  entries_.reserve(static_cast<size_t>(count));
  size_t pos = 0;
  for (uint64_t i = 0; i < count; ++i) {
    AXF_CHECK(cd.size() - pos >= kCentralHeaderSize && get32(&cd[pos]) == kCentralHeaderSig, file,
              ": corrupt central directory (entry ", i, " at offset ", cd_offset + pos, ")");
    const unsigned char* h = &cd[pos];
    const size_t name_len = get16(h + 28), extra_len = get16(h + 30), comment_len = get16(h + 32);
    AXF_CHECK(cd.size() - pos - kCentralHeaderSize >= name_len + extra_len + comment_len, file,
              ": corrupt central directory (entry ", i, " overruns it)");
    ZipEntry entry;
    entry.flags = get16(h + 8);
    entry.method = get16(h + 10);
    entry.crc32 = get32(h + 16);
    entry.compressed_size = get32(h + 20);
    entry.uncompressed_size = get32(h + 24);
    entry.local_header_offset = get32(h + 42);
    const unsigned char* name = h + kCentralHeaderSize;
    entry.name.assign(reinterpret_cast<const char*>(name), name_len);

    // Zip64 extra field: the 64-bit values of the fields set to 0xFFFFFFFF, in this order.
    const unsigned char* x = name + name_len;
    const unsigned char* x_end = x + extra_len;
    while (x_end - x >= 4) {
      const uint16_t id = get16(x), len = get16(x + 2);
      AXF_CHECK(x_end - x - 4 >= len, file, ": entry '", entry.name, "': malformed extra field");
      if (id == kZip64ExtraId) {
        const unsigned char* v = x + 4;
        const unsigned char* v_end = v + len;
        for (uint64_t* field : {&entry.uncompressed_size, &entry.compressed_size, &entry.local_header_offset}) {
          if (*field != kMax32) continue;
          AXF_CHECK(v_end - v >= 8, file, ": entry '", entry.name, "': Zip64 extra field is too short");
          *field = get64(v);
          v += 8;
        }
      }
      x += 4 + len;
    }
    AXF_CHECK(index_.emplace(entry.name, entries_.size()).second, file, ": duplicate entry '", entry.name, "'");
    entries_.push_back(std::move(entry));
    pos += kCentralHeaderSize + name_len + extra_len + comment_len;
  }
}

uint64_t ZipReader::data_start(const ZipEntry& entry) const {
  const std::string w = where(entry);
  AXF_CHECK((entry.flags & 1) == 0, w, ": encrypted entries are not supported");
  AXF_CHECK(entry.local_header_offset <= central_dir_offset_ &&
                central_dir_offset_ - entry.local_header_offset >= kLocalHeaderSize,
            w, ": local header offset ", entry.local_header_offset, " is out of range");
  unsigned char h[kLocalHeaderSize];
  pread_exact(h, sizeof h, entry.local_header_offset, w);
  AXF_CHECK(get32(h) == kLocalHeaderSig, w, ": bad local header signature at offset ", entry.local_header_offset);
  const uint64_t name_len = get16(h + 26), extra_len = get16(h + 28);
  const uint64_t start = entry.local_header_offset + kLocalHeaderSize + name_len + extra_len;
  AXF_CHECK(start <= central_dir_offset_ && entry.compressed_size <= central_dir_offset_ - start, w,
            ": data (", entry.compressed_size, " bytes at offset ", start,
            ") runs past the end of the entries (truncated data)");
  std::string name(name_len, '\0');
  pread_exact(name.data(), name.size(), entry.local_header_offset + kLocalHeaderSize, w);
  AXF_CHECK(name == entry.name, w, ": local header names '", name, "' instead");
  return start;
}

std::vector<std::byte> ZipReader::read(const ZipEntry& entry) const {
  const std::string w = where(entry);
  const uint64_t start = data_start(entry);
  std::vector<std::byte> out;
  if (entry.method == 0) {
    AXF_CHECK(entry.compressed_size == entry.uncompressed_size, w, ": stored entry has compressed size ",
              entry.compressed_size, " but uncompressed size ", entry.uncompressed_size);
    out.resize(static_cast<size_t>(entry.uncompressed_size));
    pread_exact(out.data(), out.size(), start, w);
  } else if (entry.method == 8) {
    out = inflate_entry(entry, start, static_cast<size_t>(entry.uncompressed_size), true);
  } else {
    AXF_FAIL(w, ": unsupported compression method ", entry.method, " (only stored and deflate)");
  }
  const uint32_t crc = crc_of(out);
  if (crc != entry.crc32) {
    char text[64];
    std::snprintf(text, sizeof text, "computed %08x, recorded %08x", crc, entry.crc32);
    AXF_FAIL(w, ": CRC-32 mismatch, data corrupt (", text, ")");
  }
  return out;
}

std::vector<std::byte> ZipReader::read_prefix(const ZipEntry& entry, size_t max_bytes) const {
  const uint64_t start = data_start(entry);
  const size_t n = static_cast<size_t>(std::min<uint64_t>(max_bytes, entry.uncompressed_size));
  if (entry.method == 0) {
    AXF_CHECK(entry.compressed_size == entry.uncompressed_size, where(entry), ": stored entry has compressed size ",
              entry.compressed_size, " but uncompressed size ", entry.uncompressed_size);
    std::vector<std::byte> out(n);
    pread_exact(out.data(), n, start, where(entry));
    return out;
  }
  AXF_CHECK(entry.method == 8, where(entry), ": unsupported compression method ", entry.method,
            " (only stored and deflate)");
  return inflate_entry(entry, start, n, false);
}

std::vector<std::byte> ZipReader::inflate_entry(const ZipEntry& entry, uint64_t start, size_t max_out,
                                                bool whole) const {
  const std::string w = where(entry);
  // Deflate cannot expand data by more than ~1032:1; a larger claim is corruption, not a reason to allocate.
  AXF_CHECK(entry.uncompressed_size / 1032 <= entry.compressed_size + 64, w, ": declared size ",
            entry.uncompressed_size, " is impossible for ", entry.compressed_size, " bytes of deflate data");
  std::vector<std::byte> out(max_out);
  z_stream z{};
  AXF_CHECK(inflateInit2(&z, -MAX_WBITS) == Z_OK, w, ": zlib inflateInit2 failed");
  InflateGuard guard{&z};
  std::vector<unsigned char> in(static_cast<size_t>(std::clamp<uint64_t>(entry.compressed_size, 1, 1u << 20)));
  uint64_t in_pos = 0;
  size_t produced = 0;
  unsigned char probe[1];
  bool ended = false;
  while (true) {
    if (z.avail_in == 0 && in_pos < entry.compressed_size) {
      const size_t n = static_cast<size_t>(std::min<uint64_t>(in.size(), entry.compressed_size - in_pos));
      pread_exact(in.data(), n, start + in_pos, w);
      in_pos += n;
      z.next_in = in.data();
      z.avail_in = static_cast<uInt>(n);
    }
    const bool probing = produced == max_out;  // all expected bytes are out: any more is an error
    if (probing && !whole) break;
    if (probing) {
      z.next_out = probe;
      z.avail_out = 1;
    } else {
      z.next_out = reinterpret_cast<Bytef*>(out.data() + produced);
      z.avail_out = static_cast<uInt>(std::min<size_t>(max_out - produced, 1u << 30));
    }
    const uInt room = z.avail_out;
    const int ret = ::inflate(&z, Z_NO_FLUSH);
    const size_t wrote = room - z.avail_out;
    AXF_CHECK(!probing || wrote == 0, w, ": deflate data expands beyond the declared size ",
              entry.uncompressed_size);
    produced += probing ? 0 : wrote;
    if (ret == Z_STREAM_END) {
      ended = true;
      break;
    }
    if (ret == Z_BUF_ERROR) {  // no progress possible: only more input can help
      AXF_CHECK(z.avail_in == 0 && in_pos < entry.compressed_size, w, ": deflate data is truncated");
      continue;
    }
    AXF_CHECK(ret == Z_OK, w, ": corrupt deflate data (zlib: ", z.msg ? z.msg : "error " + std::to_string(ret),
              ")");
  }
  AXF_CHECK(produced == max_out, w, ": deflate data ends after ", produced, " bytes (declared size ",
            entry.uncompressed_size, ")");
  AXF_CHECK(!whole || ended, w, ": deflate data does not end where declared");
  return out;
}

}  // namespace axf::io
