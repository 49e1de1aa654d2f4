// Running out of device memory is an OutOfMemory that leaves the device
// usable (label gpu): the benchmarks catch it to measure a smaller batch or
// to skip a row, and go on.
#include <gtest/gtest.h>

#include "core/error.h"
#include "core/tensor.h"
#include "helpers/device_twin.h"

namespace laplex {
namespace {

TEST(DeviceMemoryGpu, AnAllocationBeyondTheDeviceIsOutOfMemoryAndTheDeviceStaysUsable) {
  LAPLEX_REQUIRE_GPU();
  const Tensor kept = Tensor::full({1000}, 2.0, DType::f32, Device::cuda(0));
  // 4 PiB: more than any GPU holds.
  EXPECT_THROW(Tensor::empty({std::int64_t{1} << 50}, DType::f32, Device::cuda(0)), OutOfMemory);
  const Tensor after = Tensor::full({1000}, 3.0, DType::f32, Device::cuda(0));
  EXPECT_EQ(after.to(Device::cpu()).to_vector<float>()[999], 3.0f);
  EXPECT_EQ(kept.to(Device::cpu()).to_vector<float>()[0], 2.0f);
}

}  // namespace
}  // namespace laplex
