#include "core/pinned_memory.h"

#include <gtest/gtest.h>

#include <cstdint>

#include "core/error.h"

namespace laplex {
namespace {

TEST(HostBuffer, PageableFallbackIsAlignedAndHasNothingToWaitFor) {
  HostBuffer buffer(100, /*pinned=*/false, 0);
  EXPECT_FALSE(buffer.pinned());
  EXPECT_EQ(buffer.bytes(), 100u);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(buffer.data()) % 64, 0u);
  buffer.wait_for_copies();
  // An empty copy touches no device.
  buffer.copy_to_device(nullptr, 100, 0);
}

TEST(HostBuffer, CopyPastTheEndIsRefused) {
  HostBuffer buffer(64, false, 0);
  EXPECT_THROW(buffer.copy_to_device(nullptr, 60, 8), Error);
  EXPECT_THROW(buffer.copy_to_device(nullptr, 65, 0), Error);
  EXPECT_THROW(buffer.copy_to_device(nullptr, 8, SIZE_MAX), Error);
}

}  // namespace
}  // namespace laplex
