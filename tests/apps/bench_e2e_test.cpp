// laplex-bench as a user runs it (label e2e). order-search: its rows measure
// real searches, so on a smooth field the sparse search must land next to
// the exact one in cost and follow the grid, far from the random start.
// laplex: every row holds the LAPLEX timings next to both peers', and its
// derived columns are the ratios of the timings it reports.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "helpers/process.h"
#include "helpers/temp_dir.h"

namespace laplex {
namespace {

const std::string kBench = testing::program_path("laplex-bench");

std::vector<nlohmann::json> json_rows(const std::string& output) {
  std::vector<nlohmann::json> rows;
  std::istringstream in(output);
  std::string line;
  while (std::getline(in, line))
    if (!line.empty() && line[0] == '{') rows.push_back(nlohmann::json::parse(line));
  return rows;
}

TEST(BenchE2E, OrderSearchRowsCompareTheSparseSearchWithTheExactOne) {
  const auto r = testing::run_command(kBench + " order-search --n 1200 --rows 32 --json 2>&1");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto rows = json_rows(r.output);
  ASSERT_EQ(rows.size(), 2u) << r.output;
  const nlohmann::json& exact = rows[0];
  const nlohmann::json& sparse = rows[1];
  EXPECT_EQ(exact["search"], "exact");
  EXPECT_EQ(sparse["search"], "sparse");
  EXPECT_EQ(sparse["grid"], "30x40");
  for (const auto& row : rows) {
    EXPECT_GT(row["ms"].get<double>(), 0.0);
    // Costs are negative: the found path is far better than the random start.
    EXPECT_LT(row["cost"].get<double>(), 10 * row["start_cost"].get<double>());
    EXPECT_GT(row["grid_links"].get<double>(), 0.9);
  }
  EXPECT_LT(sparse["cost"].get<double>(), 0.98 * exact["cost"].get<double>());
  EXPECT_NE(sparse["phases"].get<std::string>().find("neighbours"), std::string::npos);
}

TEST(BenchE2E, OrderSearchRejectsBadFlagsWithOneLine) {
  const auto r = testing::run_command(kBench + " order-search --n 784 --rows 1 2>&1");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("--rows"), std::string::npos) << r.output;
  const auto s = testing::run_command(kBench + " order-search --n 784 --searches fast 2>&1");
  EXPECT_NE(s.exit_code, 0);
  EXPECT_NE(s.output.find("--searches"), std::string::npos) << s.output;
}

TEST(BenchE2E, LaplexRowsTimeTheOperatorNextToItsPeers) {
  const auto r = testing::run_command(
      kBench + " laplex --sweep --max-n 2048 --batch 8 --repeats 3 --anchors sorted --json 2>&1");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto rows = json_rows(r.output);
  ASSERT_EQ(rows.size(), 2u) << r.output;
  EXPECT_EQ(rows[0]["n"], 1024);
  EXPECT_EQ(rows[1]["n"], 2048);
  for (const auto& row : rows) {
    EXPECT_EQ(row["m"], row["n"]);
    EXPECT_EQ(row["batch"], 8);
    EXPECT_EQ(row["device"], "cpu");
    EXPECT_EQ(row["anchors"], "sorted");
    for (const char* column : {"sort_ms", "fwd_ms", "fwdbwd_ms", "fft_ms", "dense_ms", "gb_per_s"})
      EXPECT_GT(row[column].get<double>(), 0.0) << column << " in " << row.dump();
    const double fwd = row["fwd_ms"].get<double>();
    EXPECT_NEAR(row["scan_ms"].get<double>(), fwd - row["sort_ms"].get<double>(), 1e-9 * fwd);
    EXPECT_NEAR(row["ratio_fft"].get<double>(), fwd / row["fft_ms"].get<double>(), 1e-9);
    EXPECT_NEAR(row["bwd_over_fwd"].get<double>(), row["fwdbwd_ms"].get<double>() / fwd, 1e-9);
  }
}

// One row per model, timed; a row that cannot fit in memory is skipped with
// a note before anything its size is allocated, and the run goes on (at
// n = 10^8 the diagonal model's step took all 24 GiB of the development
// machine and the out-of-memory killer ended the run, rows measured before
// it lost). PPCA of rank 64 at 2^31 - 1 dimensions needs terabytes.
TEST(BenchE2E, CovarianceRowsTimeEachModelAndSkipRowsThatCannotFit) {
  auto r = testing::run_command(kBench +
                                " covariance --n 784 --batch 4 --repeats 2 --models laplex_ou_fused"
                                " diagonal ppca full --json 2>&1");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto rows = json_rows(r.output);
  ASSERT_EQ(rows.size(), 4u) << r.output;
  EXPECT_EQ(rows[2]["model"], "ppca_k64");
  for (const auto& row : rows) {
    EXPECT_EQ(row["n"], 784);
    EXPECT_EQ(row["batch"], 4);
    EXPECT_GT(row["params"].get<double>(), 0.0) << row.dump();
    for (const char* column : {"ms", "step_ms"})
      EXPECT_GT(row[column].get<double>(), 0.0) << column << " in " << row.dump();
  }
  r = testing::run_command(kBench + " covariance --n 2147483647 --batch 8 --models ppca --json 2>&1");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  rows = json_rows(r.output);
  ASSERT_EQ(rows.size(), 1u) << r.output;
  EXPECT_EQ(rows[0]["note"].get<std::string>().rfind("skipped: needs ~", 0), 0u) << r.output;
  EXPECT_FALSE(rows[0].contains("ms")) << r.output;
  EXPECT_NE(r.output.find("laplex-bench covariance: ppca at n = 2147483647, batch 8 skipped"),
            std::string::npos)
      << r.output;
}

// Rows up to the calibration's 2^18 dimensions, and the full model, are
// sized too, from x and the parameters: --n 1000 --batch 5000000 (20 GB of
// x) was attempted. A row whose x cannot fit is skipped before the
// calibration, which holds batch x 2^18 floats itself (at batch 2^31 it
// ended the run with "out of memory", exit 1). x here is 8 TB and more.
TEST(BenchE2E, CovarianceSkipsRowsWhoseInputsCannotFitBeforeCalibrating) {
  const auto r = testing::run_command(
      kBench + " covariance --n 1000 300000 --batch 2147483648 --models diagonal,full --json 2>&1");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto rows = json_rows(r.output);
  ASSERT_EQ(rows.size(), 4u) << r.output;
  for (int i : {0, 1, 2}) {
    EXPECT_EQ(rows[i]["note"].get<std::string>().rfind("skipped: needs ~", 0), 0u) << r.output;
    EXPECT_FALSE(rows[i].contains("ms")) << r.output;
  }
  EXPECT_EQ(rows[3]["note"], "n > max_dims") << r.output;
  for (const char* line : {"diagonal at n = 1000, batch 2147483648 skipped: needs ~",
                           "full at n = 1000, batch 2147483648 skipped: needs ~",
                           "diagonal at n = 300000, batch 2147483648 skipped: needs ~"})
    EXPECT_NE(r.output.find(std::string("laplex-bench covariance: ") + line), std::string::npos)
        << r.output;
}

TEST(BenchE2E, LaplexRejectsBadFlagsWithOneLine) {
  const auto a = testing::run_command(kBench + " laplex --n 1024 --anchors shuffled 2>&1");
  EXPECT_EQ(a.exit_code, 2);
  EXPECT_NE(a.output.find("--anchors"), std::string::npos) << a.output;
  const auto d = testing::run_command(kBench + " laplex --n 1024 --device tpu 2>&1");
  EXPECT_EQ(d.exit_code, 2);
  EXPECT_NE(d.output.find("--device"), std::string::npos) << d.output;
  const auto b = testing::run_command(kBench + " laplex --n 1024 --batch 0 2>&1");
  EXPECT_EQ(b.exit_code, 2);
  EXPECT_NE(b.output.find("--batch"), std::string::npos) << b.output;
  const auto l = testing::run_command(kBench + " laplex --n 1024 --lanes 12 2>&1");
  EXPECT_EQ(l.exit_code, 2);
  EXPECT_NE(l.output.find("--lanes"), std::string::npos) << l.output;
}

// Every subcommand bounds its counts before it runs: --threads 100000 once
// crashed OpenMP's runtime (SIGSEGV), and zero repeats, a one-image batch
// norm or an empty sweep ran and printed nothing or an internal error.
TEST(BenchE2E, EveryBenchRejectsOutOfRangeCountsWithOneLine) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"mlp-step --threads 100000 --no-peer", "--threads"},
      {"conv --threads -5 --no-peer", "--threads"},
      {"mlp-step --steps 0 --no-peer", "--steps"},
      {"conv --repeats 0 --no-peer", "--repeats"},
      {"conv --batch 1 --no-peer", "--batch"},
      {"matmul --repeats -5", "--repeats"},
      {"covariance --n 64 --rank 0", "--rank"},
      {"laplex --sweep --max-n 1000", "--max-n"},
      {"laplex --sweep --n 4096", "--n excludes --sweep"},
      {"laplex --max-n 4096", "--max-n requires --sweep"},
      {"bogus", "unknown benchmark 'bogus'"},
  };
  for (const auto& [arguments, expected] : cases) {
    const auto r = testing::run_command(kBench + " " + arguments + " 2>&1");
    EXPECT_EQ(r.exit_code, 2) << arguments << ": " << r.output;
    EXPECT_NE(r.output.find(expected), std::string::npos) << arguments << ": " << r.output;
    EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << arguments << ": " << r.output;
  }
}

