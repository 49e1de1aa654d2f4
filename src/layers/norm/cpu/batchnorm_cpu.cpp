#include "layers/norm/cpu/batchnorm_cpu.h"

#include <cmath>
#include <vector>

#include "core/dtype.h"

namespace laplex::cpu {
namespace {

struct Layout {
  std::int64_t batch, channels, spatial;
  std::int64_t count() const { return batch * spatial; }  // values per channel
};

Layout layout(const Tensor& x) {
  std::int64_t spatial = 1;
  for (std::int64_t d = 2; d < x.dim(); ++d) spatial *= x.size(d);
  return {x.size(0), x.size(1), spatial};
}

bool parallel(const Layout& l) { return l.batch * l.channels * l.spatial >= (1 << 15); }

// y = x scale[c] + shift[c], with scale = w invstd and shift = b - mean scale.
template <class T>
void apply_affine(const Layout& l, const T* x, const std::vector<double>& scale,
                  const std::vector<double>& shift, T* y) {
#pragma omp parallel for collapse(2) schedule(static) if (parallel(l))
  for (std::int64_t b = 0; b < l.batch; ++b)
    for (std::int64_t c = 0; c < l.channels; ++c) {
      const T a = static_cast<T>(scale[c]), s = static_cast<T>(shift[c]);
      const T* in = x + (b * l.channels + c) * l.spatial;
      T* out = y + (b * l.channels + c) * l.spatial;
      for (std::int64_t i = 0; i < l.spatial; ++i) out[i] = in[i] * a + s;
    }
}

template <class T>
Tensor normalise(const Tensor& x, const Tensor& weight, const Tensor& bias,
                 const std::vector<double>& mean, const std::vector<double>& invstd,
                 BatchNormSaved& saved) {
  const Layout l = layout(x);
  std::vector<double> scale(l.channels), shift(l.channels);
  const T* w = weight.defined() ? weight.data<T>() : nullptr;
  const T* b = bias.defined() ? bias.data<T>() : nullptr;
  saved.mean = Tensor::empty({l.channels}, x.dtype());
  saved.invstd = Tensor::empty({l.channels}, x.dtype());
  for (std::int64_t c = 0; c < l.channels; ++c) {
    scale[c] = invstd[c] * (w ? static_cast<double>(w[c]) : 1.0);
    shift[c] = (b ? static_cast<double>(b[c]) : 0.0) - mean[c] * scale[c];
    saved.mean.data<T>()[c] = static_cast<T>(mean[c]);
    saved.invstd.data<T>()[c] = static_cast<T>(invstd[c]);
  }
  Tensor y = Tensor::empty(x.shape(), x.dtype());
  apply_affine<T>(l, x.data<T>(), scale, shift, y.data<T>());
  return y;
}

}  // namespace

Tensor batchnorm_train_forward(const Tensor& x, const Tensor& weight, const Tensor& bias,
                               double eps, BatchNormSaved& saved, Tensor& batch_var) {
  const Layout l = layout(x);
  Tensor y;
  visit_floating(x.dtype(), "batchnorm", [&](auto tag) {
    using T = decltype(tag);
    const T* data = x.data<T>();
    std::vector<double> mean(l.channels), var(l.channels), invstd(l.channels);
    // Two passes per channel (mean, then squared deviations): no
    // cancellation for activations far from zero.
#pragma omp parallel for schedule(static) if (parallel(l))
    for (std::int64_t c = 0; c < l.channels; ++c) {
      double total = 0;
      for (std::int64_t b = 0; b < l.batch; ++b) {
        const T* in = data + (b * l.channels + c) * l.spatial;
        for (std::int64_t i = 0; i < l.spatial; ++i) total += in[i];
      }
      const double mu = total / static_cast<double>(l.count());
      double squares = 0;
      for (std::int64_t b = 0; b < l.batch; ++b) {
        const T* in = data + (b * l.channels + c) * l.spatial;
        for (std::int64_t i = 0; i < l.spatial; ++i) {
          const double d = in[i] - mu;
          squares += d * d;
        }
      }
      mean[c] = mu;
      var[c] = squares / static_cast<double>(l.count());
      invstd[c] = 1.0 / std::sqrt(var[c] + eps);
    }
    batch_var = Tensor::from_vector(var, {l.channels}).to(x.dtype());
    y = normalise<T>(x, weight, bias, mean, invstd, saved);
  });
  return y;
}

Tensor batchnorm_eval_forward(const Tensor& x, const Tensor& weight, const Tensor& bias,
                              const Tensor& mean, const Tensor& var, double eps,
                              BatchNormSaved& saved) {
  const std::vector<double> m = mean.contiguous().to_vector<double>();
  std::vector<double> invstd = var.contiguous().to_vector<double>();
  for (double& v : invstd) v = 1.0 / std::sqrt(v + eps);
  Tensor y;
  visit_floating(x.dtype(), "batchnorm", [&](auto tag) {
    using T = decltype(tag);
    y = normalise<T>(x, weight, bias, m, invstd, saved);
  });
  return y;
}

BatchNormGrads batchnorm_backward(const Tensor& grad_y, const Tensor& x, const Tensor& weight,
                                  const BatchNormSaved& saved, bool training, bool need_x,
                                  bool need_weight, bool need_bias) {
  const Layout l = layout(x);
  BatchNormGrads grads;
  visit_floating(x.dtype(), "batchnorm", [&](auto tag) {
    using T = decltype(tag);
    const T* gy = grad_y.data<T>();
    const T* data = x.data<T>();
    const T* mean = saved.mean.data<T>();
    const T* invstd = saved.invstd.data<T>();
    const T* w = weight.defined() ? weight.data<T>() : nullptr;
    std::vector<double> sum_dy(l.channels), sum_dy_xhat(l.channels);
#pragma omp parallel for schedule(static) if (parallel(l))
    for (std::int64_t c = 0; c < l.channels; ++c) {
      double dy_total = 0, dy_xhat_total = 0;
      const double mu = mean[c], is = invstd[c];
      for (std::int64_t b = 0; b < l.batch; ++b) {
        const T* g = gy + (b * l.channels + c) * l.spatial;
        const T* in = data + (b * l.channels + c) * l.spatial;
        for (std::int64_t i = 0; i < l.spatial; ++i) {
          dy_total += g[i];
          dy_xhat_total += g[i] * ((in[i] - mu) * is);
        }
      }
      sum_dy[c] = dy_total;
      sum_dy_xhat[c] = dy_xhat_total;
    }
    if (need_weight) grads.weight = Tensor::from_vector(sum_dy_xhat, {l.channels}).to(x.dtype());
    if (need_bias) grads.bias = Tensor::from_vector(sum_dy, {l.channels}).to(x.dtype());
    if (!need_x) return;
    grads.x = Tensor::empty(x.shape(), x.dtype());
    T* gx = grads.x.data<T>();
    const double n = static_cast<double>(l.count());
#pragma omp parallel for collapse(2) schedule(static) if (parallel(l))
    for (std::int64_t b = 0; b < l.batch; ++b)
      for (std::int64_t c = 0; c < l.channels; ++c) {
        const double scale = (w ? static_cast<double>(w[c]) : 1.0) * invstd[c];
        // training: dx = scale (dy - mean(dy) - xhat mean(dy xhat))
        const T k = static_cast<T>(scale);
        const T mean_dy = training ? static_cast<T>(sum_dy[c] / n) : T(0);
        const T mean_dy_xhat = training ? static_cast<T>(sum_dy_xhat[c] / n) : T(0);
        const T mu = mean[c], is = invstd[c];
        const T* g = gy + (b * l.channels + c) * l.spatial;
        const T* in = data + (b * l.channels + c) * l.spatial;
        T* out = gx + (b * l.channels + c) * l.spatial;
        for (std::int64_t i = 0; i < l.spatial; ++i)
          out[i] = k * (g[i] - mean_dy - (in[i] - mu) * is * mean_dy_xhat);
      }
  });
  return grads;
}

}  // namespace laplex::cpu
