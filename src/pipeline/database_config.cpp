#include "pipeline/database_config.h"

#include <set>

#include "core/error.h"
#include "io/fasta.h"

namespace axf::pipeline {

namespace fs = std::filesystem;

const std::vector<std::string>& database_keys() {
  static const std::vector<std::string> keys = {"uniref90",   "mgnify", "bfd",        "uniref30",
                                                "uniclust30", "pdb70",  "pdb_seqres", "mmseqs_db"};
  return keys;
}

const std::vector<std::string>& tool_keys() {
  static const std::vector<std::string> keys = {"jackhmmer", "hhblits", "hhsearch", "hmmsearch", "hmmbuild", "mmseqs"};
  return keys;
}

const fs::path& DatabaseConfig::database(const std::string& key) const {
  const auto it = databases.find(key);
  AXF_CHECK(it != databases.end(), "database config ", source.string(), ": no '", key, "' database is configured");
  return it->second;
}

std::string DatabaseConfig::tool(const std::string& name) const {
  const auto it = tools.find(name);
  return it == tools.end() ? name : it->second;
}

namespace {

// AlphaFold's run_alphafold.py flag name for a key, e.g. uniref90 -> uniref90_database_path.
std::string canonical_key(const std::string& key) {
  static const std::string kDb = "_database_path", kTool = "_binary_path";
  auto ends_with = [&](const std::string& suffix) {
    return key.size() > suffix.size() && key.compare(key.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  if (ends_with(kDb)) return key.substr(0, key.size() - kDb.size());
  if (ends_with(kTool)) return key.substr(0, key.size() - kTool.size());
  return key;
}

fs::path resolve(const fs::path& base, const std::string& value) {
  const fs::path p(value);
  return p.is_absolute() || base.empty() ? p : base / p;
}

}  // namespace

DatabaseConfig parse_database_config(std::string_view text, const std::string& source, const fs::path& base_dir) {
  DatabaseConfig cfg;
  cfg.source = source;
  const std::set<std::string> dbs(database_keys().begin(), database_keys().end());
  const std::set<std::string> tools(tool_keys().begin(), tool_keys().end());
  std::set<std::string> seen;
  const auto lines = io::split_lines(text);
  for (size_t i = 0; i < lines.size(); ++i) {
    std::string_view line = lines[i];
    if (const auto hash = line.find('#'); hash != std::string_view::npos) line = line.substr(0, hash);
    line = io::strip(line);
    if (line.empty()) continue;
    const std::string where = source + ":" + std::to_string(i + 1);
    const auto eq = line.find('=');
    AXF_CHECK(eq != std::string_view::npos, where, ": expected 'key = value', got '", std::string(line), "'");
    const std::string raw_key(io::strip(line.substr(0, eq)));
    const std::string value(io::strip(line.substr(eq + 1)));
    const std::string key = canonical_key(raw_key);
    AXF_CHECK(!value.empty(), where, ": '", raw_key, "' has no value");
    AXF_CHECK(seen.insert(key).second, where, ": '", raw_key, "' is given twice");
    if (dbs.count(key)) {
      cfg.databases[key] = resolve(base_dir, value);
    } else if (tools.count(key)) {
      // A bare name ("jackhmmer") is looked up on PATH; anything with a '/' is a path.
      cfg.tools[key] = value.find('/') == std::string::npos ? value : resolve(base_dir, value).string();
    } else if (key == "template_search") {
      AXF_CHECK(value == "hhsearch" || value == "hmmsearch" || value == "none", where,
                ": template_search must be hhsearch, hmmsearch or none, got '", value, "'");
      cfg.template_search = value;
    } else if (key == "shard_dir") {
      cfg.shard_dir = resolve(base_dir, value);
    } else {
      std::string known;
      for (const auto& k : database_keys()) known += " " + k;
      for (const auto& k : tool_keys()) known += " " + k;
      AXF_FAIL(where, ": unknown key '", raw_key, "' (known:", known, " template_search shard_dir)");
    }
  }
  return cfg;
}

DatabaseConfig read_database_config(const fs::path& path) {
  const std::string text = io::read_text_file(path);
  return parse_database_config(text, path.string(), fs::absolute(path).parent_path());
}

}  // namespace axf::pipeline
