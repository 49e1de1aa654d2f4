#include "data/npy.h"

#include <algorithm>
#include <bit>
#include <cctype>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <optional>
#include <vector>

#include "core/printable.h"
#include "data/atomic_file.h"

namespace laplex::data {

namespace {

static_assert(std::endian::native == std::endian::little,
              "the .npy reader and writer assume a little-endian host");

constexpr char kMagic[] = "\x93NUMPY";
constexpr std::size_t kMagicSize = 6;

struct Header {
  std::string descr;
  bool fortran_order = false;
  Shape shape;
};

// The header is a Python dict literal. This parser accepts exactly the
// literals NumPy writes (and the variations a hand-written file might use:
// either quote style, optional trailing commas, any spacing) and nothing else.
class HeaderParser {
 public:
  HeaderParser(const std::string& path, const std::string& text) : path_(path), text_(text) {}

  Header parse() {
    Header header;
    bool seen_descr = false, seen_fortran = false, seen_shape = false;
    expect('{');
    while (!accept('}')) {
      const std::string key = string_literal();
      expect(':');
      if (key == "descr" && !seen_descr) {
        header.descr = string_literal();
        seen_descr = true;
      } else if (key == "fortran_order" && !seen_fortran) {
        header.fortran_order = boolean();
        seen_fortran = true;
      } else if (key == "shape" && !seen_shape) {
        header.shape = tuple();
        seen_shape = true;
      } else {
        fail("the keys 'descr', 'fortran_order' and 'shape' once each, found key '" +
             printable(key, 120) + "'");
      }
      if (!accept(',')) {
        expect('}');
        break;
      }
    }
    skip_space();
    if (pos_ != text_.size()) fail("nothing after the header dict");
    if (!seen_descr || !seen_fortran || !seen_shape)
      fail("the keys 'descr', 'fortran_order' and 'shape' in the header dict");
    return header;
  }

 private:
  [[noreturn]] void fail(const std::string& expected) const {
    throw UsageError(path_ + ": bad .npy header: expected " + expected + " at offset " +
                     std::to_string(pos_) + " of \"" + printable(text_, 120) + "\"");
  }
  void skip_space() {
    while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_]))) ++pos_;
  }
  bool accept(char c) {
    skip_space();
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  void expect(char c) {
    if (!accept(c)) fail(std::string("'") + c + "'");
  }
  std::string string_literal() {
    skip_space();
    if (pos_ >= text_.size() || (text_[pos_] != '\'' && text_[pos_] != '"'))
      fail("a quoted string");
    const char quote = text_[pos_++];
    const std::size_t end = text_.find(quote, pos_);
    if (end == std::string::npos) fail("a closing quote");
    std::string value = text_.substr(pos_, end - pos_);
    if (value.find('\\') != std::string::npos) fail("a string without escapes");
    pos_ = end + 1;
    return value;
  }
  bool boolean() {
    skip_space();
    for (const auto& [word, value] : {std::pair<const char*, bool>{"True", true}, {"False", false}})
      if (text_.compare(pos_, std::strlen(word), word) == 0) {
        pos_ += std::strlen(word);
        return value;
      }
    fail("True or False");
  }
  std::int64_t integer() {
    skip_space();
    const std::size_t start = pos_;
    std::int64_t value = 0;
    while (pos_ < text_.size() && std::isdigit(static_cast<unsigned char>(text_[pos_]))) {
      const int digit = text_[pos_] - '0';
      if (value > (std::numeric_limits<std::int64_t>::max() - digit) / 10) fail("a smaller dim");
      value = value * 10 + digit;
      ++pos_;
    }
    if (pos_ == start) fail("a non-negative integer dim");
    return value;
  }
  Shape tuple() {
    Shape shape;
    expect('(');
    if (accept(')')) return shape;
    while (true) {
      shape.push_back(integer());
      const bool comma = accept(',');
      if (accept(')')) {
        // Python needs the comma to make (3,) a tuple rather than a number.
        if (shape.size() == 1 && !comma) fail("',' after the only dim of a 1-d shape");
        return shape;
      }
      if (!comma) fail("',' or ')' in the shape");
    }
  }

  const std::string& path_;
  const std::string& text_;
  std::size_t pos_ = 0;
};

struct Descr {
  DType dtype;        // of the tensor read
  std::size_t bytes;  // per element in the file
  bool is_signed;     // for single bytes only
};

