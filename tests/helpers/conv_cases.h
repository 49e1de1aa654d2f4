#pragma once
// The convolution shapes the conv2d tests sweep (the CPU kernels against the
// composed reference, cuDNN against the CPU): kernels 1/3/5, strides 1/2,
// padding 0/1/2, batches 1/3 and channels 1/3/16.
#include <cstdint>
#include <string>
#include <vector>

#include "layers/conv/unfold.h"

namespace laplex::testing {

struct ConvCase {
  std::int64_t batch, in, out, height, width;
  Window2d window;
};

inline std::string describe(const ConvCase& c) {
  return "batch " + std::to_string(c.batch) + ", channels " + std::to_string(c.in) + " -> " +
         std::to_string(c.out) + ", image " + std::to_string(c.height) + "x" +
         std::to_string(c.width) + ", kernel " + std::to_string(c.window.kernel) + ", stride " +
         std::to_string(c.window.stride) + ", padding " + std::to_string(c.window.padding);
}

inline const std::vector<ConvCase>& conv_cases() {
  static const std::vector<ConvCase> cases = {
      {1, 1, 1, 5, 5, {1, 1, 0}},   {3, 3, 16, 7, 6, {1, 2, 0}},  {1, 3, 3, 8, 8, {3, 1, 1}},
      {3, 16, 3, 9, 11, {3, 2, 1}}, {3, 1, 16, 6, 7, {3, 1, 0}},  {1, 16, 16, 10, 10, {3, 2, 2}},
      {3, 3, 1, 12, 9, {5, 1, 2}},  {1, 1, 3, 11, 12, {5, 2, 0}}, {3, 16, 16, 13, 13, {5, 2, 1}},
      {3, 3, 3, 5, 5, {5, 1, 0}},   {1, 3, 16, 4, 4, {1, 1, 1}},  {3, 16, 1, 7, 8, {3, 1, 2}},
  };
  return cases;
}

}  // namespace laplex::testing
