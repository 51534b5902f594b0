// AlphaFold parameters as DeepMind ships them: arrays named "scope//name" ("alphafold/alphafold_iteration/
// evoformer/preprocess_1d//weights"); stacked modules (Evoformer, extra-MSA and template pair stacks) keep
// one array per parameter with a leading block axis. `parameter_spec` lists every key and shape a config
// implies; `Params` holds the loaded arrays on the compute device; `Scope` binds modules to them by name.
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "backend/backend.h"
#include "model/config.h"

namespace axf::model {

using core::Shape;
using core::Tensor;

struct ParamSpec {
  std::string key;
  Shape shape;
};

// Every array of a parameter file for this config, in a stable order.
std::vector<ParamSpec> parameter_spec(const ModelConfig& config);

class Params {
 public:
  Params() = default;
  void insert(const std::string& key, Tensor value);
  bool has(const std::string& key) const { return arrays_.count(key) != 0; }
  const Tensor& get(const std::string& key) const;  // throws naming the key
  const std::map<std::string, Tensor>& arrays() const { return arrays_; }
  // An array derived from the loaded ones (a fused weight matrix), made by `make` on first use and kept with the
  // parameters; `key` names it uniquely (Scope::derived adds the scope and block).
  const Tensor& derived(const std::string& key, const std::function<Tensor()>& make) const;
  std::string checksum;  // SHA-256 of the file the parameters came from (provenance)
  std::filesystem::path source;

 private:
  std::map<std::string, Tensor> arrays_;
  mutable std::map<std::string, Tensor> derived_;
};

// Loads and checks a DeepMind-format .npz against the config's spec: the first missing, extra or wrongly shaped
// array is reported by key. Arrays are converted once to fp32 and placed on the backend's device.
Params load_params(const std::filesystem::path& path, const ModelConfig& config, backend::Backend& backend);
// Converts, once, the trunk's weight matrices (".../evoformer/...//weights", "//query_w", "//feat_2d_weights", ...)
// to `dtype` for a bf16 run; vectors (biases, LayerNorm scales and offsets) and the structure module's and heads'
// arrays stay fp32.
// Returns the number of arrays converted.
int convert_trunk_weights(Params& params, backend::Backend& backend, core::DType dtype);
// True for the arrays convert_trunk_weights converts.
bool is_trunk_weight_matrix(const std::string& key);
// The same checks without reading the arrays (only the zip directory and .npy headers): cheap enough to run before
// hours of searches.
void check_params_file(const std::filesystem::path& path, const ModelConfig& config);

// Number of Evoformer blocks stored in a parameter file (the block axis of its evoformer_iteration arrays), or
// -1 when the file has none; lets files written with fewer blocks (make-params --evoformer-blocks) be used.
int evoformer_blocks_in_file(const std::filesystem::path& path);

// Writes a parameter file in exactly DeepMind's format with random values of sensible scale (fan-in scaled
// weights, LayerNorm scales near one, gating biases near one; no zero-initialised layers). Deterministic in seed.
void write_random_params(const std::filesystem::path& path, const ModelConfig& config, uint64_t seed);

// A named position in the parameter tree: sub("msa_transition")["transition1//weights"] etc. With a block
// index (stacked modules) operator[] returns the view of that block.
class Scope {
 public:
  Scope(const Params& params, std::string path, int block = -1) : params_(&params), path_(std::move(path)), block_(block) {}
  Scope sub(const std::string& name) const { return Scope(*params_, path_ + "/" + name, block_); }
  Scope block(int index) const { return Scope(*params_, path_, index); }
  Tensor operator[](const std::string& name) const;  // the array "path//name" (of this block)
  // A weight of shape [Cin, d1, d2, ...] viewed as the matrix [Cin, d1*d2*...].
  Tensor matrix(const std::string& name) const;
  // Params::derived under this scope (and block).
  const Tensor& derived(const std::string& name, const std::function<Tensor()>& make) const;
  const std::string& path() const { return path_; }

 private:
  const Params* params_;
  std::string path_;
  int block_;
};

inline const char* kRootScope = "alphafold/alphafold_iteration";

// [K, n_0] | [K, n_1] | ... -> [K, sum n_i] (or vectors [n_i] -> [sum n_i]) on the backend's device, in the
// dtype of the first part: the fused weights of projections that read the same input.
Tensor concat_columns(backend::Backend& backend, const std::vector<Tensor>& parts);

}  // namespace axf::model
