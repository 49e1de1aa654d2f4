#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <thread>

#include "apps/train/progress.h"

namespace laplex::train {
namespace {

// Throughput counts step time only: a paused stretch (an evaluation, a
// checkpoint) does not lower items/s, and nested pauses resume once.
TEST(Progress, PausedTimeIsNotCountedInThroughput) {
  Progress progress(10, 1000, false);
  progress.update(1, 0, NAN, 1000);
  progress.pause();
  progress.pause();  // a checkpoint inside an evaluation
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  progress.resume();
  progress.resume();
  progress.resume();  // unbalanced: ignored
  progress.update(2, 0, NAN, 1000);
  // 2000 items over the (microsecond) update calls; with the 300 ms counted
  // it would be under 6 700.
  EXPECT_GT(progress.items_per_second(), 50000.0);

  Progress counted(10, 1000, false);
  counted.update(1, 0, NAN, 1000);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  counted.update(2, 0, NAN, 1000);
  EXPECT_LT(counted.items_per_second(), 6700.0);
}

}  // namespace
}  // namespace laplex::train
