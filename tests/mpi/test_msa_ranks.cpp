// mpi-ranks: 1 2
// The MSA stage on every rank of the world communicator writes exactly the files that one rank writes
// alone: rank 0 first runs the stage by itself (unsharded), then all ranks run it together with the
// jackhmmer databases split into shards, and every output file must be identical.
#include <gtest/gtest.h>

#include <fstream>

#include "parallel/communicator.h"
#include "pipeline/msa_test_data.h"
#include "pipeline/search_tools.h"
#include "support/test_support.h"

namespace axf::test {
namespace {

namespace fs = std::filesystem;

// Every regular file below `root` except the shard cache, as paths relative to it.
std::vector<fs::path> output_files(const fs::path& root) {
  std::vector<fs::path> files;
  for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator(); ++it) {
    if (it->is_directory() && it->path().filename() == ".shards") {
      it.disable_recursion_pending();
      continue;
    }
    if (it->is_regular_file()) files.push_back(fs::relative(it->path(), root));
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::string broadcast_string(parallel::Communicator& comm, std::string s) {
  uint64_t n = s.size();
  comm.broadcast(&n, sizeof n, 0);
  s.resize(n);
  comm.broadcast(s.data(), n, 0);
  return s;
}

TEST(MsaRanks, WorldRunEqualsOneRankRun) {
  for (const char* tool : {"jackhmmer", "hmmsearch", "hmmbuild"})
    if (!have_tool(tool)) GTEST_SKIP() << tool << " not installed";
  parallel::Communicator& world = parallel::world();
  fs::path dir;
  if (world.rank() == 0) {
    dir = scratch_dir("msa-ranks-np" + std::to_string(world.size()));
    const FamilyDatabase fam = write_family_database(dir / "db.fasta", {});
    std::vector<std::pair<std::string, std::string>> targets;
    for (int t = 0; t < 4; ++t) targets.emplace_back("T" + std::to_string(t), fam.seeds[t]);
    targets.emplace_back("Tnone", random_protein(7, 80));
    targets.emplace_back("T0part", fam.seeds[0].substr(10, 60));
    write_fasta(dir / "targets.fasta", targets);
    std::ofstream(dir / "db.cfg") << "uniref90 = db.fasta\nmgnify = db.fasta\npdb_seqres = db.fasta\n"
                                     "template_search = hmmsearch\n";
  }
  dir = broadcast_string(world, dir.string());

  pipeline::MsaStageOptions o;
  o.fasta = dir / "targets.fasta";
  o.databases = dir / "db.cfg";
  o.searches = {"uniref90", "mgnify", "templates"};
  o.threads = 1;
  if (world.rank() == 0) {
    o.output_dir = dir / "one";
    EXPECT_EQ(run_stage_serial(o).exit_code(), 0);  // no ASSERT: the other ranks wait at the barrier
  }
  world.barrier();

  o.output_dir = dir / "world";
  o.shards = 3;
  const auto report = pipeline::run_msa_stage(o, world);
  EXPECT_EQ(report.exit_code(), 0);
  EXPECT_EQ(report.schedule.done, 2 + 6 * (2 * (3 + 1) + 1));
  if (world.rank() != 0) return;
  if (world.size() > 1) {
    for (size_t r = 0; r < report.schedule.ranks.size(); ++r)
      EXPECT_GT(report.schedule.ranks[r].tasks, 0) << "rank " << r << " got no work";
  }
  const auto one = output_files(dir / "one"), all = output_files(dir / "world");
  EXPECT_EQ(one, all);
  EXPECT_EQ(one.size(), 6u * 3u);
  for (const auto& f : one) EXPECT_EQ(slurp(dir / "one" / f), slurp(dir / "world" / f)) << f;
}

}  // namespace
}  // namespace axf::test
