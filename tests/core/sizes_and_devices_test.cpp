// Sizes and devices that user input can ask for: a shape whose element or
// byte count passes 2^63 throws instead of wrapping to a small allocation
// (which the kernels then overran), and a device the machine lacks is a
// UsageError naming it instead of a CUDA failure later.
#include <gtest/gtest.h>

#include "core/device.h"
#include "core/error.h"
#include "core/shape.h"
#include "core/tensor.h"

namespace laplex {
namespace {

TEST(TensorSize, ShapesOfMoreThan2To63ElementsOrBytesThrowInsteadOfWrapping) {
  EXPECT_THROW(Tensor::empty({std::int64_t{1} << 62, 4}), Error);
  EXPECT_THROW(Tensor::empty({std::int64_t{1} << 61, 2}, DType::f64), Error);
  EXPECT_THROW(numel({std::int64_t{1} << 32, std::int64_t{1} << 32}), Error);
  EXPECT_EQ(numel({std::int64_t{1} << 31, std::int64_t{1} << 31}), std::int64_t{1} << 62);
  EXPECT_EQ(numel({}), 1);
  // No elements, but strides past 2^63 (found by fuzzing the file readers).
  EXPECT_THROW(Tensor::empty({0, std::int64_t{1} << 62, 4}), Error);
  EXPECT_EQ(contiguous_strides({0, std::int64_t{1} << 31, 4}),
            (Strides{std::int64_t{1} << 33, 4, 1}));
}

TEST(UsableDevice, NamesACudaDeviceTheMachineLacks) {
  EXPECT_TRUE(usable_device("cpu").is_cpu());
  EXPECT_THROW(usable_device("tpu"), UsageError);
  const int count = cuda_device_count();
  const std::string missing = "cuda:" + std::to_string(count);
  try {
    usable_device(missing);
    FAIL() << missing << " was accepted";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find(missing), std::string::npos) << e.what();
  }
  if (count > 0) EXPECT_EQ(usable_device("cuda:0"), Device::cuda(0));
}

}  // namespace
}  // namespace laplex
