#include "io/npy.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <string_view>

namespace axf::io {

namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr size_t kMagicSize = 6;

struct TypeInfo {
  NpyType type;
  const char* name;
  const char* descr;  // as numpy writes it
  char kind;          // 'f', 'i', 'u', 'b'
  size_t size;
};

constexpr TypeInfo kTypes[] = {
    {NpyType::F16, "float16", "<f2", 'f', 2}, {NpyType::F32, "float32", "<f4", 'f', 4},
    {NpyType::F64, "float64", "<f8", 'f', 8}, {NpyType::I8, "int8", "|i1", 'i', 1},
    {NpyType::I16, "int16", "<i2", 'i', 2},   {NpyType::I32, "int32", "<i4", 'i', 4},
    {NpyType::I64, "int64", "<i8", 'i', 8},   {NpyType::U8, "uint8", "|u1", 'u', 1},
    {NpyType::Bool, "bool", "|b1", 'b', 1},
};

const TypeInfo& info(NpyType type) {
  for (const auto& t : kTypes) {
    if (t.type == type) return t;
  }
  AXF_FAIL("invalid NpyType value ", static_cast<int>(type));
}

// Maps a descr such as '<f4' or '|u1' to a type; refuses big-endian and types we do not use.
NpyType type_from_descr(const std::string& descr, const std::string& context) {
  AXF_CHECK(descr.size() >= 3, context, ": unsupported dtype descr '", descr, "'");
  const char order = descr[0];
  const std::string code = descr.substr(1);
  for (const auto& t : kTypes) {
    if (code != std::string(t.descr + 1)) continue;
    if (order == '<') return t.type;
    if (order == '|' || order == '>') {
      AXF_CHECK(t.size == 1 || order != '>', context, ": big-endian data (descr '", descr,
                "') is not supported; save it little-endian (e.g. arr.astype('<", code, "'))");
      AXF_CHECK(t.size == 1, context, ": descr '", descr, "' uses byte order '|' for a multi-byte type");
      return t.type;
    }
    AXF_FAIL(context, ": unsupported byte order in descr '", descr, "'");
  }
  AXF_FAIL(context, ": unsupported dtype descr '", descr,
           "' (supported: float16/32/64, int8/16/32/64, uint8, bool)");
}

uint32_t read_le(const std::byte* p, size_t n) {
  uint32_t v = 0;
  for (size_t i = 0; i < n; ++i) v |= static_cast<uint32_t>(p[i]) << (8 * i);
  return v;
}

// A small parser for the Python dict literal of an .npy header.
class DictParser {
 public:
  DictParser(std::string_view text, const std::string& context) : s_(text), context_(context) {}

  NpyHeader parse() {
    NpyHeader h;
    bool have_descr = false, have_order = false, have_shape = false;
    expect('{');
    while (true) {
      skip_ws();
      if (consume('}')) break;
      const std::string key = parse_string();
      expect(':');
      if (key == "descr") {
        AXF_CHECK(!have_descr, context_, ": header dict repeats key 'descr'");
        skip_ws();
        AXF_CHECK(pos_ < s_.size() && (s_[pos_] == '\'' || s_[pos_] == '"'), context_,
                  ": header 'descr' is not a simple dtype string (structured dtypes are not supported)");
        h.type = type_from_descr(parse_string(), context_);
        have_descr = true;
      } else if (key == "fortran_order") {
        AXF_CHECK(!have_order, context_, ": header dict repeats key 'fortran_order'");
        h.fortran_order = parse_bool();
        have_order = true;
      } else if (key == "shape") {
        AXF_CHECK(!have_shape, context_, ": header dict repeats key 'shape'");
        h.shape = parse_shape();
        have_shape = true;
      } else {
        AXF_FAIL(context_, ": unexpected key '", key, "' in .npy header");
      }
      skip_ws();
      if (consume(',')) continue;
      expect('}');
      break;
    }
    skip_ws();
    AXF_CHECK(pos_ == s_.size(), context_, ": unexpected text after the .npy header dict");
    AXF_CHECK(have_descr, context_, ": .npy header lacks 'descr'");
    AXF_CHECK(have_order, context_, ": .npy header lacks 'fortran_order'");
    AXF_CHECK(have_shape, context_, ": .npy header lacks 'shape'");
    return h;
  }

