// Where the sequence databases and search tools live: a "key = value" file (configs/databases.example.cfg
// documents every key). Paths are taken relative to the file's folder; tools default to their names on PATH.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace axf::pipeline {

struct DatabaseConfig {
  std::filesystem::path source;                            // the file read (for messages)
  std::map<std::string, std::filesystem::path> databases;  // uniref90, mgnify, bfd, uniref30, ... -> path
  std::map<std::string, std::string> tools;                // jackhmmer, hhblits, ... -> path or name (as written)
  std::string template_search;                             // "hhsearch", "hmmsearch" or "" (pick from the databases)
  std::filesystem::path shard_dir;                         // jackhmmer database shards; empty = <output-dir>/.shards

  bool has_database(const std::string& key) const { return databases.count(key) != 0; }
  // The configured path; throws naming the key and the file when the key is absent.
  const std::filesystem::path& database(const std::string& key) const;
  // The configured tool, or the tool's own name (looked up on PATH) when it is not configured.
  std::string tool(const std::string& name) const;
};

// Database keys understood, in the order AlphaFold lists them.
const std::vector<std::string>& database_keys();
// Tool keys understood.
const std::vector<std::string>& tool_keys();

// Parses the text of a database config. Blank lines and '#' comments are skipped; AlphaFold's flag names
// (uniref90_database_path, jackhmmer_binary_path, ...) are accepted as aliases. An unknown key, a line
// that is not "key = value", an empty value or a repeated key is an error naming `source` and the line.
DatabaseConfig parse_database_config(std::string_view text, const std::string& source,
                                     const std::filesystem::path& base_dir);
DatabaseConfig read_database_config(const std::filesystem::path& path);

}  // namespace axf::pipeline
