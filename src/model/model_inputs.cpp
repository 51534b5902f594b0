// Reading and validating AlphaFold model inputs (see model_inputs.h).
#include "model/model_inputs.h"

#include <optional>

#include "core/error.h"
#include "io/hdf5_arrays.h"
#include "io/npz.h"
#include "io/tensor_npy.h"
#include "model/template_geometry.h"

namespace axf::model {

namespace {

using core::DType;
using core::Shape;

enum class RecycleAxis { None, Leading, Trailing };

// Where the recycling/ensemble axis sits, decided from target_feat [L, 22] (one extra axis at either end).
RecycleAxis detect_recycle_axis(const std::map<std::string, Tensor>& a, const std::string& source) {
  auto it = a.find("target_feat");
  AXF_CHECK(it != a.end(), source, ": missing feature 'target_feat'");
  const Shape& s = it->second.shape();
  if (s.size() == 2) return RecycleAxis::None;
  AXF_CHECK(s.size() == 3, source, ": feature 'target_feat' has shape ", core::shape_to_string(s),
            ", expected [L, 22] (optionally with a recycling axis)");
  if (s[1] == 22) return RecycleAxis::Trailing;
  if (s[2] == 22) return RecycleAxis::Leading;
  AXF_FAIL(source, ": feature 'target_feat' has shape ", core::shape_to_string(s), ", expected 22 channels");
}

class FeatureReader {
 public:
  FeatureReader(const std::map<std::string, Tensor>& arrays, std::string source)
      : arrays_(arrays), source_(std::move(source)), axis_(detect_recycle_axis(arrays, source_)) {}

  bool has(const std::string& name) const { return arrays_.count(name) != 0; }

  // The feature with its recycling axis removed (first sample), converted to `dtype`, checked for rank.
  Tensor get(const std::string& name, int rank, DType dtype) const {
    auto it = arrays_.find(name);
    AXF_CHECK(it != arrays_.end(), source_, ": missing feature '", name, "'");
    Tensor t = it->second;
    if (axis_ != RecycleAxis::None && t.ndim() == rank + 1) {
      const int axis = axis_ == RecycleAxis::Leading ? 0 : t.ndim() - 1;
      AXF_CHECK(t.size(axis) >= 1, source_, ": feature '", name, "' has an empty recycling axis");
      t = t.select(axis, 0);
    }
    AXF_CHECK(t.ndim() == rank, source_, ": feature '", name, "' has shape ", t.shape_str(), ", expected rank ",
              rank);
    if (t.dtype() != dtype) {
      if (dtype == DType::I32) {  // integer features stored as floats must hold integers
        const std::vector<float> v = t.to_vector();
        for (float x : v)
          AXF_CHECK(x == static_cast<float>(static_cast<int32_t>(x)), source_, ": feature '", name,
                    "' holds non-integer value ", x);
      }
      return t.to(dtype);
    }
    return t.contiguous().clone();
  }

  const std::string& source() const { return source_; }