// Runs laplex-bench and expects a usage error: exit 2, nothing on stdout
// (no half-written table), one line on stderr that contains `expected`.
// (run_command sends the group's stderr to its pipe; the braces keep each
// redirection inside to the program.)
void expect_usage_error(const std::string& arguments, const std::string& expected) {
  const auto out = testing::run_command("{ " + kBench + " " + arguments + " 2>/dev/null; }");
  EXPECT_EQ(out.exit_code, 2) << arguments << ": " << out.output;
  EXPECT_EQ(out.output, "") << arguments;
  const auto err = testing::run_command("{ " + kBench + " " + arguments + " 2>&1 >/dev/null; }");
  EXPECT_NE(err.output.find(expected), std::string::npos) << arguments << ": " << err.output;
  EXPECT_EQ(std::count(err.output.begin(), err.output.end(), '\n'), 1) << arguments << ": " << err.output;
}

// Every size is checked before the first row: n = 60000 started to
// allocate 43 GB, 10^5 ended in "out of memory" (exit 1) and 2^40 in a
// shape error that did not name --sizes. 2^31 - 1 needs exabytes.
TEST(BenchE2E, MatmulRefusesSizesThatCannotRunBeforeAnyRow) {
  expect_usage_error("matmul --sizes 64,2147483647 --repeats 1",
                     "--sizes: n = 2147483647 needs ~");
  expect_usage_error("matmul --sizes 2147483647 --repeats 1", "MemAvailable");
  expect_usage_error("matmul --sizes 64,1099511627776 --repeats 1",
                     "--sizes: expected sizes in [1, 2147483647], got 1099511627776");
  expect_usage_error("matmul --sizes 0", "--sizes: expected sizes in [1, 2147483647], got 0");
}

