#include "io/hdf5_arrays.h"

#include <hdf5.h>
#include <unistd.h>

#include "core/error.h"

namespace axf::io {

namespace {

// Owns one HDF5 identifier and closes it with the matching H5?close.
class H5Id {
 public:
  using Closer = herr_t (*)(hid_t);
  H5Id(hid_t id, Closer closer) : id_(id), closer_(closer) {}
  ~H5Id() { close(); }
  H5Id(H5Id&& o) noexcept : id_(o.id_), closer_(o.closer_) { o.id_ = -1; }
  H5Id& operator=(H5Id&& o) noexcept {
    if (this != &o) {
      close();
      id_ = o.id_;
      closer_ = o.closer_;
      o.id_ = -1;
    }
    return *this;
  }
  hid_t get() const { return id_; }
  bool valid() const { return id_ >= 0; }
  herr_t close() {
    herr_t r = 0;
    if (id_ >= 0 && closer_ != nullptr) r = closer_(id_);
    id_ = -1;
    return r;
  }

 private:
  hid_t id_;
  Closer closer_;
};

// Turns off HDF5's automatic printing of its error stack while alive; we throw our own messages instead.
class QuietErrors {
 public:
  QuietErrors() {
    H5Eget_auto2(H5E_DEFAULT, &func_, &data_);
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  }
  ~QuietErrors() { H5Eset_auto2(H5E_DEFAULT, func_, data_); }