Descr parse_descr(const std::string& path, const std::string& descr) {
  const std::string expected =
      "descr '<f4', '<f8', '<i4', '<i8', '|u1' or '|i1' (little-endian float32/64, int32/64, "
      "uint8, int8)";
  if (descr.size() == 3) {
    const char order = descr[0];
    const std::string type = descr.substr(1);
    if ((type == "u1" || type == "i1") &&
        (order == '|' || order == '<' || order == '>' || order == '='))
      return {DType::i32, 1, type == "i1"};
    if (order == '>')
      throw UsageError(path + ": big-endian dtype '" + printable(descr, 120) + "'; expected " +
                       expected + " (convert with a.astype(a.dtype.newbyteorder('<')))");
    if (order == '<' || order == '=') {
      if (type == "f4") return {DType::f32, 4, true};
      if (type == "f8") return {DType::f64, 8, true};
      if (type == "i4") return {DType::i32, 4, true};
      if (type == "i8") return {DType::i64, 8, true};
    }
  }
  throw UsageError(path + ": unsupported dtype '" + printable(descr, 120) + "'; expected " +
                   expected);
}

// The bound skips zero dims: (0, 2^62, 4) holds nothing, but the strides of
// a tensor of that shape would still overflow int64.
std::uint64_t element_count(const std::string& path, const Shape& shape, std::size_t bytes) {
  std::uint64_t count = 1, bound = 1;
  const std::uint64_t limit = std::numeric_limits<std::int64_t>::max() / bytes;
  for (std::int64_t dim : shape) {
    if (dim != 0 && bound > limit / static_cast<std::uint64_t>(dim))
      throw UsageError(path + ": shape " + shape_str(shape) + " is too large");
    count *= static_cast<std::uint64_t>(dim);
    bound *= std::max<std::uint64_t>(static_cast<std::uint64_t>(dim), 1);
  }
  return count;
}

// Element (i0, .., in-1) of a Fortran-ordered array sits at sum_k i_k *
// prod_{j<k} d_j; walk the C-order indices with an odometer.
void fortran_to_c(const std::uint8_t* src, std::uint8_t* dst, const Shape& shape, std::size_t bytes,
                  std::uint64_t count) {
  const std::size_t rank = shape.size();
  std::vector<std::uint64_t> stride(rank);
  std::uint64_t s = 1;
  for (std::size_t k = 0; k < rank; ++k) {
    stride[k] = s;
    s *= static_cast<std::uint64_t>(shape[k]);
  }
  std::vector<std::int64_t> index(rank, 0);
  std::uint64_t offset = 0;
  for (std::uint64_t n = 0; n < count; ++n) {
    std::memcpy(dst + n * bytes, src + offset * bytes, bytes);
    for (std::size_t k = rank; k-- > 0;) {
      offset += stride[k];
      if (++index[k] < shape[k]) break;
      offset -= stride[k] * static_cast<std::uint64_t>(shape[k]);
      index[k] = 0;
    }
  }
}

std::string descr_of(DType dtype) {
  switch (dtype) {
    case DType::f32:
      return "<f4";
    case DType::f64:
      return "<f8";
    case DType::i32:
      return "<i4";
    case DType::i64:
      break;
  }
  return "<i8";
}

std::string shape_literal(const Shape& shape) {
  std::string text = "(";
  for (std::size_t k = 0; k < shape.size(); ++k) {
    if (k) text += ", ";
    text += std::to_string(shape[k]);
  }
  return text + (shape.size() == 1 ? ",)" : ")");
}

}  // namespace

