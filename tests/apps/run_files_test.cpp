// The files a training run keeps appending to or holding: metrics.jsonl
// (whole records only) and the run_dir lock (one trainer at a time).
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "apps/train/metrics.h"
#include "apps/train/run_dir_lock.h"
#include "core/error.h"
#include "helpers/temp_dir.h"

namespace laplex::train {
namespace {

namespace fs = std::filesystem;

std::string read_all(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// A run killed mid-record left half a line; the resumed run appended to it,
// and the joined line parsed as nothing.
TEST(RunFiles, MetricsCutAnUnfinishedLastLineBeforeAppending) {
  const fs::path dir = laplex::testing::fresh_temp_dir("run_files_metrics");
  const fs::path path = dir / "metrics.jsonl";
  std::ofstream(path, std::ios::binary) << "{\"step\":1}\n{\"step\":2,\"lo";
  {
    MetricsWriter metrics(path.string());
    metrics.write({{"step", 3}});
  }
  EXPECT_EQ(read_all(path), "{\"step\":1}\n{\"step\":3}\n");
  {
    MetricsWriter metrics(path.string());  // a whole file is left as it is
    metrics.write({{"step", 4}});
  }
  EXPECT_EQ(read_all(path), "{\"step\":1}\n{\"step\":3}\n{\"step\":4}\n");
  std::ofstream(path, std::ios::binary | std::ios::trunc) << "no newline at all";
  MetricsWriter(path.string()).write({{"step", 5}});
  EXPECT_EQ(read_all(path), "{\"step\":5}\n");
}

// A resumed run logs again the steps between its checkpoint and the
// interruption; the records it will write again are dropped first (lines
// that do not parse always stay).
TEST(RunFiles, MetricsDropTheRecordsAResumedRunWritesAgain) {
  const fs::path dir = laplex::testing::fresh_temp_dir("run_files_resume");
  const fs::path path = dir / "metrics.jsonl";
  std::ofstream(path, std::ios::binary) << "{\"step\":1}\n{\"step\":2}\nnot json\n"
                                           "{\"note\":\"x\"}\n{\"step\":3}\n{\"step\":4}\n";
  {
    MetricsWriter metrics(path.string(), [](const nlohmann::json& r) {
      return !r.contains("step") || r.at("step").get<int>() <= 2;
    });
    metrics.write({{"step", 3}});
  }
  EXPECT_EQ(read_all(path), "{\"step\":1}\n{\"step\":2}\nnot json\n{\"note\":\"x\"}\n{\"step\":3}\n");
  EXPECT_FALSE(fs::exists(dir / "metrics.jsonl.tmp"));
}

// A second trainer on a live run_dir deleted the first one's checkpoint in
// progress. flock conflicts between two open files even in one process.
TEST(RunFiles, ASecondLockOnARunDirIsRefusedNamingTheHolder) {
  const fs::path dir = laplex::testing::fresh_temp_dir("run_files_lock");
  {
    const RunDirLock first(dir.string());
    try {
      const RunDirLock second(dir.string());
      ADD_FAILURE() << "a second lock was granted";
    } catch (const UsageError& e) {
      EXPECT_EQ(std::string(e.what()),
                "run_dir " + dir.string() + " is in use by another laplex-train (pid " +
                    std::to_string(::getpid()) +
                    "): wait for it to finish, or give this run another run_dir (--set run_dir=...)");
    }
  }
  EXPECT_NO_THROW(RunDirLock{dir.string()});  // released with its holder
}

}  // namespace
}  // namespace laplex::train
