// ZipWriter: see zip_archive.h. Stored entries only; Zip64 records wherever a value needs them.
#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "core/error.h"
#include "io/zip_archive.h"
#include "io/zip_format.h"

namespace axf::io {

using namespace zipfmt;

namespace {

constexpr uint16_t kDosTime = 0;                         // 00:00:00
constexpr uint16_t kDosDate = (0 << 9) | (1 << 5) | 1;   // 1980-01-01, as numpy's savez writes
constexpr size_t kBufferSize = 1 << 20;
constexpr uint16_t kUtf8NameFlag = 1 << 11;

bool needs_utf8_flag(const std::string& name) {
  return std::any_of(name.begin(), name.end(), [](char c) { return static_cast<unsigned char>(c) >= 0x80; });
}

}  // namespace

ZipWriter::ZipWriter(std::filesystem::path path, ZipWriterOptions options)
    : path_(std::move(path)), options_(options) {
  temp_path_ = path_;
  temp_path_ += ".tmp-" + std::to_string(::getpid());
  fd_ = ::open(temp_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  AXF_CHECK(fd_ >= 0, path_.string(), ": cannot create temporary file ", temp_path_.string(), ": ",
            std::strerror(errno));
  buffer_.reserve(kBufferSize);
}

ZipWriter::~ZipWriter() {
  if (!closed_) abandon();
}

void ZipWriter::abandon() noexcept {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  std::error_code ec;
  std::filesystem::remove(temp_path_, ec);
  closed_ = true;
}

void ZipWriter::flush() {
  size_t done = 0;
  while (done < buffer_.size()) {
    const ssize_t n = ::write(fd_, buffer_.data() + done, buffer_.size() - done);
    if (n < 0 && errno == EINTR) continue;
    AXF_CHECK(n > 0, path_.string(), ": writing ", temp_path_.string(), " failed: ", std::strerror(errno));
    done += static_cast<size_t>(n);
  }
  buffer_.clear();
}

void ZipWriter::write(const void* data, size_t n) {
  const auto* p = static_cast<const unsigned char*>(data);
  offset_ += n;
  if (buffer_.size() + n <= kBufferSize) {
    buffer_.insert(buffer_.end(), p, p + n);
    return;
  }
  flush();
  while (n > 0) {  // large pieces go straight to the file
    const ssize_t w = ::write(fd_, p, std::min<size_t>(n, 1u << 30));
    if (w < 0 && errno == EINTR) continue;
    AXF_CHECK(w > 0, path_.string(), ": writing ", temp_path_.string(), " failed: ", std::strerror(errno));
    p += w;
    n -= static_cast<size_t>(w);
  }
}

void ZipWriter::add(const std::string& name, std::span<const std::byte> data) {
  const std::span<const std::byte> parts[] = {data};
  add(name, std::span<const std::span<const std::byte>>(parts));
}

void ZipWriter::add(const std::string& name, std::span<const std::span<const std::byte>> parts) {
  AXF_CHECK(!closed_ && fd_ >= 0, path_.string(), ": cannot add entry '", name, "': writer is closed");
  try {
    AXF_CHECK(!name.empty() && name.size() <= kMax16, path_.string(), ": invalid entry name length ", name.size());
    AXF_CHECK(names_.insert(name).second, path_.string(), ": duplicate entry name '", name, "'");
    uint64_t size = 0;
    uLong crc = ::crc32(0L, Z_NULL, 0);
    for (const auto& part : parts) {
      size += part.size();
      const auto* p = reinterpret_cast<const Bytef*>(part.data());
      for (size_t left = part.size(); left > 0;) {
        const uInt n = static_cast<uInt>(std::min<size_t>(left, 1u << 30));
        crc = ::crc32(crc, p, n);
        p += n;
        left -= n;
      }
    }
    const bool zip64 = options_.force_zip64 || size >= kMax32;
    std::vector<unsigned char> h;
    h.reserve(kLocalHeaderSize + name.size() + 20);
    put32(h, kLocalHeaderSig);
    put16(h, zip64 ? 45 : 20);
    put16(h, needs_utf8_flag(name) ? kUtf8NameFlag : 0);
    put16(h, 0);  // stored
    put16(h, kDosTime);
    put16(h, kDosDate);
    put32(h, static_cast<uint32_t>(crc));
    put32(h, zip64 ? kMax32 : static_cast<uint32_t>(size));
    put32(h, zip64 ? kMax32 : static_cast<uint32_t>(size));
    put16(h, static_cast<uint16_t>(name.size()));
    put16(h, zip64 ? 20 : 0);
    h.insert(h.end(), name.begin(), name.end());
    if (zip64) {
      put16(h, kZip64ExtraId);
      put16(h, 16);
      put64(h, size);
      put64(h, size);
    }
    const uint64_t offset = offset_;
    write(h.data(), h.size());
    for (const auto& part : parts) write(part.data(), part.size());
    records_.push_back({name, static_cast<uint32_t>(crc), size, offset});
  } catch (...) {
    abandon();
    throw;
  }
}

void ZipWriter::close() {
  AXF_CHECK(!closed_ && fd_ >= 0, path_.string(), ": writer is already closed");
  try {
    const bool force = options_.force_zip64;
    const uint64_t cd_offset = offset_;
    std::vector<unsigned char> h;
    for (const Record& r : records_) {
      const bool big_size = force || r.size >= kMax32;
      const bool big_offset = force || r.offset >= kMax32;
      const uint16_t extra_len = static_cast<uint16_t>((big_size ? 16 : 0) + (big_offset ? 8 : 0));
      const uint16_t version = (big_size || big_offset) ? 45 : 20;
      h.clear();
      put32(h, kCentralHeaderSig);
      put16(h, static_cast<uint16_t>((3 << 8) | version));  // made by: Unix
      put16(h, version);
      put16(h, needs_utf8_flag(r.name) ? kUtf8NameFlag : 0);
      put16(h, 0);  // stored
      put16(h, kDosTime);
      put16(h, kDosDate);
      put32(h, r.crc32);
      put32(h, big_size ? kMax32 : static_cast<uint32_t>(r.size));
      put32(h, big_size ? kMax32 : static_cast<uint32_t>(r.size));
      put16(h, static_cast<uint16_t>(r.name.size()));
      put16(h, extra_len > 0 ? static_cast<uint16_t>(extra_len + 4) : 0);
      put16(h, 0);                // comment
      put16(h, 0);                // disk
      put16(h, 0);                // internal attributes
      put32(h, 0100644u << 16);   // external attributes: regular file, rw-r--r--
      put32(h, big_offset ? kMax32 : static_cast<uint32_t>(r.offset));
      h.insert(h.end(), r.name.begin(), r.name.end());
      if (extra_len > 0) {
        put16(h, kZip64ExtraId);
        put16(h, extra_len);
        if (big_size) {
          put64(h, r.size);
          put64(h, r.size);
        }
        if (big_offset) put64(h, r.offset);
      }
      write(h.data(), h.size());
    }
    const uint64_t cd_size = offset_ - cd_offset;
    const uint64_t count = records_.size();
    const bool zip64_end = force || count >= kMax16 || cd_size >= kMax32 || cd_offset >= kMax32;
    h.clear();
    if (zip64_end) {
      const uint64_t z_offset = offset_;
      put32(h, kZip64EndSig);
      put64(h, kZip64EndSize - 12);
      put16(h, (3 << 8) | 45);
      put16(h, 45);
      put32(h, 0);
      put32(h, 0);
      put64(h, count);
      put64(h, count);
      put64(h, cd_size);
      put64(h, cd_offset);
      put32(h, kZip64LocatorSig);
      put32(h, 0);
      put64(h, z_offset);
      put32(h, 1);
    }
    put32(h, kEndSig);
    put16(h, 0);
    put16(h, 0);
    const uint16_t count16 = (force || count >= kMax16) ? kMax16 : static_cast<uint16_t>(count);
    put16(h, count16);
    put16(h, count16);
    put32(h, (force || cd_size >= kMax32) ? kMax32 : static_cast<uint32_t>(cd_size));
    put32(h, (force || cd_offset >= kMax32) ? kMax32 : static_cast<uint32_t>(cd_offset));
    put16(h, 0);  // comment length
    write(h.data(), h.size());
    flush();
    const int fd = fd_;
    fd_ = -1;
    AXF_CHECK(::close(fd) == 0, path_.string(), ": closing ", temp_path_.string(), " failed: ", std::strerror(errno));
    std::error_code ec;
    std::filesystem::rename(temp_path_, path_, ec);
    AXF_CHECK(!ec, path_.string(), ": cannot move ", temp_path_.string(), " into place: ", ec.message());
    closed_ = true;
  } catch (...) {
    abandon();
    throw;
  }
}

}  // namespace axf::io
