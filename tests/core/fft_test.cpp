#include <gtest/gtest.h>

#include <cmath>
#include <numbers>
#include <vector>

#include "core/ops/elementwise.h"
#include "core/ops/fft.h"
#include "core/ops/reduce.h"
#include "core/ops/view.h"
#include "helpers/gradcheck.h"

namespace laplex {
namespace {

using testing::all_close;
using testing::gradcheck;
using testing::random_tensor;

// Half spectra of the rows of x (rows, m), zero-padded to n, by the
// definition in float64: X[k] = sum_j x[j] e^{-2 pi i jk/n}.
Tensor naive_rfft(const Tensor& x, std::int64_t n) {
  const std::int64_t m = x.shape().back(), rows = x.numel() / std::max<std::int64_t>(m, 1);
  const std::int64_t k_count = n / 2 + 1;
  const auto v = x.to_vector<double>();
  std::vector<double> out(static_cast<std::size_t>(rows * k_count * 2));
  for (std::int64_t r = 0; r < rows; ++r)
    for (std::int64_t k = 0; k < k_count; ++k) {
      double re = 0, im = 0;
      for (std::int64_t j = 0; j < m; ++j) {
        const double theta = 2 * std::numbers::pi * double(j * k % n) / double(n);
        re += v[r * m + j] * std::cos(theta);
        im -= v[r * m + j] * std::sin(theta);
      }
      out[(r * k_count + k) * 2] = re;
      out[(r * k_count + k) * 2 + 1] = im;
    }
  Shape shape(x.shape().begin(), x.shape().end() - 1);
  shape.push_back(k_count);
  shape.push_back(2);
  return Tensor::from_vector(out, shape);
}

// The real signal of length n whose half spectrum is X (rows, n/2+1, 2),
// reading it as Hermitian (imaginary parts of DC and Nyquist ignored).
Tensor naive_irfft(const Tensor& X, std::int64_t n) {
  const std::int64_t k_count = n / 2 + 1, rows = X.numel() / (2 * k_count);
  const auto v = X.to_vector<double>();
  std::vector<double> out(static_cast<std::size_t>(rows * n));
  for (std::int64_t r = 0; r < rows; ++r)
    for (std::int64_t j = 0; j < n; ++j) {
      double acc = 0;
      for (std::int64_t k = 0; k < n; ++k) {
        // Bin k of the full spectrum: k itself, or the conjugate of n - k.
        const bool mirrored = k >= k_count;
        const std::int64_t src = mirrored ? n - k : k;
        const double re = v[(r * k_count + src) * 2];
        double im = v[(r * k_count + src) * 2 + 1];
        if (src == 0 || 2 * src == n) im = 0;
        if (mirrored) im = -im;
        const double theta = 2 * std::numbers::pi * double(j * k % n) / double(n);
        acc += re * std::cos(theta) - im * std::sin(theta);
      }
      out[r * n + j] = acc / double(n);
    }
  Shape shape(X.shape().begin(), X.shape().end() - 2);
  shape.push_back(n);
  return Tensor::from_vector(out, shape);
}

TEST(Fft, RfftMatchesNaiveDftFloat64) {
  for (std::int64_t n : {1, 2, 7, 8, 15, 64}) {
    const Tensor x = random_tensor({3, 2, n}, 11 + n);
    const Tensor X = rfft(x);
    EXPECT_EQ(X.shape(), (Shape{3, 2, n / 2 + 1, 2}));
    EXPECT_TRUE(all_close(X, naive_rfft(x, n), 1e-12, 1e-12)) << "n = " << n;
  }
}

TEST(Fft, RfftZeroPadsToN) {
  const Tensor x = random_tensor({4, 5}, 3);
  for (std::int64_t n : {5, 8, 9}) EXPECT_TRUE(all_close(rfft(x, n), naive_rfft(x, n), 1e-12, 1e-12));
  EXPECT_THROW(rfft(x, 4), Error);
  EXPECT_THROW(rfft(x, 0), Error);
}

TEST(Fft, RfftFloat32) {
  const Tensor x = random_tensor({6, 30}, 5);
  const Tensor X = rfft(x.to(DType::f32), 32);
  EXPECT_EQ(X.dtype(), DType::f32);
  EXPECT_TRUE(all_close(X.to(DType::f64), naive_rfft(x, 32), 1e-5, 1e-5));
}

TEST(Fft, LargeFloat32BatchesUseThreadedPlans) {
  // Past FFTW's threading grain (2^16 values) float32 plans run on OpenMP
  // threads; they must agree with the single-threaded float64 ones.
  const Tensor x = random_tensor({70, 1000}, 6);
  const Tensor X = rfft(x.to(DType::f32), 1024);
  EXPECT_TRUE(all_close(X.to(DType::f64), rfft(x, 1024), 1e-4, 1e-5));
  EXPECT_TRUE(all_close(irfft(X, 1024).to(DType::f64), irfft(rfft(x, 1024), 1024), 1e-5, 1e-5));
}

TEST(Fft, IrfftMatchesNaiveInverse) {
  for (std::int64_t n : {1, 2, 7, 8, 15, 64}) {
    const Tensor X = random_tensor({2, 3, n / 2 + 1, 2}, 21 + n);  // imag DC/Nyquist ≠ 0
    const Tensor y = irfft(X, n);
    EXPECT_EQ(y.shape(), (Shape{2, 3, n}));
    EXPECT_TRUE(all_close(y, naive_irfft(X, n), 1e-12, 1e-12)) << "n = " << n;
    EXPECT_TRUE(all_close(irfft(X.to(DType::f32), n).to(DType::f64), naive_irfft(X, n), 1e-5, 1e-5));
  }
}

TEST(Fft, InputsAreLeftAlone) {
  const Tensor X = random_tensor({3, 5, 2}, 8);
  const auto before = X.to_vector<double>();
  irfft(X, 8);
  EXPECT_EQ(X.to_vector<double>(), before);
  const Tensor x = random_tensor({3, 8}, 9);
  const auto x_before = x.to_vector<double>();
  rfft(x);
  EXPECT_EQ(x.to_vector<double>(), x_before);
}

TEST(Fft, RoundTrip) {
  for (std::int64_t n : {9, 16, 100}) {
    const Tensor x = random_tensor({5, n}, 31 + n);
    EXPECT_TRUE(all_close(irfft(rfft(x), n), x, 1e-12, 1e-12));
    const Tensor x32 = x.to(DType::f32);
    EXPECT_TRUE(all_close(irfft(rfft(x32), n), x32, 1e-5, 1e-5));
  }
}

TEST(Fft, StridedAndOffsetInputs) {
  const Tensor base = random_tensor({6, 10}, 41);
  const Tensor columns = transpose(base, 0, 1);  // (10, 6), not contiguous
  EXPECT_TRUE(all_close(rfft(columns, 8), naive_rfft(columns.contiguous(), 8), 1e-12, 1e-12));
  const Tensor rows = slice(base, 0, 2, 5);  // contiguous, at an offset
  EXPECT_TRUE(all_close(rfft(rows), naive_rfft(rows.contiguous(), 10), 1e-12, 1e-12));
  const Tensor spectrum = slice(random_tensor({4, 6, 2}, 42), 0, 1, 3);
  EXPECT_TRUE(all_close(irfft(spectrum, 10), naive_irfft(spectrum.contiguous(), 10), 1e-12, 1e-12));
}

TEST(Fft, BadShapesAndDtypes) {
  EXPECT_THROW(irfft(random_tensor({3, 5, 2}, 1), 10), Error);  // 10 needs 6 bins
  EXPECT_THROW(irfft(random_tensor({3, 6, 3}, 1), 10), Error);
  EXPECT_THROW(rfft(Tensor::arange(8)), Error);
  EXPECT_NO_THROW(irfft(random_tensor({3, 6, 2}, 1), 11));  // 10 and 11 both have 6 bins
}

TEST(Fft, EmptyBatch) {
  EXPECT_EQ(rfft(Tensor::zeros({0, 8}, DType::f64)).shape(), (Shape{0, 5, 2}));
  EXPECT_EQ(irfft(Tensor::zeros({0, 5, 2}, DType::f64), 8).shape(), (Shape{0, 8}));
}

TEST(FftGrad, Rfft) {
  for (std::int64_t n : {1, 2, 7, 8}) {
    EXPECT_TRUE(gradcheck([n](const std::vector<Tensor>& in) { return rfft(in[0], n); },
                          {random_tensor({3, n}, 50 + n)}))
        << "n = " << n;
  }
}

TEST(FftGrad, RfftZeroPadded) {
  for (std::int64_t n : {9, 12}) {
    EXPECT_TRUE(gradcheck([n](const std::vector<Tensor>& in) { return rfft(in[0], n); },
                          {random_tensor({2, 3, 5}, 60 + n)}))
        << "n = " << n;
  }
}

TEST(FftGrad, Irfft) {
  for (std::int64_t n : {1, 2, 7, 8}) {
    EXPECT_TRUE(gradcheck([n](const std::vector<Tensor>& in) { return irfft(in[0], n); },
                          {random_tensor({3, n / 2 + 1, 2}, 70 + n)}))
        << "n = " << n;
  }
}

// The adjoint identity <rfft(x), G> = <x, rfft^T(G)> with the backward as
// rfft^T, checked directly on a whole spectrum, DC and Nyquist included.
TEST(FftGrad, RfftBackwardIsTheAdjoint) {
  for (std::int64_t n : {6, 7}) {
    Tensor x = random_tensor({4, n}, 80 + n);
    x.set_requires_grad(true);
    const Tensor G = random_tensor({4, n / 2 + 1, 2}, 90 + n);
    sum(mul(rfft(x), G)).backward();
    const double lhs = sum(mul(rfft(x.detach()), G)).item();
    const double rhs = sum(mul(x.detach(), x.grad())).item();
    EXPECT_NEAR(lhs, rhs, 1e-10 * (1 + std::abs(lhs)));
  }
}

TEST(FftGrad, IrfftIgnoredPartsGetZeroGradient) {
  Tensor X = random_tensor({2, 5, 2}, 99);
  X.set_requires_grad(true);
  sum(mul(irfft(X, 8), random_tensor({2, 8}, 100))).backward();
  const auto g = X.grad().to_vector<double>();
  for (int r = 0; r < 2; ++r) {
    EXPECT_EQ(g[r * 10 + 1], 0.0);  // imag of DC
    EXPECT_EQ(g[r * 10 + 9], 0.0);  // imag of Nyquist
  }
}

}  // namespace
}  // namespace laplex
