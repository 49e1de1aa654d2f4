#include "data/npy.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "helpers/temp_dir.h"

namespace laplex::data {
namespace {

namespace fs = std::filesystem;

fs::path temp_dir(const std::string& name) { return testing::fresh_temp_dir("npy_" + name); }

// The first Python with NumPy, or "" (the pyenv shim on PATH may lack it).
std::string python_with_numpy() {
  for (const char* python : {"/usr/bin/python3", "python3"}) {
    const std::string probe = std::string(python) + " -c 'import numpy' >/dev/null 2>&1";
    if (std::system(probe.c_str()) == 0) return python;
  }
  return "";
}

int run_python(const std::string& python, const fs::path& dir, const std::string& script) {
  const fs::path file = dir / "script.py";
  std::ofstream(file) << "import numpy as np, os\nos.chdir(" << dir << ")\n" << script;
  return std::system((python + " " + file.string()).c_str());
}

void write_bytes(const fs::path& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

// A v1.0 file with the given header dict (padded to 64 bytes) and data.
std::string npy_file(const std::string& dict, const std::string& data, char major = 1) {
  std::string header = dict;
  while ((10 + header.size() + 1) % 64) header += ' ';
  header += '\n';
  std::string out = std::string("\x93NUMPY", 6) + major + '\0';
  out += static_cast<char>(header.size() & 0xFF);
  out += static_cast<char>(header.size() >> 8);
  return out + header + data;
}

void expect_usage_error(const fs::path& path, const std::string& needle) {
  try {
    read_npy(path.string());
    FAIL() << "no error for " << path;
  } catch (const UsageError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find(path.string()), std::string::npos) << message;
    EXPECT_NE(message.find(needle), std::string::npos) << message;
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  }
}

template <class T>
void expect_round_trip(const fs::path& dir, const Shape& shape) {
  std::vector<T> values(numel(shape));
  for (std::size_t k = 0; k < values.size(); ++k) values[k] = static_cast<T>(k * 3) - T(7) / T(2);
  const Tensor tensor = Tensor::from_vector(values, shape);
  const std::string path = (dir / "a.npy").string();
  write_npy(path, tensor);
  const Tensor back = read_npy(path);
  EXPECT_EQ(back.dtype(), tensor.dtype());
  EXPECT_EQ(back.shape(), shape);
  EXPECT_EQ(back.to_vector<T>(), values);
  // The data starts on a 64-byte boundary, as NumPy aligns it.
  EXPECT_EQ((fs::file_size(path) - values.size() * sizeof(T)) % 64, 0u);
}

TEST(NpyIo, RoundTripOfEveryDtypeAndRank) {
  const fs::path dir = temp_dir("roundtrip");
  for (const Shape& shape : {Shape{2, 3}, Shape{5}, Shape{}, Shape{0, 3}, Shape{2, 1, 3, 2}}) {
    SCOPED_TRACE(shape_str(shape));
    expect_round_trip<float>(dir, shape);
    expect_round_trip<double>(dir, shape);
    expect_round_trip<std::int32_t>(dir, shape);
    expect_round_trip<std::int64_t>(dir, shape);
  }
  // A non-contiguous view is written in its logical (row-major) order.
  const Tensor t = Tensor::from_vector<float>({1, 2, 3, 4, 5, 6}, {2, 3});
  write_npy((dir / "t.npy").string(), make_view(t, {3, 2}, {1, 3}, 0));
  EXPECT_EQ(read_npy((dir / "t.npy").string()).to_vector<float>(),
            (std::vector<float>{1, 4, 2, 5, 3, 6}));
  // Only the final file remains: no temporaries.
  EXPECT_EQ(std::distance(fs::directory_iterator(dir), fs::directory_iterator()), 2);
  EXPECT_THROW(write_npy((dir / "missing" / "x.npy").string(), t), UsageError);
  fs::remove_all(dir);
}

TEST(NpyIo, ReadsWhatNumpyWritesAndNumpyReadsWhatWeWrite) {
  const std::string python = python_with_numpy();
  if (python.empty()) GTEST_SKIP() << "python3 with numpy is not installed";
  const fs::path dir = temp_dir("numpy");
  ASSERT_EQ(run_python(python, dir, R"(
np.save('f4.npy', np.arange(6, dtype='<f4').reshape(2, 3) / 4)
np.save('f8_0d.npy', np.float64(2.5))
np.save('i8.npy', np.array([-3, 0, 2**40], dtype='<i8'))
np.save('i4_empty.npy', np.zeros((0, 4), dtype='<i4'))
np.save('u1.npy', np.array([[0, 255], [7, 128]], dtype='u1'))
np.save('i1.npy', np.array([-128, 5], dtype='i1'))
np.save('fortran.npy', np.asfortranarray(np.arange(24, dtype='<f8').reshape(2, 3, 4)))
a = np.arange(5, dtype='<i4')
for v in (2, 3):
    with open('v%d.npy' % v, 'wb') as f:
        np.lib.format.write_array(f, a, version=(v, 0))
)"),
            0);
  auto read = [&](const char* name) { return read_npy((dir / name).string()); };
  EXPECT_EQ(read("f4.npy").shape(), (Shape{2, 3}));
  EXPECT_EQ(read("f4.npy").to_vector<float>(),
            (std::vector<float>{0, 0.25f, 0.5f, 0.75f, 1, 1.25f}));
  EXPECT_EQ(read("f8_0d.npy").dim(), 0);
  EXPECT_EQ(read("f8_0d.npy").item(), 2.5);
  EXPECT_EQ(read("i8.npy").to_vector<std::int64_t>(),
            (std::vector<std::int64_t>{-3, 0, 1ll << 40}));
  EXPECT_EQ(read("i4_empty.npy").shape(), (Shape{0, 4}));
  EXPECT_EQ(read("u1.npy").dtype(), DType::i32);
  EXPECT_EQ(read("u1.npy").to_vector<std::int32_t>(), (std::vector<std::int32_t>{0, 255, 7, 128}));
  EXPECT_EQ(read("i1.npy").to_vector<std::int32_t>(), (std::vector<std::int32_t>{-128, 5}));
  std::vector<double> iota(24);
  for (int k = 0; k < 24; ++k) iota[k] = k;
  EXPECT_EQ(read("fortran.npy").shape(), (Shape{2, 3, 4}));
  EXPECT_EQ(read("fortran.npy").to_vector<double>(), iota);
  EXPECT_EQ(read("v2.npy").to_vector<std::int32_t>(), (std::vector<std::int32_t>{0, 1, 2, 3, 4}));
  EXPECT_EQ(read("v3.npy").to_vector<std::int32_t>(), (std::vector<std::int32_t>{0, 1, 2, 3, 4}));

  write_npy((dir / "ours_f4.npy").string(), Tensor::from_vector<float>({1.5f, -2, 3, 4}, {2, 2}));
  write_npy((dir / "ours_i8.npy").string(), Tensor::from_vector<std::int64_t>({9}, {1}));
  write_npy((dir / "ours_0d.npy").string(), Tensor::scalar(0.125, DType::f64));
  write_npy((dir / "ours_empty.npy").string(), Tensor::empty({3, 0}, DType::i32));
  EXPECT_EQ(run_python(python, dir, R"(
a = np.load('ours_f4.npy')
assert a.dtype == np.float32 and a.shape == (2, 2) and a.tolist() == [[1.5, -2], [3, 4]], a
b = np.load('ours_i8.npy')
assert b.dtype == np.int64 and b.shape == (1,) and b[0] == 9, b
c = np.load('ours_0d.npy')
assert c.dtype == np.float64 and c.shape == () and c == 0.125, c
d = np.load('ours_empty.npy')
assert d.dtype == np.int32 and d.shape == (3, 0), d
)"),
            0);
  fs::remove_all(dir);
}

TEST(NpyIo, MalformedFilesAreOneLineUsageErrorsNamingTheFile) {
  const fs::path dir = temp_dir("malformed");
  const std::string f4x2(8, '\0');
  const std::string good = "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }";
  struct Case {
    const char* name;
    std::string bytes;
    const char* needle;
  };
  const std::vector<Case> cases = {
      {"magic", "PK\x03\x04 this is a zip", "magic"},
      {"empty", "", "magic"},
      {"version", npy_file(good, f4x2, 4), "version 4.0"},
      {"truncated_header", npy_file(good, f4x2).substr(0, 30), "truncated .npy header"},
      {"no_newline",
       [&] {
         std::string b = npy_file(good, f4x2);
         b[63] = ' ';
         return b;
       }(),
       "newline"},
      {"syntax", npy_file("{'descr': '<f4' 'fortran_order': False, 'shape': (2,), }", f4x2), "'}'"},
      {"missing_key", npy_file("{'descr': '<f4', 'shape': (2,), }", f4x2), "keys"},
      {"extra_key",
       npy_file("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'x': 1}", f4x2),
       "found key 'x'"},
      {"bad_shape", npy_file("{'descr': '<f4', 'fortran_order': False, 'shape': (2, -1), }", f4x2),
       "dim"},
      {"shape_not_tuple",
       npy_file("{'descr': '<f4', 'fortran_order': False, 'shape': (2), }", f4x2), "1-d shape"},
      {"bad_bool", npy_file("{'descr': '<f4', 'fortran_order': 0, 'shape': (2,), }", f4x2),
       "True or False"},
      {"big_endian", npy_file("{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }", f4x2),
       "big-endian"},
      {"float16", npy_file("{'descr': '<f2', 'fortran_order': False, 'shape': (4,), }", f4x2),
       "unsupported dtype '<f2'"},
      {"object", npy_file("{'descr': '|O', 'fortran_order': False, 'shape': (1,), }", f4x2),
       "unsupported dtype"},
      {"truncated_data", npy_file(good, f4x2.substr(0, 7)), "truncated data"},
      {"trailing_data", npy_file(good, f4x2 + "junk"), "trailing data"},
      {"after_dict", npy_file(good + " 1", f4x2), "nothing after"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const fs::path path = dir / (std::string(c.name) + ".npy");
    write_bytes(path, c.bytes);
    expect_usage_error(path, c.needle);
  }
  // The well-formed version of the same file reads, and a missing file is an error too.
  write_bytes(dir / "good.npy", npy_file(good, f4x2));
  EXPECT_EQ(read_npy((dir / "good.npy").string()).shape(), (Shape{2}));
  expect_usage_error(dir / "absent.npy", "cannot open");
  fs::create_directories(dir / "folder.npy");
  expect_usage_error(dir / "folder.npy", "is a directory, expected a .npy file");
  fs::remove_all(dir);
}

// Found by mutation fuzzing: a byte flipped to a newline inside a key or
// the descr was quoted as it was, splitting the message over two lines.
TEST(NpyIo, ControlBytesInKeysAndDtypesAreNotQuotedRaw) {
  const fs::path dir = temp_dir("control_bytes");
  const std::string f4x2(8, '\0');
  write_bytes(dir / "key.npy",
              npy_file("{'de\ncr': '<f4', 'fortran_order': False, 'shape': (2,), }", f4x2));
  expect_usage_error(dir / "key.npy", "found key 'de?cr'");
  write_bytes(dir / "descr.npy",
              npy_file("{'descr': '\nf4', 'fortran_order': False, 'shape': (2,), }", f4x2));
  expect_usage_error(dir / "descr.npy", "unsupported dtype '?f4'");
  fs::remove_all(dir);
}

// Found by mutation fuzzing under UBSan: a dim of 0 made the element count
// 0, so (0, 2^62, 4) passed the size check and its strides overflowed int64.
TEST(NpyIo, EmptyShapesWithDimsPastTheInt64RangeAreUsageErrors) {
  const fs::path dir = temp_dir("zero_huge");
  write_bytes(dir / "a.npy", npy_file("{'descr': '<f4', 'fortran_order': False, 'shape': (0, "
                                      "4611686018427387904, 4), }",
                                      ""));
  expect_usage_error(dir / "a.npy", "too large");
  fs::remove_all(dir);
}

}  // namespace
}  // namespace laplex::data
