#include "pipeline/database_shards.h"

#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>

#include "core/error.h"

namespace axf::pipeline {

namespace fs = std::filesystem;

namespace {

// A name no other process (on any host sharing the file system) or thread uses at the same time.
std::string unique_suffix() {
  static std::atomic<uint64_t> counter{0};
  char host[256] = {0};
  ::gethostname(host, sizeof(host) - 1);
  return std::string(host) + "-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
}

int64_t mtime_of(const fs::path& p) { return static_cast<int64_t>(fs::last_write_time(p).time_since_epoch().count()); }

std::string first_word(const std::string& header_line) {
  size_t b = 1;  // after '>'
  while (b < header_line.size() && (header_line[b] == ' ' || header_line[b] == '\t')) ++b;
  size_t e = b;
  while (e < header_line.size() && header_line[e] != ' ' && header_line[e] != '\t' && header_line[e] != '\r') ++e;
  return header_line.substr(b, e - b);
}

constexpr const char* kManifest = "manifest.txt";

}  // namespace

void write_file_atomically(const fs::path& path, const std::string& text) {
  const fs::path tmp = path.string() + ".tmp-" + unique_suffix();
  {
    std::ofstream out(tmp, std::ios::binary);
    AXF_CHECK(out.good(), "cannot write '", tmp.string(), "'");
    out << text;
    out.flush();
    AXF_CHECK(out.good(), "writing '", tmp.string(), "' failed");
  }
  fs::rename(tmp, path);
}

fs::path shard_set_dir(const fs::path& shard_root, const std::string& key, int num_shards) {
  return shard_root / (key + "-" + std::to_string(num_shards) + "-shards");
}

std::optional<ShardManifest> read_shard_manifest(const fs::path& set_dir, const fs::path& source) {
  std::ifstream in(set_dir / kManifest);
  if (!in) return std::nullopt;
  ShardManifest m;
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream s(line);
    std::string key;
    s >> key;
    if (key == "source") {
      std::getline(s >> std::ws, line);
      m.source = line;
    } else if (key == "bytes") {
      s >> m.source_bytes;
    } else if (key == "mtime") {
      s >> m.source_mtime;
    } else if (key == "sequences") {
      s >> m.sequences;
    } else if (key == "shard") {
      ShardManifest::Shard sh;
      std::string name;
      s >> name >> sh.sequences >> sh.bytes;
      sh.path = set_dir / name;
      m.shards.push_back(sh);
    }
  }
  std::error_code ec;
  if (m.shards.empty() || fs::absolute(source) != m.source || fs::file_size(source, ec) != m.source_bytes || ec ||
      mtime_of(source) != m.source_mtime)
    return std::nullopt;
  for (const auto& sh : m.shards)
    if (!fs::exists(sh.path)) return std::nullopt;
  return m;
}

ShardManifest split_fasta_database(const fs::path& source, const fs::path& set_dir, int num_shards) {
  AXF_CHECK(num_shards >= 1, "shard count must be >= 1, got ", num_shards);
  std::ifstream in(source, std::ios::binary);
  AXF_CHECK(in.good(), "cannot read database '", source.string(), "'");
  std::vector<char> buffer(1 << 22);
  in.rdbuf()->pubsetbuf(buffer.data(), static_cast<std::streamsize>(buffer.size()));

  ShardManifest m;
  m.source = fs::absolute(source);
  m.source_bytes = fs::file_size(source);
  m.source_mtime = mtime_of(source);

  const fs::path tmp_dir = set_dir.string() + ".tmp-" + unique_suffix();
  fs::create_directories(tmp_dir);
  std::unique_ptr<std::ofstream> out;
  auto open_shard = [&] {
    if (out) {
      out->flush();
      AXF_CHECK(out->good(), "writing shard ", m.shards.size() - 1, " of '", source.string(), "' failed");
    }
    char name[32];
    std::snprintf(name, sizeof(name), "shard-%03zu.fasta", m.shards.size());
    m.shards.push_back({tmp_dir / name, 0, 0});
    out = std::make_unique<std::ofstream>(tmp_dir / name, std::ios::binary);
    AXF_CHECK(out->good(), "cannot write '", (tmp_dir / name).string(), "'");
  };

  // Shard k takes the records that start at or after byte k * size / num_shards.
  std::string line;
  uint64_t offset = 0;
  while (std::getline(in, line)) {
    const uint64_t line_bytes = line.size() + 1;
    if (!line.empty() && line[0] == '>') {
      const uint64_t k = m.shards.size();
      const bool next =
          k == 0 || (k < static_cast<uint64_t>(num_shards) &&
                     offset >= k * m.source_bytes / static_cast<uint64_t>(num_shards) && m.shards.back().sequences > 0);
      if (next) open_shard();
      ++m.shards.back().sequences;
      ++m.sequences;
    } else if (m.shards.empty()) {
      AXF_CHECK(line.find_first_not_of(" \t\r") == std::string::npos, "database '", source.string(),
                "' does not start with a FASTA header");
    }
    if (!m.shards.empty()) {
      *out << line << '\n';
      m.shards.back().bytes += line_bytes;
    }
    offset += line_bytes;
  }
  AXF_CHECK(m.sequences > 0, "database '", source.string(), "' holds no FASTA records");
  out->flush();
  AXF_CHECK(out->good(), "writing the last shard of '", source.string(), "' failed");
  out.reset();

  std::ostringstream manifest;
  manifest << "source " << m.source.string() << "\nbytes " << m.source_bytes << "\nmtime " << m.source_mtime
           << "\nsequences " << m.sequences << "\n";
  for (auto& sh : m.shards) {
    manifest << "shard " << sh.path.filename().string() << " " << sh.sequences << " " << sh.bytes << "\n";
    sh.path = set_dir / sh.path.filename();
  }
  {
    std::ofstream mf(tmp_dir / kManifest);
    mf << manifest.str();
    AXF_CHECK(mf.good(), "cannot write the shard manifest in '", tmp_dir.string(), "'");
  }
  fs::remove_all(set_dir);
  fs::rename(tmp_dir, set_dir);
  return m;
}

std::vector<std::string> read_tblout_targets(const fs::path& tblout) {
  std::ifstream in(tblout);
  AXF_CHECK(in.good(), "cannot read jackhmmer table '", tblout.string(), "'");
  std::vector<std::string> names;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream s(line);
    std::string name;
    if (s >> name) names.push_back(name);
  }
  return names;
}

uint64_t copy_records_named(const fs::path& fasta, const std::set<std::string>& names, const fs::path& out_path) {
  std::ofstream out(out_path, std::ios::binary);
  AXF_CHECK(out.good(), "cannot write '", out_path.string(), "'");
  uint64_t copied = 0;
  if (!names.empty()) {
    std::ifstream in(fasta, std::ios::binary);
    AXF_CHECK(in.good(), "cannot read '", fasta.string(), "'");
    std::string line;
    bool keep = false;
    while (std::getline(in, line)) {
      if (!line.empty() && line[0] == '>') {
        keep = names.count(first_word(line)) != 0;
        copied += keep ? 1 : 0;
      }
      if (keep) out << line << '\n';
    }
  }
  out.flush();
  AXF_CHECK(out.good(), "writing '", out_path.string(), "' failed");
  return copied;
}

}  // namespace axf::pipeline