// List flags take separate values and comma-separated ones; an empty item
// is an error (CLI11's delimiter dropped them: "--sizes 1,,2" and "8," ran
// without a word), and every item is checked before the first row prints
// (covariance --json printed the rows for 784 and then refused 0).
TEST(BenchE2E, ListFlagsRefuseEmptyItemsAndBadItemsBeforeAnyRow) {
  expect_usage_error("matmul --sizes 1,,2", "--sizes: empty item");
  expect_usage_error("matmul --sizes 8,", "--sizes: empty item");
  expect_usage_error("matmul --sizes 8,abc", "--sizes: expected integers, got 'abc'");
  expect_usage_error("covariance --n 784,,1000", "--n: empty item");
  expect_usage_error("covariance --n 784 --models diagonal,", "--models: empty item");
  expect_usage_error("order-search --n ,784", "--n: empty item");
  expect_usage_error("order-search --n 784 --searches sparse,,exact", "--searches: empty item");
  expect_usage_error("covariance --n 784 0 --batch 2 --models diagonal --json",
                     "--n: sizes must be in [1, 2147483647], got 0");
  expect_usage_error("covariance --n 784 --batch 2 --models diagonal,bogus --json",
                     "--models: unknown model bogus");
  expect_usage_error("order-search --n 784 2 --rows 4 --json", "--n: sizes must be >= 4, got 2");
  const auto r = testing::run_command(kBench + " matmul --sizes 32,48 64 --repeats 1 --json 2>&1");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto rows = json_rows(r.output);
  ASSERT_EQ(rows.size(), 3u) << r.output;
  EXPECT_EQ(rows[0]["m"], 32);
  EXPECT_EQ(rows[1]["m"], 48);
  EXPECT_EQ(rows[2]["m"], 64);
}

