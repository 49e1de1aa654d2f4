#include "core/safetensors.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <vector>

#include "core/printable.h"

namespace laplex {

namespace {

std::string safetensors_dtype(DType dtype) {
  switch (dtype) {
    case DType::f32: return "F32";
    case DType::f64: return "F64";
    case DType::i32: return "I32";
    case DType::i64: return "I64";
  }
  return "?";
}

bool parse_safetensors_dtype(const std::string& name, DType& out) {
  if (name == "F32") out = DType::f32;
  else if (name == "F64") out = DType::f64;
  else if (name == "I32") out = DType::i32;
  else if (name == "I64") out = DType::i64;
  else return false;
  return true;
}

// A header is padded with spaces to a multiple of 8 so the data that
// follows stays aligned, as the reference implementation does.
constexpr std::size_t kHeaderAlign = 8;
// A sane cap against garbage length fields (the reference caps at 100 MB).
constexpr std::uint64_t kMaxHeader = 100u << 20;

// nlohmann's message ends with "; last read: '<the token so far>'", which
// for a broken metadata string is the whole string; its position and
// reason are what help.
std::string json_error(const std::string& what) {
  std::string reason = what.substr(0, what.find("; last read"));
  if (const auto bracket = reason.find("] ");
      reason.rfind("[json.", 0) == 0 && bracket != std::string::npos)
    reason.erase(0, bracket + 2);
  return printable(reason, 200);
}

}  // namespace

void write_safetensors(const std::string& path, const std::map<std::string, Tensor>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  nlohmann::json header = nlohmann::json::object();
  std::vector<Tensor> host;
  std::uint64_t offset = 0;
  for (const auto& [name, tensor] : tensors) {
    if (name == "__metadata__") throw Error("safetensors: '__metadata__' is not a tensor name");
    Tensor t = tensor.detach().to(Device::cpu()).contiguous();
    const std::uint64_t bytes = t.numel() * dtype_size(t.dtype());
    header[name] = {{"dtype", safetensors_dtype(t.dtype())},
                    {"shape", t.shape()},
                    {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
    host.push_back(t);
  }
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::string text = header.dump();
  text.append((kHeaderAlign - text.size() % kHeaderAlign) % kHeaderAlign, ' ');

  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) throw Error(path + ": cannot open for writing");
  const std::uint64_t length = text.size();
  unsigned char prefix[8];
  for (int i = 0; i < 8; ++i) prefix[i] = static_cast<unsigned char>(length >> (8 * i));
  out.write(reinterpret_cast<const char*>(prefix), 8);
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
  for (const Tensor& t : host)
    out.write(static_cast<const char*>(t.raw_data()),
              static_cast<std::streamsize>(t.numel() * dtype_size(t.dtype())));
  out.flush();
  if (!out) throw Error(path + ": write failed (disk full?)");
}

SafetensorsFile read_safetensors(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    throw UsageError(path + ": is a directory, expected a safetensors file");
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) throw UsageError(path + ": cannot open safetensors file");
  const std::streamoff end = in.tellg();
  if (end < 0) throw UsageError(path + ": cannot read safetensors file (no size)");
  const auto file_size = static_cast<std::uint64_t>(end);
  in.seekg(0);
  auto fail = [&](const std::string& what) -> void {
    throw UsageError(path + ": not a valid safetensors file: " + what);
  };
  if (file_size < 8) fail("shorter than the 8-byte header length");
  unsigned char prefix[8];
  if (!in.read(reinterpret_cast<char*>(prefix), 8)) fail("cannot read the header length");
  std::uint64_t length = 0;
  for (int i = 0; i < 8; ++i) length |= static_cast<std::uint64_t>(prefix[i]) << (8 * i);
  if (length > kMaxHeader || 8 + length > file_size)
    fail("header length " + std::to_string(length) + " does not fit in a file of " +
         std::to_string(file_size) + " bytes (truncated?)");
  std::string text(length, '\0');
  if (!in.read(text.data(), static_cast<std::streamsize>(length))) fail("cannot read the header");
  // nlohmann ends its input at a NUL byte, so a header that grew over the
  // data ("{...}\0<tensor bytes>") would parse, and every tensor be read
  // from the wrong offset.
  if (const auto nul = text.find('\0'); nul != std::string::npos)
    fail("header holds a NUL byte (at byte " + std::to_string(8 + nul) + ")");

  nlohmann::json header;
  try {
    header = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    fail("header is not JSON (" + json_error(e.what()) + ")");
  }
  if (!header.is_object()) fail("header is not a JSON object");

  SafetensorsFile file;
  struct Entry {
    std::string name;
    DType dtype;
    Shape shape;
    std::uint64_t begin, end;
  };
  std::vector<Entry> entries;
  for (auto it = header.begin(); it != header.end(); ++it) {
    if (it.key() == "__metadata__") {
      if (!it.value().is_object()) fail("__metadata__ is not an object");
      for (auto m = it.value().begin(); m != it.value().end(); ++m) {
        if (!m.value().is_string()) fail("__metadata__." + printable(m.key()) + " is not a string");
        file.metadata[m.key()] = m.value().get<std::string>();
      }
      continue;
    }
    const auto& v = it.value();
    Entry e;
    e.name = it.key();
    if (!v.is_object() || !v.contains("dtype") || !v.contains("shape") ||
        !v.contains("data_offsets") || !v["dtype"].is_string() || !v["shape"].is_array() ||
        !v["data_offsets"].is_array() || v["data_offsets"].size() != 2)
      fail("entry '" + printable(e.name) + "' lacks dtype, shape or data_offsets");
    if (!parse_safetensors_dtype(v["dtype"].get<std::string>(), e.dtype))
      fail("entry '" + printable(e.name) + "' has unsupported dtype " +
           printable(v["dtype"].get<std::string>()));
    // Every size below 2^63 bytes, so no product overflows. The bound skips
    // zero dims: (0, 2^62, 4) holds nothing, but its strides would still
    // overflow int64.
    std::uint64_t bytes = dtype_size(e.dtype), bound = bytes;
    for (const auto& d : v["shape"]) {
      if (!d.is_number_unsigned()) fail("entry '" + printable(e.name) + "' has a bad shape");
      const auto size = d.get<std::uint64_t>();
      if (size > (std::uint64_t{1} << 62) || (size > 0 && bound > (std::uint64_t{1} << 62) / size))
        fail("entry '" + printable(e.name) + "' has a shape of more than 2^62 bytes");
      bytes *= size;
      bound *= std::max<std::uint64_t>(size, 1);
      e.shape.push_back(static_cast<std::int64_t>(size));
    }
    if (!v["data_offsets"][0].is_number_unsigned() || !v["data_offsets"][1].is_number_unsigned())
      fail("entry '" + printable(e.name) + "' has bad data_offsets");
    e.begin = v["data_offsets"][0].get<std::uint64_t>();
    e.end = v["data_offsets"][1].get<std::uint64_t>();
    if (e.end < e.begin || e.end - e.begin != bytes)
      fail("entry '" + printable(e.name) +
           "' has data_offsets that do not match its shape and dtype");
    entries.push_back(std::move(e));
  }
  // The tensors must tile the data section exactly: no gaps, no overlaps.
  std::sort(entries.begin(), entries.end(),
            [](const Entry& a, const Entry& b) { return a.begin < b.begin; });
  std::uint64_t expected = 0;
  for (const auto& e : entries) {
    if (e.begin != expected)
      fail("tensor data of '" + printable(e.name) + "' overlaps or leaves a gap");
    expected = e.end;
  }
  const std::uint64_t data_size = file_size - 8 - length;
  if (expected != data_size)
    fail("data section holds " + std::to_string(data_size) + " bytes, the header describes " +
         std::to_string(expected) + " (truncated?)");
  const std::uint64_t data_start = 8 + length;
  for (const auto& e : entries) {
    Tensor t = Tensor::empty(e.shape, e.dtype);
    in.seekg(static_cast<std::streamoff>(data_start + e.begin));
    in.read(static_cast<char*>(t.raw_data()), static_cast<std::streamsize>(e.end - e.begin));
    if (!in) fail("could not read the data of '" + printable(e.name) + "'");
    file.tensors.emplace(e.name, t);
  }
  return file;
}

}  // namespace laplex
