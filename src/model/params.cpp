#include "model/params.h"

#include "core/error.h"

namespace axf::model {

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
