#include "core/ops/complex.h"

#include <algorithm>

#include "core/autograd/node.h"
#include "core/ops/complex_kernels.h"
#include "core/ops/dispatch.h"
#include "core/ops/elementwise.h"
#include "core/ops/view.h"

namespace laplex {

namespace {

void check_complex(const Tensor& t, const char* op) {
  if (t.dim() < 1 || t.shape().back() != 2)
    throw Error(std::string(op) + ": expected a complex tensor (trailing dim 2 holding re, im), got " +
                shape_str(t.shape()));
  if (!is_floating(t.dtype()))
    throw Error(std::string(op) + ": expected a floating dtype, got " + dtype_name(t.dtype()));
}

// `t` as a contiguous block that repeats with period numel/2 complex values
// over `out_shape`: itself when its shape, without leading 1s, is a suffix of
// out_shape; otherwise broadcast in full.
Tensor periodic_operand(const Tensor& t, const Shape& out_shape) {
  Shape core = t.shape();
  while (!core.empty() && core.front() == 1) core.erase(core.begin());
  const bool suffix =
      core.size() <= out_shape.size() &&
      std::equal(core.begin(), core.end(), out_shape.end() - static_cast<std::ptrdiff_t>(core.size()));
  if (suffix) return t.detach().contiguous();
  return expand(t.detach(), out_shape).contiguous();
}

}  // namespace

Tensor complex_mul(const Tensor& a, const Tensor& b) {
  check_complex(a, "complex_mul");
  check_complex(b, "complex_mul");
  check_same_device("complex_mul", {a, b});
  check_same_dtype("complex_mul", {a, b});
  const Shape shape = broadcast_shapes(a.shape(), b.shape(), "complex_mul");
  Tensor out = Tensor::empty(shape, a.dtype(), a.device());
  if (out.numel() > 0) {
    const Tensor pa = periodic_operand(a, shape), pb = periodic_operand(b, shape);
    if (use_cuda(out)) {
#if LAPLEX_WITH_CUDA
      cuda::complex_mul(pa, pa.numel() / 2, pb, pb.numel() / 2, out);
#endif
    } else {
      cpu::complex_mul(pa, pa.numel() / 2, pb, pb.numel() / 2, out);
    }
  }
  autograd::record(out, {a, b}, "complex_mul",
                   [a = a.detach(), b = b.detach()](const std::vector<Tensor>& g) {
                     // d(ab) = a db + b da, so the adjoints multiply by the conjugates.
                     return std::vector<Tensor>{sum_to(complex_mul(g[0], conj(b)), a.shape()),
                                                sum_to(complex_mul(g[0], conj(a)), b.shape())};
                   });
  return out;
}

Tensor conj(const Tensor& x) {
  check_complex(x, "conj");
  const Tensor signs =
      Tensor::from_vector<double>({1.0, -1.0}, {2}).to(x.dtype()).to(x.device());
  return mul(x, signs);
}

}  // namespace laplex
