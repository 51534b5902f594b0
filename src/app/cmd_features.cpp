// axialfold features: AlphaFold's raw features (sequence, MSA, templates) from a directory of search-tool
// outputs, written atomically to HDF5 with the inputs' checksums.
#include <filesystem>
#include <iostream>

#include "app/commands.h"
#include "app/options.h"
#include "core/sha256.h"
#include "pipeline/feature_processing.h"
#include "pipeline/raw_features.h"
#include "pipeline/template_features.h"
#include "runtime/log.h"

namespace axf::app {

namespace fs = std::filesystem;

namespace {

std::string join_lines(const std::vector<std::string>& lines) {
  std::string s;
  for (const auto& l : lines) s += l + "\n";
  return s;
}

void check_output_path(const fs::path& out, const std::string& option) {
  std::error_code ec;
  const fs::path dir = out.has_parent_path() ? out.parent_path() : fs::path(".");
  AXF_CHECK(fs::is_directory(dir, ec), option, " ", out.string(), ": directory '", dir.string(), "' does not exist");
  AXF_CHECK(!fs::is_directory(out, ec), option, " ", out.string(), " is a directory");
}

}  // namespace

int run_features(int argc, char** argv) {
  po::options_description desc("axialfold features options");
  add_common_options(desc);
  pipeline::RawFeatureOptions defaults;
  desc.add_options()("fasta", po::value<std::string>(), "query FASTA file with one protein sequence (required)")(
      "alignment-dir", po::value<std::string>(),
      "directory with uniref90_hits.sto, bfd_uniclust_hits.a3m (or bfd_uniref_hits.a3m), mgnify_hits.sto, "
      "pdb70_hits.hhr, mmseqs_hits.a3m (required; missing files are skipped)")(
      "out", po::value<std::string>(), "output HDF5 file of raw features (required)")(
      "mmcif-dir", po::value<std::string>(), "directory of template structures <pdb_id>.cif (default: no templates)")(
      "max-template-date", po::value<std::string>()->default_value(defaults.max_template_date),
      "latest template release date, YYYY-MM-DD")(
      "max-template-hits", po::value<int>()->default_value(defaults.max_template_hits), "templates kept at most")(
      "kalign", po::value<std::string>()->default_value(defaults.kalign), "kalign binary (template realignment)")(
      "uniref-max-hits", po::value<size_t>()->default_value(defaults.uniref_max_hits),
      "rows read from uniref90_hits.sto (0 = all)")(
      "mgnify-max-hits", po::value<size_t>()->default_value(defaults.mgnify_max_hits),
      "rows read from mgnify_hits.sto (0 = all)")(
      "bfd-max-hits", po::value<size_t>()->default_value(defaults.bfd_max_hits),
      "rows read from the BFD alignment (0 = all)")(
      "model-inputs", po::value<std::string>(),
      "also write processed model inputs (seeded MSA sampling, as AlphaFold's input pipeline) to this HDF5 file")(
      "preset", po::value<std::string>()->default_value("model_1_ptm"), "model preset for --model-inputs")(
      "seed", po::value<uint64_t>()->default_value(0), "random seed for --model-inputs");
  const std::string usage =
      "usage: axialfold features --fasta query.fasta --alignment-dir DIR --out FILE.h5 [--mmcif-dir D] "
      "[--max-template-date YYYY-MM-DD] [--model-inputs FILE.h5 --preset P --seed S]";
  ParsedOptions opts = parse_options(argc, argv, desc, usage);
  if (opts.help) {
    std::cout << usage << "\n\n" << desc << "\n";
    return 0;
  }
  for (const char* required : {"fasta", "alignment-dir", "out"})
    if (!opts.vm.count(required)) {
      std::cerr << "axialfold features: --" << required << " is required\n" << usage << "\n";
      return 2;
    }
  const fs::path fasta = opts.vm["fasta"].as<std::string>();
  const fs::path alignment_dir = opts.vm["alignment-dir"].as<std::string>();
  const fs::path out = opts.vm["out"].as<std::string>();
  pipeline::RawFeatureOptions options;
  options.max_template_date = opts.vm["max-template-date"].as<std::string>();
  AXF_CHECK(pipeline::is_iso_date(options.max_template_date), "--max-template-date ", options.max_template_date,
            ": expected a YYYY-MM-DD date");
  options.max_template_hits = opts.vm["max-template-hits"].as<int>();
  AXF_CHECK(options.max_template_hits >= 0, "--max-template-hits must be >= 0");
  options.kalign = opts.vm["kalign"].as<std::string>();
  options.uniref_max_hits = opts.vm["uniref-max-hits"].as<size_t>();
  options.mgnify_max_hits = opts.vm["mgnify-max-hits"].as<size_t>();
  options.bfd_max_hits = opts.vm["bfd-max-hits"].as<size_t>();
  if (opts.vm.count("mmcif-dir")) options.mmcif_dir = opts.vm["mmcif-dir"].as<std::string>();
  check_output_path(out, "--out");
  const bool with_inputs = opts.vm.count("model-inputs") > 0;
  const fs::path inputs_out = with_inputs ? fs::path(opts.vm["model-inputs"].as<std::string>()) : fs::path();
  if (with_inputs) {
    check_output_path(inputs_out, "--model-inputs");
    AXF_CHECK(fs::absolute(inputs_out) != fs::absolute(out), "--model-inputs and --out name the same file");
  }
  const std::string preset = opts.vm["preset"].as<std::string>();
  const uint64_t seed = opts.vm["seed"].as<uint64_t>();

  const io::FastaRecord query = pipeline::read_query_fasta(fasta);
  runtime::log_info("features: query '", query.name, "', ", query.sequence.size(), " residues; alignments in ",
                    alignment_dir.string());
  pipeline::RawFeatureExtras extras;
  const auto features = pipeline::make_raw_features(query, alignment_dir, options, &extras);
  for (const auto& line : extras.msa_summary) runtime::log_info("features: ", line);

  std::map<std::string, std::string> attributes = extras.strings;
  std::string inputs = core::sha256_file(fasta) + "  " + fasta.string() + "\n";
  for (const auto& p : extras.inputs) inputs += core::sha256_file(p) + "  " + p.string() + "\n";
  attributes["program"] = "axialfold features";
  attributes["version"] = AXF_VERSION;
  attributes["fasta_file"] = fasta.string();
  attributes["fasta_sha256"] = core::sha256_file(fasta);
  attributes["alignment_dir"] = alignment_dir.string();
  attributes["inputs_sha256"] = inputs;  // sha256sum format: checksum, two spaces, path
  attributes["msa_sources"] = join_lines(extras.msa_summary);
  attributes["mmcif_dir"] = options.mmcif_dir.string();
  attributes["max_template_date"] = options.max_template_date;
  attributes["max_template_hits"] = std::to_string(options.max_template_hits);
  attributes["template_skips"] = join_lines(extras.template_skips);
  attributes["msa_caps"] = "uniref90 " + std::to_string(options.uniref_max_hits) + ", bfd " +
                           std::to_string(options.bfd_max_hits) + ", mgnify " + std::to_string(options.mgnify_max_hits) +
                           " (0 = all)";
  // Process before writing anything, so a failure leaves no output at all.
  std::map<std::string, core::Tensor> model_inputs;
  pipeline::ProcessingConfig processing;
  if (with_inputs) {
    processing = pipeline::processing_config(model_config_from(opts, preset));
    processing.seed = seed;
    model_inputs = pipeline::process_features(features, processing);
  }
  pipeline::write_raw_features(out, features, attributes);
  runtime::log_info("features: wrote ", out.string(), ": ", features.at("msa").size(0), " MSA rows, ",
                    features.at("template_aatype").size(0), " templates");
  if (with_inputs) {
    const std::map<std::string, std::string> input_attributes = {
        {"program", "axialfold features"},
        {"version", AXF_VERSION},
        {"preset", preset},
        {"seed", std::to_string(seed)},
        {"raw_features_file", out.string()},
        {"raw_features_sha256", core::sha256_file(out)},
        {"inputs_sha256", inputs},
        {"processing", "max_msa_clusters " + std::to_string(processing.max_msa_clusters) + ", max_extra_msa " +
                           std::to_string(processing.max_extra_msa) + ", max_templates " +
                           std::to_string(processing.max_templates) + ", num_recycle " +
                           std::to_string(processing.num_recycle)},
    };
    pipeline::write_raw_features(inputs_out, model_inputs, input_attributes);
    runtime::log_info("features: wrote model inputs ", inputs_out.string(), " (preset ", preset, ", seed ", seed, ")");
  }
  return 0;
}

}  // namespace axf::app
