// A FASTA database split into shards for jackhmmer, and the pieces of an exact sharded search.
//
// Why a sharded search equals the unsharded one: with one iteration the model is built from the query alone
// and every target is scored on its own (HMMER reseeds its generator per target), so only two numbers tie
// the targets together: Z, the database size behind sequence E-values, and domZ, the number of reported
// sequences behind domain E-values. Each shard is searched with -Z = the whole database's sequence count,
// so it reports exactly the sequences the whole search reports. Their full sequences are then searched once
// more with -Z and --domZ = their count: that last run sees the same targets, scores and thresholds as the
// unsharded run, so its Stockholm output (hit order, domains, columns) is the unsharded output, byte for byte.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace axf::pipeline {

struct ShardManifest {
  std::filesystem::path source;  // the database split
  uint64_t source_bytes = 0;
  int64_t source_mtime = 0;  // last write time (file clock ticks), to notice a changed database
  uint64_t sequences = 0;    // in the whole database: jackhmmer's -Z for every shard
  struct Shard {
    std::filesystem::path path;
    uint64_t sequences = 0, bytes = 0;
  };
  std::vector<Shard> shards;  // at most the requested count; fewer when the database has fewer sequences
};

// The folder holding the `num_shards` shards of database `key`.
std::filesystem::path shard_set_dir(const std::filesystem::path& shard_root, const std::string& key, int num_shards);

// The manifest in `set_dir` when it describes the current `source` (same size and modification time).
std::optional<ShardManifest> read_shard_manifest(const std::filesystem::path& set_dir,
                                                 const std::filesystem::path& source);

// Splits `source` into `num_shards` files of about equal bytes (records kept whole, in order) under
// `set_dir`, written under a temporary name and renamed, with the manifest written last.
ShardManifest split_fasta_database(const std::filesystem::path& source, const std::filesystem::path& set_dir,
                                   int num_shards);

// Target names (first column) of a jackhmmer --tblout table: the reported sequences, in table order.
std::vector<std::string> read_tblout_targets(const std::filesystem::path& tblout);

// Copies the records of `fasta` whose name (first word of the header) is in `names` to `out`, header and
// sequence lines unchanged; returns how many were copied.
uint64_t copy_records_named(const std::filesystem::path& fasta, const std::set<std::string>& names,
                            const std::filesystem::path& out);

// Writes `text` to `path` through a temporary file in the same folder and a rename.
void write_file_atomically(const std::filesystem::path& path, const std::string& text);

}  // namespace axf::pipeline
