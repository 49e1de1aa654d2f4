#include "layers/laplex/laplex_dense.h"

#include <cmath>

namespace laplex::cpu {

template <class T>
void laplex_to_dense(const LaplexShape& shape, const LaplexParamPtrs<T>& params, T* w) {
  check_laplex_shape(shape);
  const std::int64_t m = shape.m, n = shape.n;
#pragma omp parallel for schedule(static) if (shape.m * shape.n * shape.heads > (1 << 15))
  for (std::int64_t i = 0; i < m; ++i) {
    T* row = w + i * n;
    for (std::int64_t j = 0; j < n; ++j) row[j] = T(0);
    for (std::int64_t h = 0; h < shape.heads; ++h) {
      const T alpha = laplex_softplus(params.rho[h]);
      const T omega = shape.phased ? params.omega[h] : T(0);
      const T phi = shape.phased ? params.phi[h] : T(0);
      const T ui = params.u ? params.u[h * m + i] : T(1);
      const T ti = params.t[h * m + i];
      for (std::int64_t j = 0; j < n; ++j) {
        const T d = ti - params.s[h * n + j];
        const T vj = params.v ? params.v[h * n + j] : T(1);
        const T decay = std::exp(-alpha * std::fabs(d));
        row[j] += ui * vj * (shape.phased ? decay * std::cos(omega * d + phi) : decay);
      }
    }
  }
}

template void laplex_to_dense(const LaplexShape&, const LaplexParamPtrs<float>&, float*);
template void laplex_to_dense(const LaplexShape&, const LaplexParamPtrs<double>&, double*);

}  // namespace laplex::cpu