 private:
  void skip_ws() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r')) {
      ++pos_;
    }
  }
  bool consume(char c) {
    skip_ws();
    if (pos_ < s_.size() && s_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  void expect(char c) {
    AXF_CHECK(consume(c), context_, ": malformed .npy header: expected '", c, "' at offset ", pos_, " of '",
              printable(), "'");
  }
  std::string printable() const {
    std::string out;
    for (char c : s_.substr(0, 200)) out += (c >= 32 && c < 127) ? c : '?';
    return out;
  }
  std::string parse_string() {
    skip_ws();
    AXF_CHECK(pos_ < s_.size() && (s_[pos_] == '\'' || s_[pos_] == '"'), context_,
              ": malformed .npy header: expected a quoted string at offset ", pos_, " of '", printable(), "'");
    const char quote = s_[pos_++];
    const size_t end = s_.find(quote, pos_);
    AXF_CHECK(end != std::string_view::npos, context_, ": malformed .npy header: unterminated string");
    std::string out(s_.substr(pos_, end - pos_));
    pos_ = end + 1;
    return out;
  }
  bool parse_bool() {
    skip_ws();
    if (s_.substr(pos_, 4) == "True") {
      pos_ += 4;
      return true;
    }
    if (s_.substr(pos_, 5) == "False") {
      pos_ += 5;
      return false;
    }
    AXF_FAIL(context_, ": malformed .npy header: 'fortran_order' is not True or False");
  }
  std::vector<int64_t> parse_shape() {
    std::vector<int64_t> shape;
    expect('(');
    while (true) {
      if (consume(')')) break;
      shape.push_back(parse_dim());
      if (consume(',')) continue;
      expect(')');
      break;
    }
    return shape;
  }
  int64_t parse_dim() {
    skip_ws();
    AXF_CHECK(pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9', context_,
              ": malformed .npy header: bad dimension in 'shape' at offset ", pos_, " of '", printable(), "'");
    int64_t v = 0;
    while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') {
      const int digit = s_[pos_++] - '0';
      AXF_CHECK(v <= (std::numeric_limits<int64_t>::max() - digit) / 10, context_,
                ": dimension in 'shape' is too large");
      v = v * 10 + digit;
    }
    if (pos_ < s_.size() && (s_[pos_] == 'L' || s_[pos_] == 'l')) ++pos_;  // Python 2 long literal
    return v;
  }

  std::string_view s_;
  const std::string& context_;
  size_t pos_ = 0;
};

}  // namespace

std::string to_string(NpyType type) { return info(type).name; }
size_t item_size(NpyType type) { return info(type).size; }

int64_t shape_numel(const std::vector<int64_t>& shape, const std::string& context) {
  int64_t n = 1;
  for (int64_t d : shape) {
    AXF_CHECK(d >= 0, context, ": negative dimension in shape ", shape_string(shape));
    AXF_CHECK(d == 0 || n <= std::numeric_limits<int64_t>::max() / d, context, ": shape ", shape_string(shape),
              " has too many elements");
    n *= d;
  }
  return n;
}

std::string shape_string(const std::vector<int64_t>& shape) {
  std::string s = "(";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i > 0) s += ", ";
    s += std::to_string(shape[i]);
  }
  if (shape.size() == 1) s += ",";
  return s + ")";
}

int64_t NpyArray::numel() const { return shape_numel(shape, "NpyArray"); }

NpyArray NpyArray::zeros(NpyType type, std::vector<int64_t> shape) {
  NpyArray a;
  a.type = type;
  a.shape = std::move(shape);
  const int64_t n = a.numel();
  AXF_CHECK(static_cast<uint64_t>(n) <= std::numeric_limits<size_t>::max() / a.item_size(),
            "NpyArray::zeros: shape ", shape_string(a.shape), " is too large");
  a.data.assign(static_cast<size_t>(n) * a.item_size(), std::byte{0});
  return a;
}

void NpyArray::check_view(NpyType wanted) const {
  AXF_CHECK(wanted == type, "NpyArray: cannot view ", to_string(type), " data as ", to_string(wanted));
}