// Sizes that cannot fit are refused from the flags before anything is
// allocated, naming the flag: conv at batch 2^20 reached several GiB and
// ended in "out of memory" (exit 1); order-search at 2^29 pixels grew past
// 8.5 GB. Both need terabytes or hundreds of GiB.
TEST(BenchE2E, ConvAndOrderSearchRefuseSizesThatCannotFit) {
  expect_usage_error("conv --batch 1048576 --repeats 1 --no-peer", "--batch: 1048576 images need ~");
  expect_usage_error("order-search --n 536870912 --rows 2 --searches sparse",
                     "--n: 536870912 pixels at --rows 2 need ~");
  expect_usage_error("order-search --n 784 536870912 --rows 2 --json", "MemAvailable");
}

// --python is a program, run without a shell: 'touch ...; true' ran the
// touch, a path with spaces broke, and '' is a usage error. The stand-in
// peer answers only when it is given the peer script as its argument.
TEST(BenchE2E, PythonPeerRunsWithoutAShell) {
  const auto dir = testing::fresh_temp_dir("bench_python_peer") / "with space";
  std::filesystem::create_directories(dir);
  const auto injected = dir / "injected";
  const auto r = testing::run_command(kBench + " mlp-step --steps 1 --python 'touch \"" +
                                      injected.string() + "\"; true' 2>&1");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_FALSE(std::filesystem::exists(injected)) << r.output;
  EXPECT_NE(r.output.find("PyTorch peer bench_mlp_torch.py unavailable"), std::string::npos)
      << r.output;

  const auto python = dir / "fake python";
  std::ofstream(python) << "#!/bin/sh\n"
                           "case \"$1\" in *bench_mlp_torch.py) ;; *) exit 1 ;; esac\n"
                           "echo '{\"ms_per_step\": 2.5, \"torch\": \"stand-in\"}'\n";
  std::filesystem::permissions(python, std::filesystem::perms::owner_all);
  const auto p = testing::run_command(kBench + " mlp-step --steps 1 --json --python '" +
                                      python.string() + "' 2>&1");
  ASSERT_EQ(p.exit_code, 0) << p.output;
  const auto rows = json_rows(p.output);
  ASSERT_EQ(rows.size(), 1u) << p.output;
  EXPECT_EQ(rows[0]["torch_ms"], 2.5) << p.output;
  EXPECT_EQ(rows[0]["torch_version"], "stand-in") << p.output;

  expect_usage_error("mlp-step --python ''", "--python");
  expect_usage_error("conv --python '' --batch 2", "--python");
}

