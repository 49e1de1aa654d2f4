#pragma once
// Text from a user's file quoted in an error message: a tensor name, a
// header key or a decoder's reason may hold a newline, any byte, or
// megabytes, and the message must stay one short readable line.
//   printable(text, limit)  the first `limit` bytes, every byte outside
//                           printable ASCII shown as '?', "..." when clipped
//   printable(value)        a number read from a file, in its shortest exact
//                           form ("-1e+30", "0.5"; std::to_string gave
//                           "-1000000015047466219876688855040.000000")
#include <cstddef>
#include <string>

namespace laplex {

std::string printable(const std::string& text, std::size_t limit = 80);
std::string printable(double value);

}  // namespace laplex