NpyHeader parse_npy_header(std::span<const std::byte> bytes, const std::string& context) {
  const size_t magic_part = std::min(bytes.size(), kMagicSize);
  AXF_CHECK(magic_part == 0 || std::memcmp(bytes.data(), kMagic, magic_part) == 0, context,
            ": not a .npy array (bad magic)");
  AXF_CHECK(bytes.size() >= 10, context, ": truncated .npy header (", bytes.size(), " bytes)");
  const int major = static_cast<int>(bytes[6]);
  const int minor = static_cast<int>(bytes[7]);
  size_t prefix = 0, dict_len = 0;
  if (major == 1) {
    prefix = 10;
    dict_len = read_le(bytes.data() + 8, 2);
  } else if (major == 2 || major == 3) {
    AXF_CHECK(bytes.size() >= 12, context, ": truncated .npy header (", bytes.size(), " bytes)");
    prefix = 12;
    dict_len = read_le(bytes.data() + 8, 4);
  } else {
    AXF_FAIL(context, ": unsupported .npy format version ", major, ".", minor);
  }
  AXF_CHECK(bytes.size() - prefix >= dict_len, context, ": truncated .npy header (needs ", prefix + dict_len,
            " bytes, found ", bytes.size(), ")");
  std::string_view text(reinterpret_cast<const char*>(bytes.data() + prefix), dict_len);
  NpyHeader h = DictParser(text, context).parse();
  shape_numel(h.shape, context);  // validates the shape
  h.data_offset = prefix + dict_len;
  return h;
}

namespace {

// Checks a parsed header against the number of bytes that follow it.
void check_payload(const NpyHeader& h, size_t total_bytes, const std::string& context) {
  AXF_CHECK(!h.fortran_order, context, ": Fortran-order arrays are not supported (save with np.ascontiguousarray)");
  const uint64_t numel = static_cast<uint64_t>(shape_numel(h.shape, context));
  const size_t isz = item_size(h.type);
  AXF_CHECK(numel <= std::numeric_limits<size_t>::max() / isz, context, ": shape ", shape_string(h.shape),
            " is too large");
  const size_t expected = static_cast<size_t>(numel) * isz;
  const size_t found = total_bytes - h.data_offset;
  AXF_CHECK(found >= expected, context, ": truncated data (expected ", expected, " bytes for ", to_string(h.type),
            " ", shape_string(h.shape), ", found ", found, ")");
  AXF_CHECK(found == expected, context, ": data length mismatch (expected ", expected, " bytes for ",
            to_string(h.type), " ", shape_string(h.shape), ", found ", found, ")");
}

}  // namespace

NpyArray parse_npy(std::span<const std::byte> bytes, const std::string& context) {
  const NpyHeader h = parse_npy_header(bytes, context);
  check_payload(h, bytes.size(), context);
  NpyArray a;
  a.type = h.type;
  a.shape = h.shape;
  a.data.assign(bytes.begin() + static_cast<std::ptrdiff_t>(h.data_offset), bytes.end());
  return a;
}

NpyArray parse_npy(std::vector<std::byte>&& bytes, const std::string& context) {
  const NpyHeader h = parse_npy_header(bytes, context);
  check_payload(h, bytes.size(), context);
  NpyArray a;
  a.type = h.type;
  a.shape = h.shape;
  bytes.erase(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(h.data_offset));
  a.data = std::move(bytes);
  return a;
}

std::vector<std::byte> serialize_npy_header(const NpyArray& a) {
  const int64_t numel = shape_numel(a.shape, "serialize_npy");
  AXF_CHECK(static_cast<uint64_t>(numel) * a.item_size() == a.data.size(), "serialize_npy: ", to_string(a.type),
            " array of shape ", shape_string(a.shape), " needs ", static_cast<uint64_t>(numel) * a.item_size(),
            " bytes of data, has ", a.data.size());
  std::string dict = std::string("{'descr': '") + info(a.type).descr +
                     "', 'fortran_order': False, 'shape': " + shape_string(a.shape) + ", }";
  size_t prefix = 10;
  size_t padded = dict.size() + 1;  // with the closing newline
  padded += (64 - (prefix + padded) % 64) % 64;
  if (padded > 0xFFFF) {
    prefix = 12;
    padded = dict.size() + 1;
    padded += (64 - (prefix + padded) % 64) % 64;
  }
  dict.resize(padded - 1, ' ');
  dict += '\n';
  std::vector<std::byte> out(prefix + padded);
  std::memcpy(out.data(), kMagic, kMagicSize);
  out[6] = std::byte{static_cast<unsigned char>(prefix == 10 ? 1 : 2)};
  out[7] = std::byte{0};
  for (size_t i = 0; i < prefix - 8; ++i) out[8 + i] = std::byte{static_cast<unsigned char>(padded >> (8 * i))};
  std::memcpy(out.data() + prefix, dict.data(), dict.size());
  return out;
}

std::vector<std::byte> serialize_npy(const NpyArray& a) {
  std::vector<std::byte> out = serialize_npy_header(a);
  out.insert(out.end(), a.data.begin(), a.data.end());
  return out;
}

}  // namespace axf::io
