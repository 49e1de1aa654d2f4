#include "core/printable.h"

#include <charconv>

namespace laplex {

std::string printable(const std::string& text, std::size_t limit) {
  std::string out = text.substr(0, limit);
  for (char& c : out)
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) c = '?';
  return text.size() > limit ? out + "..." : out;
}

std::string printable(double value) {
  char buffer[64];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
  return std::string(buffer, result.ptr);
}

}  // namespace laplex