// -h/--help anywhere prints the help of the benchmark it follows (CLI11
// checked the other values first: "laplex --n abc --help" was exit 2), and
// an option before any benchmark is named ("A subcommand is required").
TEST(BenchE2E, HelpWinsAnywhereAndUnknownTopLevelOptionsAreNamed) {
  const std::vector<std::pair<std::string, std::string>> helps = {
      {"laplex --n abc --help", "Usage: laplex-bench laplex"},
      {"matmul --repeats 0 --help", "Usage: laplex-bench matmul"},
      {"covariance --n 1,,2 -h", "Usage: laplex-bench covariance"},
      {"--help", "Subcommands:"},
  };
  for (const auto& [arguments, expected] : helps) {
    const auto r = testing::run_command(kBench + " " + arguments + " 2>&1");
    EXPECT_EQ(r.exit_code, 0) << arguments << ": " << r.output;
    EXPECT_NE(r.output.find(expected), std::string::npos) << arguments << ": " << r.output;
  }
  expect_usage_error("--foo", "unknown option '--foo'");
  expect_usage_error("--version", "unknown option '--version'");
}

// Results on a standard output that cannot take them (a full disk under
// --json > result.json) ended in exit 0 and an empty file.
TEST(BenchE2E, AFailedWriteToStandardOutputIsAnError) {
  // Inside braces, since run_command appends its own 2>&1.
  const auto r = testing::run_command("{ " + kBench +
                                      " laplex --n 1024 --batch 1 --repeats 1 --json 2>&1 >/dev/full; }");
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("laplex-bench: error: standard output: write failed (No space left on device)"),
            std::string::npos)
      << r.output;
}

// One explicit --n that does not fit even at batch 1 is a usage error (it
// printed a skip note and an empty table, exit 0); a sweep still skips
// such sizes and goes on. 2^20 heads of 2^32 events need petabytes, at
// batch 2^31 past 2^64 bytes (the estimate saturates instead of wrapping).
TEST(BenchE2E, LaplexSingleSizeThatCannotFitIsAnErrorASweepSkipsIt) {
  expect_usage_error("laplex --n 2147483647 --batch 1 --heads 1048576",
                     "--n: 2147483647 cannot run: even batch 1 needs ~");
  expect_usage_error("laplex --n 2147483647 --batch 2147483648 --heads 1048576",
                     "--n: 2147483647 cannot run: even batch 1 needs ~");
  // When --m is what does not fit, the message names it too.
  expect_usage_error("laplex --n 64 --m 2147483647 --batch 1 --heads 1048576",
                     "--n 64 --m 2147483647: cannot run: even batch 1 needs ~");
  const auto r = testing::run_command(
      kBench + " laplex --sweep --max-n 2048 --m 2147483647 --heads 1048576 --batch 1 --json 2>&1");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(json_rows(r.output).empty()) << r.output;
  for (const char* n : {"1024", "2048"})
    EXPECT_NE(r.output.find(std::string("laplex-bench: n = ") + n + " skipped: even batch 1 needs ~"),
              std::string::npos)
        << r.output;
}

// --lanes fixes the forward's chunks; the row says which it used.
TEST(BenchE2E, LaplexLanesAreReported) {
  for (int lanes : {8, 32}) {
    const auto r = testing::run_command(kBench + " laplex --n 4096 --batch 64 --repeats 1 " +
                                        "--lanes " + std::to_string(lanes) + " --json 2>&1");
    ASSERT_EQ(r.exit_code, 0) << r.output;
    const auto rows = json_rows(r.output);
    ASSERT_EQ(rows.size(), 1u) << r.output;
    EXPECT_EQ(rows[0]["lanes"], lanes) << r.output;
  }
}

}  // namespace
}  // namespace laplex
