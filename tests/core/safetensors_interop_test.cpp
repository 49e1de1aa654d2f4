// Our safetensors files against the real `safetensors` Python library
// (installed into .venv by scripts/setup.sh --python): it must read what we
// write, and we must read what it writes.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>

#include "core/safetensors.h"

namespace laplex {
namespace {

TEST(SafetensorsInterop, PythonLibraryReadsAndWritesOurFormat) {
  const std::string python = std::string(LAPLEX_SOURCE_DIR) + "/.venv/bin/python";
  if (!std::filesystem::exists(python))
    GTEST_SKIP() << "no .venv with safetensors (run scripts/setup.sh --python)";
  const auto dir = std::filesystem::temp_directory_path();
  const std::string ours = (dir / "laplex_interop_ours.safetensors").string();
  const std::string theirs = (dir / "laplex_interop_theirs.safetensors").string();
  write_safetensors(ours,
                    {{"model.0.t", Tensor::from_vector<float>({0.25f, -1.5f, 3.0f}, {3})},
                     {"model.0.rho", Tensor::from_vector<double>({0.125}, {1})},
                     {"step", Tensor::from_vector<std::int64_t>({41}, {1})}},
                    {{"format_version", "1"}});

  const std::string command = python + " " + LAPLEX_SOURCE_DIR +
                              "/scripts/safetensors_roundtrip.py " + ours + " " + theirs;
  FILE* pipe = popen(command.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string output;
  char buffer[512];
  while (fgets(buffer, sizeof buffer, pipe)) output += buffer;
  ASSERT_EQ(pclose(pipe), 0) << output;
  EXPECT_NE(output.find("model.0.t float32 [3] 1.75"), std::string::npos) << output;
  EXPECT_NE(output.find("model.0.rho float64 [1] 0.125"), std::string::npos) << output;
  EXPECT_NE(output.find("step int64 [1] 41.0"), std::string::npos) << output;
  EXPECT_NE(output.find("('format_version', '1')"), std::string::npos) << output;

  const auto back = read_safetensors(theirs);
  EXPECT_EQ(back.metadata.at("origin"), "python");
  EXPECT_EQ(back.tensors.at("model.0.t").to_vector<float>(), (std::vector<float>{0.5f, -3.0f, 6.0f}));
  EXPECT_EQ(back.tensors.at("model.0.rho").to_vector<double>(), (std::vector<double>{0.25}));
  EXPECT_EQ(back.tensors.at("step").to_vector<std::int64_t>(), (std::vector<std::int64_t>{82}));
  std::filesystem::remove(ours);
  std::filesystem::remove(theirs);
}

}  // namespace
}  // namespace laplex
