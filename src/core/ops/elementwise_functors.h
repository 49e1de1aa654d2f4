#pragma once
// The scalar functions behind the elementwise ops, shared by the CPU loops
// and the CUDA kernels so both backends compute the same formula. Each op is
// its own functor type, so the loops that use them are specialised per op
// (and vectorise) instead of switching per element.
#include <cmath>

#ifdef __CUDACC__
#define LAPLEX_HOST_DEVICE __host__ __device__
#else
#define LAPLEX_HOST_DEVICE
#endif

namespace laplex::elementwise {

enum class Unary {
  neg, exp, log, sqrt, abs, relu, gelu, tanh, sigmoid, softplus, expm1, log1p, square, sign,
  clamp,       // p0 = min, p1 = max
  add_scalar,  // x + p0
  mul_scalar,  // x * p0
  pow_scalar,  // x ^ p0
  rsub_scalar, // p0 - x
  gt_scalar,   // x > p0
  lt_scalar,   // x < p0
  clamp_mask,  // 1 where p0 <= x <= p1
};

enum class Binary {
  add, sub, mul, div, pow, maximum, minimum, gt, ge, lt, le, eq,
  relu_backward,  // (g, x) -> x > 0 ? g : 0
  gelu_backward,  // (g, x) -> g * gelu'(x)
};

template <class T>
struct UnaryArgs {
  T p0, p1;
};

#define LAPLEX_UNARY(NAME, EXPR)                                        \
  struct NAME##_fn {                                                    \
    template <class T>                                                  \
    LAPLEX_HOST_DEVICE T operator()(T x, UnaryArgs<T> a) const {        \
      (void)a;                                                          \
      return EXPR;                                                      \
    }                                                                   \
  };
// One line per op: the formula is the documentation.
LAPLEX_UNARY(neg, -x)
LAPLEX_UNARY(exp, std::exp(x))
LAPLEX_UNARY(log, std::log(x))
LAPLEX_UNARY(sqrt, std::sqrt(x))
LAPLEX_UNARY(abs, std::fabs(x))
LAPLEX_UNARY(relu, x > T(0) ? x : T(0))
LAPLEX_UNARY(gelu, T(0.5) * x * (T(1) + std::erf(x * T(0.70710678118654752440))))
LAPLEX_UNARY(tanh, std::tanh(x))
LAPLEX_UNARY(sigmoid, x >= T(0) ? T(1) / (T(1) + std::exp(-x))
                                : std::exp(x) / (T(1) + std::exp(x)))
LAPLEX_UNARY(softplus, (x > T(0) ? x : T(0)) + std::log1p(std::exp(-std::fabs(x))))
LAPLEX_UNARY(expm1, std::expm1(x))
LAPLEX_UNARY(log1p, std::log1p(x))
LAPLEX_UNARY(square, x * x)
LAPLEX_UNARY(sign, T((x > T(0)) - (x < T(0))))
LAPLEX_UNARY(clamp, x < a.p0 ? a.p0 : (x > a.p1 ? a.p1 : x))
LAPLEX_UNARY(add_scalar, x + a.p0)
LAPLEX_UNARY(mul_scalar, x * a.p0)
LAPLEX_UNARY(pow_scalar, std::pow(x, a.p0))
LAPLEX_UNARY(rsub_scalar, a.p0 - x)
LAPLEX_UNARY(gt_scalar, T(x > a.p0))
LAPLEX_UNARY(lt_scalar, T(x < a.p0))
LAPLEX_UNARY(clamp_mask, T(x >= a.p0 && x <= a.p1))
#undef LAPLEX_UNARY

#define LAPLEX_BINARY(NAME, EXPR)                          \
  struct NAME##_fn {                                       \
    template <class T>                                     \
    LAPLEX_HOST_DEVICE T operator()(T x, T y) const {      \
      return EXPR;                                         \
    }                                                      \
  };
LAPLEX_BINARY(add, x + y)
LAPLEX_BINARY(sub, x - y)
LAPLEX_BINARY(mul, x * y)
LAPLEX_BINARY(div, x / y)
LAPLEX_BINARY(pow, std::pow(x, y))
LAPLEX_BINARY(maximum, x > y ? x : y)
LAPLEX_BINARY(minimum, x < y ? x : y)
LAPLEX_BINARY(gt, T(x > y))
LAPLEX_BINARY(ge, T(x >= y))
LAPLEX_BINARY(lt, T(x < y))
LAPLEX_BINARY(le, T(x <= y))
LAPLEX_BINARY(eq, T(x == y))
LAPLEX_BINARY(relu_backward, y > T(0) ? x : T(0))
LAPLEX_BINARY(gelu_backward,
              x * (T(0.5) * (T(1) + std::erf(y * T(0.70710678118654752440))) +
                   y * std::exp(T(-0.5) * y * y) * T(0.39894228040143267794)))
#undef LAPLEX_BINARY

// Calls fn(functor) with the functor type of `op`.
template <class Fn>
void visit_unary(Unary op, Fn&& fn) {
  switch (op) {
    case Unary::neg: return fn(neg_fn{});
    case Unary::exp: return fn(exp_fn{});
    case Unary::log: return fn(log_fn{});
    case Unary::sqrt: return fn(sqrt_fn{});
    case Unary::abs: return fn(abs_fn{});
    case Unary::relu: return fn(relu_fn{});
    case Unary::gelu: return fn(gelu_fn{});
    case Unary::tanh: return fn(tanh_fn{});
    case Unary::sigmoid: return fn(sigmoid_fn{});
    case Unary::softplus: return fn(softplus_fn{});
    case Unary::expm1: return fn(expm1_fn{});
    case Unary::log1p: return fn(log1p_fn{});
    case Unary::square: return fn(square_fn{});
    case Unary::sign: return fn(sign_fn{});
    case Unary::clamp: return fn(clamp_fn{});
    case Unary::add_scalar: return fn(add_scalar_fn{});
    case Unary::mul_scalar: return fn(mul_scalar_fn{});
    case Unary::pow_scalar: return fn(pow_scalar_fn{});
    case Unary::rsub_scalar: return fn(rsub_scalar_fn{});
    case Unary::gt_scalar: return fn(gt_scalar_fn{});
    case Unary::lt_scalar: return fn(lt_scalar_fn{});
    case Unary::clamp_mask: return fn(clamp_mask_fn{});
  }
}

template <class Fn>
void visit_binary(Binary op, Fn&& fn) {
  switch (op) {
    case Binary::add: return fn(add_fn{});
    case Binary::sub: return fn(sub_fn{});
    case Binary::mul: return fn(mul_fn{});
    case Binary::div: return fn(div_fn{});
    case Binary::pow: return fn(pow_fn{});
    case Binary::maximum: return fn(maximum_fn{});
    case Binary::minimum: return fn(minimum_fn{});
    case Binary::gt: return fn(gt_fn{});
    case Binary::ge: return fn(ge_fn{});
    case Binary::lt: return fn(lt_fn{});
    case Binary::le: return fn(le_fn{});
    case Binary::eq: return fn(eq_fn{});
    case Binary::relu_backward: return fn(relu_backward_fn{});
    case Binary::gelu_backward: return fn(gelu_backward_fn{});
  }
}

}  // namespace laplex::elementwise
