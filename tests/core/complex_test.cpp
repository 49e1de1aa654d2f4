#include <gtest/gtest.h>

#include <complex>
#include <vector>

#include "core/ops/complex.h"
#include "helpers/gradcheck.h"

namespace laplex {
namespace {

using testing::all_close;
using testing::gradcheck;
using testing::random_tensor;

TEST(Complex, MulMatchesStdComplexWithBroadcast) {
  const Tensor a = random_tensor({3, 4, 2}, 1), b = random_tensor({4, 2}, 2);
  const auto va = a.to_vector<double>(), vb = b.to_vector<double>();
  std::vector<double> expected;
  for (int i = 0; i < 3; ++i)
    for (int k = 0; k < 4; ++k) {
      const std::complex<double> x(va[(i * 4 + k) * 2], va[(i * 4 + k) * 2 + 1]);
      const std::complex<double> y(vb[k * 2], vb[k * 2 + 1]);
      expected.push_back((x * y).real());
      expected.push_back((x * y).imag());
    }
  const Tensor want = Tensor::from_vector(expected, {3, 4, 2});
  EXPECT_TRUE(all_close(complex_mul(a, b), want, 1e-14, 1e-14));
  EXPECT_TRUE(all_close(complex_mul(b, a), want, 1e-14, 1e-14));
  // Broadcasting that is not a suffix: (3, 1, 2) against (1, 4, 2).
  const Tensor c = random_tensor({3, 1, 2}, 3), d = random_tensor({1, 4, 2}, 4);
  const Tensor cd = complex_mul(c, d);
  EXPECT_EQ(cd.shape(), (Shape{3, 4, 2}));
  EXPECT_NEAR(cd.to_vector<double>()[(2 * 4 + 3) * 2 + 1],
              (std::complex<double>(c.to_vector<double>()[4], c.to_vector<double>()[5]) *
               std::complex<double>(d.to_vector<double>()[6], d.to_vector<double>()[7]))
                  .imag(),
              1e-14);
}

TEST(Complex, ConjAndErrors) {
  const Tensor x = Tensor::from_vector<double>({1, 2, 3, -4}, {2, 2});
  EXPECT_EQ(conj(x).to_vector<double>(), (std::vector<double>{1, -2, 3, 4}));
  EXPECT_THROW(complex_mul(random_tensor({3}, 1), random_tensor({3}, 2)), Error);
  EXPECT_THROW(complex_mul(random_tensor({2}, 1), random_tensor({2}, 2).to(DType::f32)), Error);
}

TEST(Complex, MulGradients) {
  EXPECT_TRUE(gradcheck(
      [](const std::vector<Tensor>& in) { return complex_mul(in[0], in[1]); },
      {random_tensor({3, 5, 2}, 5), random_tensor({5, 2}, 6)}));
  EXPECT_TRUE(gradcheck(
      [](const std::vector<Tensor>& in) { return complex_mul(in[0], in[1]); },
      {random_tensor({3, 1, 2}, 7), random_tensor({2, 1, 4, 2}, 8)}));
}

}  // namespace
}  // namespace laplex
