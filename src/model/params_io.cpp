// Loading DeepMind parameter files against the config's spec, and writing random ones in the same format.
#include <set>

#include "core/error.h"
#include "core/random.h"
#include "core/sha256.h"
#include "io/npz.h"
#include "io/tensor_npy.h"
#include "model/params.h"

namespace axf::model {

void check_params_file(const std::filesystem::path& path, const ModelConfig& config) {
  AXF_CHECK(std::filesystem::exists(path), "parameter file '", path.string(), "' does not exist");
  io::NpzReader npz(path);
  std::set<std::string> expected;
  for (const ParamSpec& s : parameter_spec(config)) {
    expected.insert(s.key);
    AXF_CHECK(npz.has(s.key), path.string(), ": missing array '", s.key, "' (shape ", core::shape_to_string(s.shape),
              ") required by preset ", config.preset, " with ", config.evoformer_num_block, " Evoformer blocks");
    const io::NpyHeader h = npz.header(s.key);
    const Shape got(h.shape.begin(), h.shape.end());
    AXF_CHECK(got == s.shape, path.string(), ": array '", s.key, "' has shape ", core::shape_to_string(got),
              ", preset ", config.preset, " expects ", core::shape_to_string(s.shape),
              (s.key.find("evoformer_iteration/") != std::string::npos
                   ? " (is --evoformer-blocks / evoformer_num_block right?)"
                   : ""));
  }
  for (const std::string& key : npz.keys())
    AXF_CHECK(expected.count(key), path.string(), ": unexpected array '", key, "' not used by preset ", config.preset,
              " (wrong preset? e.g. a _ptm file has predicted_aligned_error_head, models 3-5 have no templates)");
}

Params load_params(const std::filesystem::path& path, const ModelConfig& config, backend::Backend& backend) {
  check_params_file(path, config);
  io::NpzReader npz(path);
  const std::vector<ParamSpec> spec = parameter_spec(config);
  Params params;
  params.source = path;
  for (const ParamSpec& s : spec) {
    const core::Tensor host = io::tensor_from_npy(npz.read(s.key), path.string() + ": " + s.key);
    AXF_CHECK(host.dtype() == core::DType::F32, path.string(), ": array '", s.key, "' is not floating point");
    params.insert(s.key, backend.upload(host));
  }
  params.checksum = core::sha256_file(path);
  return params;
}

int evoformer_blocks_in_file(const std::filesystem::path& path) {
  AXF_CHECK(std::filesystem::exists(path), "parameter file '", path.string(), "' does not exist");
  io::NpzReader npz(path);
  const std::string key =
      std::string(kRootScope) + "/evoformer/evoformer_iteration/msa_transition/transition1//bias";
  if (!npz.has(key)) return -1;
  const io::NpyHeader h = npz.header(key);
  AXF_CHECK(h.shape.size() == 2, path.string(), ": array '", key, "' should be [blocks, channels]");
  return static_cast<int>(h.shape[0]);
}

namespace {

uint64_t key_hash(const std::string& key, uint64_t seed) {
  uint64_t h = 1469598103934665603ull ^ seed;
  for (unsigned char c : key) h = (h ^ c) * 1099511628211ull;
  return h;
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Values for one array: LayerNorm scales near 1, small offsets and biases, gate biases near 1 (AlphaFold's
// initial value), weights with variance 1/fan_in and a 0.1 gain on layers whose output joins a residual stream.
void fill_random(const ParamSpec& s, bool stacked, uint64_t seed, float* p) {
  core::Random rng(key_hash(s.key, seed));
  const std::string name = s.key.substr(s.key.find("//") + 2);
  const int64_t n = core::shape_numel(s.shape);
  const size_t lead = stacked ? 1 : 0;
  int64_t fan_in = s.shape.size() > lead ? s.shape[lead] : 1;
  if (name == "output_w") {  // [H, D, C] attention output, [A, B, C] outer product mean
    fan_in = s.shape[lead] * s.shape[lead + 1];
  }
  const bool residual_output = name == "output_w" || ends_with(s.key, "transition2//weights") ||
                               ends_with(s.key, "output_projection//weights") ||
                               ends_with(s.key, "affine_update//weights");
  const bool gate_bias = name == "gating_b" || ends_with(s.key, "_gate//bias") || ends_with(s.key, "gating_linear//bias");
  for (int64_t i = 0; i < n; ++i) {
    const double z = rng.normal();
    double v;
    if (name == "scale") {
      v = 1.0 + 0.05 * z;
    } else if (name == "offset") {
      v = 0.05 * z;
    } else if (gate_bias) {
      v = 1.0 + 0.1 * z;
    } else if (name == "bias" || name == "output_b") {
      v = 0.02 * z;
    } else if (name == "trainable_point_weights") {
      v = 0.5413 + 0.05 * z;  // softplus(0.5413) = 1
    } else {
      v = z / std::sqrt(static_cast<double>(std::max<int64_t>(fan_in, 1))) * (residual_output ? 0.1 : 1.0);
    }
    p[i] = static_cast<float>(v);
  }
}

}  // namespace

void write_random_params(const std::filesystem::path& path, const ModelConfig& config, uint64_t seed) {
  const std::vector<ParamSpec> spec = parameter_spec(config);
  std::vector<io::NpyArray> arrays;
  arrays.reserve(spec.size());
  for (const ParamSpec& s : spec) {
    io::NpyArray a = io::NpyArray::zeros(io::NpyType::F32, std::vector<int64_t>(s.shape.begin(), s.shape.end()));
    const bool stacked = s.key.find("/evoformer_iteration/") != std::string::npos ||
                         s.key.find("/extra_msa_stack/") != std::string::npos ||
                         s.key.find("/__layer_stack_no_state/") != std::string::npos;
    fill_random(s, stacked, seed, a.values<float>().data());
    arrays.push_back(std::move(a));
  }
  std::vector<std::pair<std::string, const io::NpyArray*>> named;
  for (size_t i = 0; i < spec.size(); ++i) named.emplace_back(spec[i].key, &arrays[i]);
  io::write_npz(path, named);
}

}  // namespace axf::model