Tensor read_npy(const std::string& path) {
  std::error_code is_dir_error;
  if (std::filesystem::is_directory(path, is_dir_error))
    throw UsageError(path + ": is a directory, expected a .npy file");
  std::ifstream file(path, std::ios::binary);
  if (!file) throw UsageError(path + ": cannot open .npy file");
  std::error_code error;
  const std::uint64_t file_size = std::filesystem::file_size(path, error);
  if (error) throw UsageError(path + ": cannot read the size of the .npy file");

  std::uint8_t prefix[12] = {};
  file.read(reinterpret_cast<char*>(prefix), 8);
  if (file.gcount() < 8 || std::memcmp(prefix, kMagic, kMagicSize) != 0)
    throw UsageError(path + ": not a .npy file (expected the magic \\x93NUMPY)");
  const int major = prefix[6], minor = prefix[7];
  if ((major < 1 || major > 3) || minor != 0)
    throw UsageError(path + ": .npy format version " + std::to_string(major) + "." +
                     std::to_string(minor) + "; expected 1.0, 2.0 or 3.0");
  const std::size_t length_bytes = major == 1 ? 2 : 4;
  file.read(reinterpret_cast<char*>(prefix + 8), static_cast<std::streamsize>(length_bytes));
  if (file.gcount() < static_cast<std::streamsize>(length_bytes))
    throw UsageError(path + ": truncated .npy header");
  std::uint64_t header_length = prefix[8] | (prefix[9] << 8);
  if (length_bytes == 4)
    header_length |= (std::uint64_t(prefix[10]) << 16) | (std::uint64_t(prefix[11]) << 24);
  const std::uint64_t data_start = 8 + length_bytes + header_length;
  if (data_start > file_size)
    throw UsageError(path + ": truncated .npy header (" + std::to_string(header_length) +
                     " bytes announced, file has " + std::to_string(file_size) + ")");
  std::string text(header_length, '\0');
  file.read(text.data(), static_cast<std::streamsize>(header_length));
  if (text.empty() || text.back() != '\n')
    throw UsageError(path + ": bad .npy header: expected it to end with a newline");
  const Header header = HeaderParser(path, text).parse();
  const Descr descr = parse_descr(path, header.descr);

  const std::uint64_t count = element_count(path, header.shape, descr.bytes);
  const std::uint64_t expected = count * descr.bytes, found = file_size - data_start;
  if (found != expected)
    throw UsageError(path + ": " + (found < expected ? "truncated data" : "trailing data") +
                     ": expected " + std::to_string(expected) + " bytes for " + header.descr +
                     " shape " + shape_str(header.shape) + ", found " + std::to_string(found));

  auto read_exactly = [&](void* out) {
    file.read(static_cast<char*>(out), static_cast<std::streamsize>(expected));
    if (static_cast<std::uint64_t>(file.gcount()) != expected)
      throw UsageError(path + ": read error in the .npy data");
  };
  Tensor tensor = Tensor::empty(header.shape, descr.dtype);
  const bool reorder = header.fortran_order && header.shape.size() > 1;
  if (descr.bytes > 1 && !reorder) {
    if (expected > 0) read_exactly(tensor.raw_data());
    return tensor;
  }
  std::vector<std::uint8_t> bytes(expected);
  if (expected > 0) read_exactly(bytes.data());
  if (reorder) {
    std::vector<std::uint8_t> reordered(bytes.size());
    fortran_to_c(bytes.data(), reordered.data(), header.shape, descr.bytes, count);
    bytes.swap(reordered);
  }
  if (descr.bytes == 1) {
    std::int32_t* out = tensor.data<std::int32_t>();
    for (std::uint64_t k = 0; k < count; ++k)
      out[k] = descr.is_signed ? static_cast<std::int8_t>(bytes[k]) : bytes[k];
  } else if (expected > 0) {
    std::memcpy(tensor.raw_data(), bytes.data(), expected);
  }
  return tensor;
}

void write_npy(const std::string& path, const Tensor& tensor) {
  const Tensor host = tensor.contiguous().to(Device::cpu());
  std::string header = "{'descr': '" + descr_of(host.dtype()) +
                       "', 'fortran_order': False, 'shape': " + shape_literal(host.shape()) + ", }";
  // Pad with spaces and a newline so the data starts on a 64-byte boundary,
  // as NumPy does; headers over 64 KiB need the 4-byte length of version 2.0.
  const bool version2 = header.size() + 1 + 10 > 65535;
  const std::size_t prefix = version2 ? 12 : 10;
  const std::size_t total = (prefix + header.size() + 1 + 63) / 64 * 64;
  header.append(total - prefix - header.size() - 1, ' ');
  header.push_back('\n');

  const std::size_t data_bytes = static_cast<std::size_t>(host.numel()) * dtype_size(host.dtype());
  std::vector<std::uint8_t> prelude(kMagic, kMagic + kMagicSize);
  prelude.push_back(version2 ? 2 : 1);
  prelude.push_back(0);
  const std::uint64_t length = header.size();
  for (std::size_t k = 0; k < prefix - 8; ++k) prelude.push_back((length >> (8 * k)) & 0xFF);
  prelude.insert(prelude.end(), header.begin(), header.end());
  const auto* data = static_cast<const std::uint8_t*>(host.raw_data());
  write_file_atomically(path, {std::span<const std::uint8_t>(prelude),
                               std::span<const std::uint8_t>(data, data_bytes)});
}

}  // namespace laplex::data