 private:
  const std::map<std::string, Tensor>& arrays_;
  std::string source_;
  RecycleAxis axis_;
};

void expect_dim(const Tensor& t, int dim, int64_t want, const std::string& name, const std::string& what,
                const std::string& source) {
  AXF_CHECK(t.size(dim) == want, source, ": feature '", name, "' has shape ", t.shape_str(), " but ", what, " is ",
            want);
}

void expect_range(const Tensor& t, int32_t lo, int32_t hi, const std::string& name, const std::string& source) {
  const int32_t* p = t.data<int32_t>();
  for (int64_t i = 0; i < t.numel(); ++i)
    AXF_CHECK(p[i] >= lo && p[i] <= hi, source, ": feature '", name, "' has value ", p[i], " at element ", i,
              ", outside [", lo, ", ", hi, "]");
}

TemplateBatch read_templates(const FeatureReader& f, int64_t L) {
  TemplateBatch t;
  const std::string& src = f.source();
  if (!f.has("template_aatype")) return t;
  t.aatype = f.get("template_aatype", 2, DType::I32);
  const int64_t T = t.aatype.size(0);
  expect_dim(t.aatype, 1, L, "template_aatype", "the number of residues", src);
  expect_range(t.aatype, 0, 21, "template_aatype", src);
  t.all_atom_positions = f.get("template_all_atom_positions", 4, DType::F32);
  const std::string mask_name = f.has("template_all_atom_masks") ? "template_all_atom_masks" : "template_all_atom_mask";
  t.all_atom_mask = f.get(mask_name, 3, DType::F32);
  for (const auto& [name, tensor, shape] :
       {std::tuple<std::string, Tensor*, Shape>{"template_all_atom_positions", &t.all_atom_positions, {T, L, 37, 3}},
        {mask_name, &t.all_atom_mask, {T, L, 37}}})
    AXF_CHECK(tensor->shape() == shape, src, ": feature '", name, "' has shape ", tensor->shape_str(), ", expected ",
              core::shape_to_string(shape));
  if (f.has("template_mask")) {
    t.mask = f.get("template_mask", 1, DType::F32);
    expect_dim(t.mask, 0, T, "template_mask", "the number of templates", src);
  } else {
    t.mask = Tensor::full({T}, 1.0f);
  }
  if (f.has("template_pseudo_beta") && f.has("template_pseudo_beta_mask")) {
    t.pseudo_beta = f.get("template_pseudo_beta", 3, DType::F32);
    t.pseudo_beta_mask = f.get("template_pseudo_beta_mask", 2, DType::F32);
    AXF_CHECK(t.pseudo_beta.shape() == Shape({T, L, 3}) && t.pseudo_beta_mask.shape() == Shape({T, L}), src,
              ": template pseudo-beta features have shapes ", t.pseudo_beta.shape_str(), " and ",
              t.pseudo_beta_mask.shape_str(), ", expected [", T, ", ", L, ", 3] and [", T, ", ", L, "]");
  } else {
    t.pseudo_beta = Tensor::empty({T, L, 3});
    t.pseudo_beta_mask = Tensor::empty({T, L});
    pseudo_beta(T * L, t.aatype.data<int32_t>(), t.all_atom_positions.data<float>(), t.all_atom_mask.data<float>(),
                t.pseudo_beta.data<float>(), t.pseudo_beta_mask.data<float>());
  }
  // AlphaFold computes the torsion-angle features inside the model from the atom positions; so do we.
  t.torsion_angles_sin_cos = Tensor::empty({T, L, 7, 2});
  t.alt_torsion_angles_sin_cos = Tensor::empty({T, L, 7, 2});
  t.torsion_angles_mask = Tensor::empty({T, L, 7});
  atom37_to_torsion_angles(T, L, t.aatype.data<int32_t>(), t.all_atom_positions.data<float>(),
                           t.all_atom_mask.data<float>(), t.torsion_angles_sin_cos.data<float>(),
                           t.alt_torsion_angles_sin_cos.data<float>(), t.torsion_angles_mask.data<float>());
  return t;
}

}  // namespace

ModelInputs model_inputs_from_arrays(const std::map<std::string, Tensor>& arrays, const std::string& source) {
  FeatureReader f(arrays, source);
  ModelInputs in;
  in.aatype = f.get("aatype", 1, DType::I32);
  const int64_t L = in.aatype.size(0);
  AXF_CHECK(L > 0, source, ": feature 'aatype' is empty (no residues)");
  expect_range(in.aatype, 0, 20, "aatype", source);
  in.residue_index = f.get("residue_index", 1, DType::I32);
  expect_dim(in.residue_index, 0, L, "residue_index", "the number of residues", source);
  in.seq_mask = f.has("seq_mask") ? f.get("seq_mask", 1, DType::F32) : Tensor::full({L}, 1.0f);
  expect_dim(in.seq_mask, 0, L, "seq_mask", "the number of residues", source);
  in.target_feat = f.get("target_feat", 2, DType::F32);
  expect_dim(in.target_feat, 0, L, "target_feat", "the number of residues", source);
  expect_dim(in.target_feat, 1, 22, "target_feat", "the channel count", source);
  in.msa_feat = f.get("msa_feat", 3, DType::F32);
  const int64_t S = in.msa_feat.size(0);
  AXF_CHECK(S > 0, source, ": feature 'msa_feat' has no sequences");
  expect_dim(in.msa_feat, 1, L, "msa_feat", "the number of residues", source);
  expect_dim(in.msa_feat, 2, 49, "msa_feat", "the channel count", source);
  in.msa_mask = f.get("msa_mask", 2, DType::F32);
  AXF_CHECK(in.msa_mask.shape() == Shape({S, L}), source, ": feature 'msa_mask' has shape ", in.msa_mask.shape_str(),
            ", expected [", S, ", ", L, "] (from msa_feat)");
  in.extra_msa = f.get("extra_msa", 2, DType::I32);
  const int64_t E = in.extra_msa.size(0);
  expect_dim(in.extra_msa, 1, L, "extra_msa", "the number of residues", source);
  expect_range(in.extra_msa, 0, 22, "extra_msa", source);
  for (auto [name, tensor] : {std::pair<const char*, Tensor*>{"extra_msa_mask", &in.extra_msa_mask},
                              {"extra_has_deletion", &in.extra_has_deletion},
                              {"extra_deletion_value", &in.extra_deletion_value}}) {
    *tensor = f.get(name, 2, DType::F32);
    AXF_CHECK(tensor->shape() == Shape({E, L}), source, ": feature '", name, "' has shape ", tensor->shape_str(),
              ", expected [", E, ", ", L, "] (from extra_msa)");
  }
  in.templates = read_templates(f, L);
  return in;
}

ModelInputs load_model_inputs(const std::filesystem::path& path) {
  AXF_CHECK(std::filesystem::exists(path), "features file '", path.string(), "' does not exist");
  std::map<std::string, Tensor> arrays;
  if (io::is_hdf5_file(path)) {
    for (const auto& [name, array] : io::read_hdf5_arrays(path))
      arrays[name] = io::tensor_from_npy(array, path.string() + ": " + name);
  } else {
    io::NpzReader npz(path);
    for (const auto& key : npz.keys()) {
      // Strings and other non-numeric features (domain names, sequences) are not model inputs.
      if (key == "domain_name" || key == "sequence" || key == "template_domain_names") continue;
      arrays[key] = io::tensor_from_npy(npz.read(key), path.string() + ": " + key);
    }
  }
  return model_inputs_from_arrays(arrays, path.string());
}

}  // namespace axf::model
