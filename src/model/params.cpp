#include "model/params.h"

#include "core/error.h"

namespace axf::model {

namespace {
// Weight matrices by AlphaFold's array names ("//weights", "//query_w", "//feat_2d_weights", ...); biases, scales
// and offsets ("//bias", "//gating_b", "//scale", "//offset") are vectors even when a block axis makes them 2-D.
bool is_weight_matrix(const std::string& key) {
  const size_t sep = key.rfind("//");
  if (sep == std::string::npos) return false;
  const std::string name = key.substr(sep + 2);
  auto ends_with = [&](const std::string& suffix) {
    return name.size() >= suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  return name == "weights" || ends_with("_weights") || ends_with("_w");
}
}  // namespace

int convert_trunk_weights(Params& params, backend::Backend& backend, core::DType dtype) {
  const std::string trunk = std::string(kRootScope) + "/evoformer/";
  std::vector<std::pair<std::string, Tensor>> converted;
  for (const auto& [key, value] : params.arrays()) {
    if (key.rfind(trunk, 0) != 0 || !is_weight_matrix(key) || value.dtype() == dtype) continue;
    Tensor t = backend.empty(value.shape(), dtype);
    backend.copy(value, t);
    converted.emplace_back(key, t);
  }
  for (auto& [key, t] : converted) params.insert(key, std::move(t));
  return static_cast<int>(converted.size());
}

void Params::insert(const std::string& key, Tensor value) { arrays_[key] = std::move(value); }

const Tensor& Params::get(const std::string& key) const {
  auto it = arrays_.find(key);
  AXF_CHECK(it != arrays_.end(), "parameter '", key, "' is not loaded",
            source.empty() ? std::string() : " (from " + source.string() + ")");
  return it->second;
}

Tensor Scope::operator[](const std::string& name) const {
  const Tensor& t = params_->get(path_ + "//" + name);
  if (block_ < 0) return t;
  AXF_CHECK(t.ndim() >= 1 && block_ < t.size(0), "parameter '", path_, "//", name, "' has no block ", block_);
  return t.select(0, block_);
}

Tensor Scope::matrix(const std::string& name) const {
  Tensor t = (*this)[name];
  AXF_CHECK(t.ndim() >= 2, "parameter '", path_, "//", name, "' is not a matrix: ", t.describe());
  return t.reshape({t.size(0), -1});
}

}  // namespace axf::model