 private:
  H5E_auto2_t func_ = nullptr;
  void* data_ = nullptr;
};

herr_t innermost_error(unsigned, const H5E_error2_t* err, void* out) {
  auto* s = static_cast<std::string*>(out);
  if (s->empty() && err != nullptr && err->desc != nullptr) *s = err->desc;
  return 0;
}

// The deepest message on HDF5's error stack, for our error text (then clears the stack).
std::string h5_detail() {
  std::string s;
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, innermost_error, &s);
  H5Eclear2(H5E_DEFAULT);
  return s.empty() ? std::string() : " (HDF5: " + s + ")";
}

// IEEE binary16, little-endian (HDF5 1.10 has no predefined half type).
hid_t make_half_type() {
  hid_t t = H5Tcopy(H5T_IEEE_F32LE);
  if (t < 0) return t;
  if (H5Tset_fields(t, 15, 10, 5, 0, 10) < 0 || H5Tset_size(t, 2) < 0 || H5Tset_ebias(t, 15) < 0) {
    H5Tclose(t);
    return -1;
  }
  return t;
}

// h5py's bool: an enum over int8 with FALSE = 0 and TRUE = 1.
hid_t make_bool_type() {
  hid_t t = H5Tenum_create(H5T_NATIVE_INT8);
  if (t < 0) return t;
  const int8_t f = 0, tr = 1;
  if (H5Tenum_insert(t, "FALSE", &f) < 0 || H5Tenum_insert(t, "TRUE", &tr) < 0) {
    H5Tclose(t);
    return -1;
  }
  return t;
}

H5Id open_file(const std::filesystem::path& path) {
  const std::string file = path.string();
  std::error_code ec;
  AXF_CHECK(std::filesystem::exists(path, ec), file, ": no such file");
  AXF_CHECK(is_hdf5_file(path), file, ": not an HDF5 file");
  H5Id f(H5Fopen(file.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
  AXF_CHECK(f.valid(), file, ": cannot open HDF5 file", h5_detail());
  return f;
}

// "unsigned 4-byte integer", "8-byte string", ... for error messages.
std::string describe_type(hid_t type) {
  const H5T_class_t cls = H5Tget_class(type);
  const std::string size = std::to_string(H5Tget_size(type)) + "-byte ";
  switch (cls) {
    case H5T_INTEGER: return (H5Tget_sign(type) == H5T_SGN_NONE ? "unsigned " : "signed ") + size + "integer";
    case H5T_FLOAT: return size + "float";
    case H5T_STRING: return size + "string";
    case H5T_BITFIELD: return size + "bitfield";
    case H5T_OPAQUE: return size + "opaque";
    case H5T_COMPOUND: return size + "compound";
    case H5T_REFERENCE: return "reference";
    case H5T_ENUM: return size + "enum";
    case H5T_VLEN: return "variable-length";
    case H5T_ARRAY: return size + "array";
    default: return "unknown class " + std::to_string(static_cast<int>(cls));
  }
}

NpyArray read_dataset(hid_t group, const std::string& name, const std::string& where) {
  H5Id d(H5Dopen2(group, name.c_str(), H5P_DEFAULT), H5Dclose);
  AXF_CHECK(d.valid(), where, ": cannot open dataset", h5_detail());
  H5Id ftype(H5Dget_type(d.get()), H5Tclose);
  AXF_CHECK(ftype.valid(), where, ": cannot get datatype", h5_detail());
  const H5T_class_t cls = H5Tget_class(ftype.get());
  const size_t size = H5Tget_size(ftype.get());
  NpyType type = NpyType::F32;
  H5Id owned(-1, H5Tclose);  // a memory type we made, if any
  hid_t mem = -1;
  if (cls == H5T_FLOAT && size == 2) {
    type = NpyType::F16;
    owned = H5Id(make_half_type(), H5Tclose);
    mem = owned.get();
  } else if (cls == H5T_FLOAT && (size == 4 || size == 8)) {
    type = size == 4 ? NpyType::F32 : NpyType::F64;
    mem = size == 4 ? H5T_NATIVE_FLOAT : H5T_NATIVE_DOUBLE;
  } else if (cls == H5T_INTEGER && H5Tget_sign(ftype.get()) == H5T_SGN_2 &&
             (size == 1 || size == 2 || size == 4 || size == 8)) {
    const NpyType types[] = {NpyType::I8, NpyType::I16, NpyType::I32, NpyType::I64};
    const hid_t mems[] = {H5T_NATIVE_INT8, H5T_NATIVE_INT16, H5T_NATIVE_INT32, H5T_NATIVE_INT64};
    const int i = size == 1 ? 0 : size == 2 ? 1 : size == 4 ? 2 : 3;
    type = types[i];
    mem = mems[i];
  } else if (cls == H5T_INTEGER && H5Tget_sign(ftype.get()) == H5T_SGN_NONE && size == 1) {
    type = NpyType::U8;
    mem = H5T_NATIVE_UINT8;
  } else if (cls == H5T_ENUM && size == 1) {
    type = NpyType::U8;  // the raw one-byte values
    owned = H5Id(H5Tget_native_type(ftype.get(), H5T_DIR_ASCEND), H5Tclose);
    mem = owned.get();
  } else {
    AXF_FAIL(where, ": unsupported HDF5 datatype (", describe_type(ftype.get()),
             "); supported: float16/32/64, int8..int64, uint8, one-byte enums");
  }
  AXF_CHECK(mem >= 0, where, ": cannot make the memory datatype", h5_detail());

  H5Id space(H5Dget_space(d.get()), H5Sclose);
  AXF_CHECK(space.valid(), where, ": cannot get dataspace", h5_detail());
  const H5S_class_t sclass = H5Sget_simple_extent_type(space.get());
  std::vector<int64_t> shape;
  if (sclass == H5S_SIMPLE) {
    const int rank = H5Sget_simple_extent_ndims(space.get());
    AXF_CHECK(rank >= 0, where, ": cannot get dataspace rank", h5_detail());
    std::vector<hsize_t> dims(static_cast<size_t>(rank));
    AXF_CHECK(H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr) == rank, where,
              ": cannot get dataspace dimensions", h5_detail());
    for (hsize_t v : dims) {
      AXF_CHECK(v <= static_cast<hsize_t>(INT64_MAX), where, ": dimension ", v, " is too large");
      shape.push_back(static_cast<int64_t>(v));
    }
  } else {
    AXF_CHECK(sclass == H5S_SCALAR, where, ": dataset has no data (null or unknown dataspace)");
  }
  NpyArray a = NpyArray::zeros(type, shape);
  if (!a.data.empty()) {
    AXF_CHECK(H5Dread(d.get(), mem, H5S_ALL, H5S_ALL, H5P_DEFAULT, a.data.data()) >= 0, where,
              ": cannot read data", h5_detail());
  }
  return a;
}

// File and memory datatypes for writing one NpyType (closed by the returned owner where we made them).
hid_t file_type_of(NpyType t, H5Id& owned) {
  switch (t) {
    case NpyType::F16: owned = H5Id(make_half_type(), H5Tclose); return owned.get();
    case NpyType::F32: return H5T_IEEE_F32LE;
    case NpyType::F64: return H5T_IEEE_F64LE;
    case NpyType::I8: return H5T_STD_I8LE;
    case NpyType::I16: return H5T_STD_I16LE;
    case NpyType::I32: return H5T_STD_I32LE;
    case NpyType::I64: return H5T_STD_I64LE;
    case NpyType::U8: return H5T_STD_U8LE;
    case NpyType::Bool: owned = H5Id(make_bool_type(), H5Tclose); return owned.get();
  }
  return -1;
}

hid_t mem_type_of(NpyType t, hid_t file_type) {
  switch (t) {
    case NpyType::F32: return H5T_NATIVE_FLOAT;
    case NpyType::F64: return H5T_NATIVE_DOUBLE;
    case NpyType::I8: return H5T_NATIVE_INT8;
    case NpyType::I16: return H5T_NATIVE_INT16;
    case NpyType::I32: return H5T_NATIVE_INT32;
    case NpyType::I64: return H5T_NATIVE_INT64;
    case NpyType::U8: return H5T_NATIVE_UINT8;
    default: return file_type;  // half and bool: the same layout in memory
  }
}

void write_contents(hid_t file, const std::string& fname,
                    const std::vector<std::pair<std::string, const NpyArray*>>& arrays,
                    const std::map<std::string, std::string>& attributes) {
  H5Id lcpl(H5Pcreate(H5P_LINK_CREATE), H5Pclose);
  AXF_CHECK(lcpl.valid() && H5Pset_create_intermediate_group(lcpl.get(), 1) >= 0, fname,
            ": cannot make a link-creation property list", h5_detail());
  for (const auto& [name, array] : arrays) {
    const std::string where = fname + ": dataset '" + name + "'";
    H5Id owned(-1, H5Tclose);
    const hid_t ftype = file_type_of(array->type, owned);
    AXF_CHECK(ftype >= 0, where, ": cannot make the datatype for ", to_string(array->type), h5_detail());
    std::vector<hsize_t> dims(array->shape.begin(), array->shape.end());
    H5Id space(dims.empty() ? H5Screate(H5S_SCALAR) : H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr),
               H5Sclose);
    AXF_CHECK(space.valid(), where, ": cannot make dataspace ", shape_string(array->shape), h5_detail());
    H5Id d(H5Dcreate2(file, name.c_str(), ftype, space.get(), lcpl.get(), H5P_DEFAULT, H5P_DEFAULT), H5Dclose);
    AXF_CHECK(d.valid(), where, ": cannot create dataset", h5_detail());
    if (!array->data.empty()) {
      AXF_CHECK(H5Dwrite(d.get(), mem_type_of(array->type, ftype), H5S_ALL, H5S_ALL, H5P_DEFAULT,
                         array->data.data()) >= 0,
                where, ": cannot write data", h5_detail());
    }
    AXF_CHECK(d.close() >= 0, where, ": cannot close dataset", h5_detail());
  }
  for (const auto& [key, value] : attributes) {
    const std::string where = fname + ": attribute '" + key + "'";
    AXF_CHECK(value.find('\0') == std::string::npos, where, ": value contains a NUL character");
    H5Id type(H5Tcopy(H5T_C_S1), H5Tclose);
    AXF_CHECK(type.valid() && H5Tset_size(type.get(), H5T_VARIABLE) >= 0 &&
                  H5Tset_cset(type.get(), H5T_CSET_UTF8) >= 0,
              where, ": cannot make a string datatype", h5_detail());
    H5Id space(H5Screate(H5S_SCALAR), H5Sclose);
    H5Id attr(H5Acreate2(file, key.c_str(), type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
    AXF_CHECK(attr.valid(), where, ": cannot create attribute", h5_detail());
    const char* text = value.c_str();
    AXF_CHECK(H5Awrite(attr.get(), type.get(), &text) >= 0, where, ": cannot write attribute", h5_detail());
  }
}

herr_t collect_attribute_name(hid_t, const char* name, const H5A_info_t*, void* out) {
  static_cast<std::vector<std::string>*>(out)->emplace_back(name);
  return 0;
}

}  // namespace

bool is_hdf5_file(const std::filesystem::path& path) {
  try {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) return false;
    QuietErrors quiet;
#if H5_VERSION_GE(1, 12, 0)
    const htri_t r = H5Fis_accessible(path.c_str(), H5P_DEFAULT);
#else
    const htri_t r = H5Fis_hdf5(path.c_str());
#endif
    H5Eclear2(H5E_DEFAULT);
    return r > 0;
  } catch (...) {
    return false;
  }
}

std::map<std::string, NpyArray> read_hdf5_arrays(const std::filesystem::path& path, const std::string& group) {
  QuietErrors quiet;
  const std::string file = path.string();
  H5Id f = open_file(path);
  H5Id g(H5Gopen2(f.get(), group.c_str(), H5P_DEFAULT), H5Gclose);
  AXF_CHECK(g.valid(), file, ": cannot open group '", group, "'", h5_detail());
  H5G_info_t info{};
  AXF_CHECK(H5Gget_info(g.get(), &info) >= 0, file, ": cannot list group '", group, "'", h5_detail());
  std::map<std::string, NpyArray> out;
  for (hsize_t i = 0; i < info.nlinks; ++i) {
    const ssize_t len = H5Lget_name_by_idx(g.get(), ".", H5_INDEX_NAME, H5_ITER_INC, i, nullptr, 0, H5P_DEFAULT);
    AXF_CHECK(len >= 0, file, ": cannot read link ", i, " of group '", group, "'", h5_detail());
    std::string name(static_cast<size_t>(len) + 1, '\0');
    AXF_CHECK(H5Lget_name_by_idx(g.get(), ".", H5_INDEX_NAME, H5_ITER_INC, i, name.data(), name.size(),
                                 H5P_DEFAULT) >= 0,
              file, ": cannot read link ", i, " of group '", group, "'", h5_detail());
    name.resize(static_cast<size_t>(len));
    const std::string where = file + ": dataset '" + name + "' in group '" + group + "'";
    H5Id obj(H5Oopen(g.get(), name.c_str(), H5P_DEFAULT), H5Oclose);
    AXF_CHECK(obj.valid(), where, ": cannot open object", h5_detail());
    if (H5Iget_type(obj.get()) != H5I_DATASET) continue;  // subgroups, named datatypes
    out.emplace(name, read_dataset(g.get(), name, where));
  }
  return out;
}

void write_hdf5_arrays(const std::filesystem::path& path, const std::vector<std::pair<std::string, const NpyArray*>>& arrays,
                       const std::map<std::string, std::string>& root_string_attributes) {
  const std::string fname = path.string();
  for (const auto& [name, array] : arrays) {
    AXF_CHECK(array != nullptr, fname, ": dataset '", name, "' is null");
    AXF_CHECK(!name.empty(), fname, ": empty dataset name");
    const uint64_t numel = static_cast<uint64_t>(shape_numel(array->shape, fname + ": dataset '" + name + "'"));
    AXF_CHECK(numel * array->item_size() == array->data.size(), fname, ": dataset '", name, "' (",
              to_string(array->type), " ", shape_string(array->shape), ") needs ", numel * array->item_size(),
              " bytes of data, has ", array->data.size());
  }
  std::filesystem::path temp = path;
  temp += ".tmp-" + std::to_string(::getpid());
  QuietErrors quiet;
  try {
    H5Id f(H5Fcreate(temp.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), H5Fclose);
    AXF_CHECK(f.valid(), fname, ": cannot create temporary file ", temp.string(), h5_detail());
    write_contents(f.get(), fname, arrays, root_string_attributes);
    AXF_CHECK(f.close() >= 0, fname, ": cannot close ", temp.string(), h5_detail());
    std::error_code ec;
    std::filesystem::rename(temp, path, ec);
    AXF_CHECK(!ec, fname, ": cannot move ", temp.string(), " into place: ", ec.message());
  } catch (...) {
    std::error_code ec;
    std::filesystem::remove(temp, ec);
    throw;
  }
}

std::map<std::string, std::string> read_hdf5_string_attributes(const std::filesystem::path& path) {
  QuietErrors quiet;
  const std::string file = path.string();
  H5Id f = open_file(path);
  H5Id root(H5Gopen2(f.get(), "/", H5P_DEFAULT), H5Gclose);
  AXF_CHECK(root.valid(), file, ": cannot open the root group", h5_detail());
  std::vector<std::string> names;
  AXF_CHECK(H5Aiterate2(root.get(), H5_INDEX_NAME, H5_ITER_INC, nullptr, collect_attribute_name, &names) >= 0, file,
            ": cannot list root attributes", h5_detail());
  std::map<std::string, std::string> out;
  for (const std::string& name : names) {
    const std::string where = file + ": attribute '" + name + "'";
    H5Id attr(H5Aopen(root.get(), name.c_str(), H5P_DEFAULT), H5Aclose);
    AXF_CHECK(attr.valid(), where, ": cannot open", h5_detail());
    H5Id type(H5Aget_type(attr.get()), H5Tclose);
    H5Id space(H5Aget_space(attr.get()), H5Sclose);
    AXF_CHECK(type.valid() && space.valid(), where, ": cannot get type or dataspace", h5_detail());
    if (H5Tget_class(type.get()) != H5T_STRING || H5Sget_simple_extent_npoints(space.get()) != 1) continue;
    const htri_t variable = H5Tis_variable_str(type.get());
    AXF_CHECK(variable >= 0, where, ": cannot inspect string type", h5_detail());
    H5Id mem(H5Tcopy(H5T_C_S1), H5Tclose);
    AXF_CHECK(mem.valid() && H5Tset_cset(mem.get(), H5Tget_cset(type.get())) >= 0, where,
              ": cannot make a string datatype", h5_detail());
    std::string value;
    if (variable > 0) {
      AXF_CHECK(H5Tset_size(mem.get(), H5T_VARIABLE) >= 0, where, ": cannot make a string datatype", h5_detail());
      char* text = nullptr;
      AXF_CHECK(H5Aread(attr.get(), mem.get(), &text) >= 0, where, ": cannot read", h5_detail());
      value = text != nullptr ? text : "";
      H5free_memory(text);
    } else {
      const size_t n = H5Tget_size(type.get());
      AXF_CHECK(n > 0 && H5Tset_size(mem.get(), n) >= 0 && H5Tset_strpad(mem.get(), H5T_STR_NULLPAD) >= 0, where,
                ": cannot make a string datatype", h5_detail());
      std::string buf(n, '\0');
      AXF_CHECK(H5Aread(attr.get(), mem.get(), buf.data()) >= 0, where, ": cannot read", h5_detail());
      value = buf.substr(0, buf.find('\0'));
      if (H5Tget_strpad(type.get()) == H5T_STR_SPACEPAD) value.erase(value.find_last_not_of(' ') + 1);
    }
    out.emplace(name, std::move(value));
  }
  return out;
}

}  // namespace axf::io
