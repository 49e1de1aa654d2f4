#pragma once
// The safetensors file format (the format of Hugging Face's `safetensors`
// library): an 8-byte little-endian header length N, N bytes of JSON
// ({name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__":
// {string: string}}), then the tensors' bytes back to back, row-major,
// little-endian. Checkpoints use it so PyTorch users can read our weights
// with safetensors.torch.load_file.
#include <map>
#include <string>

#include "core/tensor.h"

namespace laplex {

struct SafetensorsFile {
  std::map<std::string, Tensor> tensors;  // CPU tensors
  std::map<std::string, std::string> metadata;
};

// Writes `path` directly (callers wanting atomicity write a temporary name
// and rename). Tensors may live on any device; they are copied to the host.
void write_safetensors(const std::string& path, const std::map<std::string, Tensor>& tensors,
                       const std::map<std::string, std::string>& metadata = {});

// Reads and validates the whole file: header JSON, dtypes, shapes, offsets
// that tile the data exactly, file length. Any defect is a UsageError naming
// the file and what was wrong (a truncated or foreign file is user input).
SafetensorsFile read_safetensors(const std::string& path);

}  // namespace laplex
