#include "core/ops/elementwise.h"

#include "core/autograd/node.h"
#include "core/ops/dispatch.h"
#include "core/ops/elementwise_kernels.h"
#include "core/ops/reduce.h"
#include "core/ops/view.h"

namespace laplex {

using elementwise::Binary;
using elementwise::Unary;
using autograd::record;

namespace {

Tensor run_unary(Unary op, const Tensor& x, double p0 = 0, double p1 = 0) {
  Tensor out = Tensor::empty(x.shape(), x.dtype(), x.device());
  if (use_cuda(x)) {
#if LAPLEX_WITH_CUDA
    cuda::unary(op, x, out, p0, p1);
#endif
  } else {
    cpu::unary(op, x, out, p0, p1);
  }
  return out;
}

Tensor run_binary(Binary op, const Tensor& a, const Tensor& b, const char* name) {
  check_same_device(name, {a, b});
  check_same_dtype(name, {a, b});
  Tensor out = Tensor::empty(broadcast_shapes(a.shape(), b.shape(), name), a.dtype(), a.device());
  if (use_cuda(a)) {
#if LAPLEX_WITH_CUDA
    cuda::binary(op, a, b, out);
#endif
  } else {
    cpu::binary(op, a, b, out);
  }
  return out;
}

Tensor scalar_like(double value, const Tensor& like) {
  return Tensor::scalar(value, like.dtype(), like.device());
}

}  // namespace

Tensor sum_to(const Tensor& grad, const Shape& shape) {
  if (grad.shape() == shape) return grad;
  const std::int64_t lead = grad.dim() - static_cast<std::int64_t>(shape.size());
  if (lead < 0) throw Error("sum_to: cannot reduce " + shape_str(grad.shape()) + " to " + shape_str(shape));
  std::vector<std::int64_t> dims;
  for (std::int64_t d = 0; d < grad.dim(); ++d)
    if (d < lead || (shape[d - lead] == 1 && grad.shape()[d] != 1)) dims.push_back(d);
  // keepdim leaves size-1 leading dims, which the reshape drops.
  return reshape(sum(grad, dims, true), shape);
}

Tensor add(const Tensor& a, const Tensor& b) {
  Tensor out = run_binary(Binary::add, a, b, "add");
  record(out, {a, b}, "add", [sa = a.shape(), sb = b.shape()](const std::vector<Tensor>& g) {
    return std::vector<Tensor>{sum_to(g[0], sa), sum_to(g[0], sb)};
  });
  return out;
}

Tensor sub(const Tensor& a, const Tensor& b) {
  Tensor out = run_binary(Binary::sub, a, b, "sub");
  record(out, {a, b}, "sub", [sa = a.shape(), sb = b.shape()](const std::vector<Tensor>& g) {
    return std::vector<Tensor>{sum_to(g[0], sa), sum_to(neg(g[0]), sb)};
  });
  return out;
}

Tensor mul(const Tensor& a, const Tensor& b) {
  Tensor out = run_binary(Binary::mul, a, b, "mul");
  record(out, {a, b}, "mul", [a = a.detach(), b = b.detach()](const std::vector<Tensor>& g) {
    return std::vector<Tensor>{sum_to(mul(g[0], b), a.shape()), sum_to(mul(g[0], a), b.shape())};
  });
  return out;
}

Tensor div(const Tensor& a, const Tensor& b) {
  Tensor out = run_binary(Binary::div, a, b, "div");
  record(out, {a, b}, "div", [a = a.detach(), b = b.detach()](const std::vector<Tensor>& g) {
    const Tensor ga = div(g[0], b);
    return std::vector<Tensor>{sum_to(ga, a.shape()), sum_to(neg(mul(ga, div(a, b))), b.shape())};
  });
  return out;
}

Tensor pow(const Tensor& a, const Tensor& b) {
  Tensor out = run_binary(Binary::pow, a, b, "pow");
  record(out, {a, b}, "pow",
         [a = a.detach(), b = b.detach(), y = out.detach()](const std::vector<Tensor>& g) {
           // d/da a^b = b a^(b-1); d/db a^b = a^b log a (only where a > 0).
           const Tensor ga = mul(g[0], mul(b, pow(a, sub(b, 1.0))));
           const Tensor positive = gt(a, 0.0);
           const Tensor log_a = log(where(positive, a, scalar_like(1.0, a)));
           const Tensor gb = mul(g[0], mul(y, mul(log_a, positive)));
           return std::vector<Tensor>{sum_to(ga, a.shape()), sum_to(gb, b.shape())};
         });
  return out;
}

Tensor maximum(const Tensor& a, const Tensor& b) {
  Tensor out = run_binary(Binary::maximum, a, b, "maximum");
  record(out, {a, b}, "maximum", [a = a.detach(), b = b.detach()](const std::vector<Tensor>& g) {
    const Tensor take_a = ge(a, b);
    return std::vector<Tensor>{sum_to(mul(g[0], take_a), a.shape()),
                               sum_to(mul(g[0], rsub(1.0, take_a)), b.shape())};
  });
  return out;
}

Tensor minimum(const Tensor& a, const Tensor& b) {
  Tensor out = run_binary(Binary::minimum, a, b, "minimum");
  record(out, {a, b}, "minimum", [a = a.detach(), b = b.detach()](const std::vector<Tensor>& g) {
    const Tensor take_a = le(a, b);
    return std::vector<Tensor>{sum_to(mul(g[0], take_a), a.shape()),
                               sum_to(mul(g[0], rsub(1.0, take_a)), b.shape())};
  });
  return out;
}

Tensor add(const Tensor& a, double b) {
  Tensor out = run_unary(Unary::add_scalar, a, b);
  record(out, {a}, "add_scalar", [](const std::vector<Tensor>& g) { return g; });
  return out;
}

Tensor sub(const Tensor& a, double b) { return add(a, -b); }

Tensor mul(const Tensor& a, double b) {
  Tensor out = run_unary(Unary::mul_scalar, a, b);
  record(out, {a}, "mul_scalar",
         [b](const std::vector<Tensor>& g) { return std::vector<Tensor>{mul(g[0], b)}; });
  return out;
}

Tensor div(const Tensor& a, double b) { return mul(a, 1.0 / b); }

Tensor pow(const Tensor& a, double exponent) {
  Tensor out = run_unary(Unary::pow_scalar, a, exponent);
  record(out, {a}, "pow_scalar", [a = a.detach(), exponent](const std::vector<Tensor>& g) {
    return std::vector<Tensor>{mul(g[0], mul(pow(a, exponent - 1.0), exponent))};
  });
  return out;
}

Tensor rsub(double a, const Tensor& b) {
  Tensor out = run_unary(Unary::rsub_scalar, b, a);
  record(out, {b}, "rsub_scalar",
         [](const std::vector<Tensor>& g) { return std::vector<Tensor>{neg(g[0])}; });
  return out;
}

Tensor neg(const Tensor& x) {
  Tensor out = run_unary(Unary::neg, x);
  record(out, {x}, "neg", [](const std::vector<Tensor>& g) { return std::vector<Tensor>{neg(g[0])}; });
  return out;
}

Tensor exp(const Tensor& x) {
  Tensor out = run_unary(Unary::exp, x);
  record(out, {x}, "exp", [y = out.detach()](const std::vector<Tensor>& g) {
    return std::vector<Tensor>{mul(g[0], y)};
  });
  return out;
}

Tensor log(const Tensor& x) {
  Tensor out = run_unary(Unary::log, x);
  record(out, {x}, "log", [x = x.detach()](const std::vector<Tensor>& g) {
    return std::vector<Tensor>{div(g[0], x)};
  });
  return out;
}

Tensor sqrt(const Tensor& x) {
  Tensor out = run_unary(Unary::sqrt, x);
  record(out, {x}, "sqrt", [y = out.detach()](const std::vector<Tensor>& g) {
    return std::vector<Tensor>{div(mul(g[0], 0.5), y)};
  });
  return out;
}

Tensor abs(const Tensor& x) {
  Tensor out = run_unary(Unary::abs, x);
  record(out, {x}, "abs", [x = x.detach()](const std::vector<Tensor>& g) {
    return std::vector<Tensor>{mul(g[0], sign(x))};
  });
  return out;
}

Tensor relu(const Tensor& x) {
  Tensor out = run_unary(Unary::relu, x);
  record(out, {x}, "relu", [x = x.detach()](const std::vector<Tensor>& g) {
    return std::vector<Tensor>{run_binary(Binary::relu_backward, g[0], x, "relu_backward")};
  });
  return out;
}

Tensor gelu(const Tensor& x) {
  Tensor out = run_unary(Unary::gelu, x);
  record(out, {x}, "gelu", [x = x.detach()](const std::vector<Tensor>& g) {
    return std::vector<Tensor>{run_binary(Binary::gelu_backward, g[0], x, "gelu_backward")};
  });
  return out;
}

Tensor tanh(const Tensor& x) {
  Tensor out = run_unary(Unary::tanh, x);
  record(out, {x}, "tanh", [y = out.detach()](const std::vector<Tensor>& g) {
    return std::vector<Tensor>{mul(g[0], rsub(1.0, square(y)))};
  });
  return out;
}

Tensor sigmoid(const Tensor& x) {
  Tensor out = run_unary(Unary::sigmoid, x);
  record(out, {x}, "sigmoid", [y = out.detach()](const std::vector<Tensor>& g) {
    return std::vector<Tensor>{mul(g[0], mul(y, rsub(1.0, y)))};
  });
  return out;
}

Tensor softplus(const Tensor& x) {
  Tensor out = run_unary(Unary::softplus, x);
  record(out, {x}, "softplus", [x = x.detach()](const std::vector<Tensor>& g) {
    return std::vector<Tensor>{mul(g[0], sigmoid(x))};
  });
  return out;
}

Tensor expm1(const Tensor& x) {
  Tensor out = run_unary(Unary::expm1, x);
  record(out, {x}, "expm1", [y = out.detach()](const std::vector<Tensor>& g) {
    return std::vector<Tensor>{mul(g[0], add(y, 1.0))};
  });
  return out;
}

Tensor log1p(const Tensor& x) {
  Tensor out = run_unary(Unary::log1p, x);
  record(out, {x}, "log1p", [x = x.detach()](const std::vector<Tensor>& g) {
    return std::vector<Tensor>{div(g[0], add(x, 1.0))};
  });
  return out;
}

Tensor square(const Tensor& x) {
  Tensor out = run_unary(Unary::square, x);
  record(out, {x}, "square", [x = x.detach()](const std::vector<Tensor>& g) {
    return std::vector<Tensor>{mul(g[0], mul(x, 2.0))};
  });
  return out;
}

Tensor sign(const Tensor& x) { return run_unary(Unary::sign, x); }

Tensor clamp(const Tensor& x, double min, double max) {
  if (min > max) throw Error("clamp: min > max");
  Tensor out = run_unary(Unary::clamp, x, min, max);
  record(out, {x}, "clamp", [x = x.detach(), min, max](const std::vector<Tensor>& g) {
    return std::vector<Tensor>{mul(g[0], run_unary(Unary::clamp_mask, x, min, max))};
  });
  return out;
}

Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b) {
  check_same_device("where", {cond, a, b});
  check_same_dtype("where", {a, b});
  const Shape shape =
      broadcast_shapes(cond.shape(), broadcast_shapes(a.shape(), b.shape(), "where"), "where");
  Tensor out = Tensor::empty(shape, a.dtype(), a.device());
  if (use_cuda(a)) {
#if LAPLEX_WITH_CUDA
    cuda::where(cond, a, b, out);
#endif
  } else {
    cpu::where(cond, a, b, out);
  }
  record(out, {a, b}, "where",
         [cond = cond.detach(), sa = a.shape(), sb = b.shape()](const std::vector<Tensor>& g) {
           const Tensor zero = scalar_like(0.0, g[0]);
           return std::vector<Tensor>{sum_to(where(cond, g[0], zero), sa),
                                      sum_to(where(cond, zero, g[0]), sb)};
         });
  return out;
}

Tensor gt(const Tensor& a, const Tensor& b) { return run_binary(Binary::gt, a, b, "gt"); }
Tensor ge(const Tensor& a, const Tensor& b) { return run_binary(Binary::ge, a, b, "ge"); }
Tensor lt(const Tensor& a, const Tensor& b) { return run_binary(Binary::lt, a, b, "lt"); }
Tensor le(const Tensor& a, const Tensor& b) { return run_binary(Binary::le, a, b, "le"); }
Tensor eq(const Tensor& a, const Tensor& b) { return run_binary(Binary::eq, a, b, "eq"); }
Tensor gt(const Tensor& a, double b) { return run_unary(Unary::gt_scalar, a, b); }
Tensor lt(const Tensor& a, double b) { return run_unary(Unary::lt_scalar, a, b); }

}  // namespace laplex
