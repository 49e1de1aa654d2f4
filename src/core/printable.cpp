#include "core/printable.h"

namespace laplex {

std::string printable(const std::string& text, std::size_t limit) {
  std::string out = text.substr(0, limit);
  for (char& c : out)
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) c = '?';
  return text.size() > limit ? out + "..." : out;
}

}  // namespace laplex
