// Support for model-module tests: random parameters for one scope of the AlphaFold parameter tree, random
// tensors, and double-precision helpers for the literal reference implementations written in each test.
#pragma once

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "backend/backend.h"
#include "model/config.h"
#include "model/params.h"
#include "runtime/execution_context.h"

namespace axf::test {

using core::Shape;
using core::Tensor;

// Deterministic normal(0, scale) values.
Tensor random_tensor(const Shape& shape, uint64_t seed, float scale = 1.0f);
// Random 0/1 mask with the given fraction of ones (at least one 1 per row of the last dim).
Tensor random_mask(const Shape& shape, uint64_t seed, float ones_fraction = 0.8f);

// Inserts random arrays (normal, std 1/sqrt(fan_in) for weights; LayerNorm scales 1 +- 0.1; biases 0.1 std)
// for every spec key of `config` that starts with `prefix` (e.g. "alphafold/alphafold_iteration/evoformer/
// evoformer_iteration/msa_transition").
void add_random_params(model::Params& params, const model::ModelConfig& config, const std::string& prefix,
                       uint64_t seed);

// A small config (few blocks, small channels) for fast module tests.
model::ModelConfig small_config();

// Host copy as doubles, logical order.
std::vector<double> to_doubles(const Tensor& t);

// max |a-b| / (max |b| + tiny), and the same assertion with a message.
double max_rel_error(const std::vector<double>& got, const std::vector<double>& want);
double max_abs(const std::vector<double>& v);

// Element offset helper for row-major logical indexing in reference code.
inline size_t idx(std::initializer_list<int64_t> dims, std::initializer_list<int64_t> index) {
  size_t off = 0;
  auto d = dims.begin();
  for (int64_t i : index) off = off * static_cast<size_t>(*d++) + static_cast<size_t>(i);
  return off;
}

// LayerNorm of one row in double (AlphaFold: eps 1e-5, biased variance).
void layer_norm_ref(const double* x, const double* scale, const double* offset, int64_t c, double* out);
inline double sigmoid_ref(double x) { return 1.0 / (1.0 + std::exp(-x)); }

}  // namespace axf::test

#include "model/model_inputs.h"

namespace axf::test {

// Synthetic but valid model inputs: L residues, S clusters, E extra sequences, T templates with a random
// protein-like backbone (CA trace with 3.8 A steps; N, C, O, CB around each CA), built through
// model_inputs_from_arrays so the validation and derived template features are exercised too.
model::ModelInputs random_model_inputs(int64_t L, int64_t S, int64_t E, int64_t T, uint64_t seed);
// The named arrays behind random_model_inputs (to edit before validation).
std::map<std::string, Tensor> random_feature_arrays(int64_t L, int64_t S, int64_t E, int64_t T, uint64_t seed);

}  // namespace axf::test
