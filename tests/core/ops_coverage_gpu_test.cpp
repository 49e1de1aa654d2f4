// The engine ops that ops_gpu_test.cpp leaves out, on cuda:0 against their
// CPU twins through the same harness (label gpu): scalar and comparison
// forms of the elementwise ops, pow, reductions over every dim, dtype
// conversions, and the view ops made contiguous.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>

#include "core/ops/elementwise.h"
#include "core/ops/reduce.h"
#include "core/ops/view.h"
#include "helpers/device_twin.h"
#include "helpers/gradcheck.h"

namespace laplex {
namespace {

using testing::check_device_twin;

Tensor f32(const Shape& shape, std::uint64_t seed, double lo = -1, double hi = 1) {
  return testing::random_tensor(shape, seed, lo, hi).to(DType::f32);
}

// Multiples of 0.5, so that comparisons meet equal elements.
Tensor on_grid(const Shape& shape, std::uint64_t seed) {
  auto v = testing::random_tensor(shape, seed, -2, 2).to_vector<double>();
  for (auto& e : v) e = std::round(2 * e) / 2;
  return Tensor::from_vector(v, shape).to(DType::f32);
}

TEST(OpsCoverageGpu, MoreUnaryAndScalarForms) {
  LAPLEX_REQUIRE_GPU();
  const Tensor x = f32({9, 17}, 1, 0.2, 2);
  EXPECT_TRUE(check_device_twin([](const auto& in) { return log1p(in[0]); }, {x}, {0}));
  EXPECT_TRUE(check_device_twin([](const auto& in) { return sign(in[0]); }, {f32({50}, 3)}, {}));
  EXPECT_TRUE(check_device_twin([](const auto& in) { return add(in[0], 0.5); }, {x}, {0}));
  EXPECT_TRUE(check_device_twin([](const auto& in) { return sub(in[0], 0.5); }, {x}, {0}));
  EXPECT_TRUE(check_device_twin([](const auto& in) { return mul(in[0], -3.0); }, {x}, {0}));
  EXPECT_TRUE(check_device_twin([](const auto& in) { return div(in[0], 7.0); }, {x}, {0}));
  EXPECT_TRUE(check_device_twin([](const auto& in) { return rsub(1.5, in[0]); }, {x}, {0}));
  EXPECT_TRUE(check_device_twin([](const auto& in) { return pow(in[0], 2.5); }, {x}, {0}));
  EXPECT_TRUE(check_device_twin([](const auto& in) { return pow(in[0], in[1]); },
                                {x, f32({17}, 2, -2, 2)}, {0, 1}));
}

TEST(OpsCoverageGpu, ComparisonsAndWhereBroadcast) {
  LAPLEX_REQUIRE_GPU();
  using F = Tensor (*)(const Tensor&, const Tensor&);
  const Tensor a = on_grid({6, 1}, 1);
  const Tensor b = on_grid({1, 5}, 2);
  for (F f : {static_cast<F>(gt), static_cast<F>(ge), static_cast<F>(lt), static_cast<F>(le),
              static_cast<F>(eq)})
    EXPECT_TRUE(check_device_twin([f](const auto& in) { return f(in[0], in[1]); }, {a, b}, {}));
  EXPECT_TRUE(check_device_twin([](const auto& in) { return gt(in[0], 0.0); }, {a}, {}));
  EXPECT_TRUE(check_device_twin([](const auto& in) { return lt(in[0], 0.0); }, {a}, {}));
  EXPECT_TRUE(check_device_twin(
      [](const auto& in) { return where(lt(in[0], in[1]), transpose(in[2], 0, 1), in[1]); },
      {a, b, f32({5, 6}, 3)}, {1, 2}));
}

TEST(OpsCoverageGpu, ReductionsOverEveryDim) {
  LAPLEX_REQUIRE_GPU();
  const Tensor x = f32({4, 5, 6}, 1);
  const std::vector<std::vector<std::int64_t>> dim_sets{{0}, {1}, {2}, {0, 1}, {1, 2}, {0, 2}, {}};
  for (const auto& dims : dim_sets) {
    for (bool keep : {false, true}) {
      EXPECT_TRUE(check_device_twin([=](const auto& in) { return sum(in[0], dims, keep); }, {x},
                                    {0}));
      EXPECT_TRUE(check_device_twin([=](const auto& in) { return mean(in[0], dims, keep); }, {x},
                                    {0}));
    }
  }
  for (std::int64_t dim : {0, 1, 2, -1}) {
    EXPECT_TRUE(check_device_twin([=](const auto& in) { return max(in[0], dim, true); }, {x}, {0}));
    EXPECT_TRUE(check_device_twin([=](const auto& in) { return argmax(in[0], dim); }, {x}, {}));
    EXPECT_TRUE(check_device_twin([=](const auto& in) { return cumsum(in[0], dim); }, {x}, {0}));
    // Strided input: the plan makes it contiguous on both devices.
    EXPECT_TRUE(check_device_twin(
        [=](const auto& in) { return cumsum(permute(in[0], {2, 0, 1}), dim); }, {x}, {0}));
  }
  EXPECT_TRUE(check_device_twin([](const auto& in) { return max(in[0]); }, {x}, {0}));
  EXPECT_TRUE(check_device_twin([](const auto& in) { return sum(in[0]); },
                                {x.to(DType::f64)}, {}));
}

// Few long rows are summed in segments over many blocks, then per row: a
// whole 3·10^6-element tensor, a batch of 8 rows of 100 000 and 3 rows of
// 2^20, in float32 and float64, with their gradients.
TEST(OpsCoverageGpu, SumsOfFewLongRows) {
  LAPLEX_REQUIRE_GPU();
  const Tensor whole = f32({3000000}, 2);
  EXPECT_TRUE(
      check_device_twin([](const auto& in) { return sum(in[0]); }, {whole}, {0}, 1e-2, 1e-3));
  EXPECT_TRUE(check_device_twin([](const auto& in) { return sum(in[0]); },
                                {whole.to(DType::f64)}, {}));
  for (const Shape shape : {Shape{8, 100000}, Shape{3, 1 << 20}}) {
    const Tensor x = f32(shape, 3);
    EXPECT_TRUE(check_device_twin([](const auto& in) { return sum(in[0], {1}); }, {x}, {0}, 1e-2,
                                  1e-3));
    EXPECT_TRUE(check_device_twin([](const auto& in) { return mean(in[0], {1}); }, {x}, {0}));
  }
}

// Few long rows take the maximum in segments over many blocks, then per
// row: the same values and the same first positions as the CPU's serial walk,
// with ties everywhere, a NaN (the first one wins), and -0 before +0.
TEST(OpsCoverageGpu, MaxOfFewLongRows) {
  LAPLEX_REQUIRE_GPU();
  const std::int64_t rows = 4, len = 100000;
  std::vector<float> v(rows * len);
  for (std::int64_t i = 0; i < rows * len; ++i) v[i] = static_cast<float>((i * 7919) % 1000);
  v[2 * len + 70000] = NAN;
  v[2 * len + 90000] = NAN;
  for (std::int64_t i = 0; i < len; ++i) v[3 * len + i] = (i < len / 2) ? -0.0f : 0.0f;
  for (const DType dtype : {DType::f32, DType::f64}) {
    const Tensor x = Tensor::from_vector(v, {rows, len}).to(dtype);
    const Tensor gpu = x.to(Device::cuda(0));
    const std::vector<double> want = max(x, 1).to(DType::f64).to_vector<double>();
    const std::vector<double> got = max(gpu, 1).to(Device::cpu()).to(DType::f64).to_vector<double>();
    for (std::int64_t r = 0; r < rows; ++r) {
      EXPECT_EQ(std::isnan(got[r]), std::isnan(want[r])) << "row " << r;
      if (!std::isnan(want[r])) EXPECT_EQ(got[r], want[r]) << "row " << r;
      EXPECT_EQ(std::signbit(got[r]), std::signbit(want[r])) << "row " << r;
    }
    EXPECT_EQ(argmax(gpu, 1).to(Device::cpu()).to_vector<std::int64_t>(),
              argmax(x, 1).to_vector<std::int64_t>());
    EXPECT_EQ(argmax(x, 1).to_vector<std::int64_t>()[2], 70000);
  }
  // One whole tensor, and the gradient, which goes to the first maximum.
  const Tensor whole = f32({3000000}, 4);
  EXPECT_TRUE(check_device_twin([](const auto& in) { return max(in[0]); }, {whole}, {0}));
  EXPECT_TRUE(check_device_twin([](const auto& in) { return max(in[0], 1); }, {f32({3, 50000}, 5)},
                                {0}));
}

// Long rows are scanned in segments over many blocks (a scan of scans):
// values that are multiples of 1/256 keep every partial sum exact, so the
// GPU must match the CPU's serial cumsum exactly, and so must the gradient
// (a reversed scan), across 2 to 300+ segments per row.
TEST(OpsCoverageGpu, CumsumOfLongRows) {
  LAPLEX_REQUIRE_GPU();
  auto exact_values = [](const Shape& shape, std::size_t seed) {
    std::vector<float> v(numel(shape));
    for (std::size_t i = 0; i < v.size(); ++i)
      v[i] = static_cast<float>(static_cast<int>(((i + seed) * 7919) % 2001) - 1000) / 256.0f;
    return v;
  };
  for (const Shape shape : {Shape{3, 8193}, Shape{2, 1300000}, Shape{1, 40000}}) {
    const std::vector<float> v = exact_values(shape, 0), w = exact_values(shape, 11);
    for (const DType dtype : {DType::f32, DType::f64}) {
      SCOPED_TRACE(shape_str(shape) + " " + dtype_name(dtype));
      const Tensor x = Tensor::from_vector(v, shape).to(dtype);
      const Tensor weights = Tensor::from_vector(w, shape).to(dtype);
      EXPECT_EQ(cumsum(x.to(Device::cuda(0)), 1).to(Device::cpu()).to(DType::f64).to_vector<double>(),
                cumsum(x, 1).to(DType::f64).to_vector<double>());
      std::vector<std::vector<double>> grads;
      for (const Device device : {Device::cpu(), Device::cuda(0)}) {
        Tensor leaf = x.to(device);
        leaf.set_requires_grad(true);
        cumsum(leaf, 1).backward(weights.to(device));
        grads.push_back(leaf.grad().to(Device::cpu()).to(DType::f64).to_vector<double>());
      }
      EXPECT_EQ(grads[1], grads[0]);
    }
  }
}

TEST(OpsCoverageGpu, DtypeConversions) {
  LAPLEX_REQUIRE_GPU();
  const Tensor x = f32({7, 9}, 1, -50, 50);
  for (DType d : {DType::f64, DType::i32, DType::i64})
    EXPECT_TRUE(check_device_twin(
        [d](const auto& in) { return transpose(in[0], 0, 1).to(d); }, {x}, {}));
}

TEST(OpsCoverageGpu, ViewsMadeContiguous) {
  LAPLEX_REQUIRE_GPU();
  const Tensor x = f32({4, 6, 5}, 1);
  const std::vector<std::function<Tensor(const Tensor&)>> views{
      [](const Tensor& t) { return reshape(t, {6, -1}); },
      [](const Tensor& t) { return view(t, {24, 5}); },
      [](const Tensor& t) { return flatten(t, 1); },
      [](const Tensor& t) { return transpose(t, 0, 2); },
      [](const Tensor& t) { return permute(t, {1, 2, 0}); },
      [](const Tensor& t) { return slice(t, 1, 1, -1, 2); },
      [](const Tensor& t) { return slice(transpose(t, 1, 2), 0, 1, 3); },
      [](const Tensor& t) { return unsqueeze(t, 1); },
      [](const Tensor& t) { return squeeze(unsqueeze(t, 3), 3); },
      [](const Tensor& t) { return expand(slice(t, 0, 0, 1), {3, 6, 5}); },
      [](const Tensor& t) { return reshape(permute(t, {2, 0, 1}), {5, 24}); },
  };
  for (std::size_t k = 0; k < views.size(); ++k)
    // The harness copies each output to the host, which makes the view
    // contiguous on its own device first (the strided copy kernels).
    EXPECT_TRUE(check_device_twin([&, k](const auto& in) { return views[k](in[0]); }, {x}, {0}))
        << "view " << k;
  // Elementwise ops reading views directly, without a copy first.
  EXPECT_TRUE(check_device_twin(
      [](const auto& in) { return mul(slice(in[0], 2, 0, 5, 2), expand(in[1], {4, 6, 3})); },
      {x, f32({1, 6, 1}, 2)}, {0, 1}));
}

}  // namespace
}  // namespace laplex
