#include "model/params.h"

#include "core/error.h"

namespace axf::model {

// Weight matrices by AlphaFold's array names ("//weights", "//query_w", "//feat_2d_weights", ...); biases, scales
// and offsets ("//bias", "//gating_b", "//scale", "//offset") are vectors even when a block axis makes them 2-D.
static bool is_weight_matrix(const std::string& key) {
  const size_t sep = key.rfind("//");
  if (sep == std::string::npos) return false;
  const std::string name = key.substr(sep + 2);
  auto ends_with = [&](const std::string& suffix) {
    return name.size() >= suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  return name == "weights" || ends_with("_weights") || ends_with("_w");
}

bool is_trunk_weight_matrix(const std::string& key) {
  return key.rfind(std::string(kRootScope) + "/evoformer/", 0) == 0 && is_weight_matrix(key);
}

int convert_trunk_weights(Params& params, backend::Backend& backend, core::DType dtype) {
  std::vector<std::pair<std::string, Tensor>> converted;
  for (const auto& [key, value] : params.arrays()) {
    if (!is_trunk_weight_matrix(key) || value.dtype() == dtype) continue;
    Tensor t = backend.empty(value.shape(), dtype);
    backend.copy(value, t);
    converted.emplace_back(key, t);
  }
  for (auto& [key, t] : converted) params.insert(key, std::move(t));
  return static_cast<int>(converted.size());
}

void Params::insert(const std::string& key, Tensor value) { arrays_[key] = std::move(value); }

const Tensor& Params::derived(const std::string& key, const std::function<Tensor()>& make) const {
  auto it = derived_.find(key);
  if (it == derived_.end()) it = derived_.emplace(key, make()).first;
  return it->second;
}

Tensor concat_columns(backend::Backend& backend, const std::vector<Tensor>& parts) {
  AXF_CHECK(!parts.empty(), "concat_columns: no parts");
  const int nd = parts[0].ndim();
  AXF_CHECK(nd == 1 || nd == 2, "concat_columns: parts must be vectors or matrices, got ", parts[0].describe());
  int64_t total = 0;
  for (const Tensor& p : parts) {
    AXF_CHECK(p.ndim() == nd && (nd == 1 || p.size(0) == parts[0].size(0)), "concat_columns: ", p.describe(),
              " does not match ", parts[0].describe());
    total += p.size(-1);
  }
  Shape shape = parts[0].shape();
  shape.back() = total;
  Tensor out = backend.empty(shape, parts[0].dtype());
  int64_t begin = 0;
  for (const Tensor& p : parts) {
    Tensor dst = out.slice(nd - 1, begin, begin + p.size(-1));
    backend.copy(p, dst);
    begin += p.size(-1);
  }
  return out;
}

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

const Tensor& Scope::derived(const std::string& name, const std::function<Tensor()>& make) const {
  return params_->derived(path_ + "//" + name + "#" + std::to_string(block_), make);
}

Tensor Scope::matrix(const std::string& name) const {
  Tensor t = (*this)[name];
  AXF_CHECK(t.ndim() >= 2, "parameter '", path_, "//", name, "' is not a matrix: ", t.describe());
  return t.reshape({t.size(0), -1});
}

}  // namespace axf::model
