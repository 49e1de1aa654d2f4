#include "helpers/gradcheck.h"

#include <cmath>
#include <random>
#include <sstream>

#include "core/autograd/grad_mode.h"
#include "core/ops/elementwise.h"
#include "core/ops/reduce.h"

namespace laplex::testing {

Tensor random_tensor(const Shape& shape, std::uint64_t seed, double lo, double hi) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> dist(lo, hi);
  std::vector<double> values(numel(shape));
  for (auto& v : values) v = dist(rng);
  return Tensor::from_vector(values, shape);
}

::testing::AssertionResult all_close(const Tensor& actual, const Tensor& expected, double atol,
                                     double rtol) {
  if (actual.shape() != expected.shape())
    return ::testing::AssertionFailure() << "shape " << shape_str(actual.shape()) << " vs "
                                         << shape_str(expected.shape());
  const auto a = actual.to_vector<double>();
  const auto e = expected.to_vector<double>();
  double worst = 0;
  std::size_t worst_at = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    // Exact equality passes even with zero tolerances (0 / 0 would be NaN).
    const double diff = std::fabs(a[i] - e[i]);
    const double err = diff == 0 ? 0.0 : diff / (atol + rtol * std::fabs(e[i]));
    if (!(err <= worst)) {  // also catches NaN
      worst = std::isnan(err) ? INFINITY : err;
      worst_at = i;
    }
  }
  if (worst <= 1.0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "element " << worst_at << ": got " << a[worst_at]
                                       << ", expected " << e[worst_at] << " (atol " << atol
                                       << ", rtol " << rtol << ")";
}

::testing::AssertionResult gradcheck(const TensorFunction& f, std::vector<Tensor> inputs,
                                     const GradcheckOptions& options) {
  for (auto& x : inputs) {
    if (x.dtype() != DType::f64 || !x.device().is_cpu())
      return ::testing::AssertionFailure() << "gradcheck needs float64 CPU inputs";
    x.zero_grad();
    x.set_requires_grad(true);
  }
  Tensor out = f(inputs);
  const Tensor weights = random_tensor(out.shape(), options.seed);
  auto objective = [&](const Tensor& y) { return sum(mul(y, weights)); };
  objective(out).backward();

  for (std::size_t k = 0; k < inputs.size(); ++k) {
    Tensor& x = inputs[k];
    const Tensor analytic = x.grad().defined() ? x.grad() : Tensor::zeros_like(x);
    Tensor numeric = Tensor::zeros_like(x);
    double* data = x.data<double>();
    double* num = numeric.data<double>();
    {
      NoGradGuard no_grad;
      for (std::int64_t i = 0; i < x.numel(); ++i) {
        const double saved = data[i];
        data[i] = saved + options.eps;
        const double plus = objective(f(inputs)).item();
        data[i] = saved - options.eps;
        const double minus = objective(f(inputs)).item();
        data[i] = saved;
        num[i] = (plus - minus) / (2 * options.eps);
      }
    }
    auto close = all_close(analytic, numeric, options.atol, options.rtol);
    if (!close) return ::testing::AssertionFailure() << "input " << k << ": " << close.message();
  }
  return ::testing::AssertionSuccess();
}

}  // namespace laplex::testing
